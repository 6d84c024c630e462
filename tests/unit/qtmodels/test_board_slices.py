"""The board after a flush that touched many classes: reconciled in slices, then announced."""

from __future__ import annotations

import time

from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from gymdesk.domain.views import ClassView
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.models import SWEEP_CHUNK, ClassBoardModel

from .conftest import Feed
from .test_models import booking, hour, klass


def test_many_touched_classes_are_reconciled_in_slices_then_announced_once(
    qtbot: QtBot, bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester
) -> None:
    classes = SWEEP_CHUNK * 2
    feed(*(klass(f"c{n:04d}", hour(6 + n % 14)) for n in range(classes)))
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    slow_lookup = board._lookup

    def lookup(key: str) -> ClassView | None:
        time.sleep(0.0003)  # a big gym on a busy machine: each line costs a little
        return slow_lookup(key)

    board._lookup = lookup  # type: ignore[method-assign]
    announced: list[int] = []
    board.refreshed.connect(lambda: announced.append(len(announced)))
    feed(*(booking(f"b{n:04d}", f"c{n:04d}") for n in range(classes)))  # every class
    assert board.refreshing  # the flush reconciled a slice and let the loop run
    assert announced == []
    booked = [board.index(r, ClassBoardModel.BOOKED).data() for r in range(classes)]
    assert 0 < booked.count("1 / 10") < classes
    qtbot.waitUntil(lambda: not board.refreshing, timeout=5000)
    assert announced == [0]
    assert all(board.index(r, ClassBoardModel.BOOKED).data() == "1 / 10" for r in range(classes))


def test_a_few_touched_classes_are_reconciled_and_announced_within_the_flush(
    bridge: StateBridge, feed: Feed
) -> None:
    feed(klass("c1", hour(17)), klass("c2", hour(18)))
    board = ClassBoardModel(bridge)
    announced: list[bool] = []
    board.refreshed.connect(lambda: announced.append(True))
    feed(booking("b1", "c2"))
    assert not board.refreshing
    assert announced == [True]
    assert board.index(1, ClassBoardModel.BOOKED).data() == "1 / 10"


def test_many_new_classes_arrive_over_slices_in_start_order(
    qtbot: QtBot, bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester
) -> None:
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    slow_lookup = board._lookup

    def lookup(key: str) -> ClassView | None:
        time.sleep(0.0003)
        return slow_lookup(key)

    board._lookup = lookup  # type: ignore[method-assign]
    classes = SWEEP_CHUNK * 2
    # Keys in the opposite order of their start times, as a table may hand them out.
    feed(*(klass(f"c{n:04d}", hour(20 - n // 10)) for n in range(classes)))
    assert 0 < board.rowCount() < classes  # the first slice only
    qtbot.waitUntil(lambda: not board.refreshing, timeout=5000)
    starts = [board.class_view_at(r).starts_at for r in range(board.rowCount())]
    assert len(starts) == classes
    assert starts == sorted(starts)
