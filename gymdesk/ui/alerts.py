"""The busy-class alert presenter: domain rules in, tray messages or toasts out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final, cast

from PySide6.QtCore import QObject, QTimer, Signal

from gymdesk.domain.alerts import Alert, AlertScope, BusyAlerts, starts_in_window
from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import ClassRow, Topic
from gymdesk.domain.status import ReaderStatus
from gymdesk.domain.views import ClassView
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.ui.status import status_text
from gymdesk.ui.toast import ToastAdapter, TrayAdapter, TrayWatch

log = logging.getLogger(__name__)

DUE_INTERVAL_MS: Final = 1000
# A busy class enters the alert window by time alone: look at every class this often.
SWEEP_INTERVAL_MS: Final = 60_000


class AlertPresenter(QObject):
    """Feeds class changes to BusyAlerts and shows what is due through an adapter."""

    alert_shown = Signal(object)  # the domain Alert

    def __init__(
        self,
        bridge: StateBridge,
        adapter: TrayAdapter | ToastAdapter,
        *,
        alert_window_h: float = 3.0,
        clock: Callable[[], datetime] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.adapter = adapter
        zone = bridge.state.settings.zone
        self.rules = BusyAlerts(window=timedelta(hours=alert_window_h), zone=zone)
        self._clock = clock or (lambda: datetime.now(zone))
        self.shown: list[Alert] = []
        self._due = QTimer(self)
        self._due.setInterval(DUE_INTERVAL_MS)
        self._due.timeout.connect(self._on_due_timeout)
        self._sweep = QTimer(self)
        self._sweep.setInterval(SWEEP_INTERVAL_MS)
        self._sweep.timeout.connect(self._on_sweep_timeout)
        self._live = bridge.status.live
        self._tray_watch: TrayWatch | None = None
        bridge.changes_applied.connect(self._on_bridge_changes_applied)
        bridge.status_changed.connect(self._on_bridge_status_changed)
        # make_adapter already said which adapter it chose: once is enough.
        log.debug("busy-class alerts through %s", adapter.name)

    def start(self) -> None:
        """Start checking for due alerts every second (and for a tray, when watching)."""
        self._due.start()
        self._sweep.start()
        self.adapter.set_status(status_text(self.bridge.status))
        if self._tray_watch is not None:
            self._tray_watch.start()

    def close(self) -> None:
        """Stop and take the adapter (tray icon or toasts) off the screen."""
        self.stop_watching()
        self._due.stop()
        self._sweep.stop()
        self.adapter.close()

    def watch_for_tray(self, watch: TrayWatch) -> None:
        """Move to the tray ``watch`` finds, from start() until it gives up or close()."""
        self._tray_watch = watch
        watch.tray_appeared.connect(self.use_adapter)

    def stop_watching(self) -> None:
        """Look for a tray no more (shutting down: no icon may appear now)."""
        if self._tray_watch is not None:
            self._tray_watch.stop()

    def use_adapter(self, adapter: TrayAdapter | ToastAdapter) -> None:
        """Show alerts through ``adapter`` from now on; the old one leaves the screen."""
        if adapter is self.adapter:
            return
        old, self.adapter = self.adapter, adapter
        old.close()
        adapter.set_status(status_text(self.bridge.status))
        log.debug("busy-class alerts through %s", adapter.name)

    def mute_for(self, seconds: float) -> None:
        """Raise no alerts for a while."""
        until = self._clock() + timedelta(seconds=seconds)
        self.rules.mute_until(until)
        self.adapter.notify("Alerts muted", f"No busy-class alerts until {until:%H:%M}.")

    @property
    def scope(self) -> AlertScope:
        """Return which classes this desk alerts about."""
        return self.rules.scope

    def set_scope(self, scope: AlertScope) -> None:
        """Alert only about the classes ``scope`` covers (the role view chooses it).

        What the new scope brings in is learned as it is, without an alert: choosing a
        location or an instructor is not news. The tray icon and its status stay.
        """
        if scope == self.rules.scope:
            return
        self.rules.set_scope(scope)
        self.rules.observe(self._candidates(None), self._clock(), live=False)

    def observe(self, views: Iterable[ClassView]) -> None:
        """Tell the rules what some classes look like now."""
        self.rules.observe(views, self._clock(), live=self.bridge.status.live)

    def check_due(self) -> Alert | None:
        """Show the grouped alert that is due, if any, and return it."""
        alert = self.rules.due(self._clock())
        if alert is not None:
            self.shown.append(alert)
            self.adapter.notify(alert.title, alert.body)
            self.alert_shown.emit(alert)
        return alert

    def _candidates(self, keys: Iterable[str] | None) -> list[ClassView]:
        """Return the lines of the classes (None: every class) that may alert or stop to.

        Only a class in scope that starts within the window can be alertable, and only
        one that was can stop being so: the class rows say which, and only those lines
        are built (a line per class per flush cost ~40% of a live flush).
        """
        state = self.bridge.state
        rows = state.tables[Topic.CLASSES]
        now, window = self._clock(), self.rules.window
        scope, was = self.rules.scope, self.rules.alertable
        views: list[ClassView] = []
        for key in rows.keys() if keys is None else keys:
            row = cast(ClassRow | None, rows.get(key))
            if row is None:
                self.rules.forget(key)
                continue
            if key in was or (scope.covers(row) and starts_in_window(row.starts_at, now, window)):
                view = state.class_view(key)
                if view is not None:
                    views.append(view)
        return views

    def _on_bridge_changes_applied(self, changes: Changes) -> None:
        """Observe the classes that changed (all of them after a big batch), once live.

        Before that (catch-up, a snapshot loading) nothing is alerted, so the rules need
        only the state at the moment the reader goes live: every flush of a catch-up
        looked at every class for nothing.
        """
        if self._live and changes.touched(View.CLASSES):
            self.observe(self._candidates(changes.keys(View.CLASSES)))

    def _on_bridge_status_changed(self, status: ReaderStatus) -> None:
        """Keep the tray tooltip on the connection state; learn every class on going live."""
        self.adapter.set_status(status_text(status))
        if status.live and not self._live:
            # What is busy now was busy before: learned as it is, no alert for each.
            self.rules.observe(self._candidates(None), self._clock(), live=False)
        self._live = status.live

    def _on_due_timeout(self) -> None:
        """Raise what is due."""
        self.check_due()

    def _on_sweep_timeout(self) -> None:
        """Look at every class: busy ones entering the window by time alone."""
        self.observe(self._candidates(None))
