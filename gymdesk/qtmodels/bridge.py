"""The bridge between the reader and the models: merged changes out, a turn of the loop later."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QAbstractEventDispatcher, QObject, QTimer, Signal

from gymdesk.domain.changes import Changes
from gymdesk.domain.pacing import PassBudget
from gymdesk.domain.state import GymState
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.qtmodels.throttle import Throttle

LIVE_INTERVAL_MS: Final = 0
"""Live, the models hear of every applied fetch on the loop's next turn: a booking reaches
its row's ``dataChanged`` a millisecond after it is applied. Painting is what a stream of
changes must not repeat every turn, and the window's repaint throttle sees to that
(``gymdesk.ui.repaint``). The throttle's slow factor still spaces flushes that take long."""
CATCH_UP_INTERVAL_MS: Final = 250
"""While a backlog catches up, at most 4 flushes a second: the screen shows a progress bar,
and each flush of a catch-up sets off the models' slices and a repaint, which share passes
of the loop with the reader (``benchmarks/desk_catchup.py``)."""


class StateBridge(QObject):
    """Owns the state; merges the reader's changes and re-emits them, throttled.

    The reader applies records to the state as they come; the models learn of them at the
    next flush (live: the loop's next turn) and update their own cached rows, so a view
    never sees a row count that disagrees with the signals it was sent.

    A flush never runs inside ``on_changes``: the reader calls it in the middle of a slice
    of its work, and the models' reconcile after a big batch takes milliseconds of its
    own (10-90 ms during a 1M catch-up in ``benchmarks/desk_catchup.py``); run there, the
    two add up to one stall of the loop. The first report after a quiet spell is flushed
    on the loop's next turn instead.

    While the reader catches up, flushes come at most every ``catch_up_interval_ms``: each
    one sets off the models' slices and a repaint in the same passes of the loop as the
    reader's slices, and a progress bar needs no more. The first report after a quiet
    spell still shows at once, and live changes keep the short interval.

    It also owns the pacer: one time budget per turn of the Qt loop, which the reader, the
    snapshot save and the models' big reconciles share (``gymdesk.domain.pacing``). The
    event dispatcher's ``awake`` (emitted as each turn begins) starts each turn's budget.
    """

    changes_applied = Signal(object)  # Changes, merged since the last flush
    status_changed = Signal(object)  # ReaderStatus, at once

    def __init__(
        self,
        state: GymState,
        interval_ms: int = LIVE_INTERVAL_MS,
        parent: QObject | None = None,
        *,
        catch_up_interval_ms: int = CATCH_UP_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self._state = state
        self._interval_ms = interval_ms
        self._catch_up_interval_ms = catch_up_interval_ms
        self._pending = Changes()
        self._status = ReaderStatus(Phase.CONNECTING)
        self._last_confirmed: float | None = None
        self._throttle = Throttle(self._flush, interval_ms, self)
        # Hands a report to the throttle on the loop's next turn, outside the reader's slice.
        self._kick = QTimer(self)
        self._kick.setSingleShot(True)
        self._kick.setInterval(0)
        self._kick.timeout.connect(self._on_kick_timeout)
        self.pacer = PassBudget()
        # A catch-up flush put off by a spent turn of the loop runs in the next one.
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.setInterval(0)
        self._retry.timeout.connect(self._flush)
        dispatcher = QAbstractEventDispatcher.instance(self.thread())
        if dispatcher is not None:
            dispatcher.awake.connect(self._on_dispatcher_awake)

    @property
    def state(self) -> GymState:
        """Return the state the models read."""
        return self._state

    @property
    def status(self) -> ReaderStatus:
        """Return the reader's last status (connecting until it reports one)."""
        return self._status

    @property
    def last_confirmed(self) -> float | None:
        """Return when (Unix seconds) the broker last answered, or None if it never did."""
        return self._last_confirmed

    @property
    def pending(self) -> bool:
        """Return whether changes wait for the next flush."""
        return bool(self._pending)

    def on_changes(self, changes: Changes) -> None:
        """Take a report from the reader; it shows on the next turn of the loop, or later."""
        if not changes:
            return
        self._pending.merge(changes)
        if not self._kick.isActive() and not self._throttle.pending:
            self._kick.start()

    def on_status(self, status: ReaderStatus) -> None:
        """Take the reader's status and pass it on at once."""
        self._status = status
        catching_up = status.phase is Phase.CATCHING_UP
        interval = self._catch_up_interval_ms if catching_up else self._interval_ms
        if interval != self._throttle.interval_ms:
            self._throttle.set_interval(interval)
        if status.confirmed_at is not None:
            self._last_confirmed = status.confirmed_at
        self.status_changed.emit(status)

    def flush_now(self) -> None:
        """Emit pending changes now, without waiting for the interval (tests, shutdown)."""
        self._kick.stop()
        self._throttle.cancel()
        self._retry.stop()
        self._emit_pending()

    def _on_dispatcher_awake(self) -> None:
        """A turn of the loop begins: the sliced jobs share a fresh budget."""
        self.pacer.new_pass()

    def _on_kick_timeout(self) -> None:
        """Pass the waiting report to the throttle: it flushes now or schedules one call."""
        self._throttle()

    def _flush(self) -> None:
        """Emit everything merged since the last flush, in a turn of the loop with time left.

        While catching up, a flush sets off the models' first slices and a repaint: in a
        turn a repaint of the whole window has already spent, it waits for the next one
        (two turns at most, as every paced job).
        """
        if not self._pending:
            return
        if self._status.phase is Phase.CATCHING_UP and self.pacer.should_wait(self):
            self._retry.start()
            return
        self._emit_pending()

    def _emit_pending(self) -> None:
        """Emit everything merged since the last flush and start afresh."""
        self.pacer.withdraw(self)
        if not self._pending:
            return
        merged, self._pending = self._pending, Changes()
        self.changes_applied.emit(merged)
