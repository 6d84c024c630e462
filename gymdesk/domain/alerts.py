"""Busy-class alerts: which classes became busy soon, grouped, at a bounded rate. Pure.

A class is *alertable* when it is busy and starts within the window from now
(``now <= starts_at <= now + window``). It is queued when it turns alertable while the
reader is live; it alerts again only after it stopped being alertable and turned so
again. During catch-up or replay the rules only learn the current states, so starting
the desk on a busy evening raises no avalanche. Queued classes go out as one grouped
alert, at most one per ``min_interval``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final, Protocol

from gymdesk.domain.views import ClassView

DEFAULT_WINDOW: Final = timedelta(hours=3)
DEFAULT_MIN_INTERVAL: Final = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Alert:
    """One notification: a title and a line per class."""

    title: str
    lines: tuple[str, ...]
    class_ids: tuple[str, ...]

    @property
    def body(self) -> str:
        """Return the lines as one text."""
        return "\n".join(self.lines)


class ClassLike(Protocol):
    """What a scope needs of a class: a ``ClassView`` or a class row will do."""

    @property
    def location(self) -> str:
        """The class's location."""

    @property
    def instructor_id(self) -> str:
        """Who teaches it."""


@dataclass(frozen=True, slots=True)
class AlertScope:
    """Which classes a desk alerts about: every class, one location's, one instructor's, none.

    A role chooses it: the front desk its location, an instructor their own classes, the
    office wallboard none (nobody is there to read or dismiss a busy-class alert).
    """

    enabled: bool = True
    location: str | None = None
    instructor_id: str | None = None

    def covers(self, view: ClassLike) -> bool:
        """Return whether a class is one this desk alerts about."""
        if not self.enabled:
            return False
        if self.location is not None and view.location != self.location:
            return False
        return self.instructor_id is None or view.instructor_id == self.instructor_id


EVERY_CLASS: Final = AlertScope()
"""Alert about every class."""
NO_CLASS: Final = AlertScope(enabled=False)
"""Alert about no class."""


def starts_in_window(starts_at: datetime, now: datetime, window: timedelta) -> bool:
    """Return whether a start time lies between now and now + window (both included)."""
    return now <= starts_at <= now + window


def in_window(view: ClassView, now: datetime, window: timedelta) -> bool:
    """Return whether a class starts between now and now + window (both included)."""
    return now <= view.starts_at <= now + window


def upcoming_busy(
    views: Iterable[ClassView], now: datetime, window: timedelta = DEFAULT_WINDOW
) -> list[ClassView]:
    """Return the busy classes starting within the window, soonest first."""
    busy = [v for v in views if v.busy and in_window(v, now, window)]
    busy.sort(key=lambda v: (v.starts_at, v.title, v.id))
    return busy


def alert_line(view: ClassView, zone: tzinfo = UTC) -> str:
    """Return a class as one line, like ``18:00 Spin (Room A) — 18/20, 2 waitlisted``."""
    local = view.starts_at.astimezone(zone)
    line = f"{local.hour:02d}:{local.minute:02d} {view.title} ({view.room}) — "
    line += f"{view.booked}/{view.capacity}"
    if view.waitlisted:
        line += f", {view.waitlisted} waitlisted"
    return line


def alert_title(count: int) -> str:
    """Return the title of an alert about ``count`` classes."""
    return "Expect a busy class" if count == 1 else f"Expect {count} busy classes"


class BusyAlerts:
    """Remembers which classes are alertable and queues those that just became so."""

    def __init__(
        self,
        window: timedelta = DEFAULT_WINDOW,
        min_interval: timedelta = DEFAULT_MIN_INTERVAL,
        zone: tzinfo = UTC,
        scope: AlertScope = EVERY_CLASS,
    ) -> None:
        self.window = window
        self.min_interval = min_interval
        self.zone = zone
        self.scope = scope
        self._alertable: set[str] = set()
        self._queued: dict[str, ClassView] = {}
        self._last_alert: datetime | None = None
        self._muted_until: datetime | None = None

    @property
    def queued(self) -> tuple[str, ...]:
        """Return the ids of classes waiting to be alerted, in the order they would be."""
        return tuple(v.id for v in self._sorted_queue())

    def is_alertable(self, class_id: str) -> bool:
        """Return whether a class was busy and soon when last observed."""
        return class_id in self._alertable

    @property
    def alertable(self) -> frozenset[str]:
        """Return the ids of the classes that were alertable when last observed."""
        return frozenset(self._alertable)

    def set_scope(self, scope: AlertScope) -> None:
        """Alert only about the classes ``scope`` covers; forget what it leaves out.

        Classes the new scope brings in are learned by the next ``observe``: observe them
        with ``live=False`` to take them as they are, without an alert for each that is
        busy already (choosing a scope is not news).
        """
        self.scope = scope
        self._queued = {k: v for k, v in self._queued.items() if scope.covers(v)}

    def muted(self, now: datetime) -> bool:
        """Return whether alerts are muted at ``now``."""
        return self._muted_until is not None and now < self._muted_until

    def mute_until(self, until: datetime | None) -> None:
        """Raise no alerts before ``until`` (None unmutes); what turns busy meanwhile is dropped."""
        self._muted_until = until
        if until is not None:
            self._queued.clear()

    def observe(self, views: Iterable[ClassView], now: datetime, live: bool) -> None:
        """Learn the current state of some classes; queue those that just turned busy.

        Pass the classes that changed, and every class now and then (a busy class becomes
        alertable by time alone when it enters the window).
        """
        queue = live and not self.muted(now)
        covers = self.scope.covers
        for view in views:
            alertable = view.busy and in_window(view, now, self.window) and covers(view)
            if alertable:
                if view.id not in self._alertable:
                    self._alertable.add(view.id)
                    if queue:
                        self._queued[view.id] = view
                elif view.id in self._queued:
                    self._queued[view.id] = view  # show the latest counts
            else:
                self._alertable.discard(view.id)
                self._queued.pop(view.id, None)

    def forget(self, class_id: str) -> None:
        """Drop a class that no longer exists."""
        self._alertable.discard(class_id)
        self._queued.pop(class_id, None)

    def due(self, now: datetime) -> Alert | None:
        """Return one alert for every queued class, unless one went out too recently."""
        if not self._queued:
            return None
        if self.muted(now):
            self._queued.clear()
            return None
        if self._last_alert is not None and now - self._last_alert < self.min_interval:
            return None
        views = self._sorted_queue()
        self._queued.clear()
        self._last_alert = now
        return Alert(
            alert_title(len(views)),
            tuple(alert_line(v, self.zone) for v in views),
            tuple(v.id for v in views),
        )

    def _sorted_queue(self) -> list[ClassView]:
        """Return the queued classes, soonest first."""
        return sorted(self._queued.values(), key=lambda v: (v.starts_at, v.title, v.id))
