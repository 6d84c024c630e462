"""Alert adapters: the system tray where there is one, in-app toasts where there is not."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final, Protocol

from PySide6.QtCore import (
    QEasingCurve,
    QEvent,
    QObject,
    QPropertyAnimation,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsOpacityEffect,
    QLabel,
    QMainWindow,
    QMenu,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

TOAST_VISIBLE_MS: Final = 8000
TOAST_FADE_MS: Final = 600
TOAST_MARGIN: Final = 16
TOAST_SPACING: Final = 8
# A desk PC's panel (and its tray) and gymdesk autostart together at login, and the panel
# may come up seconds after gymdesk chose toasts. Asking whether a tray exists is one
# cheap X query, so every 2 s catches it soon; after 2 minutes a login is over and a
# desktop without a tray by then will not grow one: stop asking, all day, for nothing.
TRAY_WATCH_INTERVAL_MS: Final = 2000
TRAY_WATCH_LIMIT_MS: Final = 120_000


class TrayUnavailable(RuntimeError):
    """There is no system tray on this desktop (a bare X server, some Wayland shells)."""


class AlertAdapter(Protocol):
    """Something that can show an alert to the person at the desk."""

    name: str

    def notify(self, title: str, body: str) -> None:
        """Show an alert."""

    def set_status(self, text: str) -> None:
        """Show the connection state (the tray's tooltip)."""

    def close(self) -> None:
        """Take the adapter off the screen."""


class TrayAdapter(QObject):
    """Alerts as tray messages; the tray's menu shows the window, mutes, or quits."""

    name = "system tray"

    def __init__(
        self,
        icon: QIcon,
        *,
        on_show: Callable[[], None],
        on_mute: Callable[[], None],
        on_quit: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            raise TrayUnavailable("no system tray on this desktop")
        super().__init__(parent)
        self.tray = QSystemTrayIcon(icon, self)
        self.menu = QMenu()
        self.show_action = QAction("Show window", self.menu)
        self.mute_action = QAction("Mute alerts for 1 h", self.menu)
        self.quit_action = QAction("Quit", self.menu)
        self.show_action.triggered.connect(on_show)
        self.mute_action.triggered.connect(on_mute)
        self.quit_action.triggered.connect(on_quit)
        self.menu.addActions([self.show_action, self.mute_action])
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._on_tray_activated)
        self._on_show = on_show
        self.tray.setToolTip("gymdesk")
        self.tray.show()

    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        """A click on the tray icon shows the window."""
        if reason is QSystemTrayIcon.ActivationReason.Trigger:
            self._on_show()

    def notify(self, title: str, body: str) -> None:
        """Show a tray balloon."""
        self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 8000)

    def set_status(self, text: str) -> None:
        """Put the connection state in the tooltip."""
        self.tray.setToolTip(f"gymdesk — {text}")

    def close(self) -> None:
        """Hide the tray icon and drop its menu (a QMenu without a parent is not freed)."""
        self.tray.hide()
        self.menu.deleteLater()


class Toast(QFrame):
    """A small frameless card at the window's bottom-right that fades away by itself."""

    def __init__(self, title: str, body: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            # The border keeps the card apart from a dark view (the wallboard) too.
            "QFrame#toast { background: #1f2933; border: 1px solid #3d4a59; border-radius: 10px; }"
            "QFrame#toast QLabel { color: #ffffff; background: transparent; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(4)
        self.title = QLabel(title)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.body = QLabel(body)
        self.body.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        self.setFixedWidth(360)
        self.adjustSize()
        self._effect = QGraphicsOpacityEffect(self)
        self._effect.setOpacity(1.0)
        self.setGraphicsEffect(self._effect)
        self._fade = QPropertyAnimation(self._effect, b"opacity", self)
        self._fade.setDuration(TOAST_FADE_MS)
        self._fade.setStartValue(1.0)
        self._fade.setEndValue(0.0)
        self._fade.setEasingCurve(QEasingCurve.Type.InQuad)
        self._fade.finished.connect(self._on_fade_finished)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self, visible_ms: int = TOAST_VISIBLE_MS) -> None:
        """Show the toast and start its countdown."""
        self.show()
        self.raise_()
        self._timer.start(visible_ms)

    def mousePressEvent(self, event: object) -> None:
        """A click dismisses the toast at once."""
        self._on_fade_finished()

    def _on_timer_timeout(self) -> None:
        """Begin the fade."""
        self._fade.start()

    def _on_fade_finished(self) -> None:
        """Go away for good."""
        self._timer.stop()
        self.hide()
        self.deleteLater()


class ToastAdapter(QObject):
    """Alerts as toasts over a window; always works."""

    name = "in-app toasts"

    def __init__(self, window: QWidget, visible_ms: int = TOAST_VISIBLE_MS) -> None:
        super().__init__(window)
        self._window = window
        self._visible_ms = visible_ms
        self.toasts: list[Toast] = []
        window.installEventFilter(self)

    def notify(self, title: str, body: str) -> None:
        """Show a toast at the bottom-right of the window, under any still showing."""
        toast = Toast(title, body, self._window)
        toast.destroyed.connect(self._on_toast_destroyed)
        self.toasts.append(toast)
        self._place()
        toast.start(self._visible_ms)

    def _on_toast_destroyed(self, obj: QObject | None = None) -> None:
        """Forget toasts that went away."""
        self.toasts = [t for t in self.toasts if t is not obj and _alive(t)]
        self._place()

    def _area(self) -> QRect:
        """Return the window's content area in window coordinates (above the status bar)."""
        window = self._window
        if isinstance(window, QMainWindow):
            central = window.centralWidget()
            if central is not None:
                return central.geometry()
        return window.rect()

    def _place(self) -> None:
        """Stack the live toasts up from the bottom-right corner of the content.

        The top of a view carries its key figures (the instructor's totals, the board's
        first rows, the month's total); its bottom-right is the least important area
        (the chart's recent end, the roster's empty tail), so toasts go there.
        """
        area = self._area()
        y = area.bottom() - TOAST_MARGIN
        for toast in reversed(self.toasts):  # the newest nearest the corner
            if not _alive(toast):
                continue
            toast.adjustSize()
            y -= toast.height()
            toast.move(area.right() - toast.width() - TOAST_MARGIN, max(area.top(), y))
            toast.raise_()
            y -= TOAST_SPACING

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keep the toasts in the corner when the window is resized."""
        # getattr: a filter may be asked during teardown, after the wrapper lost its state.
        if watched is getattr(self, "_window", None) and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def set_status(self, text: str) -> None:
        """The window's status bar already shows the state."""

    def close(self) -> None:
        """Remove every toast and stop following the window."""
        self._window.removeEventFilter(self)
        for toast in self.toasts:
            if _alive(toast):
                toast.hide()
        self.toasts.clear()


def _alive(widget: QWidget) -> bool:
    """Return whether the C++ side of a widget still exists."""
    try:
        widget.objectName()
    except RuntimeError:
        return False
    return True


class TrayWatch(QObject):
    """Looks for a system tray that appears after start; builds its adapter once, then stops."""

    tray_appeared = Signal(object)  # the new TrayAdapter

    def __init__(
        self,
        make_tray: Callable[[], TrayAdapter],
        *,
        available: Callable[[], bool] | None = None,
        interval_ms: int = TRAY_WATCH_INTERVAL_MS,
        limit_ms: int = TRAY_WATCH_LIMIT_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._make_tray = make_tray
        # Looked up now, not at import: a test may stand in for the platform's answer.
        self._available = available or QSystemTrayIcon.isSystemTrayAvailable
        self._limit_ms = limit_ms
        # Checks are counted, not timed: a loop stalled for a while still gets its checks.
        self._checks = max(1, limit_ms // interval_ms)
        self._left = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        """Start looking (again for the whole time limit)."""
        self._left = self._checks
        self._timer.start()

    def stop(self) -> None:
        """Stop looking."""
        self._timer.stop()

    def watching(self) -> bool:
        """Return whether the watch is still looking."""
        return self._timer.isActive()

    def _on_timer_timeout(self) -> None:
        """Look once; on a tray, build its adapter and hand it over; give up at the limit."""
        self._left -= 1
        if self._available():
            try:
                tray = self._make_tray()
            except TrayUnavailable:
                pass  # gone again between the two questions: look on
            else:
                self.stop()
                log.info("alerts: a system tray appeared; using it from now on")
                self.tray_appeared.emit(tray)
                return
        if self._left <= 0:
            self.stop()
            log.info(
                "alerts: no system tray within %g s; staying with toasts", self._limit_ms / 1000
            )


def make_adapter(
    window: QWidget,
    icon: QIcon,
    *,
    on_show: Callable[[], None],
    on_mute: Callable[[], None],
    on_quit: Callable[[], None],
) -> TrayAdapter | ToastAdapter:
    """Return the tray adapter where a tray exists, else toasts; say once which one."""
    adapter: TrayAdapter | ToastAdapter
    try:
        adapter = TrayAdapter(icon, on_show=on_show, on_mute=on_mute, on_quit=on_quit)
    except TrayUnavailable as exc:
        log.info("alerts: %s; using in-app toasts", exc)
        adapter = ToastAdapter(window)
    else:
        log.info("alerts: using the system tray")
    return adapter
