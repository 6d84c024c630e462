"""Busy-class alerts: grouping, the rate limit, catch-up silence, re-alerting, window, mute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gymdesk.domain.alerts import Alert, BusyAlerts, alert_line, alert_title, upcoming_busy
from gymdesk.domain.contract import ClassRow
from gymdesk.domain.views import ClassView

NOW = datetime(2024, 5, 10, 15, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def view(
    class_id: str = "c1",
    *,
    booked: int = 18,
    waitlisted: int = 0,
    capacity: int = 20,
    starts_at: datetime = NOW + timedelta(hours=1),
    title: str = "Spin",
    room: str = "Room A",
) -> ClassView:
    """A class view; 18 of 20 booked is busy at the default 0.8 threshold."""
    row = ClassRow(
        title=title,
        location="Central",
        room=room,
        instructor_id="i1",
        starts_at=starts_at,
        duration_min=45,
        capacity=capacity,
    )
    return ClassView.build(
        class_id,
        row,
        "Ana",
        booked=booked,
        waitlisted=waitlisted,
        checked_in=0,
        cancelled=0,
        no_show=0,
        busy_threshold=0.8,
    )


def quiet(class_id: str = "c1", starts_at: datetime = NOW + timedelta(hours=1)) -> ClassView:
    """The same class, not busy (10 of 20 booked, nobody waiting)."""
    return view(class_id, booked=10, starts_at=starts_at)


@pytest.fixture
def alerts() -> BusyAlerts:
    return BusyAlerts(zone=UTC)


def test_a_class_turning_busy_while_live_alerts_once(alerts: BusyAlerts) -> None:
    alerts.observe([quiet()], NOW, live=True)
    assert alerts.due(NOW) is None
    alerts.observe([view(waitlisted=2)], NOW, live=True)
    assert alerts.due(NOW) == Alert(
        "Expect a busy class", ("16:00 Spin (Room A) — 18/20, 2 waitlisted",), ("c1",)
    )
    # Still busy, seen again: no second alert.
    alerts.observe([view(booked=19)], NOW + timedelta(minutes=5), live=True)
    assert alerts.due(NOW + timedelta(minutes=5)) is None


def test_a_class_first_seen_busy_while_live_alerts(alerts: BusyAlerts) -> None:
    alerts.observe([view()], NOW, live=True)
    alert = alerts.due(NOW)
    assert alert is not None
    assert alert.lines == ("16:00 Spin (Room A) — 18/20",)


def test_classes_turning_busy_together_are_one_grouped_alert_soonest_first(
    alerts: BusyAlerts,
) -> None:
    alerts.observe(
        [
            view("c2", starts_at=NOW + timedelta(hours=2), title="Yoga", room="Studio 1"),
            view("c1", starts_at=NOW + timedelta(hours=1)),
            view("c3", starts_at=NOW + timedelta(minutes=90), title="Box", waitlisted=1),
        ],
        NOW,
        live=True,
    )
    alert = alerts.due(NOW)
    assert alert is not None
    assert alert.title == "Expect 3 busy classes"
    assert alert.class_ids == ("c1", "c3", "c2")
    assert alert.body == (
        "16:00 Spin (Room A) — 18/20\n"
        "16:30 Box (Room A) — 18/20, 1 waitlisted\n"
        "17:00 Yoga (Studio 1) — 18/20"
    )
    assert alerts.due(NOW) is None


def test_at_most_one_alert_per_min_interval_and_the_rest_are_grouped(alerts: BusyAlerts) -> None:
    alerts.observe([view("c1")], NOW, live=True)
    assert alerts.due(NOW) is not None
    alerts.observe([view("c2")], NOW + timedelta(seconds=5), live=True)
    alerts.observe([view("c3")], NOW + timedelta(seconds=20), live=True)
    assert alerts.due(NOW + timedelta(seconds=5)) is None
    assert alerts.due(NOW + timedelta(seconds=29, microseconds=999_999)) is None
    assert alerts.queued == ("c2", "c3")
    alert = alerts.due(NOW + timedelta(seconds=30))
    assert alert is not None
    assert alert.title == "Expect 2 busy classes"
    assert alert.class_ids == ("c2", "c3")
    assert alerts.queued == ()


def test_catch_up_learns_busy_classes_without_queueing(alerts: BusyAlerts) -> None:
    alerts.observe([view("c1"), view("c2"), quiet("c3")], NOW, live=False)
    assert alerts.queued == ()
    assert alerts.due(NOW) is None
    # Live now: classes already busy stay quiet; only a new transition alerts.
    alerts.observe([view("c1"), view("c2"), view("c3")], NOW + timedelta(seconds=1), live=True)
    alert = alerts.due(NOW + timedelta(seconds=1))
    assert alert is not None
    assert alert.class_ids == ("c3",)


def test_realerts_only_after_busy_then_not_busy_then_busy(alerts: BusyAlerts) -> None:
    alerts.observe([view()], NOW, live=True)
    assert alerts.due(NOW) is not None
    later = NOW + timedelta(minutes=1)
    alerts.observe([view(booked=20)], later, live=True)
    assert alerts.due(later) is None
    alerts.observe([quiet()], later, live=True)
    assert alerts.due(later) is None
    alerts.observe([view()], later, live=True)
    alert = alerts.due(later)
    assert alert is not None
    assert alert.class_ids == ("c1",)


def test_a_class_that_calms_down_before_its_turn_is_not_alerted(alerts: BusyAlerts) -> None:
    alerts.observe([view("c1")], NOW, live=True)
    assert alerts.due(NOW) is not None
    alerts.observe([view("c2")], NOW + timedelta(seconds=1), live=True)
    alerts.observe([quiet("c2")], NOW + timedelta(seconds=2), live=True)
    assert alerts.due(NOW + timedelta(seconds=31)) is None


def test_queued_class_shows_its_latest_counts(alerts: BusyAlerts) -> None:
    alerts.observe([view(booked=17, capacity=20)], NOW, live=True)
    alerts.observe([view(booked=20, waitlisted=3)], NOW, live=True)
    alert = alerts.due(NOW)
    assert alert is not None
    assert alert.lines == ("16:00 Spin (Room A) — 20/20, 3 waitlisted",)


@pytest.mark.parametrize(
    ("offset", "alerted"),
    [
        (timedelta(seconds=-1), False),  # already started
        (timedelta(0), True),  # starts now
        (timedelta(hours=3), True),  # at the far edge
        (timedelta(hours=3, seconds=1), False),  # beyond the window
    ],
)
def test_window_boundaries(alerts: BusyAlerts, offset: timedelta, alerted: bool) -> None:
    alerts.observe([view(starts_at=NOW + offset)], NOW, live=True)
    assert (alerts.due(NOW) is not None) is alerted


def test_a_busy_class_alerts_when_it_enters_the_window(alerts: BusyAlerts) -> None:
    starts = NOW + timedelta(hours=5)
    alerts.observe([view(starts_at=starts)], NOW, live=True)
    assert alerts.due(NOW) is None
    entered = starts - timedelta(hours=3)
    alerts.observe([view(starts_at=starts)], entered, live=True)
    alert = alerts.due(entered)
    assert alert is not None
    assert alert.lines == ("20:00 Spin (Room A) — 18/20",)


def test_mute_drops_what_turns_busy_meanwhile(alerts: BusyAlerts) -> None:
    alerts.observe([view("c1")], NOW, live=True)
    alerts.mute_until(NOW + timedelta(minutes=10))
    assert alerts.muted(NOW)
    assert alerts.due(NOW) is None
    alerts.observe([view("c2")], NOW + timedelta(minutes=1), live=True)
    assert alerts.due(NOW + timedelta(minutes=1)) is None
    after = NOW + timedelta(minutes=10)
    assert not alerts.muted(after)
    # c1 and c2 were busy all along: nothing new to say once the mute ends.
    alerts.observe([view("c1"), view("c2")], after, live=True)
    assert alerts.due(after) is None
    alerts.observe([view("c3")], after, live=True)
    alert = alerts.due(after)
    assert alert is not None
    assert alert.class_ids == ("c3",)


def test_unmute_with_none(alerts: BusyAlerts) -> None:
    alerts.mute_until(NOW + timedelta(hours=1))
    alerts.mute_until(None)
    alerts.observe([view()], NOW, live=True)
    assert alerts.due(NOW) is not None


def test_forget_drops_a_deleted_class(alerts: BusyAlerts) -> None:
    alerts.observe([view("c1")], NOW, live=True)
    alerts.forget("c1")
    assert alerts.due(NOW) is None
    assert not alerts.is_alertable("c1")
    alerts.observe([view("c1")], NOW, live=True)
    assert alerts.due(NOW) is not None


def test_lines_are_in_the_given_zone() -> None:
    assert alert_line(view(), BERLIN) == "18:00 Spin (Room A) — 18/20"
    berlin = BusyAlerts(zone=BERLIN)
    berlin.observe([view()], NOW, live=True)
    alert = berlin.due(NOW)
    assert alert is not None
    assert alert.lines == ("18:00 Spin (Room A) — 18/20",)


def test_alert_title_counts() -> None:
    assert alert_title(1) == "Expect a busy class"
    assert alert_title(4) == "Expect 4 busy classes"


def test_upcoming_busy_lists_busy_classes_in_the_window_soonest_first() -> None:
    views = [
        view("late", starts_at=NOW + timedelta(hours=2)),
        view("soon", starts_at=NOW + timedelta(minutes=10)),
        quiet("calm", starts_at=NOW + timedelta(minutes=20)),
        view("started", starts_at=NOW - timedelta(minutes=1)),
        view("far", starts_at=NOW + timedelta(hours=4)),
        view("edge", starts_at=NOW + timedelta(hours=3)),
    ]
    assert [v.id for v in upcoming_busy(views, NOW)] == ["soon", "late", "edge"]
    assert [v.id for v in upcoming_busy(views, NOW, timedelta(hours=1))] == ["soon"]
