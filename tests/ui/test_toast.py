"""Alert adapters: toasts where there is no tray (as offscreen), the tray adapter's menu."""

from __future__ import annotations

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
from gymdesk.ui.toast import ToastAdapter, TrayAdapter, TrayUnavailable, make_adapter
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
