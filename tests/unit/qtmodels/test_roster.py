"""The roster's reading order in C++, its own pace beside the board, and re-reads in slices."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from gymdesk.domain.changes import Changes, View
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.models import (
    CATCH_UP_ROSTER_INTERVAL_S,
    SWEEP_CHUNK,
    OrderRole,
    RosterEntry,
    RosterModel,
    roster_order,
)

from .conftest import Feed, SignalLog
from .test_models import booking, hour, klass, member

WHEN = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)


def entry(status: str, name: str | None, booking_id: str = "b1") -> RosterEntry:
    return RosterEntry(booking_id, "m1", name, status, "app", WHEN)


def test_the_order_key_reads_status_then_name_then_booking() -> None:
    entries = [
        entry("cancelled", "Aaron"),
        entry("booked", "anna", "b2"),
        entry("booked", "Ann", "b3"),
        entry("waitlisted", "Al"),
        entry("booked", None, "b0"),  # no name yet: its member id
        entry("booked", "Ann", "b1"),
    ]
    ordered = sorted(entries, key=roster_order)
    assert [(e.status, e.member_name, e.booking_id) for e in ordered] == [
        ("booked", "Ann", "b1"),
        ("booked", "Ann", "b3"),
        ("booked", "anna", "b2"),
        ("booked", None, "b0"),
        ("waitlisted", "Al", "b1"),
        ("cancelled", "Aaron", "b1"),
    ]


def test_a_plain_proxy_sorts_the_roster_by_its_order_role(
    qapp: object, bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester
) -> None:
    feed(
        klass("c1", hour(17)),
        member("m1", "Cleo"),
        member("m2", "ann"),
        member("m3", "Bob"),
        booking("b1", "c1", member="m1"),
        booking("b2", "c1", "cancelled", member="m2"),
        booking("b3", "c1", member="m3"),
    )
    grey = QColor("#8c99a8")
    roster = RosterModel(bridge, "c1", cancelled_colour=grey)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(roster)
    proxy.setSortRole(OrderRole)
    proxy.setDynamicSortFilter(True)
    proxy.sort(0)
    qtmodeltester.check(proxy)
    names = [proxy.index(r, RosterModel.MEMBER).data() for r in range(proxy.rowCount())]
    assert names == ["Bob", "Cleo", "ann"]
    assert proxy.index(2, 0).data(Qt.ItemDataRole.ForegroundRole) == grey
    assert proxy.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    feed(booking("b2", "c1", member="m2"))  # rebooked: up among the others, by name
    names = [proxy.index(r, RosterModel.MEMBER).data() for r in range(proxy.rowCount())]
    assert names == ["ann", "Bob", "Cleo"]


def test_a_throttled_roster_shows_the_first_change_now_and_the_rest_once(
    qtbot: QtBot, bridge: StateBridge, feed: Feed, signals: SignalLog
) -> None:
    feed(klass("c1", hour(17)), member("m1", "Cleo"))
    roster = RosterModel(bridge, "c1", interval_ms=1000)
    signals.watch(roster)
    feed(booking("b1", "c1"))
    assert signals.take() == [("inserted", 0, 0)]  # a lone change shows at once
    feed(booking("b2", "c1"))
    feed(booking("b3", "c1"))
    assert roster.rowCount() == 1  # a burst waits for the interval
    qtbot.waitUntil(lambda: roster.rowCount() == 3, timeout=3000)
    assert signals.take() == [("inserted", 1, 2)]  # and comes as one insert


def test_every_booking_touched_is_re_read_in_slices_and_completely(
    qtbot: QtBot, bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester
) -> None:
    bookings = SWEEP_CHUNK * 6
    feed(klass("c1", hour(17)), member("m1", "Cleo"))
    roster = RosterModel(bridge, "c1")
    qtmodeltester.check(roster)
    feed.batch(*(booking(f"b{n:04d}", "c1") for n in range(bookings)))  # not reported...
    changes = Changes()
    changes.touch_all(View.BOOKINGS)  # ...but as every booking, as during a catch-up
    slow_lookup = roster._lookup

    def lookup(key: str) -> RosterEntry | None:
        time.sleep(0.0001)  # a large, cold table: each line costs a little
        return slow_lookup(key)

    roster._lookup = lookup  # type: ignore[method-assign]
    inserts: list[int] = []
    roster.rowsInserted.connect(lambda parent, first, last: inserts.append(last - first + 1))
    bridge.on_changes(changes)
    bridge.flush_now()
    assert roster.sweeping  # nothing within the flush: the re-read has turns of its own
    assert roster.rowCount() == 0
    qtbot.waitUntil(lambda: not roster.sweeping, timeout=5000)
    assert roster.rowCount() == bookings
    assert len(inserts) > 1  # in slices, each a block of rows
    assert max(inserts) < bookings


def test_switching_class_drops_a_pending_re_read(
    qapp: object, bridge: StateBridge, feed: Feed
) -> None:
    feed(klass("c1", hour(17)), klass("c2", hour(18)), member("m1", "Cleo"))
    feed(*(booking(f"b{n:04d}", "c1") for n in range(SWEEP_CHUNK * 3)))
    feed(booking("x1", "c2"))
    roster = RosterModel(bridge, "c1")
    roster._sweep = ["b0000"]  # as if a re-read were under way
    roster.set_class("c2")
    assert not roster.sweeping
    assert roster.keys() == ["x1"]


def test_while_catching_up_the_roster_re_reads_its_class_at_most_once_a_second(
    qtbot: QtBot, bridge: StateBridge, feed: Feed
) -> None:
    feed(klass("c1", hour(17)), member("m1", "Cleo"))
    roster = RosterModel(bridge, "c1", interval_ms=0)
    bridge.on_status(ReaderStatus(Phase.CATCHING_UP))
    every = Changes()
    every.touch_all(View.BOOKINGS)
    feed.batch(booking("b1", "c1"))
    bridge.on_changes(every)
    bridge.flush_now()
    qtbot.waitUntil(lambda: roster.rowCount() == 1, timeout=3000)  # the first: at once
    shown_at = time.monotonic()
    feed.batch(booking("b2", "c1"))
    bridge.on_changes(every)
    bridge.flush_now()
    qtbot.wait(300)  # live, an interval of 0 would have shown it by now
    assert roster.rowCount() == 1
    qtbot.waitUntil(lambda: roster.rowCount() == 2, timeout=3000)
    assert time.monotonic() - shown_at >= CATCH_UP_ROSTER_INTERVAL_S


def test_showing_a_big_class_fills_the_roster_in_slices_after_one_reset(
    qtbot: QtBot, bridge: StateBridge, feed: Feed, qtmodeltester: ModelTester
) -> None:
    bookings = SWEEP_CHUNK * 8
    feed(klass("c1", hour(17)), klass("c2", hour(18)), member("m1", "Cleo"))
    feed(*(booking(f"b{n:04d}", "c2") for n in range(bookings)))
    roster = RosterModel(bridge, "c1")
    qtmodeltester.check(roster)
    log = SignalLog().watch(roster)
    inserts: list[int] = []
    roster.rowsInserted.connect(lambda parent, first, last: inserts.append(last - first + 1))
    slow_lookup = roster._lookup

    def lookup(key: str) -> RosterEntry | None:
        time.sleep(0.0001)  # a large, cold table: each line costs a little
        return slow_lookup(key)

    roster._lookup = lookup  # type: ignore[method-assign]
    roster.set_class("c2")
    assert log.resets == 1
    assert 0 < roster.rowCount() < bookings  # the first slice at once, not the whole class
    qtbot.waitUntil(lambda: not roster.sweeping, timeout=5000)
    assert sorted(roster.keys()) == [f"b{n:04d}" for n in range(bookings)]
    assert len(inserts) > 1
