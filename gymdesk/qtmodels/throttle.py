"""Run a callback at most once per interval: the first call at once, then one trailing call.

A lone change shows without delay; a burst of changes costs one more call at the end of
the interval, never a queue of them. The arguments are not kept: the callback reads
whatever is current when it runs (the bridge keeps its own merged report).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

DEFAULT_INTERVAL_MS = 50
"""At most 20 screen updates a second."""


class Throttle(QObject):
    """Call ``callback`` now if it has been quiet for an interval, else once at its end."""

    def __init__(
        self,
        callback: Callable[[], object],
        interval_ms: int = DEFAULT_INTERVAL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if interval_ms < 0:
            raise ValueError(f"interval_ms must not be negative, got {interval_ms}")
        self._callback = callback
        self._interval_ns = interval_ms * 1_000_000
        self._last_call_ns: int | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def interval_ms(self) -> int:
        """Return the shortest time between two calls of the callback."""
        return self._interval_ns // 1_000_000

    @property
    def pending(self) -> bool:
        """Return whether a trailing call is scheduled."""
        return self._timer.isActive()

    def __call__(self) -> None:
        """Run the callback now if idle for an interval, else make sure one call follows."""
        if self._timer.isActive():
            return  # the trailing call will see everything this call wanted shown
        now = time.monotonic_ns()
        last = self._last_call_ns
        if last is None or now - last >= self._interval_ns:
            self._run()
            return
        remaining_ms = -(-(self._interval_ns - (now - last)) // 1_000_000)  # round up
        self._timer.start(max(0, remaining_ms))

    def flush(self) -> None:
        """Run a scheduled trailing call now (at shutdown, or in a test)."""
        if self._timer.isActive():
            self._timer.stop()
            self._run()

    def cancel(self) -> None:
        """Drop a scheduled trailing call without running it."""
        self._timer.stop()

    def _run(self) -> None:
        """Call the callback; the interval counts from its end, so slow work is not stacked."""
        try:
            self._callback()
        finally:
            self._last_call_ns = time.monotonic_ns()

    def _on_timer_timeout(self) -> None:
        """Run the trailing call."""
        self._run()
