"""Run a callback at most once per interval: the first call at once, then one trailing call.

A lone change shows without delay; a burst of changes costs one more call at the end of
the interval, never a queue of them. The arguments are not kept: the callback reads
whatever is current when it runs (the bridge keeps its own merged report).

The quiet time after a call is at least the interval, and stretches after a slow call:
at least ``slow_factor`` times what the call took, so a call that touched everything (a
catch-up's flush, a repaint of the whole window) cannot take more than a share of the loop
however often it is asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

DEFAULT_SLOW_FACTOR = 4
"""Quiet time after a call, as a multiple of the call's duration: at most 20% of the loop."""


class Throttle(QObject):
    """Call ``callback`` now if it has been quiet for an interval, else once at its end."""

    def __init__(
        self,
        callback: Callable[[], object],
        interval_ms: int,
        parent: QObject | None = None,
        *,
        slow_factor: float = DEFAULT_SLOW_FACTOR,
    ) -> None:
        super().__init__(parent)
        if interval_ms < 0:
            raise ValueError(f"interval_ms must not be negative, got {interval_ms}")
        if slow_factor < 0:
            raise ValueError(f"slow_factor must not be negative, got {slow_factor}")
        self._callback = callback
        self._interval_ns = interval_ms * 1_000_000
        self._slow_factor = slow_factor
        self._gap_ns = self._interval_ns  # quiet time owed after the last call
        self._last_duration_ns = 0
        self._last_call_ns: int | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def interval_ms(self) -> int:
        """Return the shortest time between two calls of the callback."""
        return self._interval_ns // 1_000_000

    @property
    def gap_ms(self) -> float:
        """Return the quiet time owed after the last call: longer after a slow one."""
        return self._gap_ns / 1_000_000

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
        if last is None or now - last >= self._gap_ns:
            self._run()
            return
        remaining_ms = -(-(self._gap_ns - (now - last)) // 1_000_000)  # round up
        self._timer.start(max(0, remaining_ms))

    def set_interval(self, interval_ms: int) -> None:
        """Change the shortest time between calls; a scheduled trailing call moves to match."""
        if interval_ms < 0:
            raise ValueError(f"interval_ms must not be negative, got {interval_ms}")
        self._interval_ns = interval_ms * 1_000_000
        slow_gap = int(self._last_duration_ns * self._slow_factor)
        self._gap_ns = max(self._interval_ns, slow_gap)
        last = self._last_call_ns
        if self._timer.isActive() and last is not None:
            # A shorter interval (a catch-up that just went live) brings the call forward.
            remaining_ns = self._gap_ns - (time.monotonic_ns() - last)
            self._timer.start(max(0, -(-remaining_ns // 1_000_000)))

    def flush(self) -> None:
        """Run a scheduled trailing call now (at shutdown, or in a test)."""
        if self._timer.isActive():
            self._timer.stop()
            self._run()

    def cancel(self) -> None:
        """Drop a scheduled trailing call without running it."""
        self._timer.stop()

    def _run(self) -> None:
        """Call the callback; the gap counts from its end and grows with its duration."""
        started = time.monotonic_ns()
        try:
            self._callback()
        finally:
            self._last_call_ns = ended = time.monotonic_ns()
            self._last_duration_ns = ended - started
            self._gap_ns = max(self._interval_ns, int((ended - started) * self._slow_factor))

    def _on_timer_timeout(self) -> None:
        """Run the trailing call."""
        self._run()
