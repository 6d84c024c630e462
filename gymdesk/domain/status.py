"""The reader's connection state, shared by the stream layer, the Qt models and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Phase(StrEnum):
    """Where the reader is: only LIVE means the screen is confirmed current."""

    RESTORING = "restoring"  # loading the saved snapshot; nothing read from the topics yet
    CONNECTING = "connecting"
    CATCHING_UP = "catching up"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class TopicProgress:
    """Catch-up progress of one topic: records read out of records to read."""

    done: int
    total: int

    @property
    def fraction(self) -> float:
        """Return the share read, 1.0 when nothing was to be read."""
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


@dataclass(frozen=True, slots=True)
class ReaderStatus:
    """A snapshot of the reader's state, emitted whenever it changes."""

    phase: Phase
    reason: str = ""
    progress: dict[str, TopicProgress] = field(default_factory=dict)
    # Wall-clock seconds (Unix) when the broker last answered; None before it ever did.
    confirmed_at: float | None = None
    warnings: tuple[str, ...] = ()

    @property
    def fraction(self) -> float:
        """Return overall catch-up progress over all topics."""
        total = sum(p.total for p in self.progress.values())
        done = sum(min(p.done, p.total) for p in self.progress.values())
        return 1.0 if total <= 0 else done / total

    @property
    def live(self) -> bool:
        """Return whether what is shown is confirmed current."""
        return self.phase is Phase.LIVE
