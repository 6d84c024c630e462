"""Changes: which views and keys a record touched, bounded by an overflow to "all"."""

from __future__ import annotations

import pytest

from gymdesk.domain.changes import OVERFLOW_KEYS, Changes, View
from gymdesk.domain.contract import Topic
from gymdesk.domain.state import GymState, StateSettings

from .records import (
    PERIOD,
    booking_json,
    class_json,
    instructor_json,
    member_json,
    put,
    rep_json,
    sale_json,
    target_json,
)


def touched(changes: Changes) -> dict[View, set[str] | None]:
    """Every touched view with its keys as a plain set (None: all of them)."""
    return {
        view: None if (keys := changes.keys(view)) is None else set(keys)
        for view in changes.views()
    }


# ---------------------------------------------------------------- the Changes type


def test_an_empty_report() -> None:
    changes = Changes()
    assert not changes
    assert changes.views() == frozenset()
    assert changes.keys(View.CLASSES) == frozenset()
    assert changes.touched(View.CLASSES) is False
    assert repr(changes) == "Changes()"


def test_touch_collects_keys_per_view() -> None:
    changes = Changes()
    changes.touch(View.CLASSES, "c1")
    changes.touch(View.CLASSES, "c2")
    changes.touch(View.CLASSES, "c1")
    changes.touch(View.REPS, "r1")
    assert changes
    assert touched(changes) == {View.CLASSES: {"c1", "c2"}, View.REPS: {"r1"}}
    assert changes.touched(View.REPS) is True
    assert changes.touched(View.TEAMS) is False
    assert repr(changes) == "Changes(classes=['c1', 'c2'], reps=['r1'])"


def test_past_the_bound_a_view_overflows_to_all() -> None:
    changes = Changes()
    for n in range(OVERFLOW_KEYS):
        changes.touch(View.BOOKINGS, f"b{n}")
    keys = changes.keys(View.BOOKINGS)
    assert keys is not None
    assert len(keys) == OVERFLOW_KEYS
    changes.touch(View.BOOKINGS, "one-more")
    assert changes.keys(View.BOOKINGS) is None
    assert changes.touched(View.BOOKINGS) is True
    changes.touch(View.BOOKINGS, "after")
    assert changes.keys(View.BOOKINGS) is None
    changes.touch(View.CLASSES, "c1")
    assert changes.keys(View.CLASSES) == frozenset({"c1"})
    assert changes.views() == {View.BOOKINGS, View.CLASSES}
    assert repr(changes) == "Changes(bookings=*, classes=['c1'])"


def test_touch_all() -> None:
    changes = Changes()
    changes.touch(View.TEAMS, "north")
    changes.touch_all(View.TEAMS)
    assert changes.keys(View.TEAMS) is None
    assert changes
    assert changes.views() == {View.TEAMS}


def test_merge_adds_keys_and_overflows() -> None:
    first, second = Changes(), Changes()
    first.touch(View.CLASSES, "c1")
    first.touch(View.REPS, "r1")
    second.touch(View.CLASSES, "c2")
    second.touch_all(View.REPS)
    second.touch(View.TEAMS, "south")
    first.merge(second)
    assert touched(first) == {
        View.CLASSES: {"c1", "c2"},
        View.REPS: None,
        View.TEAMS: {"south"},
    }


def test_merging_many_keys_overflows() -> None:
    total = Changes()
    for part in range(2):
        batch = Changes()
        for n in range(OVERFLOW_KEYS // 2 + 1):
            batch.touch(View.SALES, f"s{part}-{n}")
        total.merge(batch)
    assert total.keys(View.SALES) is None


# ---------------------------------------------------------------- what the state reports


@pytest.fixture
def state() -> GymState:
    state = GymState(StateSettings(period=PERIOD))
    put(state, Topic.INSTRUCTORS, "i1", instructor_json("Ana"))
    put(state, Topic.INSTRUCTORS, "i2", instructor_json("Ben"))
    put(state, Topic.CLASSES, "c1", class_json("i1"))
    put(state, Topic.CLASSES, "c2", class_json("i1"))
    put(state, Topic.CLASSES, "c3", class_json("i2"))
    put(state, Topic.REPS, "r1", rep_json("north"))
    put(state, Topic.REPS, "r2", rep_json("south"))
    return state


def test_a_booking_touches_itself_its_class_and_the_instructor(state: GymState) -> None:
    changes = put(state, Topic.BOOKINGS, "b1", booking_json("c1"))
    assert touched(changes) == {
        View.BOOKINGS: {"b1"},
        View.CLASSES: {"c1"},
        View.INSTRUCTORS: {"i1"},
    }
    changes = put(state, Topic.BOOKINGS, "b1", booking_json("c1", "checked_in"))
    assert touched(changes) == {
        View.BOOKINGS: {"b1"},
        View.CLASSES: {"c1"},
        View.INSTRUCTORS: {"i1"},
    }


def test_a_booking_that_moves_touches_both_classes_and_instructors(state: GymState) -> None:
    put(state, Topic.BOOKINGS, "b1", booking_json("c1"))
    changes = put(state, Topic.BOOKINGS, "b1", booking_json("c3"))
    assert touched(changes) == {
        View.BOOKINGS: {"b1"},
        View.CLASSES: {"c1", "c3"},
        View.INSTRUCTORS: {"i1", "i2"},
    }


def test_a_deleted_booking_touches_its_last_class(state: GymState) -> None:
    put(state, Topic.BOOKINGS, "b1", booking_json("c2", "no_show"))
    changes = put(state, Topic.BOOKINGS, "b1", None)
    assert touched(changes) == {
        View.BOOKINGS: {"b1"},
        View.CLASSES: {"c2"},
        View.INSTRUCTORS: {"i1"},
    }


def test_a_booking_for_a_class_without_a_row_touches_only_the_booking(state: GymState) -> None:
    changes = put(state, Topic.BOOKINGS, "b1", booking_json("c9"))
    assert touched(changes) == {View.BOOKINGS: {"b1"}}


def test_a_class_touches_itself_and_its_instructors(state: GymState) -> None:
    changes = put(state, Topic.CLASSES, "c1", class_json("i1", capacity=30))
    assert touched(changes) == {View.CLASSES: {"c1"}, View.INSTRUCTORS: {"i1"}}
    changes = put(state, Topic.CLASSES, "c1", class_json("i2"))
    assert touched(changes) == {View.CLASSES: {"c1"}, View.INSTRUCTORS: {"i1", "i2"}}
    changes = put(state, Topic.CLASSES, "c1", None)
    assert touched(changes) == {View.CLASSES: {"c1"}, View.INSTRUCTORS: {"i2"}}


def test_an_instructor_touches_their_line_and_their_classes(state: GymState) -> None:
    changes = put(state, Topic.INSTRUCTORS, "i1", instructor_json("Anna"))
    assert touched(changes) == {View.INSTRUCTORS: {"i1"}, View.CLASSES: {"c1", "c2"}}
    changes = put(state, Topic.INSTRUCTORS, "i2", None)
    assert touched(changes) == {View.INSTRUCTORS: {"i2"}, View.CLASSES: {"c3"}}


def test_a_member_touches_the_member(state: GymState) -> None:
    assert touched(put(state, Topic.MEMBERS, "m1", member_json())) == {View.MEMBERS: {"m1"}}


def test_a_sale_in_the_period_touches_rep_team_and_period(state: GymState) -> None:
    changes = put(state, Topic.SALES, "s1", sale_json("r1", 500))
    assert touched(changes) == {
        View.SALES: {"s1"},
        View.REPS: {"r1"},
        View.TEAMS: {"north"},
        View.PERIOD: {PERIOD},
    }
    changes = put(state, Topic.SALES, "s1", sale_json("r2", 500))
    assert touched(changes) == {
        View.SALES: {"s1"},
        View.REPS: {"r1", "r2"},
        View.TEAMS: {"north", "south"},
        View.PERIOD: {PERIOD},
    }


def test_a_sale_outside_the_period_touches_only_the_sale(state: GymState) -> None:
    changes = put(state, Topic.SALES, "s1", sale_json("r1", 500, "2024-06-01T12:00:00Z"))
    assert touched(changes) == {View.SALES: {"s1"}}


def test_a_sale_of_a_rep_without_a_row_touches_no_team(state: GymState) -> None:
    changes = put(state, Topic.SALES, "s1", sale_json("r9", 500))
    assert touched(changes) == {View.SALES: {"s1"}, View.REPS: {"r9"}, View.PERIOD: {PERIOD}}


def test_a_rep_who_changes_team_touches_both_teams(state: GymState) -> None:
    changes = put(state, Topic.REPS, "r1", rep_json("south"))
    assert touched(changes) == {
        View.REPS: {"r1"},
        View.TEAMS: {"north", "south"},
        View.PERIOD: {PERIOD},
    }


def test_a_target_touches_its_rep_or_team_in_the_period(state: GymState) -> None:
    changes = put(state, Topic.TARGETS, "t1", target_json("rep", "r1", PERIOD, 10))
    assert touched(changes) == {View.TARGETS: {"t1"}, View.REPS: {"r1"}, View.PERIOD: {PERIOD}}
    changes = put(state, Topic.TARGETS, "t1", target_json("team", "north", PERIOD, 10))
    assert touched(changes) == {
        View.TARGETS: {"t1"},
        View.REPS: {"r1"},
        View.TEAMS: {"north"},
        View.PERIOD: {PERIOD},
    }
    changes = put(state, Topic.TARGETS, "t2", target_json("team", "north", "2024-06", 10))
    assert touched(changes) == {View.TARGETS: {"t2"}}


def test_a_rejection_touches_only_the_rejected_view_by_topic(state: GymState) -> None:
    changes = put(state, Topic.BOOKINGS, "b1", b"{}")
    assert touched(changes) == {View.REJECTED: {"bookings"}}


def test_records_applied_into_one_report_accumulate(state: GymState) -> None:
    changes = Changes()
    state.apply_many(
        Topic.BOOKINGS,
        [
            (b"b1", booking_json("c1"), 0, 0),
            (b"b2", booking_json("c3"), 0, 1),
            (None, booking_json("c2"), 0, 2),
        ],
        changes,
    )
    assert touched(changes) == {
        View.BOOKINGS: {"b1", "b2"},
        View.CLASSES: {"c1", "c3"},
        View.INSTRUCTORS: {"i1", "i2"},
        View.REJECTED: {"bookings"},
    }


def test_a_catch_up_batch_overflows_the_bookings_view_only(state: GymState) -> None:
    changes = Changes()
    records = [(f"b{n}".encode(), booking_json("c1"), 0, n) for n in range(OVERFLOW_KEYS + 1)]
    state.apply_many(Topic.BOOKINGS, records, changes)
    assert changes.keys(View.BOOKINGS) is None
    assert changes.keys(View.CLASSES) == frozenset({"c1"})
    assert changes.keys(View.INSTRUCTORS) == frozenset({"i1"})
    view = state.class_view("c1")
    assert view is not None
    assert view.booked == OVERFLOW_KEYS + 1


def test_touch_many_adds_keys_and_overflows() -> None:
    changes = Changes()
    changes.touch_many(View.BOOKINGS, [])
    assert not changes
    changes.touch_many(View.BOOKINGS, ["b1", "b2"])
    changes.touch_many(View.BOOKINGS, ["b2", "b3"])
    assert touched(changes) == {View.BOOKINGS: {"b1", "b2", "b3"}}
    assert changes.touched_all(View.BOOKINGS) is False
    changes.touch_many(View.BOOKINGS, [f"b{n}" for n in range(OVERFLOW_KEYS + 1)])
    assert changes.keys(View.BOOKINGS) is None
    assert changes.touched_all(View.BOOKINGS) is True
    changes.touch_many(View.BOOKINGS, ["b1"])
    assert changes.keys(View.BOOKINGS) is None


def test_a_catch_up_report_names_all_bookings_and_each_class(state: GymState) -> None:
    changes = Changes()
    changes.touch_all(View.BOOKINGS)
    records = [(f"b{n}".encode(), booking_json("c1" if n % 2 else "c3"), 0, n) for n in range(6)]
    state.apply_many(Topic.BOOKINGS, records, changes)
    assert touched(changes) == {
        View.BOOKINGS: None,
        View.CLASSES: {"c1", "c3"},
        View.INSTRUCTORS: {"i1", "i2"},
    }
    assert state.bookings_of_class("c1") == {"b1", "b3", "b5"}
