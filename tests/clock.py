"""A clock the test moves by hand (no Qt, no Kafka: the pure-layer tests use it too)."""

from __future__ import annotations


class HandClock:
    """Returns ``now``, which the test sets or moves."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        """Return the clock's reading."""
        return self.now
