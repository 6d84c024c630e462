"""Run by test_tray_x11.py on a real X display with a tray: the desk's tray icon, end to end.

Builds a real Desk (whose alert presenter picks its adapter through make_adapter), then
looks at the tray icon from Qt and from X: the icon window embedded in the tray, clicks on
it, its menu, the tooltip the presenter keeps, and the balloon of a message. Prints one
line of JSON with what it saw; the test asserts on it.

With the argument ``late`` the display has no tray yet: the desk starts on toasts, prints
``on toasts`` for the test to start the tray then, and watches its presenter move over.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QMessageLogContext,
    QPoint,
    QRect,
    QSettings,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QLabel, QSystemTrayIcon

from gymdesk.app.config import AppConfig
from gymdesk.app.desk import Desk, DeskCallbacks
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.ui.toast import ToastAdapter, TrayAdapter, TrayWatch

APP_NAME = "gymdesk-tray-check"
BALLOON_BODY = "18:00 Spin (A) — 18/20"
ON_TOASTS = "on toasts"  # the late run's cue to the test: start the tray now
LATE_WAIT_S = 30.0  # for the tray to start, be found (a check every 2 s) and embed the icon


class Recorder(logging.Handler):
    """Keeps the messages gymdesk logs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Remember one message."""
        self.messages.append(record.getMessage())


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Process events until ``predicate`` holds or ``timeout`` seconds pass; return it."""
    deadline = time.monotonic() + timeout
    while True:
        QApplication.processEvents()
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def pump(seconds: float) -> None:
    """Process events for a while."""
    wait_until(lambda: False, seconds)


def xdotool(*args: str) -> None:
    """Drive the X pointer, as a person would."""
    subprocess.run(["xdotool", *args], check=True, timeout=10)


def click_at(point: QPoint, button: int) -> None:
    """Move the pointer to a point of the screen and click there."""
    xdotool("mousemove", str(point.x()), str(point.y()), "sleep", "0.1", "click", str(button))


def window_tree() -> list[tuple[int, str, str]]:
    """Return the X window tree as (depth, window id, rest of the line), root first."""
    out = subprocess.run(
        ["xwininfo", "-root", "-tree"], check=True, capture_output=True, text=True, timeout=10
    ).stdout
    tree = []
    for line in out.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("0x"):
            window, _, rest = stripped.partition(" ")
            tree.append(((len(line) - len(stripped)) // 3, window, rest))
    return tree


def embedded_icons(name: str) -> list[str]:
    """Return the lines of windows named ``name`` that sit inside the tray's panel."""
    found: list[str] = []
    panel_depth: int | None = None
    for depth, window, rest in window_tree():
        if panel_depth is not None and depth <= panel_depth:
            panel_depth = None
        if panel_depth is None and '("panel" "trayer")' in rest:
            panel_depth = depth
        elif panel_depth is not None and rest.startswith(f'"{name}"'):
            found.append(f"{window} {rest}")
    return found


def icon_rect(name: str) -> QRect | None:
    """Return where X has the one icon window named ``name`` in the tray, on the screen."""
    icons = embedded_icons(name)
    if len(icons) != 1:
        return None
    match = re.search(r"(\d+)x(\d+)\S*\s+\+(-?\d+)\+(-?\d+)$", icons[0])
    if match is None:
        return None
    width, height, x, y = (int(n) for n in match.groups())
    return QRect(x, y, width, height)


def balloon_texts() -> list[str]:
    """Return the label texts of the visible tray balloons (Qt's own message window)."""
    texts: list[str] = []
    for widget in QApplication.topLevelWidgets():
        if widget.metaObject().className() == "QBalloonTip" and widget.isVisible():
            texts += [label.text() for label in widget.findChildren(QLabel)]
    return texts


def menu_point(tray: TrayAdapter, action: QAction) -> QPoint:
    """Return the screen point at the middle of a menu entry."""
    return tray.menu.mapToGlobal(tray.menu.actionGeometry(action).center())


def check(result: dict[str, Any], scratch: Path) -> None:
    """Fill ``result`` with what the tray looks like and does."""
    result["tray_available"] = wait_until(QSystemTrayIcon.isSystemTrayAvailable, 10.0)
    if not result["tray_available"]:
        return
    recorder = Recorder()
    logging.getLogger("gymdesk").addHandler(recorder)
    logging.getLogger("gymdesk").setLevel(logging.INFO)
    calls: list[str] = []
    config = AppConfig(bootstrap_servers="127.0.0.1:1", timezone="UTC", snapshot=False)
    settings = QSettings(str(scratch / "desk.ini"), QSettings.Format.IniFormat)
    desk = Desk(
        config,
        "receptionist",
        settings,
        DeskCallbacks(quit=lambda: calls.append("quit"), open_settings=lambda: None),
    )
    adapter = desk.alerts.adapter
    result["adapter"] = type(adapter).__name__
    result["said"] = [m for m in recorder.messages if m.startswith("alerts:")]
    if not isinstance(adapter, TrayAdapter):
        return
    tray = adapter
    result["visible"] = wait_until(tray.tray.isVisible)
    # Qt knows where the icon is once the tray has embedded it (until then it is at 0,0).
    wait_until(lambda: icon_rect(APP_NAME) == tray.tray.geometry(), 10.0)
    result["embedded"] = embedded_icons(APP_NAME)
    geometry = tray.tray.geometry()
    result["geometry"] = [geometry.x(), geometry.y(), geometry.width(), geometry.height()]
    result["menu"] = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    result["menu_is_context_menu"] = tray.tray.contextMenu() is tray.menu

    activations: list[str] = []
    tray.tray.activated.connect(lambda reason: activations.append(reason.name))
    result["activations"] = activations
    tooltips = []
    desk.alerts.start()
    tooltips.append(tray.tray.toolTip())
    desk.bridge.on_status(ReaderStatus(Phase.LIVE, confirmed_at=time.time()))
    tooltips.append(tray.tray.toolTip())
    desk.bridge.on_status(ReaderStatus(Phase.RECONNECTING, "connection refused"))
    tooltips.append(tray.tray.toolTip())
    result["tooltips"] = tooltips

    # A left click on the real icon brings the window up.
    result["window_hidden_before"] = not desk.window.isVisible()
    click_at(geometry.center(), 1)
    result["left_click_shows_window"] = wait_until(desk.window.isVisible)
    desk.window.hide()  # off the screen again: without a window manager it may cover the tray
    pump(0.2)

    # A right click opens the menu; its second entry mutes alerts for an hour.
    click_at(geometry.center(), 3)
    result["right_click_opens_menu"] = wait_until(tray.menu.isVisible)
    result["muted_before"] = desk.alerts.rules.muted(datetime.now(UTC))
    if result["right_click_opens_menu"]:
        click_at(menu_point(tray, tray.mute_action), 1)
        wait_until(lambda: not tray.menu.isVisible())
    result["muted_after"] = desk.alerts.rules.muted(datetime.now(UTC))
    # Muting says so in a balloon by the icon.
    wait_until(lambda: "Alerts muted" in balloon_texts())
    result["mute_balloon"] = balloon_texts()

    tray.notify("Expect a busy class", BALLOON_BODY)
    wait_until(lambda: BALLOON_BODY in balloon_texts())
    result["notify_balloon"] = balloon_texts()

    # Quit from the menu reaches the app.
    click_at(geometry.center(), 3)
    if wait_until(tray.menu.isVisible):
        click_at(menu_point(tray, tray.quit_action), 1)
        wait_until(lambda: bool(calls))
    result["calls"] = calls

    close_desk(result, desk, tray)


def close_desk(result: dict[str, Any], desk: Desk, tray: TrayAdapter) -> None:
    """Close the alerts and the window as the app does; note whether the icon went."""
    desk.alerts.close()
    result["hidden_after_close"] = wait_until(lambda: not tray.tray.isVisible())
    wait_until(lambda: not embedded_icons(APP_NAME), 5.0)
    result["embedded_after_close"] = embedded_icons(APP_NAME)
    desk.window.allow_close()
    desk.window.close()
    pump(0.1)


def check_late(result: dict[str, Any], scratch: Path) -> None:
    """Start on toasts with no tray; after the cue, see the tray taken up when it comes."""
    result["tray_at_start"] = QSystemTrayIcon.isSystemTrayAvailable()
    recorder = Recorder()
    logging.getLogger("gymdesk").addHandler(recorder)
    logging.getLogger("gymdesk").setLevel(logging.INFO)
    config = AppConfig(bootstrap_servers="127.0.0.1:1", timezone="UTC", snapshot=False)
    settings = QSettings(str(scratch / "desk.ini"), QSettings.Format.IniFormat)
    desk = Desk(
        config,
        "receptionist",
        settings,
        DeskCallbacks(quit=lambda: None, open_settings=lambda: None),
    )
    toasts = desk.alerts.adapter
    result["adapter_at_start"] = type(toasts).__name__
    if not isinstance(toasts, ToastAdapter):
        return
    watches = desk.alerts.findChildren(TrayWatch)
    desk.window.resize(800, 500)
    desk.window.show()
    desk.alerts.start()
    result["watching_at_start"] = [w.watching() for w in watches]
    desk.bridge.on_status(ReaderStatus(Phase.LIVE, confirmed_at=time.time()))
    toasts.notify("Expect a busy class", BALLOON_BODY)
    toast = toasts.toasts[0]
    result["toast_visible_before"] = wait_until(toast.isVisible)
    print(ON_TOASTS, flush=True)  # the test starts the tray now

    started = time.monotonic()
    result["switched"] = wait_until(
        lambda: isinstance(desk.alerts.adapter, TrayAdapter), LATE_WAIT_S
    )
    result["switched_after_s"] = round(time.monotonic() - started, 1)
    tray = desk.alerts.adapter
    result["adapter_after"] = type(tray).__name__
    result["watching_after"] = [w.watching() for w in watches]
    result["toasts_after"] = len(toasts.toasts)
    try:
        result["toast_visible_after"] = toast.isVisible()
    except RuntimeError:  # already deleted: not visible either
        result["toast_visible_after"] = False
    result["said"] = [m for m in recorder.messages if m.startswith("alerts:")]
    if not isinstance(tray, TrayAdapter):
        return
    result["visible"] = wait_until(tray.tray.isVisible)
    result["tooltip"] = tray.tray.toolTip()
    wait_until(lambda: icon_rect(APP_NAME) == tray.tray.geometry(), 10.0)
    result["embedded"] = embedded_icons(APP_NAME)
    geometry = tray.tray.geometry()
    result["geometry"] = [geometry.x(), geometry.y(), geometry.width(), geometry.height()]
    pump(2.5)  # longer than a check: the watch has stopped, no second icon comes
    result["embedded_later"] = embedded_icons(APP_NAME)
    close_desk(result, desk, tray)


def main() -> int:
    """Check the tray (or, with ``late``, a tray that comes later); print JSON."""
    warnings: list[str] = []

    def on_qt_message(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        """Keep every Qt warning: the test allows none."""
        if mode not in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
            warnings.append(f"{mode.name}: {message}")

    qInstallMessageHandler(on_qt_message)
    app = QApplication([APP_NAME])
    app.setQuitOnLastWindowClosed(False)
    result: dict[str, Any] = {"platform": app.platformName()}
    try:
        with tempfile.TemporaryDirectory(prefix="gymdesk-tray-") as scratch:
            if sys.argv[1:] == ["late"]:
                check_late(result, Path(scratch))
            else:
                check(result, Path(scratch))
    except Exception:
        result["error"] = traceback.format_exc()
    result["qt_warnings"] = warnings
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
