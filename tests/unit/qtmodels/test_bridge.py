"""StateBridge: merged changes out through the throttle; status passed on at once."""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot

from gymdesk.domain.changes import Changes, View
from gymdesk.domain.pacing import PassBudget
from gymdesk.domain.state import GymState
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.qtmodels.bridge import StateBridge
from tests.clock import HandClock


def touched(view: View, *keys: str) -> Changes:
    changes = Changes()
    for key in keys:
        changes.touch(view, key)
    return changes


def test_first_report_is_emitted_on_the_next_turn_of_the_loop(
    qtbot: QtBot, bridge: StateBridge
) -> None:
    emitted: list[Changes] = []
    bridge.changes_applied.connect(emitted.append)
    with qtbot.waitSignal(bridge.changes_applied, timeout=1000) as blocker:
        bridge.on_changes(touched(View.CLASSES, "c1"))
        # Never inside the reader's call: its slice and the models' work must not add up.
        assert emitted == []
        assert bridge.pending
    (changes,) = blocker.args
    assert isinstance(changes, Changes)
    assert changes.keys(View.CLASSES) == {"c1"}
    assert not bridge.pending


def test_a_burst_is_merged_into_one_trailing_emission(qtbot: QtBot, state: GymState) -> None:
    bridge = StateBridge(state, 50)
    emitted: list[Changes] = []
    bridge.changes_applied.connect(emitted.append)
    bridge.on_changes(touched(View.CLASSES, "c0"))
    for n in range(1, 100):
        bridge.on_changes(touched(View.CLASSES, f"c{n}"))
    bridge.on_changes(touched(View.BOOKINGS, "b1"))
    assert emitted == []
    qtbot.waitUntil(lambda: len(emitted) == 1, timeout=2000)
    assert not bridge.pending
    # Reports within the interval after a flush wait for one trailing flush.
    for n in range(1, 100):
        bridge.on_changes(touched(View.CLASSES, f"c{n}"))
    bridge.on_changes(touched(View.BOOKINGS, "b2"))
    assert bridge.pending
    qtbot.waitUntil(lambda: len(emitted) == 2, timeout=2000)
    assert emitted[0].keys(View.CLASSES) == {f"c{n}" for n in range(100)}
    assert emitted[1].keys(View.CLASSES) == {f"c{n}" for n in range(1, 100)}
    assert emitted[1].keys(View.BOOKINGS) == {"b2"}
    qtbot.wait(150)
    assert len(emitted) == 2


def test_flush_now_emits_pending_changes_and_empty_reports_are_dropped(
    bridge: StateBridge,
) -> None:
    emitted: list[Changes] = []
    bridge.changes_applied.connect(emitted.append)
    bridge.on_changes(Changes())
    assert emitted == []
    bridge.on_changes(touched(View.SALES, "s1"))
    bridge.on_changes(touched(View.SALES, "s2"))
    bridge.flush_now()
    assert [c.keys(View.SALES) for c in emitted] == [{"s1", "s2"}]
    assert not bridge.pending
    bridge.flush_now()
    assert len(emitted) == 1


def test_overflow_survives_the_merge(bridge: StateBridge) -> None:
    emitted: list[Changes] = []
    bridge.changes_applied.connect(emitted.append)
    bridge.on_changes(touched(View.CLASSES, "c1"))
    everything = Changes()
    everything.touch_all(View.CLASSES)
    bridge.on_changes(everything)
    bridge.on_changes(touched(View.CLASSES, "c2"))
    bridge.flush_now()
    assert emitted[0].keys(View.CLASSES) is None


def test_status_is_passed_on_at_once_and_remembered(qtbot: QtBot, bridge: StateBridge) -> None:
    assert bridge.status.phase is Phase.CONNECTING
    assert bridge.last_confirmed is None
    now = time.time()
    live = ReaderStatus(Phase.LIVE, confirmed_at=now)
    with qtbot.waitSignal(bridge.status_changed, timeout=0) as blocker:
        bridge.on_status(live)
    assert blocker.args == [live]
    assert bridge.status is live
    assert bridge.last_confirmed == now
    # A status without a confirmation keeps the last one known.
    bridge.on_status(ReaderStatus(Phase.RECONNECTING, reason="broker unreachable"))
    assert bridge.status.phase is Phase.RECONNECTING
    assert bridge.last_confirmed == now


def test_live_each_turn_of_reports_is_emitted_on_the_next_turn(bridge: StateBridge) -> None:
    # Live, the models hear of every fetch at once; the window's repaints are what the
    # throttle spaces (gymdesk.ui.repaint), not the models' signals.
    emitted: list[Changes] = []
    bridge.changes_applied.connect(emitted.append)
    bridge.on_status(ReaderStatus(Phase.LIVE))
    for n in range(5):
        bridge.on_changes(touched(View.BOOKINGS, f"b{n}"))
        # The quiet time after a flush is four times what it took (microseconds here): a
        # few turns of the loop 2 ms later emit it, far short of any repaint interval.
        time.sleep(0.002)
        for _turn in range(3):
            if len(emitted) == n + 1:
                break
            QCoreApplication.processEvents()
        assert len(emitted) == n + 1
    assert [c.keys(View.BOOKINGS) for c in emitted] == [{f"b{n}"} for n in range(5)]


def test_flush_now_cancels_the_next_turn_flush(qtbot: QtBot, bridge: StateBridge) -> None:
    emitted: list[Changes] = []
    bridge.changes_applied.connect(emitted.append)
    bridge.on_changes(touched(View.CLASSES, "c1"))
    bridge.flush_now()
    qtbot.wait(100)
    assert len(emitted) == 1


def test_bridge_owns_the_state(state: GymState, bridge: StateBridge) -> None:
    assert bridge.state is state


def test_a_catch_up_flushes_at_the_longer_interval_and_live_at_the_short_one(
    qtbot: QtBot, state: GymState
) -> None:
    bridge = StateBridge(state, 20, catch_up_interval_ms=300)
    emitted: list[float] = []
    bridge.changes_applied.connect(lambda _changes: emitted.append(time.monotonic()))
    bridge.on_status(ReaderStatus(Phase.CATCHING_UP))
    # The first report after a quiet spell still shows on the loop's next turn.
    bridge.on_changes(touched(View.CLASSES, "c1"))
    qtbot.waitUntil(lambda: len(emitted) == 1, timeout=1000)
    bridge.on_changes(touched(View.CLASSES, "c2"))
    qtbot.waitUntil(lambda: len(emitted) == 2, timeout=2000)
    assert emitted[1] - emitted[0] >= 0.3 * 0.9
    # Going live brings a waiting flush forward to the short interval.
    bridge.on_changes(touched(View.CLASSES, "c3"))
    qtbot.wait(5)
    assert len(emitted) == 2
    went_live = time.monotonic()
    bridge.on_status(ReaderStatus(Phase.LIVE))
    qtbot.waitUntil(lambda: len(emitted) == 3, timeout=1000)
    assert emitted[2] - went_live < 0.2


def test_a_catch_up_flush_lets_a_spent_turn_go_by(qtbot: QtBot, bridge: StateBridge) -> None:
    clock = HandClock()
    bridge.pacer = PassBudget(0.005, clock=clock)
    bridge.on_status(ReaderStatus(Phase.CATCHING_UP))
    emitted: list[Changes] = []
    bridge.changes_applied.connect(emitted.append)
    bridge.pacer.new_pass()
    bridge._pending.merge(touched(View.CLASSES, "c1"))
    clock.now += 0.015  # a repaint of the whole window spent this turn
    bridge._flush()
    assert emitted == []  # not on top of the repaint...
    assert bridge.pending
    qtbot.waitUntil(lambda: bool(emitted), timeout=1000)  # ...but in the next turn
    assert emitted[0].keys(View.CLASSES) == {"c1"}


def test_a_live_flush_never_waits_for_a_turn(qtbot: QtBot, bridge: StateBridge) -> None:
    clock = HandClock()
    bridge.pacer = PassBudget(0.005, clock=clock)
    bridge.on_status(ReaderStatus(Phase.LIVE))
    emitted: list[Changes] = []
    bridge.changes_applied.connect(emitted.append)
    bridge.pacer.new_pass()
    bridge._pending.merge(touched(View.CLASSES, "c1"))
    clock.now += 0.015
    bridge._flush()
    assert len(emitted) == 1  # fresh records show at once
