"""The painted copy of a keyed model: the same cells, the same row signals, its own roles."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from pytestqt.modeltest import ModelTester

from gymdesk.domain.contract import Topic
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.mirror import PaintMirror
from gymdesk.qtmodels.models import (
    ClassBoardModel,
    ClassFilterProxy,
    FillRole,
    KeyedTableModel,
    OrderRole,
    RosterModel,
    SalesTickerModel,
    SortRole,
)

from .conftest import Feed, SignalLog
from .test_models import booking, gone, hour, instructor, klass, member, rep, sale

DISPLAY = int(Qt.ItemDataRole.DisplayRole)
ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
FONT = int(Qt.ItemDataRole.FontRole)
BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
BOARD_ROLES = (DISPLAY, ALIGN, SortRole, FillRole)
RED = QBrush(QColor("#ff0000"))


def cells(model: QAbstractItemModel, roles: tuple[int, ...]) -> list[list[dict[int, Any]]]:
    """Return every cell of a model as role -> value (what a view would read)."""
    return [
        [
            {role: model.index(row, column).data(role) for role in roles}
            for column in range(model.columnCount())
        ]
        for row in range(model.rowCount())
    ]


def same_cells(mirror: PaintMirror, roles: tuple[int, ...]) -> bool:
    """Return whether the mirror reads exactly as its model, cell by cell."""
    return cells(mirror, roles) == cells(mirror.source, roles)


def mirrored(model: KeyedTableModel[Any], roles: tuple[int, ...]) -> tuple[PaintMirror, SignalLog]:
    """Return a mirror of ``model`` and a log of both models' signals side by side."""
    mirror = PaintMirror(model, roles)
    return mirror, SignalLog().watch(mirror)


def test_the_mirror_copies_every_cell_and_header(
    bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester
) -> None:
    feed(instructor("i1", "Ana"), *(klass(f"c{n}", hour(16 + n)) for n in range(1, 4)))
    feed(booking("b1", "c2"))
    board = ClassBoardModel(bridge)
    mirror = PaintMirror(board, BOARD_ROLES)
    qtmodeltester.check(mirror)
    assert mirror.rowCount() == 3
    assert same_cells(mirror, BOARD_ROLES)
    assert mirror.index(1, ClassBoardModel.BOOKED).data() == "1 / 10"
    assert mirror.index(1, ClassBoardModel.BOOKED).data(FillRole) == 0.1
    headers = [mirror.headerData(c, Qt.Orientation.Horizontal) for c in range(8)]
    assert headers == list(ClassBoardModel.HEADERS)
    assert mirror.headerData(ClassBoardModel.WAITLIST, Qt.Orientation.Horizontal, ALIGN) == (
        board.headerData(ClassBoardModel.WAITLIST, Qt.Orientation.Horizontal, ALIGN)
    )
    # Cells are the view's to read, not to edit.
    assert not mirror.flags(mirror.index(0, 0)) & Qt.ItemFlag.ItemIsEditable


def test_the_mirror_repeats_the_model_s_row_signals(
    bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester, signals: SignalLog
) -> None:
    feed(instructor("i1", "Ana"), *(klass(f"c{n}", hour(16 + n)) for n in range(1, 6)))
    board = ClassBoardModel(bridge)
    mirror = PaintMirror(board, BOARD_ROLES)
    qtmodeltester.check(mirror)
    source_log, mirror_log = SignalLog().watch(board), signals.watch(mirror)

    feed(booking("b1", "c2"))  # the counts of row 1 only
    assert source_log.take() == mirror_log.take() == [("changed", 1, 1, 4, 4)]
    feed(booking("b2", "c2"), booking("b3", "c4"))  # two rows apart: two ranges
    assert mirror_log.take() == source_log.take()
    feed(gone(Topic.CLASSES, "c3"))
    assert source_log.take() == [("removed", 2, 2)]
    # The model appends a block; the mirror inserts the same block, then says its cells
    # are filled (a sorting proxy places the rows by their values then).
    feed(klass("c6", hour(23)), klass("c7", hour(22)))
    assert source_log.take() == [("inserted", 4, 5)]
    assert mirror_log.take() == [("removed", 2, 2), ("inserted", 4, 5), ("changed", 4, 5, 0, 7)]
    assert same_cells(mirror, BOARD_ROLES)
    assert mirror.rowCount() == board.rowCount() == 6


def test_a_proxy_over_the_mirror_sorts_and_filters_as_over_the_model(
    bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester
) -> None:
    feed(
        instructor("i1", "Ana"),
        klass("late", hour(20), location="North"),
        klass("early", hour(17)),
        klass("noon", hour(12)),
    )
    board = ClassBoardModel(bridge)
    mirror = PaintMirror(board, BOARD_ROLES)
    proxy = ClassFilterProxy(mirror)
    qtmodeltester.check(proxy)

    def shown() -> list[str]:
        return [
            board.key_at(proxy.mapToSource(proxy.index(r, 0)).row())
            for r in range(proxy.rowCount())
        ]

    assert shown() == ["noon", "early", "late"]  # by start time: the mirrored sort role
    proxy.set_location("Central")  # the filter reads the model's row behind the mirror's
    assert shown() == ["noon", "early"]
    feed(klass("noon", hour(21)))  # rescheduled: it moves to the end
    assert shown() == ["early", "noon"]
    feed(klass("dawn", hour(6)))  # a new class sorts in where it belongs
    assert shown() == ["dawn", "early", "noon"]
    feed(member("m1", "Zoe Quist"), booking("b1", "early", member="m1"))
    proxy.set_search("zoe")  # member search: the model's state behind the mirror
    assert shown() == ["early"]


def test_row_roles_stay_on_their_row_as_it_changes_and_moves(
    bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester, signals: SignalLog
) -> None:
    feed(instructor("i1", "Ana"), *(klass(f"c{n}", hour(16 + n)) for n in range(1, 4)))
    board = ClassBoardModel(bridge)
    font = QFont("Sans", 15)
    mirror = PaintMirror(board, BOARD_ROLES, column_roles={ClassBoardModel.CLASS: {FONT: font}})
    qtmodeltester.check(mirror)
    signals.watch(mirror)

    mirror.set_row_roles("c3", {BACKGROUND: RED})
    # One signal for the row, naming the role: a proxy need not sort or filter again.
    assert signals.take() == [("changed", 2, 2, 0, 7)]
    assert all(mirror.index(2, c).data(BACKGROUND) == RED for c in range(8))
    assert mirror.index(1, 0).data(BACKGROUND) is None
    mirror.set_row_roles("c3", {BACKGROUND: RED})  # the same again: nothing to say
    assert signals.take() == []

    feed(booking("b1", "c3"))  # its counts change: the tint stays
    assert mirror.index(2, ClassBoardModel.BOOKED).data() == "1 / 10"
    assert mirror.index(2, ClassBoardModel.BOOKED).data(BACKGROUND) == RED
    feed(gone(Topic.CLASSES, "c1"))  # a row above goes: the tint moves up with its row
    assert board.row_of("c3") == 1
    assert mirror.index(1, 0).data(BACKGROUND) == RED
    feed(klass("c1", hour(15)))  # and a new one comes without it
    assert mirror.index(board.row_of("c1") or 0, 0).data(BACKGROUND) is None

    mirror.set_row_roles("c3", {})  # taken off again
    assert all(mirror.index(1, c).data(BACKGROUND) is None for c in range(8))
    assert mirror.row_roles() == {}
    mirror.set_row_roles("nowhere", {BACKGROUND: RED})  # not shown yet: kept for when it is
    feed(klass("nowhere", hour(10)))
    assert mirror.index(board.row_of("nowhere") or 0, 3).data(BACKGROUND) == RED
    # A column's own roles are on each of its cells, the model's roles beside them.
    assert {mirror.index(r, ClassBoardModel.CLASS).data(FONT) for r in range(4)} == {font}
    assert mirror.index(0, ClassBoardModel.ROOM).data(FONT) is None
    assert same_cells(mirror, BOARD_ROLES)


def test_a_role_laid_while_a_row_goes_lands_on_its_own_row(
    bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester
) -> None:
    # The model drops a row before the mirror does; whoever hears of it in between (the
    # view's marks, through a proxy) names rows that the two number differently.
    feed(instructor("i1", "Ana"), *(klass(f"c{n}", hour(16 + n)) for n in range(1, 5)))
    board = ClassBoardModel(bridge)
    mirror = PaintMirror(board, BOARD_ROLES)
    qtmodeltester.check(mirror)
    laid: list[int | None] = []

    def lay_while_going(*_: object) -> None:
        laid.append(board.row_of("c3"))  # the model's row of c3 already moved up
        mirror.set_row_roles("c3", {BACKGROUND: RED})

    mirror.rowsAboutToBeRemoved.connect(lay_while_going)
    feed(gone(Topic.CLASSES, "c1"))
    assert laid == [1]  # while the mirror still showed c1 at 0 and c3 at 2
    tinted = [board.key_at(r) for r in range(3) if mirror.index(r, 0).data(BACKGROUND) == RED]
    assert tinted == ["c3"]


def test_a_role_the_model_stops_answering_is_gone_from_the_mirror(
    bridge: StateBridge, feed: Feed
) -> None:
    feed(klass("c1", hour(17)), member("m1", "Cleo"), booking("b1", "c1", "cancelled"))
    grey = QColor("#888888")
    roster = RosterModel(bridge, "c1", cancelled_colour=grey)
    roles = (DISPLAY, FOREGROUND)
    mirror = PaintMirror(roster, roles)
    assert mirror.index(0, RosterModel.MEMBER).data(FOREGROUND) == grey
    feed(booking("b1", "c1", "booked"))  # booked again: no longer greyed
    assert roster.index(0, RosterModel.MEMBER).data(FOREGROUND) is None
    assert mirror.index(0, RosterModel.MEMBER).data(FOREGROUND) is None
    assert same_cells(mirror, roles)


def test_the_mirror_follows_moves_and_resets(
    bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester
) -> None:
    # The sales ticker reorders its rows with moves; the roster starts over for a class.
    feed(rep("r1", "Ana", "North"))
    ticker = SalesTickerModel(bridge, limit=4)
    ticker_mirror = PaintMirror(ticker, (DISPLAY, ALIGN))
    qtmodeltester.check(ticker_mirror)
    log = SignalLog().watch(ticker)
    for n, minute in enumerate((10, 30, 20, 50, 40, 5, 59)):
        feed(sale(f"s{n}", 100 * (n + 1), at=f"2024-05-15T12:{minute:02d}:00Z"))
    # The newest four: s6 12:59, s3 12:50, s4 12:40, s1 12:30. A shown one, corrected to
    # a later time, moves up.
    feed(sale("s4", 999, at="2024-05-15T12:59:30Z"))
    assert any(event[0] == "moved" for event in log.take())
    assert same_cells(ticker_mirror, (DISPLAY, ALIGN))

    feed(
        klass("c1", hour(17)),
        klass("c2", hour(18)),
        member("m1", "Cleo"),
        booking("b1", "c1", member="m1"),
        booking("b2", "c2", member="m1"),
        booking("b3", "c2", "waitlisted", member="m1"),
    )
    roster = RosterModel(bridge, "c1")
    roster_mirror = PaintMirror(roster, (DISPLAY, OrderRole))
    roster.set_class("c2")
    roster.finish_sweep()
    assert roster_mirror.rowCount() == 2
    assert same_cells(roster_mirror, (DISPLAY, OrderRole))
