"""View lines: fill, busy and full of a class; instructor rates; the period's pace."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gymdesk.domain.contract import ClassRow
from gymdesk.domain.views import ClassView, InstructorView, PeriodSummary

ROW = ClassRow(
    title="Spin",
    location="Central",
    room="A",
    instructor_id="i1",
    starts_at=datetime(2024, 5, 10, 23, 30, tzinfo=UTC),
    duration_min=45,
    capacity=20,
)


def build(booked: int, waitlisted: int = 0, threshold: float = 0.8) -> ClassView:
    return ClassView.build(
        "c1",
        ROW,
        "Ana",
        booked=booked,
        waitlisted=waitlisted,
        checked_in=0,
        cancelled=0,
        no_show=0,
        busy_threshold=threshold,
    )


@pytest.mark.parametrize(
    ("booked", "waitlisted", "fill", "busy", "full"),
    [
        (0, 0, 0.0, False, False),
        (15, 0, 0.75, False, False),
        (16, 0, 0.8, True, False),
        (19, 0, 0.95, True, False),
        (20, 0, 1.0, True, True),
        (25, 0, 1.25, True, True),
        (1, 1, 0.05, True, False),
    ],
)
def test_fill_busy_full(booked: int, waitlisted: int, fill: float, busy: bool, full: bool) -> None:
    view = build(booked, waitlisted)
    assert (view.fill, view.busy, view.full) == (fill, busy, full)


def test_the_threshold_decides_busy() -> None:
    assert build(10, threshold=0.5).busy is True
    assert build(9, threshold=0.5).busy is False
    assert build(20, threshold=1.01).busy is False


def test_build_copies_the_row_and_counts() -> None:
    view = ClassView.build(
        "c7",
        ROW,
        None,
        booked=3,
        waitlisted=2,
        checked_in=1,
        cancelled=4,
        no_show=5,
        busy_threshold=0.8,
    )
    assert view == ClassView(
        id="c7",
        title="Spin",
        location="Central",
        room="A",
        instructor_id="i1",
        instructor_name=None,
        starts_at=ROW.starts_at,
        duration_min=45,
        capacity=20,
        booked=3,
        waitlisted=2,
        checked_in=1,
        cancelled=4,
        no_show=5,
        fill=0.15,
        busy=True,
        full=False,
    )


def test_a_class_ends_after_its_duration() -> None:
    assert build(0).ends_at == datetime(2024, 5, 11, 0, 15, tzinfo=UTC)


def test_instructor_rates() -> None:
    view = InstructorView("i1", "Ana", classes=2, booked=8, capacity=20, checked_in=6, no_show=2)
    assert view.fill_rate == 0.4
    assert view.check_in_rate == 0.75
    assert view.no_show_rate == 0.25


def test_instructor_rates_are_none_without_a_base() -> None:
    view = InstructorView("i1", "Ana", classes=0, booked=0, capacity=0, checked_in=0, no_show=0)
    assert (view.fill_rate, view.check_in_rate, view.no_show_rate) == (None, None, None)


def test_cumulative_sales_per_day() -> None:
    summary = PeriodSummary("2024-02", 600, 3, None, {1: 100, 3: 200, 29: 300})
    assert summary.cumulative(5) == [100, 100, 300, 300, 300]
    cumulative = summary.cumulative(29)
    assert len(cumulative) == 29
    assert cumulative[-1] == 600
    assert summary.cumulative(0) == []
