"""Fixtures of the UI tests: a state fed with records, a bridge over it, QSettings in tmp."""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import PySide6.QtWidgets  # noqa: F401
import pytest
from PySide6.QtCore import QSettings

from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import Topic
from gymdesk.domain.state import GymState, StateSettings
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.qtmodels.bridge import StateBridge
from tests.unit.domain.records import (
    booking_json,
    class_json,
    dumps,
    instructor_json,
    member_json,
    rep_json,
    sale_json,
    target_json,
)

ZONE = ZoneInfo("Europe/Berlin")


def now_local() -> datetime:
    """Return now in the test zone, to the minute."""
    return datetime.now(ZONE).replace(second=0, microsecond=0)


def iso(moment: datetime) -> str:
    """Return an ISO timestamp."""
    return moment.isoformat()


class Feeder:
    """Applies records to a state and pushes the changes through the bridge at once."""

    def __init__(self, state: GymState, bridge: StateBridge) -> None:
        self.state = state
        self.bridge = bridge

    def put(self, topic: Topic, key: str, value: bytes | None) -> None:
        """Apply one record and flush it to the models."""
        changes = Changes()
        self.state.apply(topic, key.encode(), value, 0, -1, changes)
        self.bridge.on_changes(changes)
        self.bridge.flush_now()

    def load_all(self) -> None:
        """Tell every view that everything may have changed (as after a snapshot)."""
        changes = Changes()
        for view in View:
            changes.touch_all(view)
        self.bridge.on_changes(changes)
        self.bridge.flush_now()

    def live(self) -> None:
        """Report a live reader."""
        self.bridge.on_status(ReaderStatus(Phase.LIVE, confirmed_at=datetime.now(UTC).timestamp()))

    def gym(self, start: datetime | None = None) -> None:
        """Fill the state with a small gym: two locations, today's classes, sales."""
        base = (start or now_local()).replace(minute=0)
        self.put(Topic.INSTRUCTORS, "i1", instructor_json("Ana Lopez"))
        self.put(Topic.INSTRUCTORS, "i2", instructor_json("Ben Kim"))
        for n, name in enumerate(("Mia Roth", "Leo Graf", "Ida Berg"), start=1):
            self.put(Topic.MEMBERS, f"m{n}", member_json(name))
        classes = [
            ("c1", "Spin", "Central", "A", "i1", base - timedelta(minutes=20), 10),
            ("c2", "Yoga Flow", "Central", "B", "i2", base + timedelta(hours=1), 20),
            ("c3", "Boxfit", "North", "Hall", "i1", base + timedelta(hours=2), 12),
        ]
        for key, title, location, room, instructor, starts, capacity in classes:
            self.put(
                Topic.CLASSES,
                key,
                dumps(
                    {
                        "title": title,
                        "location": location,
                        "room": room,
                        "instructor_id": instructor,
                        "starts_at": iso(starts),
                        "duration_min": 60,
                        "capacity": capacity,
                    }
                ),
            )
        self.put(Topic.BOOKINGS, "b1", booking_json("c1", "checked_in", member_id="m1"))
        self.put(Topic.BOOKINGS, "b2", booking_json("c1", "booked", member_id="m2"))
        self.put(Topic.BOOKINGS, "b3", booking_json("c2", "booked", member_id="m3"))
        period = f"{now_local():%Y-%m}"
        self.put(Topic.REPS, "r1", rep_json("North", "Rae Long"))
        self.put(Topic.REPS, "r2", rep_json("Central", "Sam Park"))
        self.put(Topic.TARGETS, "t1", target_json("rep", "r1", period, 2_000_000))
        self.put(Topic.TARGETS, "t2", target_json("team", "North", period, 2_000_000))
        self.put(Topic.TARGETS, "t3", target_json("team", "Central", period, 1_000_000))
        sold = iso(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
        self.put(Topic.SALES, "s1", sale_json("r1", 1_234_000, sold))
        self.put(Topic.SALES, "s2", sale_json("r2", 50_000, sold))


__all__ = ["ZONE", "Feeder", "class_json", "now_local"]


@pytest.fixture
def state() -> GymState:
    """An empty state in Europe/Berlin, for the current month."""
    return GymState(StateSettings(zone=ZONE, busy_threshold=0.8))


@pytest.fixture
def bridge(state: GymState, qapp: object) -> StateBridge:
    """A bridge over the state (a throttle of 0 ms: changes show at once)."""
    return StateBridge(state, interval_ms=0)


@pytest.fixture
def feeder(state: GymState, bridge: StateBridge) -> Feeder:
    """Feeds records to the state through the bridge."""
    return Feeder(state, bridge)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Per-test QSettings in an INI file under tmp_path."""
    return QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
