"""Read-only lines that screens and the ``state`` command show, derived from the state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gymdesk.domain.contract import ClassRow


@dataclass(frozen=True, slots=True)
class ClassView:
    """A class with its occupancy, as the board shows it."""

    id: str
    title: str
    location: str
    room: str
    instructor_id: str
    instructor_name: str | None
    starts_at: datetime
    duration_min: int
    capacity: int
    booked: int
    waitlisted: int
    checked_in: int
    cancelled: int
    no_show: int
    fill: float
    busy: bool
    full: bool

    @classmethod
    def build(
        cls,
        class_id: str,
        row: ClassRow,
        instructor_name: str | None,
        *,
        booked: int,
        waitlisted: int,
        checked_in: int,
        cancelled: int,
        no_show: int,
        busy_threshold: float,
    ) -> ClassView:
        """Derive fill, busy and full from a class row and its counts."""
        fill = booked / row.capacity
        return cls(
            id=class_id,
            title=row.title,
            location=row.location,
            room=row.room,
            instructor_id=row.instructor_id,
            instructor_name=instructor_name,
            starts_at=row.starts_at,
            duration_min=row.duration_min,
            capacity=row.capacity,
            booked=booked,
            waitlisted=waitlisted,
            checked_in=checked_in,
            cancelled=cancelled,
            no_show=no_show,
            fill=fill,
            busy=fill >= busy_threshold or waitlisted > 0,
            full=booked >= row.capacity,
        )

    @property
    def ends_at(self) -> datetime:
        """Return when the class ends."""
        return self.starts_at + timedelta(minutes=self.duration_min)


@dataclass(frozen=True, slots=True)
class InstructorView:
    """An instructor with totals over their classes."""

    id: str
    name: str
    classes: int
    booked: int
    capacity: int
    checked_in: int
    no_show: int

    @property
    def fill_rate(self) -> float | None:
        """Return booked places over offered places, or None with no classes."""
        return self.booked / self.capacity if self.capacity else None

    @property
    def check_in_rate(self) -> float | None:
        """Return the share of bookings that checked in, or None with no bookings."""
        return self.checked_in / self.booked if self.booked else None

    @property
    def no_show_rate(self) -> float | None:
        """Return the share of settled bookings that did not show, or None with none settled."""
        settled = self.checked_in + self.no_show
        return self.no_show / settled if settled else None


@dataclass(frozen=True, slots=True)
class RepView:
    """A rep's sales in the period against their target."""

    id: str
    name: str
    team: str
    total_cents: int
    count: int
    target_cents: int | None


@dataclass(frozen=True, slots=True)
class TeamView:
    """A team's sales in the period, summed over its current reps."""

    id: str
    total_cents: int
    count: int
    reps: int
    target_cents: int | None


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    """The month's total against the sum of team targets, and its sales per day."""

    period: str
    total_cents: int
    count: int
    target_cents: int | None
    by_day: dict[int, int]
    currency: str = "EUR"
    """What the totals are in (the state's settings say)."""
    other_currency_count: int = 0
    """Sales of the period in another currency: listed, not in the totals."""

    def cumulative(self, days_in_month: int) -> list[int]:
        """Return cumulative cents at the end of each day 1..days_in_month."""
        running, out = 0, []
        for day in range(1, days_in_month + 1):
            running += self.by_day.get(day, 0)
            out.append(running)
        return out
