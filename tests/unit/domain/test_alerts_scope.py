"""Alert scopes: which classes a desk alerts about (a location, an instructor, none)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from gymdesk.domain.alerts import EVERY_CLASS, NO_CLASS, AlertScope, BusyAlerts, starts_in_window
from gymdesk.domain.contract import ClassRow
from gymdesk.domain.views import ClassView
from tests.unit.domain.test_alerts import NOW, quiet, view


def at(
    class_id: str, location: str = "Central", instructor_id: str = "i1", *, busy: bool = True
) -> ClassView:
    """A class starting in an hour, busy or quiet, at a location with an instructor."""
    base = view(class_id) if busy else quiet(class_id)
    return replace(base, location=location, instructor_id=instructor_id)


def test_every_class_is_the_default_and_no_class_covers_nothing() -> None:
    assert BusyAlerts().scope == EVERY_CLASS
    assert EVERY_CLASS.covers(at("c1", "North", "i9"))
    assert not NO_CLASS.covers(at("c1"))


@pytest.mark.parametrize(
    ("scope", "covered"),
    [
        (AlertScope(location="North"), {"n1", "n2"}),
        (AlertScope(instructor_id="i2"), {"n2", "c2"}),
        (AlertScope(location="North", instructor_id="i2"), {"n2"}),
        (AlertScope(enabled=False, location="North"), set()),
    ],
)
def test_a_scope_covers_a_location_an_instructor_or_both(
    scope: AlertScope, covered: set[str]
) -> None:
    classes = [at("n1", "North", "i1"), at("n2", "North", "i2"), at("c2", "Central", "i2")]
    assert {c.id for c in classes if scope.covers(c)} == covered


def test_a_class_row_is_enough_to_tell_the_scope() -> None:
    row = ClassRow(
        title="Spin",
        location="North",
        room="A",
        instructor_id="i2",
        starts_at=NOW,
        duration_min=45,
        capacity=20,
    )
    assert AlertScope(location="North", instructor_id="i2").covers(row)
    assert not AlertScope(location="Central").covers(row)


def test_only_classes_in_scope_alert() -> None:
    alerts = BusyAlerts(zone=UTC, scope=AlertScope(location="North"))
    alerts.observe([at("c1", "Central"), at("n1", "North")], NOW, live=True)
    alert = alerts.due(NOW)
    assert alert is not None
    assert alert.class_ids == ("n1",)
    assert not alerts.is_alertable("c1")


def test_no_class_in_scope_means_no_alert_at_all() -> None:
    alerts = BusyAlerts(zone=UTC, scope=NO_CLASS)
    alerts.observe([at("c1"), at("n1", "North")], NOW, live=True)
    assert alerts.due(NOW) is None
    assert alerts.alertable == frozenset()


def test_a_narrower_scope_drops_what_it_leaves_out_from_the_queue() -> None:
    alerts = BusyAlerts(zone=UTC)
    alerts.observe([at("c1"), at("n1", "North")], NOW, live=True)
    alerts.set_scope(AlertScope(location="North"))
    assert alerts.queued == ("n1",)


def test_classes_a_wider_scope_brings_in_are_learned_silently() -> None:
    alerts = BusyAlerts(zone=UTC, scope=AlertScope(location="North"))
    busy_central = at("c1", "Central")
    alerts.observe([busy_central], NOW, live=True)
    assert alerts.due(NOW) is None
    alerts.set_scope(EVERY_CLASS)
    alerts.observe([busy_central], NOW, live=False)  # as the presenter does on a new scope
    assert alerts.is_alertable("c1")
    assert alerts.due(NOW) is None
    alerts.observe([at("c1", "Central", busy=False)], NOW, live=True)
    alerts.observe([busy_central], NOW, live=True)  # turning busy again is news
    alert = alerts.due(NOW)
    assert alert is not None
    assert alert.class_ids == ("c1",)


def test_starts_in_window_includes_both_ends() -> None:
    window = timedelta(hours=3)
    assert starts_in_window(NOW, NOW, window)
    assert starts_in_window(NOW + window, NOW, window)
    assert not starts_in_window(NOW - timedelta(seconds=1), NOW, window)
    assert not starts_in_window(NOW + window + timedelta(seconds=1), NOW, window)
