"""GymState: tables, occupancy, instructor totals and sales, each rule with exact numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gymdesk.domain import state as state_module
from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import InstructorRow, Topic, decode_value
from gymdesk.domain.state import GymState, StateSettings, period_of
from gymdesk.domain.views import ClassView, InstructorView, PeriodSummary, RepView, TeamView

from .records import (
    PERIOD,
    booking_json,
    class_json,
    dumps,
    instructor_json,
    member_json,
    put,
    rep_json,
    sale_fields,
    sale_json,
    target_json,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def state() -> GymState:
    return GymState(StateSettings(period=PERIOD, zone=BERLIN))


def book(state: GymState, *statuses: str, class_id: str = "c1", first: int = 1) -> None:
    """Add one booking per status, keyed b<first>, b<first+1>, ..."""
    for n, status in enumerate(statuses, start=first):
        put(state, Topic.BOOKINGS, f"b{n}", booking_json(class_id, status))


def counts(view: ClassView | None) -> tuple[int, int, int, int, int]:
    assert view is not None
    return (view.booked, view.waitlisted, view.checked_in, view.cancelled, view.no_show)


def totals(view: InstructorView | None) -> tuple[int, int, int, int, int]:
    assert view is not None
    return (view.classes, view.booked, view.capacity, view.checked_in, view.no_show)


# ---------------------------------------------------------------- class occupancy


def test_occupancy_counts_each_status_and_booked_includes_checked_in(state: GymState) -> None:
    put(state, Topic.CLASSES, "c1", class_json("i1", capacity=10))
    book(state, "booked", "booked", "booked", "checked_in", "checked_in")
    book(state, "waitlisted", "cancelled", "cancelled", "no_show", first=6)
    view = state.class_view("c1")
    assert counts(view) == (5, 1, 2, 2, 1)
    assert view is not None
    assert view.capacity == 10
    assert view.fill == 0.5
    assert view.full is False
    assert view.busy is True  # someone waits, even at half full


def test_class_view_carries_the_class_row(state: GymState) -> None:
    put(state, Topic.INSTRUCTORS, "i1", instructor_json("Ana"))
    put(state, Topic.CLASSES, "c1", class_json("i1", capacity=12, title="Yoga", duration_min=60))
    assert state.class_view("c1") == ClassView(
        id="c1",
        title="Yoga",
        location="Central",
        room="A",
        instructor_id="i1",
        instructor_name="Ana",
        starts_at=datetime(2024, 5, 10, 16, 0, tzinfo=UTC),
        duration_min=60,
        capacity=12,
        booked=0,
        waitlisted=0,
        checked_in=0,
        cancelled=0,
        no_show=0,
        fill=0.0,
        busy=False,
        full=False,
    )


def test_instructor_name_is_none_until_the_instructor_row_arrives(state: GymState) -> None:
    put(state, Topic.CLASSES, "c1", class_json("i1"))
    view = state.class_view("c1")
    assert view is not None
    assert view.instructor_name is None
    put(state, Topic.INSTRUCTORS, "i1", instructor_json("Ana"))
    view = state.class_view("c1")
    assert view is not None
    assert view.instructor_name == "Ana"


@pytest.mark.parametrize(
    ("booked", "fill", "busy", "full"),
    [
        (0, 0.0, False, False),
        (3, 0.6, False, False),
        (4, 0.8, True, False),  # exactly at the threshold
        (5, 1.0, True, True),
        (6, 1.2, True, True),  # overbooked still counts
    ],
)
def test_fill_busy_and_full_from_booked_over_capacity(
    state: GymState, booked: int, fill: float, busy: bool, full: bool
) -> None:
    put(state, Topic.CLASSES, "c1", class_json(capacity=5))
    book(state, *["booked"] * booked)
    view = state.class_view("c1")
    assert view is not None
    assert (view.booked, view.fill, view.busy, view.full) == (booked, fill, busy, full)


def test_checked_in_counts_towards_fill_and_full(state: GymState) -> None:
    put(state, Topic.CLASSES, "c1", class_json(capacity=2))
    book(state, "checked_in", "checked_in", "cancelled", "no_show")
    view = state.class_view("c1")
    assert counts(view) == (2, 0, 2, 1, 1)
    assert view is not None
    assert (view.fill, view.full, view.busy) == (1.0, True, True)


def test_a_waitlist_makes_a_quiet_class_busy(state: GymState) -> None:
    put(state, Topic.CLASSES, "c1", class_json(capacity=10))
    book(state, "booked", "waitlisted")
    view = state.class_view("c1")
    assert view is not None
    assert (view.fill, view.waitlisted, view.busy, view.full) == (0.1, 1, True, False)


def test_the_busy_threshold_is_a_setting() -> None:
    state = GymState(StateSettings(period=PERIOD, busy_threshold=0.5))
    put(state, Topic.CLASSES, "c1", class_json(capacity=4))
    book(state, "booked")
    view = state.class_view("c1")
    assert view is not None
    assert (view.fill, view.busy) == (0.25, False)
    book(state, "booked", first=2)
    view = state.class_view("c1")
    assert view is not None
    assert (view.fill, view.busy) == (0.5, True)


def test_a_status_change_moves_the_booking_between_counts(state: GymState) -> None:
    put(state, Topic.CLASSES, "c1", class_json(capacity=10))
    book(state, "waitlisted")
    assert counts(state.class_view("c1")) == (0, 1, 0, 0, 0)
    book(state, "booked")
    assert counts(state.class_view("c1")) == (1, 0, 0, 0, 0)
    book(state, "checked_in")
    assert counts(state.class_view("c1")) == (1, 0, 1, 0, 0)
    book(state, "no_show")
    assert counts(state.class_view("c1")) == (0, 0, 0, 0, 1)
    book(state, "cancelled")
    assert counts(state.class_view("c1")) == (0, 0, 0, 1, 0)
    put(state, Topic.BOOKINGS, "b1", None)
    assert counts(state.class_view("c1")) == (0, 0, 0, 0, 0)
    assert state.tables[Topic.BOOKINGS] == {}


def test_a_capacity_change_recomputes_fill_and_full(state: GymState) -> None:
    put(state, Topic.CLASSES, "c1", class_json(capacity=10))
    book(state, "booked", "booked", "booked", "booked")
    put(state, Topic.CLASSES, "c1", class_json(capacity=4))
    view = state.class_view("c1")
    assert view is not None
    assert (view.booked, view.capacity, view.fill, view.full, view.busy) == (4, 4, 1.0, True, True)


# ---------------------------------------------------------------- moves, orphans, deletes


def test_a_booking_whose_class_id_changes_moves_to_the_new_class(state: GymState) -> None:
    put(state, Topic.CLASSES, "c1", class_json(capacity=10))
    put(state, Topic.CLASSES, "c2", class_json(capacity=20))
    book(state, "booked", "checked_in")
    put(state, Topic.BOOKINGS, "b2", booking_json("c2", "checked_in"))
    assert counts(state.class_view("c1")) == (1, 0, 0, 0, 0)
    assert counts(state.class_view("c2")) == (1, 0, 1, 0, 0)
    assert state.bookings_of_class("c1") == frozenset({"b1"})
    assert state.bookings_of_class("c2") == frozenset({"b2"})
    # Moving and changing status in one record.
    put(state, Topic.BOOKINGS, "b1", booking_json("c2", "no_show"))
    assert counts(state.class_view("c1")) == (0, 0, 0, 0, 0)
    assert counts(state.class_view("c2")) == (1, 0, 1, 0, 1)
    assert state.bookings_of_class("c1") == frozenset()
    assert state.bookings_of_class("c2") == frozenset({"b1", "b2"})


def test_bookings_before_their_class_are_kept_and_count_when_it_arrives(state: GymState) -> None:
    book(state, "booked", "waitlisted", "checked_in", class_id="c9")
    assert state.class_view("c9") is None
    assert state.bookings_of_class("c9") == frozenset({"b1", "b2", "b3"})
    assert len(state.tables[Topic.BOOKINGS]) == 3
    put(state, Topic.INSTRUCTORS, "i1", instructor_json())
    put(state, Topic.CLASSES, "c9", class_json("i1", capacity=4))
    assert counts(state.class_view("c9")) == (2, 1, 1, 0, 0)
    assert totals(state.instructor_view("i1")) == (1, 2, 4, 1, 0)


def test_a_deleted_class_leaves_the_board_but_keeps_its_bookings(state: GymState) -> None:
    put(state, Topic.INSTRUCTORS, "i1", instructor_json())
    put(state, Topic.CLASSES, "c1", class_json("i1", capacity=10))
    book(state, "booked", "booked", "no_show")
    put(state, Topic.CLASSES, "c1", None)
    assert state.class_view("c1") is None
    assert [v.id for v in state.class_views()] == []
    assert state.bookings_of_class("c1") == frozenset({"b1", "b2", "b3"})
    assert totals(state.instructor_view("i1")) == (0, 0, 0, 0, 0)
    # A booking change while the class is gone still counts when it returns.
    book(state, "checked_in")
    put(state, Topic.CLASSES, "c1", class_json("i1", capacity=8))
    assert counts(state.class_view("c1")) == (2, 0, 1, 0, 1)
    assert totals(state.instructor_view("i1")) == (1, 2, 8, 1, 1)


def test_a_tombstone_for_a_missing_key_changes_nothing(state: GymState) -> None:
    changes = put(state, Topic.CLASSES, "c404", None)
    assert not changes
    assert state.tables[Topic.CLASSES] == {}


def test_bookings_of_a_class_list_every_status(state: GymState) -> None:
    book(state, "booked", "waitlisted", "cancelled", "checked_in", "no_show")
    assert state.bookings_of_class("c1") == frozenset({"b1", "b2", "b3", "b4", "b5"})
    assert state.bookings_of_class("c2") == frozenset()


# ---------------------------------------------------------------- instructor totals


def test_instructor_totals_sum_over_their_classes(state: GymState) -> None:
    put(state, Topic.INSTRUCTORS, "i1", instructor_json("Ana"))
    put(state, Topic.INSTRUCTORS, "i2", instructor_json("Ben"))
    put(state, Topic.CLASSES, "c1", class_json("i1", capacity=10))
    put(state, Topic.CLASSES, "c2", class_json("i1", capacity=20))
    put(state, Topic.CLASSES, "c3", class_json("i2", capacity=5))
    book(state, "booked", "checked_in", "no_show", "waitlisted", class_id="c1")
    book(state, "checked_in", "checked_in", "cancelled", class_id="c2", first=5)
    book(state, "booked", class_id="c3", first=8)
    assert state.instructor_view("i1") == InstructorView(
        id="i1", name="Ana", classes=2, booked=4, capacity=30, checked_in=3, no_show=1
    )
    assert state.instructor_view("i2") == InstructorView(
        id="i2", name="Ben", classes=1, booked=1, capacity=5, checked_in=0, no_show=0
    )
    assert sorted(v.id for v in state.instructor_views()) == ["i1", "i2"]


def test_an_instructor_without_a_row_has_no_view_but_keeps_totals(state: GymState) -> None:
    put(state, Topic.CLASSES, "c1", class_json("i1", capacity=10))
    book(state, "booked")
    assert state.instructor_view("i1") is None
    put(state, Topic.INSTRUCTORS, "i1", instructor_json("Ana"))
    assert totals(state.instructor_view("i1")) == (1, 1, 10, 0, 0)
    put(state, Topic.INSTRUCTORS, "i1", None)
    assert state.instructor_view("i1") is None
    assert [v.id for v in state.instructor_views()] == []


def test_an_instructor_with_no_classes_has_zero_totals(state: GymState) -> None:
    put(state, Topic.INSTRUCTORS, "i1", instructor_json("Ana"))
    assert totals(state.instructor_view("i1")) == (0, 0, 0, 0, 0)


def test_a_class_that_changes_instructor_moves_with_its_counts(state: GymState) -> None:
    put(state, Topic.INSTRUCTORS, "i1", instructor_json("Ana"))
    put(state, Topic.INSTRUCTORS, "i2", instructor_json("Ben"))
    put(state, Topic.CLASSES, "c1", class_json("i1", capacity=10))
    put(state, Topic.CLASSES, "c2", class_json("i1", capacity=6))
    book(state, "booked", "checked_in", "no_show", class_id="c1")
    book(state, "booked", class_id="c2", first=4)
    assert totals(state.instructor_view("i1")) == (2, 3, 16, 1, 1)
    put(state, Topic.CLASSES, "c1", class_json("i2", capacity=10))
    assert totals(state.instructor_view("i1")) == (1, 1, 6, 0, 0)
    assert totals(state.instructor_view("i2")) == (1, 2, 10, 1, 1)
    view = state.class_view("c1")
    assert view is not None
    assert (view.instructor_id, view.instructor_name) == ("i2", "Ben")
    # Bookings that change afterwards follow the class to its new instructor.
    book(state, "checked_in")
    assert totals(state.instructor_view("i1")) == (1, 1, 6, 0, 0)
    assert totals(state.instructor_view("i2")) == (1, 2, 10, 2, 1)


# ---------------------------------------------------------------- sales


def sales_state(state: GymState) -> GymState:
    """Two teams: north = r1 + r2, south = r3."""
    put(state, Topic.REPS, "r1", rep_json("north", "Rae"))
    put(state, Topic.REPS, "r2", rep_json("north", "Sam"))
    put(state, Topic.REPS, "r3", rep_json("south", "Tia"))
    return state


def test_rep_sales_count_only_the_period(state: GymState) -> None:
    sales_state(state)
    put(state, Topic.SALES, "s1", sale_json("r1", 1000, "2024-05-02T10:00:00Z"))
    put(state, Topic.SALES, "s2", sale_json("r1", 2500, "2024-05-20T10:00:00+02:00"))
    put(state, Topic.SALES, "s3", sale_json("r1", 9900, "2024-06-02T10:00:00Z"))
    put(state, Topic.SALES, "s4", sale_json("r1", 7700, "2024-04-29T10:00:00Z"))
    put(state, Topic.SALES, "s5", sale_json("r2", 300, "2024-05-31T12:00:00Z"))
    assert state.rep_view("r1") == RepView("r1", "Rae", "north", 3500, 2, None)
    assert state.rep_view("r2") == RepView("r2", "Sam", "north", 300, 1, None)
    assert state.rep_view("r3") == RepView("r3", "Tia", "south", 0, 0, None)


def test_the_month_of_a_sale_is_taken_in_the_configured_zone(state: GymState) -> None:
    sales_state(state)
    # 22:30 UTC on 30 April is 00:30 on 1 May in Berlin: in the period.
    put(state, Topic.SALES, "s1", sale_json("r1", 100, "2024-04-30T22:30:00Z"))
    # 22:30 UTC on 31 May is 00:30 on 1 June in Berlin: out of it.
    put(state, Topic.SALES, "s2", sale_json("r1", 200, "2024-05-31T22:30:00Z"))
    # 23:59 on 31 May at +02:00 is still May.
    put(state, Topic.SALES, "s3", sale_json("r1", 400, "2024-05-31T23:59:00+02:00"))
    # 20:00 on 31 May in New York is 02:00 on 1 June in Berlin: out.
    put(state, Topic.SALES, "s4", sale_json("r1", 800, "2024-05-31T20:00:00-04:00"))
    assert state.rep_view("r1") == RepView("r1", "Rae", "north", 500, 2, None)
    assert state.period_summary().by_day == {1: 100, 31: 400}


def test_the_same_sales_in_utc_fall_in_other_months() -> None:
    state = sales_state(GymState(StateSettings(period=PERIOD)))
    put(state, Topic.SALES, "s1", sale_json("r1", 100, "2024-04-30T22:30:00Z"))
    put(state, Topic.SALES, "s2", sale_json("r1", 200, "2024-05-31T22:30:00Z"))
    assert state.rep_view("r1") == RepView("r1", "Rae", "north", 200, 1, None)


def test_a_sale_update_moves_its_amount_between_reps_and_periods(state: GymState) -> None:
    sales_state(state)
    put(state, Topic.SALES, "s1", sale_json("r1", 1000))
    put(state, Topic.SALES, "s1", sale_json("r1", 1200))
    assert state.rep_view("r1") == RepView("r1", "Rae", "north", 1200, 1, None)
    put(state, Topic.SALES, "s1", sale_json("r3", 1200))
    assert state.rep_view("r1") == RepView("r1", "Rae", "north", 0, 0, None)
    assert state.rep_view("r3") == RepView("r3", "Tia", "south", 1200, 1, None)
    put(state, Topic.SALES, "s1", sale_json("r3", 1200, "2024-06-01T12:00:00Z"))
    assert state.rep_view("r3") == RepView("r3", "Tia", "south", 0, 0, None)
    put(state, Topic.SALES, "s1", sale_json("r3", 1200, "2024-05-01T12:00:00Z"))
    put(state, Topic.SALES, "s1", None)
    assert state.rep_view("r3") == RepView("r3", "Tia", "south", 0, 0, None)
    assert state.period_summary() == PeriodSummary(PERIOD, 0, 0, None, {})


def test_a_sale_in_another_currency_is_kept_but_not_summed(state: GymState) -> None:
    sales_state(state)
    put(state, Topic.SALES, "s1", sale_json("r1", 1000))
    dollars = dumps({**sale_fields("r1", 5000), "currency": "USD"})
    changes = put(state, Topic.SALES, "s2", dollars)
    assert changes.touched(View.PERIOD)  # the wallboard says what the totals leave out
    assert state.tables[Topic.SALES]["s2"] == decode_value(Topic.SALES, dollars)  # kept
    assert state.rep_view("r1") == RepView("r1", "Rae", "north", 1000, 1, None)
    assert state.team_view("north") == TeamView("north", 1000, 1, 2, None)
    summary = state.period_summary()
    assert (summary.total_cents, summary.count, summary.by_day) == (1000, 1, {15: 1000})
    assert (summary.currency, summary.other_currency_count) == ("EUR", 1)
    # Corrected to euros, it counts; deleted, it is gone from both.
    put(state, Topic.SALES, "s2", sale_json("r1", 5000))
    assert state.period_summary().total_cents == 6000
    assert state.period_summary().other_currency_count == 0
    put(state, Topic.SALES, "s2", dollars)
    put(state, Topic.SALES, "s2", None)
    assert state.period_summary().other_currency_count == 0
    assert state.period_summary().total_cents == 1000
    # A desk set to dollars sums the dollars and leaves the euros out.
    usd = GymState(StateSettings(period=PERIOD, zone=BERLIN, currency="USD"))
    put(usd, Topic.SALES, "s1", sale_json("r1", 1000))
    put(usd, Topic.SALES, "s2", dollars)
    assert (usd.period_summary().total_cents, usd.period_summary().other_currency_count) == (
        5000,
        1,
    )
    # A new month recounts both.
    changes = Changes()
    usd.set_period("2024-06", changes)
    assert usd.period_summary().other_currency_count == 0


def test_a_team_sums_the_sales_of_its_current_reps(state: GymState) -> None:
    sales_state(state)
    put(state, Topic.SALES, "s1", sale_json("r1", 1000))
    put(state, Topic.SALES, "s2", sale_json("r2", 250))
    put(state, Topic.SALES, "s3", sale_json("r3", 4000))
    put(state, Topic.SALES, "s4", sale_json("r3", 60, "2024-06-03T09:00:00Z"))
    assert state.team_view("north") == TeamView("north", 1250, 2, 2, None)
    assert state.team_view("south") == TeamView("south", 4000, 1, 1, None)
    assert state.team_view("east") is None
    assert sorted(v.id for v in state.team_views()) == ["north", "south"]


def test_a_rep_who_changes_team_takes_their_sales_along(state: GymState) -> None:
    sales_state(state)
    put(state, Topic.SALES, "s1", sale_json("r1", 1000))
    put(state, Topic.SALES, "s2", sale_json("r1", 500))
    put(state, Topic.SALES, "s3", sale_json("r2", 250))
    put(state, Topic.REPS, "r1", rep_json("south", "Rae"))
    assert state.team_view("north") == TeamView("north", 250, 1, 1, None)
    assert state.team_view("south") == TeamView("south", 1500, 2, 2, None)
    assert state.rep_view("r1") == RepView("r1", "Rae", "south", 1500, 2, None)
    # A sale made after the move counts for the new team only.
    put(state, Topic.SALES, "s4", sale_json("r1", 5))
    assert state.team_view("north") == TeamView("north", 250, 1, 1, None)
    assert state.team_view("south") == TeamView("south", 1505, 3, 2, None)


def test_a_team_whose_last_rep_leaves_is_gone(state: GymState) -> None:
    sales_state(state)
    put(state, Topic.SALES, "s1", sale_json("r3", 4000))
    rep_join = rep_json("east", "Tia")
    put(state, Topic.REPS, "r3", rep_join)
    assert state.team_view("south") is None
    assert state.team_view("east") == TeamView("east", 4000, 1, 1, None)
    put(state, Topic.REPS, "r3", None)
    assert state.team_view("east") is None
    assert state.rep_view("r3") is None
    # The sale still counts in the period total, and for the rep when they return.
    assert state.period_summary().total_cents == 4000
    put(state, Topic.REPS, "r3", rep_join)
    assert state.team_view("east") == TeamView("east", 4000, 1, 1, None)


def test_sales_of_a_rep_without_a_row_count_in_the_period_only(state: GymState) -> None:
    put(state, Topic.SALES, "s1", sale_json("r7", 700))
    assert state.rep_view("r7") is None
    assert list(state.team_views()) == []
    assert state.period_summary() == PeriodSummary(PERIOD, 700, 1, None, {15: 700})
    put(state, Topic.REPS, "r7", rep_json("west", "Uma"))
    assert state.rep_view("r7") == RepView("r7", "Uma", "west", 700, 1, None)
    assert state.team_view("west") == TeamView("west", 700, 1, 1, None)


# ---------------------------------------------------------------- targets


def test_targets_are_looked_up_by_scope_id_and_period(state: GymState) -> None:
    sales_state(state)
    put(state, Topic.TARGETS, "t1", target_json("rep", "r1", PERIOD, 5000))
    put(state, Topic.TARGETS, "t2", target_json("team", "north", PERIOD, 20000))
    put(state, Topic.TARGETS, "t3", target_json("rep", "r1", "2024-06", 6000))
    put(state, Topic.TARGETS, "t4", target_json("team", "r1", PERIOD, 1))  # scope matters
    rep = state.rep_view("r1")
    assert rep is not None
    assert rep.target_cents == 5000
    team = state.team_view("north")
    assert team is not None
    assert team.target_cents == 20000
    assert state.target_cents("rep", "r1") == 5000
    assert state.target_cents("rep", "r1", "2024-06") == 6000
    assert state.target_cents("rep", "r1", "2024-07") is None
    assert state.target_cents("rep", "r2") is None
    assert state.target_cents("team", "r1") == 1
    put(state, Topic.TARGETS, "t1", None)
    rep = state.rep_view("r1")
    assert rep is not None
    assert rep.target_cents is None


def test_a_target_that_changes_scope_id_moves(state: GymState) -> None:
    sales_state(state)
    put(state, Topic.TARGETS, "t1", target_json("rep", "r1", PERIOD, 5000))
    put(state, Topic.TARGETS, "t1", target_json("rep", "r2", PERIOD, 5000))
    assert state.target_cents("rep", "r1") is None
    assert state.target_cents("rep", "r2") == 5000


def test_of_two_targets_for_the_same_scope_the_latest_write_wins(state: GymState) -> None:
    put(state, Topic.TARGETS, "t1", target_json("rep", "r1", PERIOD, 100))
    put(state, Topic.TARGETS, "t2", target_json("rep", "r1", PERIOD, 200))
    assert state.target_cents("rep", "r1") == 200
    put(state, Topic.TARGETS, "t1", target_json("rep", "r1", PERIOD, 150))
    assert state.target_cents("rep", "r1") == 150
    put(state, Topic.TARGETS, "t1", None)
    assert state.target_cents("rep", "r1") == 200
    put(state, Topic.TARGETS, "t2", None)
    assert state.target_cents("rep", "r1") is None


def test_when_the_winning_duplicate_target_goes_the_latest_remaining_write_stands_in(
    state: GymState,
) -> None:
    # t2 was written before t1's last write, so once t3 is gone t1 is the latest writer;
    # a compacted topic (t2, t1, then t3's tombstone) gives the same answer.
    log = [
        ("t1", target_json("rep", "r1", PERIOD, 100)),
        ("t2", target_json("rep", "r1", PERIOD, 200)),
        ("t1", target_json("rep", "r1", PERIOD, 100)),
        ("t3", target_json("rep", "r1", PERIOD, 300)),
        ("t3", None),
    ]
    for key, value in log:
        put(state, Topic.TARGETS, key, value)
    compacted = GymState(StateSettings(period=PERIOD, zone=BERLIN))
    for key, value in [log[1], log[2], log[4]]:
        put(compacted, Topic.TARGETS, key, value)
    assert compacted.target_cents("rep", "r1") == 100
    assert state.target_cents("rep", "r1") == 100


# ---------------------------------------------------------------- period


def test_period_summary_totals_the_period_against_the_team_targets(state: GymState) -> None:
    sales_state(state)
    put(state, Topic.SALES, "s1", sale_json("r1", 1000, "2024-05-02T10:00:00Z"))
    put(state, Topic.SALES, "s2", sale_json("r3", 2000, "2024-05-02T21:00:00Z"))
    put(state, Topic.SALES, "s3", sale_json("r3", 500, "2024-05-09T10:00:00Z"))
    put(state, Topic.SALES, "s4", sale_json("r8", 40, "2024-05-09T10:00:00Z"))  # no rep row
    put(state, Topic.SALES, "s5", sale_json("r1", 9, "2024-06-09T10:00:00Z"))
    assert state.period_summary() == PeriodSummary(PERIOD, 3540, 4, None, {2: 3000, 9: 540})
    put(state, Topic.TARGETS, "t1", target_json("team", "north", PERIOD, 10000))
    put(state, Topic.TARGETS, "t2", target_json("team", "south", PERIOD, 4000))
    put(state, Topic.TARGETS, "t3", target_json("team", "west", PERIOD, 999))  # no reps
    put(state, Topic.TARGETS, "t4", target_json("rep", "r1", PERIOD, 777))  # not a team
    put(state, Topic.TARGETS, "t5", target_json("team", "north", "2024-06", 1))
    summary = state.period_summary()
    assert summary.target_cents == 14000
    assert summary.cumulative(10) == [0, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3540, 3540]


def test_set_period_recounts_sales_and_targets(state: GymState) -> None:
    sales_state(state)
    put(state, Topic.SALES, "s1", sale_json("r1", 1000, "2024-05-02T10:00:00Z"))
    put(state, Topic.SALES, "s2", sale_json("r1", 70, "2024-06-03T10:00:00Z"))
    put(state, Topic.SALES, "s3", sale_json("r3", 30, "2024-06-04T10:00:00Z"))
    put(state, Topic.TARGETS, "t1", target_json("rep", "r1", PERIOD, 5000))
    put(state, Topic.TARGETS, "t2", target_json("rep", "r1", "2024-06", 6000))
    put(state, Topic.TARGETS, "t3", target_json("team", "south", "2024-06", 50))
    changes = put(state, Topic.MEMBERS, "m1", member_json())
    state.set_period("2024-06", changes)
    assert state.period == "2024-06"
    assert state.rep_view("r1") == RepView("r1", "Rae", "north", 70, 1, 6000)
    assert state.team_view("north") == TeamView("north", 70, 1, 2, None)
    assert state.team_view("south") == TeamView("south", 30, 1, 1, 50)
    assert state.period_summary() == PeriodSummary("2024-06", 100, 2, 50, {3: 70, 4: 30})
    for view in (View.REPS, View.TEAMS, View.SALES, View.PERIOD):
        assert changes.keys(view) is None
    state.set_period(PERIOD, changes)
    assert state.rep_view("r1") == RepView("r1", "Rae", "north", 1000, 1, 5000)
    assert state.team_view("south") == TeamView("south", 0, 0, 1, None)
    assert state.period_summary() == PeriodSummary(PERIOD, 1000, 1, None, {2: 1000})


def test_set_period_to_the_same_period_reports_nothing(state: GymState) -> None:
    changes = put(state, Topic.MEMBERS, "m1", member_json())
    state.set_period(PERIOD, changes)
    assert changes.views() == {View.MEMBERS}


def test_the_default_period_is_the_current_month_in_the_zone() -> None:
    settings = StateSettings(zone=BERLIN)
    assert settings.resolved_period(datetime(2024, 5, 31, 22, 30, tzinfo=UTC)) == "2024-06"
    assert StateSettings().resolved_period(datetime(2024, 5, 31, 22, 30, tzinfo=UTC)) == "2024-05"
    assert StateSettings(period="2023-01").resolved_period() == "2023-01"
    now = datetime.now(BERLIN)
    assert GymState(settings).period in {
        f"{now.year:04d}-{now.month:02d}",
        period_of(datetime.now(UTC), BERLIN),
    }


def test_period_of_takes_the_month_in_the_zone() -> None:
    assert period_of(datetime(2024, 12, 31, 23, 30, tzinfo=UTC), BERLIN) == "2025-01"
    assert period_of(datetime(2024, 12, 31, 23, 30, tzinfo=UTC), UTC) == "2024-12"


# ---------------------------------------------------------------- rejected records


def test_a_rejected_record_keeps_the_last_valid_row_and_its_counts(state: GymState) -> None:
    put(state, Topic.CLASSES, "c1", class_json(capacity=10))
    book(state, "booked")
    changes = put(state, Topic.BOOKINGS, "b1", booking_json("c1", "teleported"))
    assert changes.views() == {View.REJECTED}
    assert counts(state.class_view("c1")) == (1, 0, 0, 0, 0)
    changes = put(state, Topic.CLASSES, "c1", class_json(capacity=0))
    assert changes.views() == {View.REJECTED}
    view = state.class_view("c1")
    assert view is not None
    assert view.capacity == 10
    assert state.rejections.total == 2


@pytest.mark.parametrize("key", [None, b"", b"\xff"])
def test_a_tombstone_with_a_bad_key_is_rejected_and_deletes_nothing(
    state: GymState, key: bytes | None
) -> None:
    put(state, Topic.CLASSES, "c1", class_json())
    changes = state.apply(Topic.CLASSES, key, None, partition=3, offset=9)
    assert changes.views() == {View.REJECTED}
    assert list(state.tables[Topic.CLASSES]) == ["c1"]
    assert state.rejections.total == 1


@pytest.mark.parametrize(
    ("topic", "value"),
    [
        (
            Topic.BOOKINGS,
            b'{"class_id": "c\xff", "member_id": "m1", "status": "booked", '
            b'"updated_at": "2024-05-09T08:00:00Z"}',
        ),
        (Topic.INSTRUCTORS, b'{"name": "\xc3("}'),
    ],
)
def test_a_value_with_invalid_utf8_is_rejected_without_raising(
    state: GymState, topic: Topic, value: bytes
) -> None:
    put(state, Topic.INSTRUCTORS, "k", instructor_json("Ana"))
    changes = put(state, topic, "k", value)
    assert changes.views() == {View.REJECTED}
    assert state.rejections.total == 1
    assert state.tables[Topic.INSTRUCTORS] == {"k": InstructorRow("Ana")}
    assert state.tables[Topic.BOOKINGS] == {}


# ---------------------------------------------------------------- reading


def test_latest_sales_are_newest_first(state: GymState) -> None:
    put(state, Topic.SALES, "s1", sale_json("r1", 1, "2024-05-02T10:00:00Z"))
    put(state, Topic.SALES, "s2", sale_json("r1", 2, "2024-05-03T10:00:00Z"))
    put(state, Topic.SALES, "s3", sale_json("r1", 3, "2024-04-03T10:00:00Z"))
    assert [key for key, _ in state.latest_sales(2)] == ["s2", "s1"]
    assert [key for key, _ in state.latest_sales(10)] == ["s2", "s1", "s3"]


def test_member_name(state: GymState) -> None:
    put(state, Topic.MEMBERS, "m1", member_json("Bo", "gold"))
    assert state.member_name("m1") == "Bo"
    assert state.member_name("m2") is None


def test_take_dirty_returns_changed_keys_per_topic_once(state: GymState) -> None:
    put(state, Topic.CLASSES, "c1", class_json())
    put(state, Topic.BOOKINGS, "b1", booking_json())
    put(state, Topic.BOOKINGS, "b2", booking_json("c1", "nope"))  # rejected: not dirty
    dirty = state.take_dirty()
    assert dirty[Topic.CLASSES] == {"c1"}
    assert dirty[Topic.BOOKINGS] == {"b1"}
    assert dirty[Topic.SALES] == set()
    assert all(not keys for keys in state.take_dirty().values())


def test_past_the_table_size_every_row_is_dirty_plus_the_deleted_keys(
    state: GymState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_module, "DIRTY_SLACK", 2)
    put(state, Topic.CLASSES, "c1", class_json())
    for n in range(4):  # b0..b3 come and go, b4..b7 stay
        put(state, Topic.BOOKINGS, f"b{n}", booking_json())
        put(state, Topic.BOOKINGS, f"b{n}", None)
    for n in range(4, 8):
        put(state, Topic.BOOKINGS, f"b{n}", booking_json())
    put(state, Topic.BOOKINGS, "b0", booking_json())  # back after its delete
    put(state, Topic.BOOKINGS, "b9", None)  # never was: not dirty
    dirty = state.take_dirty()
    assert dirty[Topic.BOOKINGS] == {f"b{n}" for n in range(8)}
    assert dirty[Topic.CLASSES] == {"c1"}
    put(state, Topic.BOOKINGS, "b5", booking_json("c1", "checked_in"))
    assert state.take_dirty()[Topic.BOOKINGS] == {"b5"}
    # A failed save gives its keys back.
    state.mark_dirty({Topic.BOOKINGS: {"b5", "b6"}})
    assert state.take_dirty()[Topic.BOOKINGS] == {"b5", "b6"}


def test_member_ids_of_class(state: GymState) -> None:
    put(state, Topic.BOOKINGS, "b1", booking_json("c1", member_id="m1"))
    put(state, Topic.BOOKINGS, "b2", booking_json("c1", "cancelled", member_id="m2"))
    assert sorted(state.member_ids_of_class("c1")) == ["m1", "m2"]
    assert state.member_ids_of_class("c2") == []


def test_take_changed_hands_over_the_changed_keys_without_listing_the_table(
    state: GymState, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(state, Topic.CLASSES, "c1", class_json())
    put(state, Topic.BOOKINGS, "b1", booking_json())
    put(state, Topic.BOOKINGS, "b2", booking_json())
    put(state, Topic.BOOKINGS, "b2", None)
    changed = state.take_changed()
    assert not changed[Topic.BOOKINGS].every_row
    assert set(changed[Topic.BOOKINGS].upserted) == {"b1", "b2"}
    assert set(changed[Topic.BOOKINGS].deleted) == {"b2"}
    assert set(changed[Topic.CLASSES].upserted) == {"c1"}
    assert not any(c.upserted or c.deleted for c in state.take_changed().values())
    # Past the cap: "every row", the deleted keys, and no list of the rows.
    monkeypatch.setattr(state_module, "DIRTY_CAP", 2)
    monkeypatch.setattr(state_module, "DIRTY_SLACK", 0)
    for n in range(3, 10):
        put(state, Topic.BOOKINGS, f"b{n}", booking_json())
    put(state, Topic.BOOKINGS, "b1", None)
    changed = state.take_changed()
    assert changed[Topic.BOOKINGS].every_row
    assert not changed[Topic.BOOKINGS].upserted
    assert set(changed[Topic.BOOKINGS].deleted) == {"b1"}
    assert not changed[Topic.CLASSES].every_row


def test_mark_changed_gives_back_what_take_changed_took(
    state: GymState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_module, "DIRTY_CAP", 2)
    monkeypatch.setattr(state_module, "DIRTY_SLACK", 0)
    put(state, Topic.CLASSES, "c1", class_json())
    for n in range(6):
        put(state, Topic.BOOKINGS, f"b{n}", booking_json())
    put(state, Topic.BOOKINGS, "b0", None)
    taken = state.take_changed()
    put(state, Topic.BOOKINGS, "b1", booking_json("c1", "checked_in"))  # during the save
    state.mark_changed(taken)  # the save failed
    again = state.take_changed()
    assert again[Topic.BOOKINGS].every_row
    assert set(again[Topic.BOOKINGS].deleted) == {"b0"}
    assert set(again[Topic.CLASSES].upserted) == {"c1"}


def test_take_dirty_still_lists_every_row_past_the_cap(
    state: GymState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_module, "DIRTY_CAP", 2)
    monkeypatch.setattr(state_module, "DIRTY_SLACK", 0)
    for n in range(6):
        put(state, Topic.BOOKINGS, f"b{n}", booking_json())
    put(state, Topic.BOOKINGS, "b0", None)
    assert state.take_dirty()[Topic.BOOKINGS] == {f"b{n}" for n in range(6)}


def test_key_slices_yield_every_key_once(state: GymState) -> None:
    for n in range(500):
        put(state, Topic.BOOKINGS, f"b{n}", booking_json())
    put(state, Topic.CLASSES, "c1", class_json())
    slices = list(state.key_slices(Topic.BOOKINGS))
    assert len(slices) > 1  # the bookings come a shard at a time
    keys = [key for part in slices for key in part]
    assert sorted(keys) == sorted(state.tables[Topic.BOOKINGS])
    assert list(state.key_slices(Topic.CLASSES)) == [["c1"]]
    assert [k for part in state.key_slices(Topic.SALES) for k in part] == []
