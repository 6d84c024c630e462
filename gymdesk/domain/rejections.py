"""Records that broke the contract: counted by topic and reason, the latest kept for the UI."""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Final

from gymdesk.domain.contract import Topic

log = logging.getLogger(__name__)

KEEP_LATEST: Final = 500
FIRST_BYTES: Final = 64
LOG_INTERVAL_S: Final = 10.0


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected record, as the rejected-records dialog lists it."""

    topic: str
    partition: int
    offset: int
    key: str
    reason: str
    first_bytes: str


def _preview(data: bytes | None, limit: int = FIRST_BYTES) -> str:
    """Return a printable preview of raw bytes (escaped where not printable)."""
    if data is None:
        return "null"
    head = data[:limit]
    text = head.decode("utf-8", errors="backslashreplace")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text + ("..." if len(data) > limit else "")


class RejectionLog:
    """Counts rejections by topic and reason; keeps the latest; logs at a bounded rate."""

    def __init__(self, prefix: str, keep: int = KEEP_LATEST) -> None:
        self.prefix = prefix
        self.latest: deque[Rejection] = deque(maxlen=keep)
        self.by_topic: Counter[str] = Counter()
        self.by_reason: Counter[tuple[str, str]] = Counter()
        self._last_log = -LOG_INTERVAL_S
        self._unlogged = 0

    @property
    def total(self) -> int:
        """Return how many records were rejected in all."""
        return sum(self.by_topic.values())

    def add(
        self,
        topic: Topic,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        reason: str,
    ) -> Rejection:
        """Count and keep one rejected record; log it unless a log line went out lately."""
        name = self.prefix + topic
        rejection = Rejection(name, partition, offset, _preview(key, 80), reason, _preview(value))
        self.latest.append(rejection)
        self.by_topic[name] += 1
        self.by_reason[(name, reason)] += 1
        now = time.monotonic()
        if now - self._last_log >= LOG_INTERVAL_S:
            more = f" (and {self._unlogged} more since the last report)" if self._unlogged else ""
            log.warning(
                "rejected %s[%d]@%d key=%s: %s%s",
                name,
                partition,
                offset,
                rejection.key,
                reason,
                more,
            )
            self._last_log, self._unlogged = now, 0
        else:
            self._unlogged += 1
        return rejection

    def restore(self, by_reason: dict[tuple[str, str], int], latest: list[Rejection]) -> None:
        """Load counts and the latest rejections saved in a snapshot."""
        self.by_reason = Counter(by_reason)
        self.by_topic = Counter()
        for (topic, _reason), count in by_reason.items():
            self.by_topic[topic] += count
        self.latest.clear()
        self.latest.extend(latest)
