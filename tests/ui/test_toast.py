"""Alert adapters: toasts where there is no tray (as offscreen), the tray adapter's menu,
and the watch that moves to a tray appearing after start."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSettings
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget
from pytestqt.qtbot import QtBot

from gymdesk.app.config import AppConfig
from gymdesk.app.desk import Desk, DeskCallbacks
from gymdesk.domain.contract import Topic
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.ui.alerts import AlertPresenter
from gymdesk.ui.instructor import InstructorPage
from gymdesk.ui.receptionist import ReceptionistBoard
from gymdesk.ui.resources import app_icon
from gymdesk.ui.toast import (
    TRAY_WATCH_INTERVAL_MS,
    TRAY_WATCH_LIMIT_MS,
    ToastAdapter,
    TrayAdapter,
    TrayUnavailable,
    TrayWatch,
    make_adapter,
)
from gymdesk.ui.window import MainWindow
from tests.ui.conftest import Feeder, now_local
from tests.unit.domain.records import booking_json

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

NOON = now_local().replace(hour=12, minute=10)


def _in_window(widget: QWidget, window: QWidget) -> QRect:
    """Return a widget's rectangle in its window's coordinates."""
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _laid_out(page: InstructorPage, window: QWidget) -> bool:
    """Return whether the page has its final layout: hint gone, the list under the cards."""
    return (
        page.hint.isHidden()
        and _in_window(page.table, window).top()
        > _in_window(page.cards["classes"], window).bottom()
    )


# ---------------------------------------------------------------------- no tray: toasts


def test_offscreen_has_no_tray_so_the_tray_adapter_refuses(qapp: QApplication) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    with pytest.raises(TrayUnavailable, match="no system tray"):
        TrayAdapter(app_icon(), on_show=print, on_mute=print, on_quit=print)


def test_the_desk_falls_through_to_toasts_and_says_so_once(
    qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = AppConfig(bootstrap_servers="127.0.0.1:1", timezone="UTC", snapshot=False)
    settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    with caplog.at_level(logging.INFO):
        desk = Desk(
            config, "receptionist", settings, DeskCallbacks(quit=print, open_settings=print)
        )
    qtbot.addWidget(desk.window)
    assert isinstance(desk.alerts.adapter, ToastAdapter)
    said = [r.getMessage() for r in caplog.records if "alerts" in r.getMessage().lower()]
    said = [m for m in said if "toast" in m or "tray" in m]
    assert said == ["alerts: no system tray on this desktop; using in-app toasts"]
    desk.alerts.close()
    desk.window.allow_close()
    desk.window.close()


def test_toasts_stack_in_the_bottom_right_and_go_away(
    qtbot: QtBot, bridge: StateBridge, settings: QSettings
) -> None:
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    adapter = ToastAdapter(window, visible_ms=50)
    adapter.notify("Expect a busy class", "18:00 Spin (A) — 18/20")
    adapter.notify("Expect 2 busy classes", "18:30 Yoga (B) — 17/20\n19:00 HIIT (A) — 2/2")
    first, second = adapter.toasts
    content = window.centralWidget().geometry()
    for toast in (first, second):
        assert content.contains(toast.geometry())
    assert second.geometry().bottom() > first.geometry().bottom()  # the newest in the corner
    assert not first.geometry().intersects(second.geometry())
    assert content.bottom() - second.geometry().bottom() <= 24
    assert content.right() - second.geometry().right() <= 24
    window.resize(1200, 700)
    assert window.centralWidget().geometry().contains(second.geometry())
    qtbot.waitUntil(lambda: not adapter.toasts, timeout=5000)


def test_a_toast_never_hides_the_instructors_totals(
    qtbot: QtBot, bridge: StateBridge, feeder: Feeder, settings: QSettings
) -> None:
    feeder.gym(NOON)
    for size in ((1366, 768), (1600, 900), (1024, 640)):
        window = MainWindow(bridge, "instructor", settings)
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        page = window.view
        assert isinstance(page, InstructorPage)
        page.set_instructor("i1")  # hides the hint: lay out again before measuring
        page.layout().activate()
        qtbot.waitUntil(lambda p=page, w=window: _laid_out(p, w))
        adapter = ToastAdapter(window)
        adapter.notify("Expect a busy class", "17:30 Strength (Gym Floor) — 12/14")
        adapter.notify("Expect a busy class", "18:15 Spin (Cycle Room) — 17/18")
        for toast in adapter.toasts:
            for name, card in page.cards.items():
                assert not toast.geometry().intersects(_in_window(card, window)), (size, name)
            assert not toast.geometry().intersects(_in_window(page.who, window)), size
            if size[1] >= 768:  # on a laptop screen the class list stays clear too
                assert not toast.geometry().intersects(_in_window(page.table, window)), size
        adapter.close()
        window.allow_close()
        window.close()


def test_a_toast_leaves_the_board_and_its_first_rows_clear(
    qtbot: QtBot, bridge: StateBridge, feeder: Feeder, settings: QSettings
) -> None:
    feeder.gym(NOON)
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    board = window.view
    assert isinstance(board, ReceptionistBoard)
    adapter = ToastAdapter(window)
    adapter.notify("Expect a busy class", "13:00 Yoga Flow (B) — 18/20")
    (toast,) = adapter.toasts
    assert not toast.geometry().intersects(_in_window(board.table, window))
    assert not toast.geometry().intersects(_in_window(board.search, window))


# ---------------------------------------------------------------------- the tray adapter


@pytest.fixture
def fake_tray(monkeypatch: pytest.MonkeyPatch) -> None:
    """Say a tray exists. The offscreen platform then warns that it has no tray window."""
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))


@pytest.mark.qt_log_ignore("systemTrayWindowChanged")
@pytest.mark.usefixtures("fake_tray")
def test_tray_menu_shows_mutes_and_quits(qtbot: QtBot) -> None:
    calls: list[str] = []
    tray = TrayAdapter(
        app_icon(),
        on_show=lambda: calls.append("show"),
        on_mute=lambda: calls.append("mute"),
        on_quit=lambda: calls.append("quit"),
    )
    assert tray.tray.contextMenu() is tray.menu
    texts = [action.text() for action in tray.menu.actions() if not action.isSeparator()]
    assert texts == ["Show window", "Mute alerts for 1 h", "Quit"]
    assert tray.tray.isVisible()
    tray.show_action.trigger()
    tray.mute_action.trigger()
    tray.quit_action.trigger()
    assert calls == ["show", "mute", "quit"]
    tray.tray.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)  # a left click
    tray.tray.activated.emit(QSystemTrayIcon.ActivationReason.Context)  # the menu, not show
    assert calls == ["show", "mute", "quit", "show"]
    tray.close()
    assert not tray.tray.isVisible()


@pytest.mark.qt_log_ignore("systemTrayWindowChanged")
@pytest.mark.usefixtures("fake_tray")
def test_tray_tooltip_follows_the_connection_and_mute_silences_alerts(
    qtbot: QtBot, bridge: StateBridge, feeder: Feeder, caplog: pytest.LogCaptureFixture
) -> None:
    feeder.gym(NOON)
    presenters: list[AlertPresenter] = []
    with caplog.at_level(logging.INFO):
        adapter = make_adapter(
            QWidget(),
            app_icon(),
            on_show=print,
            on_mute=lambda: presenters[0].mute_for(3600),
            on_quit=print,
        )
    assert isinstance(adapter, TrayAdapter)
    assert "alerts: using the system tray" in caplog.messages
    presenter = AlertPresenter(bridge, adapter, clock=lambda: NOON)
    presenters.append(presenter)
    presenter.start()
    assert adapter.tray.toolTip() == "gymdesk — Connecting…"
    feeder.live()
    assert adapter.tray.toolTip() == "gymdesk — Live"
    bridge.on_status(ReaderStatus(Phase.RECONNECTING, "connection refused"))
    assert adapter.tray.toolTip() == "gymdesk — Reconnecting… (connection refused)"
    feeder.live()

    adapter.mute_action.trigger()  # mute alerts for an hour, from the tray menu
    for n in range(1, 18):  # Yoga Flow at 13:00 becomes busy: 17/20
        feeder.put(Topic.BOOKINGS, f"y{n}", booking_json("c2", member_id=f"m{n}"))
    assert presenter.check_due() is None
    presenter.rules.mute_until(NOON - timedelta(minutes=1))  # the hour is over
    for n in range(1, 11):  # Boxfit at 14:00 becomes busy after the mute: 10/12
        feeder.put(Topic.BOOKINGS, f"x{n}", booking_json("c3", member_id=f"m{n}"))
    alert = presenter.check_due()
    assert alert is not None
    assert list(alert.class_ids) == ["c3"]  # what turned busy while muted stays quiet
    presenter.close()
    assert not adapter.tray.isVisible()


# ---------------------------------------------------------------------- a tray that comes late


def _desk(tmp_path: Path) -> Desk:
    """Return a desk on an unreachable cluster, not started."""
    config = AppConfig(bootstrap_servers="127.0.0.1:1", timezone="UTC", snapshot=False)
    settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    return Desk(config, "receptionist", settings, DeskCallbacks(quit=print, open_settings=print))


def test_the_watch_constants_look_often_enough_and_not_all_day() -> None:
    assert TRAY_WATCH_INTERVAL_MS <= 5000  # a tray showing up is used within seconds
    assert 60_000 <= TRAY_WATCH_LIMIT_MS <= 10 * 60_000  # a slow login, not the whole day


@pytest.mark.qt_log_ignore("systemTrayWindowChanged", "does not support propagateSizeHints")
@pytest.mark.usefixtures("fake_tray")
def test_a_tray_that_appears_later_takes_over_from_the_toasts_once(
    qtbot: QtBot,
    bridge: StateBridge,
    feeder: Feeder,
    settings: QSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    window.resize(1024, 640)
    window.show()
    qtbot.waitExposed(window)
    toasts = ToastAdapter(window, visible_ms=60_000)
    presenter = AlertPresenter(bridge, toasts, clock=lambda: NOON)
    tray_up = False
    asked: list[bool] = []
    made: list[TrayAdapter] = []

    def available() -> bool:
        asked.append(tray_up)
        return tray_up

    def make_tray() -> TrayAdapter:
        made.append(TrayAdapter(app_icon(), on_show=print, on_mute=print, on_quit=print))
        return made[-1]

    watch = TrayWatch(make_tray, available=available, interval_ms=10, limit_ms=60_000)
    presenter.watch_for_tray(watch)
    assert not watch.watching()  # not before the presenter starts
    presenter.start()
    assert watch.watching()
    toasts.notify("Expect a busy class", "18:00 Spin (A) — 18/20")
    (toast,) = toasts.toasts
    feeder.live()
    qtbot.waitUntil(lambda: len(asked) >= 3)
    assert presenter.adapter is toasts  # no tray yet: toasts go on
    assert toast.isVisible()

    with caplog.at_level(logging.INFO):
        tray_up = True
        qtbot.waitUntil(lambda: presenter.adapter is not toasts)
        checks = len(asked)
        qtbot.wait(100)  # ten more intervals: nothing more is asked or built
    (tray,) = made
    assert presenter.adapter is tray
    assert tray.tray.isVisible()
    assert tray.tray.toolTip() == "gymdesk — Live"  # the state it came in at
    assert not watch.watching()
    assert len(asked) == checks
    assert toasts.toasts == []  # the toasts adapter closed cleanly: its toast went
    assert not toast.isVisible()
    window.resize(900, 600)  # and it no longer follows the window
    said = [m for m in caplog.messages if m.startswith("alerts:")]
    assert said == ["alerts: a system tray appeared; using it from now on"]

    bridge.on_status(ReaderStatus(Phase.RECONNECTING, "connection refused"))
    assert tray.tray.toolTip() == "gymdesk — Reconnecting… (connection refused)"
    presenter.mute_for(60)  # what the presenter says now goes to the tray, not a toast
    assert toasts.toasts == []
    presenter.close()
    assert not tray.tray.isVisible()
    window.allow_close()
    window.close()


def test_the_watch_gives_up_after_its_time_limit(
    qtbot: QtBot, bridge: StateBridge, settings: QSettings, caplog: pytest.LogCaptureFixture
) -> None:
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    toasts = ToastAdapter(window)
    presenter = AlertPresenter(bridge, toasts, clock=lambda: NOON)
    asked: list[int] = []
    made: list[TrayAdapter] = []

    def make_tray() -> TrayAdapter:
        made.append(TrayAdapter(app_icon(), on_show=print, on_mute=print, on_quit=print))
        return made[-1]

    watch = TrayWatch(
        make_tray, available=lambda: bool(asked.append(1)), interval_ms=10, limit_ms=50
    )
    presenter.watch_for_tray(watch)
    with caplog.at_level(logging.INFO):
        presenter.start()
        qtbot.waitUntil(lambda: not watch.watching())
        qtbot.wait(60)
    assert len(asked) == 5  # 50 ms of 10 ms checks, then no more
    assert made == []
    assert presenter.adapter is toasts
    assert caplog.messages == ["alerts: no system tray within 0.05 s; staying with toasts"]
    presenter.close()
    window.allow_close()
    window.close()


def test_a_tray_that_vanishes_before_its_icon_is_made_is_looked_for_again(
    qtbot: QtBot, bridge: StateBridge, settings: QSettings
) -> None:
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    toasts = ToastAdapter(window)
    presenter = AlertPresenter(bridge, toasts, clock=lambda: NOON)
    tries: list[int] = []

    def make_tray() -> TrayAdapter:
        tries.append(1)
        # offscreen: the adapter's own check finds no tray, as when it went again
        return TrayAdapter(app_icon(), on_show=print, on_mute=print, on_quit=print)

    watch = TrayWatch(make_tray, available=lambda: True, interval_ms=10, limit_ms=30)
    presenter.watch_for_tray(watch)
    presenter.start()
    qtbot.waitUntil(lambda: not watch.watching())
    assert len(tries) == 3  # every check tried, none switched
    assert presenter.adapter is toasts
    presenter.close()
    window.allow_close()
    window.close()


def test_closing_the_presenter_stops_the_watch(
    qtbot: QtBot, bridge: StateBridge, settings: QSettings
) -> None:
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    asked: list[int] = []
    presenter = AlertPresenter(bridge, ToastAdapter(window), clock=lambda: NOON)
    watch = TrayWatch(
        lambda: pytest.fail("no tray to make"),
        available=lambda: bool(asked.append(1)),
        interval_ms=10,
    )
    presenter.watch_for_tray(watch)
    presenter.start()
    qtbot.waitUntil(lambda: len(asked) >= 2)
    presenter.close()
    assert not watch.watching()
    count = len(asked)
    qtbot.wait(50)
    assert len(asked) == count
    window.allow_close()
    window.close()


def test_a_desk_on_toasts_watches_from_start_and_stops_first_on_stop(
    qtbot: QtBot, tmp_path: Path
) -> None:
    desk = _desk(tmp_path)
    qtbot.addWidget(desk.window)
    assert isinstance(desk.alerts.adapter, ToastAdapter)
    (watch,) = desk.alerts.findChildren(TrayWatch)
    assert not watch.watching()  # building a desk starts nothing
    desk.alerts.start()
    assert watch.watching()
    stopped_watching: list[bool] = []
    # The reader is the first thing stop() waits for: the watch has stopped by then.
    desk.reader.stop = lambda: stopped_watching.append(watch.watching())  # type: ignore[method-assign]
    asyncio.run(desk.stop())
    assert stopped_watching == [False]
    assert not watch.watching()


@pytest.mark.qt_log_ignore("systemTrayWindowChanged", "does not support propagateSizeHints")
@pytest.mark.usefixtures("fake_tray")
def test_a_desk_that_found_a_tray_does_not_watch(qtbot: QtBot, tmp_path: Path) -> None:
    desk = _desk(tmp_path)
    qtbot.addWidget(desk.window)
    assert isinstance(desk.alerts.adapter, TrayAdapter)
    assert desk.alerts.findChildren(TrayWatch) == []
    desk.alerts.close()
    desk.window.allow_close()
    desk.window.close()
