"""The main window: one role's view under the stale banner, the status bar, the menus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from PySide6.QtCore import QByteArray, QRect, QSettings, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QFont,
    QKeySequence,
    QScreen,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from gymdesk.domain.alerts import EVERY_CLASS, AlertScope
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.ui.rejected import RejectedDialog
from gymdesk.ui.repaint import RepaintThrottle
from gymdesk.ui.resources import app_icon
from gymdesk.ui.status import ConnectionIndicator, StaleBanner
from gymdesk.ui.theme import apply_theme, theme_for_role

ROLES: Final = ("receptionist", "instructor", "wallboard")
ROLE_TITLES: Final = {
    "receptionist": "Front desk",
    "instructor": "Instructor",
    "wallboard": "Sales wallboard",
}


class RoleView(Protocol):
    """What the window asks of a role's view."""

    def save_state(self, settings: QSettings) -> None:
        """Write splitter positions, column widths and choices."""

    def restore_state(self, settings: QSettings) -> None:
        """Read back what ``save_state`` wrote."""


Clock = Callable[[], datetime]
"""Returns "now" as an aware datetime: the wall clock, or a simulated gym's."""


@dataclass(frozen=True, slots=True)
class DeskOptions:
    """What the composition root tells the window about this desk."""

    location: str | None = None
    alert_window_h: float = 3.0
    connection_label: str = ""
    clock: Clock | None = None
    """What "now" is for every view (None: the wall clock). The demo's gym runs ahead."""


def build_role_view(
    role: str, bridge: StateBridge, options: DeskOptions, parent: QWidget | None = None
) -> QWidget:
    """Return the view of a role."""
    if role == "instructor":
        from gymdesk.ui.instructor import InstructorPage

        return InstructorPage(bridge, parent, clock=options.clock)
    if role == "wallboard":
        from gymdesk.ui.wallboard import Wallboard

        return Wallboard(bridge, parent, clock=options.clock)
    from gymdesk.ui.receptionist import ReceptionistBoard

    return ReceptionistBoard(
        bridge,
        location=options.location,
        alert_window_h=options.alert_window_h,
        clock=options.clock,
        parent=parent,
    )


class MainWindow(QMainWindow):
    """One window per desk; its central view follows the chosen role."""

    role_changed = Signal(str)
    settings_requested = Signal()
    close_requested = Signal()
    alert_scope_changed = Signal(object)  # AlertScope: which classes this desk alerts about

    def __init__(
        self,
        bridge: StateBridge,
        role: str,
        settings: QSettings,
        options: DeskOptions | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.settings = settings
        self.options = options or DeskOptions()
        self.role = role if role in ROLES else "receptionist"
        self._may_close = False
        self._normal_geometry: QRect | None = None
        self._view_state_pending = False
        self.setWindowIcon(app_icon())
        self.setMinimumSize(800, 500)
        # The models follow every record at once; the window paints at most 40 times a second.
        self.repaints = RepaintThrottle(self)
        # The theme's font must be in place before any widget exists: once a style sheet
        # has polished a widget, a later application font no longer reaches it.
        self._apply_theme(self.role)

        central = QWidget()
        self._layout = QVBoxLayout(central)
        self._layout.setContentsMargins(16, 12, 16, 8)
        self._layout.setSpacing(10)
        self.banner = StaleBanner(bridge)
        self._layout.addWidget(self.banner)
        self.view: QWidget = QWidget()
        self._layout.addWidget(self.view, 1)
        self.setCentralWidget(central)

        self.indicator = ConnectionIndicator(bridge)
        self.indicator.rejected_clicked.connect(self._on_indicator_rejected_clicked)
        self.where = QLabel(self.options.connection_label)
        self.where.setObjectName("muted")
        self.statusBar().addWidget(self.where, 1)
        self.statusBar().addPermanentWidget(self.indicator)
        self.statusBar().setSizeGripEnabled(False)
        self._build_menus()
        self._install_view(self.role)
        self._rejected_dialog: RejectedDialog | None = None

    # ------------------------------------------------------------------ building

    def _build_menus(self) -> None:
        """File, View and role menus; every action has a shortcut."""
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.triggered.connect(self.settings_requested)
        self.rejected_action = QAction("&Rejected records…", self)
        self.rejected_action.triggered.connect(self._on_indicator_rejected_clicked)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        file_menu.addActions([self.settings_action, self.rejected_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        view_menu = menu.addMenu("&View")
        role_menu = view_menu.addMenu("&Role")
        self.role_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for i, role in enumerate(ROLES, start=1):
            action = QAction(ROLE_TITLES[role], self, checkable=True)
            action.setShortcut(QKeySequence(f"Ctrl+{i}"))
            action.setData(role)
            group.addAction(action)
            role_menu.addAction(action)
            self.role_actions[role] = action
        group.triggered.connect(self._on_role_group_triggered)
        self.fullscreen_action = QAction("&Full screen", self, checkable=True)
        self.fullscreen_action.setShortcuts([QKeySequence("F11")])
        self.fullscreen_action.triggered.connect(self._on_fullscreen_action_triggered)
        view_menu.addAction(self.fullscreen_action)
        # Actions live on the window so their shortcuts work with the menu bar hidden.
        self.addActions(
            [
                self.settings_action,
                self.quit_action,
                self.fullscreen_action,
                *self.role_actions.values(),
            ]
        )

    def _install_view(self, role: str) -> None:
        """Replace the central view with the role's view, its theme and its state."""
        self._apply_theme(role)
        old = self.view
        self.view = build_role_view(role, self.bridge, self.options, self)
        self._layout.replaceWidget(old, self.view)
        old.hide()
        old.deleteLater()
        self.role = role
        scope_changed = getattr(self.view, "alert_scope_changed", None)
        if scope_changed is not None:
            scope_changed.connect(self.alert_scope_changed)
        self.alert_scope_changed.emit(self.alert_scope())
        self.role_actions[role].setChecked(True)
        self.setWindowTitle(f"gymdesk — {ROLE_TITLES[role]}")
        # The wallboard's state must read from across the room too.
        font = QFont(self.font())
        if role == "wallboard":
            font.setPixelSize(24)
        # With an application style sheet fonts do not pass from parent to child: set each.
        for widget in (self.statusBar(), *self.statusBar().findChildren(QWidget)):
            widget.setFont(font)
        self.indicator.set_dot_size(18 if role == "wallboard" else 12)
        # Across the room only the state counts: where it reads from and the rejected
        # count are for someone at a keyboard (File > Rejected records still has them).
        self.where.setVisible(role != "wallboard")
        self.indicator.set_show_rejected(role != "wallboard")
        for widget in (self.banner, *self.banner.findChildren(QWidget)):
            own = QFont(font)
            own.setBold(widget.font().bold())
            widget.setFont(own)
        restore: Callable[[QSettings], None] | None = getattr(self.view, "restore_state", None)
        if restore is not None:
            restore(self.settings)

    @staticmethod
    def _apply_theme(role: str) -> None:
        """Apply the role's theme (palette, style sheet, font) to the application."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme_for_role(role))

    def alert_scope(self) -> AlertScope:
        """Return which classes the role's view wants busy-class alerts about."""
        scope: Callable[[], AlertScope] | None = getattr(self.view, "alert_scope", None)
        return EVERY_CLASS if scope is None else scope()

    # ------------------------------------------------------------------ state

    def restore_window(self) -> None:
        """Put back the window's geometry and state from QSettings."""
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        else:
            self._default_geometry()
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray | bytes):
            self.restoreState(QByteArray(state))
        self._view_state_pending = True

    def _default_geometry(self) -> None:
        """On the first run, take most of the screen, centred."""
        screen: QScreen | None = self.screen() or QApplication.primaryScreen()
        if screen is None:
            self.resize(1440, 860)
            return
        area = screen.availableGeometry()
        width, height = round(area.width() * 0.96), round(area.height() * 0.94)
        self.resize(width, height)
        self.move(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2)

    def save_state(self) -> None:
        """Write geometry, role and the view's splitters, columns and choices."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("role", self.role)
        save: Callable[[QSettings], None] | None = getattr(self.view, "save_state", None)
        if save is not None:
            save(self.settings)
        self.settings.sync()

    def set_role(self, role: str) -> None:
        """Switch to another role's view (remembered for this machine)."""
        if role not in ROLES or role == self.role:
            return
        save: Callable[[QSettings], None] | None = getattr(self.view, "save_state", None)
        if save is not None:
            save(self.settings)
        self._install_view(role)
        self.settings.setValue("role", role)
        self.role_changed.emit(role)

    def set_fullscreen(self, on: bool) -> None:
        """Enter or leave full screen; the menu bar hides in full screen."""
        self.fullscreen_action.setChecked(on)
        self.menuBar().setVisible(not on)
        if on:
            self._normal_geometry = self.geometry()
            self.showFullScreen()
            # Without a window manager (a kiosk X server) full screen is only a hint: fill
            # the screen ourselves.
            screen: QScreen | None = self.screen() or QApplication.primaryScreen()
            if screen is not None and self.geometry() != screen.geometry():
                self.setGeometry(screen.geometry())
        else:
            self.showNormal()
            if self._normal_geometry is not None:
                self.setGeometry(self._normal_geometry)

    # ------------------------------------------------------------------ slots

    def _on_role_group_triggered(self, action: QAction) -> None:
        """A role was picked from the menu."""
        self.set_role(str(action.data()))

    def _on_fullscreen_action_triggered(self, checked: bool) -> None:
        """F11 toggles full screen."""
        self.set_fullscreen(checked)

    def _on_indicator_rejected_clicked(self) -> None:
        """Open (or raise) the rejected-records dialog."""
        if self._rejected_dialog is None:
            self._rejected_dialog = RejectedDialog(self.bridge, self)
        self._rejected_dialog.show()
        self._rejected_dialog.raise_()
        self._rejected_dialog.activateWindow()

    def showEvent(self, event: QShowEvent) -> None:
        """Splitters restored before the window had its size get rescaled: restore again."""
        super().showEvent(event)
        if self._view_state_pending:
            self._view_state_pending = False
            restore: Callable[[QSettings], None] | None = getattr(self.view, "restore_state", None)
            if restore is not None:
                restore(self.settings)

    def allow_close(self) -> None:
        """Let the next close go through (the app has shut down what it must first)."""
        self._may_close = True

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing asks the app to shut down in order; the window goes last."""
        if self._may_close:
            event.accept()
            return
        event.ignore()
        self.close_requested.emit()

    def keyPressEvent(self, event: object) -> None:
        """Escape leaves full screen."""
        from PySide6.QtGui import QKeyEvent

        if (
            isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and self.isFullScreen()
        ):
            self.set_fullscreen(False)
            return
        super().keyPressEvent(event)  # type: ignore[arg-type]
