"""Each role's clock and alerts: one injected "now" for every view, alerts in the role's scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from gymdesk.app.config import AppConfig
from gymdesk.app.desk import Desk, DeskCallbacks
from gymdesk.app.main import demo_clock
from gymdesk.domain.alerts import EVERY_CLASS, NO_CLASS, AlertScope
from gymdesk.domain.contract import Topic
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.ui.instructor import InstructorPage
from gymdesk.ui.receptionist import ReceptionistBoard
from gymdesk.ui.wallboard import Wallboard
from gymdesk.ui.window import DeskOptions, MainWindow
from tests.ui.conftest import ZONE, Feeder, now_local
from tests.unit.domain.records import booking_json

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

NOON = now_local().replace(hour=12, minute=0)
# The gym's clock an hour ahead of noon: Yoga Flow (13:00) runs, Boxfit (14:00) is next.
GYM_NOW = NOON + timedelta(hours=1, minutes=5)


def gym_clock() -> datetime:
    """Return the gym's time, not the wall clock's."""
    return GYM_NOW


def test_every_view_reads_the_window_s_clock(
    qtbot: QtBot, settings: QSettings, bridge: StateBridge, feeder: Feeder
) -> None:
    feeder.gym(NOON)
    window = MainWindow(bridge, "receptionist", settings, DeskOptions(clock=gym_clock))
    qtbot.addWidget(window)
    board = cast(ReceptionistBoard, window.view)
    # Spin (11:40-12:40) would be running by a wall clock at noon; at the gym it is over.
    assert board.marks() == {"c2": "now", "c3": "next"}
    window.set_role("wallboard")
    wallboard = cast(Wallboard, window.view)
    assert wallboard.clock_label.text() == f"{GYM_NOW:%H:%M}"
    window.set_role("instructor")
    page = cast(InstructorPage, window.view)
    monday = GYM_NOW.date() - timedelta(days=GYM_NOW.weekday())
    assert page.filter.date_range() == (monday, monday + timedelta(days=13))


def test_the_demo_runs_the_views_on_the_simulated_gym_s_time() -> None:
    began = datetime(2030, 1, 6, 16, 0, tzinfo=ZONE)
    # Publishing the history: the simulation clock is still weeks back.
    simulator = SimpleNamespace(
        sim_time=began - timedelta(days=26), model=SimpleNamespace(now=began)
    )
    clock = demo_clock(simulator)  # type: ignore[arg-type]
    assert clock() == began
    ahead = began + timedelta(minutes=28)
    simulator.sim_time = ahead  # live: the gym runs ahead of the moment the demo began
    assert clock() == ahead
    simulator.sim_time = ahead + timedelta(minutes=1)  # the gym moves on
    assert clock() == ahead + timedelta(minutes=1)


def test_the_views_follow_the_clock_into_a_new_day(
    qtbot: QtBot, bridge: StateBridge, feeder: Feeder
) -> None:
    # The demo's views open on the gym clock at its history's start (weeks back), then the
    # clock catches up; at the desk it is midnight passing. Today's views move with it.
    feeder.gym(NOON)
    now = [NOON - timedelta(days=26)]
    board = ReceptionistBoard(bridge, clock=lambda: now[0])
    page = InstructorPage(bridge, clock=lambda: now[0])
    qtbot.addWidget(board)
    qtbot.addWidget(page)
    assert board.day == now[0].date()
    now[0] = GYM_NOW
    board._on_mark_timer_timeout()
    page._on_day_timer_timeout()
    assert board.day == GYM_NOW.date()
    assert board.day_label.text().startswith("Today")
    assert board.marks() == {"c2": "now", "c3": "next"}
    monday = GYM_NOW.date() - timedelta(days=GYM_NOW.weekday())
    assert page.filter.date_range() == (monday, monday + timedelta(days=13))
    # Someone looking at tomorrow stays on that date when the day turns: now "Today".
    board.set_day(GYM_NOW.date() + timedelta(days=1))
    now[0] = GYM_NOW + timedelta(days=1)
    board._on_mark_timer_timeout()
    assert board.day == GYM_NOW.date() + timedelta(days=1)
    assert board.day_label.text().startswith("Today")


# ---------------------------------------------------------------------- alerts per role


MakeDesk = Callable[..., tuple[Desk, Feeder]]


@pytest.fixture
def make_desk(qtbot: QtBot, tmp_path: Path) -> Iterator[MakeDesk]:
    """Return a factory of desks (not started: no I/O) over their own state, clock at noon."""
    desks: list[Desk] = []

    def make(role: str, location: str | None = None) -> tuple[Desk, Feeder]:
        config = AppConfig(
            bootstrap_servers="127.0.0.1:1", timezone="UTC", snapshot=False, location=location
        )
        settings = QSettings(str(tmp_path / f"{role}.ini"), QSettings.Format.IniFormat)
        desk = Desk(
            config,
            role,
            settings,
            DeskCallbacks(quit=print, open_settings=print),
            clock=lambda: NOON,
        )
        qtbot.addWidget(desk.window)
        desks.append(desk)
        feeder = Feeder(desk.state, desk.bridge)
        feeder.gym(NOON)
        feeder.live()
        return desk, feeder

    yield make
    for desk in desks:
        desk.alerts.close()
        desk.window.allow_close()
        desk.window.close()


def _busy_up(feeder: Feeder, class_id: str, bookings: int) -> None:
    """Book a class up to ``bookings`` places (busy at 80% of its capacity)."""
    for n in range(bookings):
        feeder.put(Topic.BOOKINGS, f"{class_id}-b{n}", booking_json(class_id, member_id="m1"))


def test_the_wallboard_raises_no_busy_class_alert(make_desk: MakeDesk) -> None:
    desk, feeder = make_desk("wallboard")
    assert desk.alerts.scope == NO_CLASS
    _busy_up(feeder, "c2", 16)  # Yoga Flow 16/20 at 13:00
    assert desk.alerts.check_due() is None


def test_switching_to_the_front_desk_alerts_again_but_not_about_what_was_busy(
    make_desk: MakeDesk,
) -> None:
    desk, feeder = make_desk("wallboard")
    _busy_up(feeder, "c2", 16)
    desk.window.set_role("receptionist")
    assert desk.alerts.scope == EVERY_CLASS
    assert desk.alerts.check_due() is None  # busy before: choosing a role is not news
    _busy_up(feeder, "c3", 10)  # Boxfit 10/12 at 14:00
    alert = desk.alerts.check_due()
    assert alert is not None
    assert alert.class_ids == ("c3",)


def test_the_front_desk_alerts_about_its_location_only(make_desk: MakeDesk) -> None:
    desk, feeder = make_desk("receptionist", location="North")
    assert desk.alerts.scope == AlertScope(location="North")
    _busy_up(feeder, "c2", 16)  # Central
    assert desk.alerts.check_due() is None
    _busy_up(feeder, "c3", 10)  # North
    alert = desk.alerts.check_due()
    assert alert is not None
    assert alert.class_ids == ("c3",)
    board = cast(ReceptionistBoard, desk.window.view)
    board.set_location(None)  # all locations now
    assert desk.alerts.scope == EVERY_CLASS


def test_an_instructor_is_alerted_about_their_own_classes_only(make_desk: MakeDesk) -> None:
    desk, feeder = make_desk("instructor")
    assert desk.alerts.scope == NO_CLASS  # nobody chosen yet
    _busy_up(feeder, "c3", 10)  # Ana's Boxfit
    assert desk.alerts.check_due() is None
    page = cast(InstructorPage, desk.window.view)
    page.set_instructor("i2")  # Ben
    assert desk.alerts.scope == AlertScope(instructor_id="i2")
    _busy_up(feeder, "c2", 16)  # Ben's Yoga Flow
    alert = desk.alerts.check_due()
    assert alert is not None
    assert alert.class_ids == ("c2",)
