"""Keyed models over a real state: exact row signals for each change, and never a reset."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, Qt
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.modeltest import ModelTester

from gymdesk.domain.contract import Topic
from gymdesk.domain.rejections import RejectionLog
from gymdesk.domain.state import GymState
from gymdesk.domain.views import ClassView, InstructorView, RepView, TeamView
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.models import (
    ClassBoardModel,
    ClassFilterProxy,
    ClassViewRole,
    FillRole,
    InstructorModel,
    RejectedModel,
    RepModel,
    RosterEntry,
    RosterModel,
    SaleLine,
    SalesTickerModel,
    SortRole,
    TeamModel,
    ViewRole,
    row_runs,
)

from ..domain.records import (
    booking_fields,
    class_fields,
    dumps,
    instructor_json,
    member_json,
    rep_json,
    sale_json,
    target_json,
)
from .conftest import BERLIN, Feed, Record, SignalLog, model_checker

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
TOOLTIP = Qt.ItemDataRole.ToolTipRole
ALIGN = Qt.ItemDataRole.TextAlignmentRole
ALL_BOARD_COLUMNS = (0, len(ClassBoardModel.HEADERS) - 1)
# A booking moves a class's counts only: the board repaints just those cells.
BOOKED_CELL = (ClassBoardModel.BOOKED, ClassBoardModel.BOOKED)
CHECKED_IN_CELL = (ClassBoardModel.CHECKED_IN, ClassBoardModel.CHECKED_IN)


def klass(
    key: str,
    at: str = "2024-05-10T18:00:00+02:00",
    *,
    instructor: str = "i1",
    capacity: int = 10,
    title: str = "Spin",
    location: str = "Central",
    room: str = "A",
) -> Record:
    fields = class_fields(instructor, capacity, title=title, starts_at=at)
    fields.update(location=location, room=room)
    return (Topic.CLASSES, key, dumps(fields))


def booking(
    key: str, class_id: str, status: str = "booked", member: str = "m1", channel: str = "app"
) -> Record:
    fields = booking_fields(class_id, status, member_id=member)
    fields["channel"] = channel
    return (Topic.BOOKINGS, key, dumps(fields))


def instructor(key: str, name: str) -> Record:
    return (Topic.INSTRUCTORS, key, instructor_json(name))


def member(key: str, name: str) -> Record:
    return (Topic.MEMBERS, key, member_json(name))


def rep(key: str, name: str, team: str) -> Record:
    return (Topic.REPS, key, rep_json(team, name))


def sale(key: str, amount: int = 1000, at: str = "2024-05-15T12:00:00Z", by: str = "r1") -> Record:
    return (Topic.SALES, key, sale_json(by, amount, at))


def gone(topic: Topic, key: str) -> Record:
    return (topic, key, None)


def hour(n: int) -> str:
    """A start time on 10 May at ``n`` o'clock in Berlin."""
    return f"2024-05-10T{n:02d}:00:00+02:00"


def texts(model: QAbstractItemModel, row: int) -> list[Any]:
    return [model.index(row, c).data() for c in range(model.columnCount())]


def class_ids(model: QAbstractItemModel) -> list[str]:
    """Return the class ids of a board or proxy, in row order."""
    return [model.index(r, 0).data(ClassViewRole).id for r in range(model.rowCount())]


def changed(first: int, last: int, columns: tuple[int, int] = ALL_BOARD_COLUMNS) -> tuple[Any, ...]:
    return ("changed", first, last, *columns)


@pytest.fixture
def five_classes(feed: Feed) -> None:
    """Classes c1..c5 starting 17:00..21:00, so board row n shows c<n+1>."""
    feed(instructor("i1", "Ana"), *(klass(f"c{n}", hour(16 + n)) for n in range(1, 6)))


def test_row_runs_coalesce_neighbours() -> None:
    assert row_runs([5, 1, 2, 3, 7, 8, 2]) == [(1, 3), (5, 5), (7, 8)]
    assert row_runs([]) == []


# ---------------------------------------------------------------------- the class board


def test_board_shows_every_class_with_its_occupancy(
    bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester
) -> None:
    feed(
        instructor("i1", "Ana"),
        klass("c2", hour(19), capacity=2, title="Yoga", room="Studio 2"),
        klass("c1", hour(18)),
        klass("c3", hour(7), instructor="i9", title="Box"),
        booking("b1", "c1", "waitlisted"),
        booking("b2", "c2", member="m2"),
        booking("b3", "c2", "checked_in", member="m3"),
    )
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    assert board.keys() == ["c3", "c1", "c2"]  # appended in start order
    assert [board.headerData(c, Qt.Orientation.Horizontal) for c in range(8)] == [
        "Time",
        "Class",
        "Room",
        "Instructor",
        "Booked",
        "Waitlist",
        "Checked in",
        "Status",
    ]
    assert texts(board, 0) == ["07:00", "Box", "A", "i9", "0 / 10", "0", "0", ""]
    assert texts(board, 1) == ["18:00", "Spin", "A", "Ana", "0 / 10", "1", "0", "busy"]
    assert texts(board, 2) == ["19:00", "Yoga", "Studio 2", "Ana", "2 / 2", "0", "1", "full"]
    view = board.index(2, ClassBoardModel.STATUS).data(ClassViewRole)
    assert isinstance(view, ClassView)
    assert (view.id, view.booked, view.full) == ("c2", 2, True)
    assert board.index(2, ClassBoardModel.BOOKED).data(FillRole) == 1.0
    assert board.index(2, ClassBoardModel.TIME).data(SortRole) == view.starts_at.timestamp()
    assert board.index(0, ClassBoardModel.BOOKED).data(ALIGN) == RIGHT
    assert board.index(0, ClassBoardModel.CLASS).data(ALIGN) is None
    assert board.index(2, ClassBoardModel.CLASS).data(TOOLTIP) == (
        "Yoga — Fri 10 May 19:00 to 19:45 (45 min)\n"
        "Central, Studio 2\n"
        "Instructor: Ana\n"
        "Booked 2 of 2 (100%)\n"
        "Waitlisted 0, checked in 1, cancelled 0, no-shows 0\n"
        "Full"
    )
    assert board.locations() == ["Central"]


def test_a_booking_change_is_one_data_changed_for_its_row(
    bridge: StateBridge,
    feed: Feed,
    five_classes: None,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    signals.watch(board)
    feed(booking("b1", "c2"))
    assert signals.take() == [changed(1, 1, BOOKED_CELL)]
    assert board.index(1, ClassBoardModel.BOOKED).data() == "1 / 10"
    feed(booking("b1", "c2", "checked_in"))
    assert signals.take() == [changed(1, 1, CHECKED_IN_CELL)]
    assert board.index(1, ClassBoardModel.CHECKED_IN).data() == "1"


def test_changes_on_rows_apart_are_separate_ranges(
    bridge: StateBridge,
    feed: Feed,
    five_classes: None,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    signals.watch(board)
    feed(booking("b1", "c1"), booking("b2", "c2"), booking("b4", "c4"))
    assert signals.take() == [changed(0, 1, BOOKED_CELL), changed(3, 3, BOOKED_CELL)]


def test_a_busy_class_repaints_its_counts_and_badge_a_moved_class_its_whole_row(
    bridge: StateBridge,
    feed: Feed,
    five_classes: None,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    signals.watch(board)
    feed(*(booking(f"b{n}", "c2") for n in range(7)))
    assert signals.take() == [changed(1, 1, BOOKED_CELL)]
    feed(booking("b7", "c2"), booking("w1", "c2", "waitlisted"))  # 8/10: busy, one waiting
    assert signals.take() == [changed(1, 1, (ClassBoardModel.BOOKED, ClassBoardModel.STATUS))]
    assert board.index(1, ClassBoardModel.STATUS).data() == "busy"
    feed(klass("c2", hour(18).replace(":00:00", ":30:00")))  # the time moved: the whole row
    assert signals.take() == [changed(1, 1)]


def test_new_classes_are_appended_as_one_insert(
    bridge: StateBridge,
    feed: Feed,
    five_classes: None,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    signals.watch(board)
    feed(klass("c7", hour(6)), klass("c6", hour(7)))
    assert signals.take() == [("inserted", 5, 6)]
    assert board.keys() == ["c1", "c2", "c3", "c4", "c5", "c7", "c6"]
    assert board.row_of("c6") == 6


def test_deleted_classes_are_removed_by_run_from_the_bottom_up(
    bridge: StateBridge,
    feed: Feed,
    five_classes: None,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    signals.watch(board)
    feed(gone(Topic.CLASSES, "c1"), gone(Topic.CLASSES, "c2"), gone(Topic.CLASSES, "c4"))
    assert signals.take() == [("removed", 3, 3), ("removed", 0, 1)]
    assert board.keys() == ["c3", "c5"]
    assert [board.row_of(k) for k in ("c3", "c5", "c1")] == [0, 1, None]
    assert board.index(1, ClassBoardModel.TIME).data() == "21:00"


def test_one_batch_updates_removes_and_inserts(
    bridge: StateBridge,
    feed: Feed,
    five_classes: None,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    signals.watch(board)
    feed(booking("b1", "c2"), gone(Topic.CLASSES, "c3"), klass("c6", hour(8)))
    assert signals.take() == [changed(1, 1, BOOKED_CELL), ("removed", 2, 2), ("inserted", 4, 4)]
    assert board.keys() == ["c1", "c2", "c4", "c5", "c6"]


def test_an_instructor_rename_changes_only_their_classes(
    bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester, signals: SignalLog
) -> None:
    feed(
        instructor("i1", "Ana"),
        instructor("i2", "Ben"),
        klass("c1", hour(17)),
        klass("c2", hour(18), instructor="i2"),
        klass("c3", hour(19)),
    )
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    signals.watch(board)
    feed(instructor("i1", "Anna"))
    assert signals.take() == [changed(0, 0), changed(2, 2)]
    assert [board.index(r, ClassBoardModel.INSTRUCTOR).data() for r in range(3)] == [
        "Anna",
        "Ben",
        "Anna",
    ]


def test_a_touched_but_unchanged_class_emits_nothing(
    bridge: StateBridge,
    feed: Feed,
    five_classes: None,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    signals.watch(board)
    feed(klass("c3", hour(19)))  # the same row again
    assert signals.take() == []


def test_everything_touched_is_still_reconciled_row_by_row(
    state: GymState,
    bridge: StateBridge,
    feed: Feed,
    five_classes: None,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    signals.watch(board)
    changes = feed.batch(booking("b1", "c2"), gone(Topic.CLASSES, "c4"), klass("c6", hour(8)))
    for view in changes.views():
        changes.touch_all(view)  # as after a snapshot load or a big catch-up slice
    bridge.on_changes(changes)
    bridge.flush_now()
    assert signals.take() == [changed(1, 1, BOOKED_CELL), ("removed", 3, 3), ("inserted", 4, 4)]


def test_a_class_arriving_after_its_bookings_shows_them(
    bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester, signals: SignalLog
) -> None:
    board = ClassBoardModel(bridge)
    qtmodeltester.check(board)
    signals.watch(board)
    feed(booking("b1", "c9"), booking("b2", "c9", member="m2"))
    assert signals.take() == []
    feed(klass("c9"))
    assert signals.take() == [("inserted", 0, 0)]
    assert board.index(0, ClassBoardModel.BOOKED).data() == "2 / 10"


# ---------------------------------------------------------------------- the filter proxy


@pytest.fixture
def board(bridge: StateBridge) -> ClassBoardModel:
    return ClassBoardModel(bridge)


@pytest.fixture
def proxy(
    board: ClassBoardModel,
    qtmodeltester: ModelTester,
    also_check: list[QAbstractItemModelTester],
    signals: SignalLog,
) -> ClassFilterProxy:
    proxy = ClassFilterProxy(board)
    qtmodeltester.check(proxy)
    also_check.append(model_checker(board))
    signals.watch(board)
    return proxy


def test_proxy_sorts_by_start_and_follows_a_rescheduled_class(
    feed: Feed, board: ClassBoardModel, proxy: ClassFilterProxy, signals: SignalLog
) -> None:
    feed(klass("c1", hour(18)), klass("c2", hour(19)), klass("c3", hour(7)))
    signals.take()
    assert class_ids(proxy) == ["c3", "c1", "c2"]
    feed(klass("c2", hour(6)))
    assert signals.take() == [changed(board.row_of("c2") or 0, board.row_of("c2") or 0)]
    assert class_ids(proxy) == ["c2", "c3", "c1"]


def test_proxy_filters_by_day_in_the_states_zone(
    feed: Feed, proxy: ClassFilterProxy, signals: SignalLog
) -> None:
    # 22:30 UTC on the 10th is half past midnight on the 11th in Berlin.
    feed(klass("evening", hour(18)), klass("late", "2024-05-10T22:30:00Z"))
    proxy.set_day(date(2024, 5, 10))
    assert class_ids(proxy) == ["evening"]
    proxy.set_day(date(2024, 5, 11))
    assert class_ids(proxy) == ["late"]
    assert proxy.index(0, ClassBoardModel.TIME).data() == "00:30"
    proxy.set_day(None)
    assert class_ids(proxy) == ["evening", "late"]
    assert proxy.day() is None


def test_proxy_filters_by_location_and_instructor(
    feed: Feed, proxy: ClassFilterProxy, board: ClassBoardModel
) -> None:
    feed(
        klass("c1", hour(17)),
        klass("c2", hour(18), location="North", instructor="i2"),
        klass("c3", hour(19), location="North"),
    )
    assert board.locations() == ["Central", "North"]
    proxy.set_location("North")
    assert class_ids(proxy) == ["c2", "c3"]
    proxy.set_instructor("i1")
    assert class_ids(proxy) == ["c3"]
    proxy.set_location(None)
    assert class_ids(proxy) == ["c1", "c3"]
    proxy.set_instructor(None)
    assert class_ids(proxy) == ["c1", "c2", "c3"]


def test_proxy_filters_by_a_date_range(feed: Feed, proxy: ClassFilterProxy) -> None:
    feed(
        klass("fri", "2024-05-10T18:00:00+02:00"),
        klass("sun", "2024-05-12T18:00:00+02:00"),
        klass("mon", "2024-05-20T18:00:00+02:00"),
        klass("later", "2024-05-21T08:00:00+02:00"),
    )
    proxy.set_date_range(date(2024, 5, 12), date(2024, 5, 20))  # days, both included
    assert class_ids(proxy) == ["sun", "mon"]
    proxy.set_date_range(date(2024, 5, 13), None)
    assert class_ids(proxy) == ["mon", "later"]
    start = datetime(2024, 5, 12, 18, tzinfo=BERLIN)
    end = datetime(2024, 5, 20, 18, tzinfo=BERLIN)
    proxy.set_date_range(start, end)  # instants, half-open
    assert class_ids(proxy) == ["sun"]
    proxy.set_date_range(None, None)
    assert class_ids(proxy) == ["fri", "sun", "mon", "later"]


def test_proxy_search_matches_title_room_instructor_and_booked_members(
    feed: Feed, proxy: ClassFilterProxy, signals: SignalLog
) -> None:
    feed(
        instructor("i1", "Ana"),
        instructor("i2", "Ben"),
        member("m1", "Zoë Quinn"),
        klass("c1", hour(17)),
        klass("c2", hour(18), title="Yoga", room="Studio 2", instructor="i2"),
        klass("c3", hour(19), title="Box", room="B"),
        booking("b1", "c3", member="m1"),
    )
    proxy.set_search("yoga")
    assert class_ids(proxy) == ["c2"]
    proxy.set_search(" STUDIO ")
    assert class_ids(proxy) == ["c2"]
    proxy.set_search("ana")
    assert class_ids(proxy) == ["c1", "c3"]
    proxy.set_search("quinn")
    assert class_ids(proxy) == ["c3"]
    # The member's name changes: the search follows it.
    feed(member("m1", "Zoë Roe"))
    assert class_ids(proxy) == []
    proxy.set_search("roe")
    assert class_ids(proxy) == ["c3"]
    # Her booking moves to another class: so does the match.
    feed(booking("b1", "c1", member="m1"))
    assert class_ids(proxy) == ["c1"]
    proxy.set_search("")
    assert class_ids(proxy) == ["c1", "c2", "c3"]
    assert ("reset",) not in signals.take()


def test_proxy_takes_a_parent_as_first_argument(board: ClassBoardModel) -> None:
    parent = QObject()
    proxy = ClassFilterProxy(parent)
    assert proxy.parent() is parent
    proxy.setSourceModel(board)
    assert proxy.sourceModel() is board
    owned = ClassFilterProxy(board, parent)
    assert owned.parent() is parent
    assert owned.sourceModel() is board


# ---------------------------------------------------------------------- the roster


@pytest.fixture
def two_classes_booked(feed: Feed) -> None:
    feed(
        klass("c1", hour(17)),
        klass("c2", hour(18)),
        member("m1", "Cleo"),
        member("m2", "ann"),
        member("m3", "Bob"),
        booking("b1", "c1", member="m1"),
        booking("b2", "c1", "waitlisted", member="m2", channel="desk"),
        booking("b3", "c2", member="m3"),
    )


def test_roster_lists_the_bookings_of_one_class(
    bridge: StateBridge, two_classes_booked: None, qtmodeltester: ModelTester
) -> None:
    roster = RosterModel(bridge, "c1")
    qtmodeltester.check(roster)
    assert roster.class_id == "c1"
    assert roster.keys() == ["b2", "b1"]  # by member name, case-insensitive
    assert texts(roster, 0) == [
        "ann",
        "Waitlisted",
        "desk",
        "Thu 10:00",
    ]  # the day before the class
    entry = roster.index(1, RosterModel.MEMBER).data(ViewRole)
    assert isinstance(entry, RosterEntry)
    assert (entry.member_id, entry.member_name, entry.status) == ("m1", "Cleo", "booked")
    assert roster.index(1, 0).data(TOOLTIP) == (
        "Cleo (m1)\nBooking b1: Booked via app\nUpdated 2024-05-09 10:00:00"
    )


def test_roster_shows_a_change_on_the_class_s_day_as_a_time(
    bridge: StateBridge, two_classes_booked: None, feed: Feed
) -> None:
    fields = booking_fields("c1", "checked_in", member_id="m1", updated_at="2024-05-10T15:58:00Z")
    feed((Topic.BOOKINGS, "b1", dumps(fields)))
    roster = RosterModel(bridge, "c1")
    updated = {roster.key_at(row): texts(roster, row)[RosterModel.UPDATED] for row in range(2)}
    assert updated == {"b1": "17:58", "b2": "Thu 10:00"}  # Berlin; the day before


def test_roster_follows_a_booking_that_moves_class(
    bridge: StateBridge,
    feed: Feed,
    two_classes_booked: None,
    qtmodeltester: ModelTester,
    also_check: list[QAbstractItemModelTester],
) -> None:
    first, second = RosterModel(bridge, "c1"), RosterModel(bridge, "c2")
    qtmodeltester.check(first)
    also_check.append(model_checker(second))
    first_log, second_log = SignalLog().watch(first), SignalLog().watch(second)
    feed(booking("b1", "c2", member="m1"))
    assert first_log.take() == [("removed", 1, 1)]
    assert second_log.take() == [("inserted", 1, 1)]
    assert first.keys() == ["b2"]
    assert second.keys() == ["b3", "b1"]
    assert first_log.resets == second_log.resets == 0


def test_roster_follows_status_and_member_names(
    bridge: StateBridge,
    feed: Feed,
    two_classes_booked: None,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    roster = RosterModel(bridge, "c1")
    qtmodeltester.check(roster)
    signals.watch(roster)
    feed(booking("b1", "c1", "checked_in", member="m1"))
    assert signals.take() == [("changed", 1, 1, 0, 3)]
    assert roster.index(1, RosterModel.STATUS).data() == "Checked in"
    feed(member("m2", "Ann Lee"), member("m3", "Bobby"))  # m3 is not in this class
    assert signals.take() == [("changed", 0, 0, 0, 3)]
    assert roster.index(0, RosterModel.MEMBER).data() == "Ann Lee"
    feed(gone(Topic.BOOKINGS, "b2"))
    assert signals.take() == [("removed", 0, 0)]
    feed(booking("b9", "c1", member="m3"))
    assert signals.take() == [("inserted", 1, 1)]


def test_set_class_shows_another_class(
    bridge: StateBridge, two_classes_booked: None, qtmodeltester: ModelTester
) -> None:
    roster = RosterModel(bridge)
    qtmodeltester.check(roster)
    assert roster.rowCount() == 0
    log = SignalLog().watch(roster)
    roster.set_class("c2")
    assert roster.keys() == ["b3"]
    roster.set_class("c2")
    roster.set_class(None)
    assert roster.rowCount() == 0
    assert log.resets == 2  # a different list, not an update


# ---------------------------------------------------------------------- people and sales


def test_instructor_rows_follow_their_classes(
    bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester, signals: SignalLog
) -> None:
    feed(instructor("i2", "Ben"), instructor("i1", "Ana"), klass("c1", hour(17), capacity=10))
    model = InstructorModel(bridge)
    qtmodeltester.check(model)
    signals.watch(model)
    assert model.keys() == ["i1", "i2"]
    assert texts(model, 0) == ["Ana", "1", "0 / 10", "0%", "—", "—"]
    feed(booking("b1", "c1", "checked_in"))
    assert signals.take() == [("changed", 0, 0, 0, 5)]
    assert texts(model, 0) == ["Ana", "1", "1 / 10", "10%", "100%", "0%"]
    view = model.index(0, InstructorModel.NAME).data(ViewRole)
    assert isinstance(view, InstructorView)
    assert model.index(0, InstructorModel.FILL).data(FillRole) == pytest.approx(0.1)
    feed(gone(Topic.INSTRUCTORS, "i2"))
    assert signals.take() == [("removed", 1, 1)]


def test_rep_and_team_models_follow_sales_and_targets(
    bridge: StateBridge,
    feed: Feed,
    qtmodeltester: ModelTester,
    also_check: list[QAbstractItemModelTester],
    signals: SignalLog,
) -> None:
    feed(
        rep("r1", "Rae", "north"),
        rep("r2", "Sam", "south"),
        (Topic.TARGETS, "t1", target_json("rep", "r1", target_cents=500_000)),
        (Topic.TARGETS, "t2", target_json("team", "north", target_cents=1_000_000)),
    )
    reps, teams = RepModel(bridge), TeamModel(bridge)
    qtmodeltester.check(reps)
    also_check.append(model_checker(teams))
    team_log = SignalLog().watch(teams)
    signals.watch(reps)
    feed(sale("s1", 123_456, by="r1"))
    assert signals.take() == [("changed", 0, 0, 0, 5)]
    assert team_log.take() == [("changed", 0, 0, 0, 5)]
    assert texts(reps, 0) == ["Rae", "north", "1", "€1,235", "€5,000", "25%"]
    assert texts(reps, 1) == ["Sam", "south", "0", "€0", "—", "—"]
    assert texts(teams, 0) == ["north", "1", "1", "€1,235", "€10,000", "12%"]
    assert reps.index(0, RepModel.TOTAL).data(ALIGN) == RIGHT
    assert isinstance(reps.index(0, 0).data(ViewRole), RepView)
    assert isinstance(teams.index(0, 0).data(ViewRole), TeamView)
    assert reps.index(0, 0).data(FillRole) == pytest.approx(1234.56 / 5000)
    assert reps.index(0, 0).data(TOOLTIP) == (
        "Rae (north): 1 sales, €1,234.56; target €5,000 (25%)"
    )
    feed(rep("r3", "Ted", "east"))
    assert signals.take() == [("inserted", 2, 2)]
    assert team_log.take() == [("inserted", 2, 2)]
    assert teams.keys() == ["north", "south", "east"]


# ---------------------------------------------------------------------- short lists


@pytest.fixture
def three_sales(feed: Feed) -> None:
    feed(
        rep("r1", "Rae", "north"),
        sale("s1", at="2024-05-15T12:00:00Z"),
        sale("s2", at="2024-05-15T13:00:00Z"),
        sale("s3", at="2024-05-15T14:00:00Z"),
    )


def test_ticker_shows_the_newest_sales_newest_first(
    bridge: StateBridge, three_sales: None, qtmodeltester: ModelTester
) -> None:
    ticker = SalesTickerModel(bridge, limit=2)
    qtmodeltester.check(ticker)
    assert ticker.limit == 2
    assert ticker.keys() == ["s3", "s2"]
    assert texts(ticker, 0) == ["16:00", "Rae", "annual", "€10"]
    line = ticker.index(0, 0).data(ViewRole)
    assert isinstance(line, SaleLine)
    assert (line.id, line.rep_name, line.amount_cents) == ("s3", "Rae", 1000)


def test_ticker_edits_its_rows_minimally(
    bridge: StateBridge,
    feed: Feed,
    three_sales: None,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    ticker = SalesTickerModel(bridge, limit=3)
    qtmodeltester.check(ticker)
    signals.watch(ticker)
    feed(sale("s4", at="2024-05-15T15:00:00Z"))
    assert signals.take() == [("removed", 2, 2), ("inserted", 0, 0)]
    assert ticker.keys() == ["s4", "s3", "s2"]
    feed(sale("s0", at="2024-05-15T09:00:00Z"))  # older than every shown sale
    assert signals.take() == []
    feed(gone(Topic.SALES, "s3"))
    assert signals.take() == [("removed", 1, 1), ("inserted", 2, 2)]
    assert ticker.keys() == ["s4", "s2", "s1"]
    feed(sale("s1", at="2024-05-15T16:00:00Z"))  # re-dated: now the newest
    assert signals.take() == [("moved", 2, 2, 0), ("changed", 0, 0, 0, 3)]
    assert ticker.keys() == ["s1", "s4", "s2"]
    feed(sale("s4", 25_000, at="2024-05-15T15:00:00Z"))
    assert signals.take() == [("changed", 1, 1, 0, 3)]
    assert ticker.index(1, SalesTickerModel.AMOUNT).data() == "€250"
    feed(rep("r1", "Raquel", "north"))
    assert signals.take() == [("changed", 0, 2, 0, 3)]
    assert ticker.index(2, SalesTickerModel.REP).data() == "Raquel"
    ticker.refresh()  # nothing changed since: nothing to say
    assert signals.take() == []


def test_rejected_lists_the_newest_first_and_drops_the_oldest(
    state: GymState,
    bridge: StateBridge,
    feed: Feed,
    qtmodeltester: ModelTester,
    signals: SignalLog,
) -> None:
    state.rejections = RejectionLog(state.settings.prefix, keep=3)
    model = RejectedModel(bridge)
    qtmodeltester.check(model)
    signals.watch(model)
    feed((Topic.CLASSES, "x1", b"bad1"), (Topic.SALES, "x2", b"bad2"))
    assert signals.take() == [("inserted", 0, 1)]
    assert [model.index(r, RejectedModel.FIRST_BYTES).data() for r in range(2)] == [
        "bad2",
        "bad1",
    ]
    assert texts(model, 1)[:4] == ["gym.classes", "0", "-1", "x1"]
    assert model.index(1, RejectedModel.OFFSET).data(ALIGN) == RIGHT
    feed((Topic.CLASSES, "x3", b"bad3"), (Topic.CLASSES, "x4", b"bad4"))
    assert signals.take() == [("removed", 1, 1), ("inserted", 0, 1)]
    assert [model.index(r, RejectedModel.FIRST_BYTES).data() for r in range(3)] == [
        "bad4",
        "bad3",
        "bad2",
    ]
    assert model.total == 4
    feed(klass("c1"))  # a good record touches no rejection
    assert signals.take() == []


def test_invalid_indexes_and_vertical_headers_read_nothing(
    bridge: StateBridge, five_classes: None
) -> None:
    board = ClassBoardModel(bridge)
    assert board.data(QModelIndex()) is None
    assert board.headerData(0, Qt.Orientation.Vertical) is None
    assert board.rowCount(board.index(0, 0)) == 0
    assert board.index_of("c3", ClassBoardModel.ROOM).row() == 2
    assert not board.index_of("nope").isValid()
    assert board.roleNames()[ClassViewRole].data() == b"classView"
