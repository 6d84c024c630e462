"""One connected desk: state, bridge, reader, window and alerts, started and stopped in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSettings

from gymdesk.app.config import AppConfig
from gymdesk.domain.state import GymState
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.stream.reader import WINDOW_FETCH, ChangelogReader, one_line
from gymdesk.stream.snapshot import SnapshotStore, snapshot_path
from gymdesk.ui.alerts import AlertPresenter
from gymdesk.ui.resources import app_icon
from gymdesk.ui.toast import ToastAdapter, TrayAdapter, TrayWatch, make_adapter
from gymdesk.ui.window import Clock, DeskOptions, MainWindow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeskCallbacks:
    """What the window's menus ask of the app above the desk."""

    quit: Callable[[], None]
    open_settings: Callable[[], None]


class Desk:
    """The running app for one connection; constructors do no I/O, start()/stop() pair up."""

    def __init__(
        self,
        config: AppConfig,
        role: str,
        settings: QSettings,
        callbacks: DeskCallbacks,
        *,
        fullscreen: bool = False,
        label: str = "",
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.fullscreen = fullscreen
        log.info("init: state (prefix %s, zone %s)", config.topic_prefix, config.zone())
        self.state = GymState(config.state_settings())
        self.snapshot: SnapshotStore | None = None
        if config.snapshot:
            path = snapshot_path(config.state_path(), config.bootstrap_servers, config.topic_prefix)
            log.info("init: snapshot %s", path)
            self.snapshot = SnapshotStore(path)
        log.info("init: bridge")
        self.bridge = StateBridge(self.state)
        log.info("init: reader for %s", config.bootstrap_servers)
        self.reader = ChangelogReader(
            config.connection(),
            self.state,
            snapshot=self.snapshot,
            on_changes=self.bridge.on_changes,
            on_status=self.bridge.on_status,
            pacer=self.bridge.pacer,
            fetch=WINDOW_FETCH,  # small steps: the window shares the loop
        )
        if self.snapshot is not None:
            self.snapshot.pacer = self.bridge.pacer
        log.info("init: window (%s)", role)
        options = DeskOptions(
            location=config.location,
            alert_window_h=config.alert_window_h,
            connection_label=label or f"{config.bootstrap_servers} · {config.topic_prefix}*",
            clock=clock,
        )
        self.window = MainWindow(self.bridge, role, settings, options)
        self.window.close_requested.connect(callbacks.quit)
        self.window.settings_requested.connect(callbacks.open_settings)
        log.info("init: alerts")
        self.alerts = AlertPresenter(
            self.bridge,
            make_adapter(
                self.window,
                app_icon(),
                on_show=self.show_window,
                on_mute=self._mute_alerts,
                on_quit=callbacks.quit,
            ),
            alert_window_h=config.alert_window_h,
            clock=clock,
            parent=self.window,
        )
        # Each role alerts about its own classes: the desk's location, the instructor's
        # own, none on the wallboard (the tray icon and its status stay for every role).
        self.alerts.set_scope(self.window.alert_scope())
        self.window.alert_scope_changed.connect(self.alerts.set_scope)
        # The desktop's panel may come up after gymdesk at login: a tray that appears
        # then is used from then on (start() starts the watch, stop() ends it).
        self._quit = callbacks.quit
        if isinstance(self.alerts.adapter, ToastAdapter):
            self.alerts.watch_for_tray(TrayWatch(self._make_tray, parent=self.alerts))
        self._task: asyncio.Task[None] | None = None

    def _make_tray(self) -> TrayAdapter:
        """Return a tray adapter with the desk's menu (the tray watch calls it)."""
        return TrayAdapter(
            app_icon(), on_show=self.show_window, on_mute=self._mute_alerts, on_quit=self._quit
        )

    def _mute_alerts(self) -> None:
        """Mute alerts for an hour (from the tray menu)."""
        self.alerts.mute_for(3600)

    def show_window(self) -> None:
        """Bring the window to the front."""
        self.window.showNormal() if self.window.isMinimized() else self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    def start(self) -> None:
        """Show the window (the snapshot paints at once) and start reading."""
        log.info("start: window")
        self.window.restore_window()
        if self.fullscreen:
            self.window.set_fullscreen(True)
        else:
            self.window.show()
        log.info("start: reader")
        self._task = asyncio.ensure_future(self.reader.run())
        self.alerts.start()

    async def stop(self) -> None:
        """Stop reading (final snapshot save), save window state, hide the tray, close."""
        # First: a tray found while the reader winds down would put an icon up to go.
        self.alerts.stop_watching()
        log.info("stop: reader")
        self.reader.stop()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 15.0)
            except TimeoutError:
                log.warning("the reader did not stop in time; cancelling it")
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
            except Exception:
                log.exception("the reader ended with an error")
            self._task = None
        if self.snapshot is not None:
            self.snapshot.close()
        log.info("stop: window state")
        self.window.save_state()
        log.info("stop: alerts")
        self.alerts.close()
        self.window.allow_close()
        self.window.close()
        self.window.deleteLater()


async def try_connection(config: AppConfig, timeout: float = 8.0) -> str:  # noqa: ASYNC109
    """Try to reach the cluster; return a one-line result for the settings dialog."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaConnectionError

    from gymdesk.domain.contract import ALL_TOPICS

    started = time.monotonic()
    try:
        kwargs = config.connection().client_kwargs()
        kwargs["request_timeout_ms"] = int(timeout * 1000)
        admin = AIOKafkaAdminClient(**kwargs)
    except Exception as exc:
        return f"✗ {one_line(exc)}"
    try:
        await asyncio.wait_for(admin.start(), timeout)
        names = set(await asyncio.wait_for(admin.list_topics(), timeout))
    except KafkaConnectionError:
        # aiokafka's own text lists resolved socket tuples; people need the address.
        return f"✗ Cannot reach {config.bootstrap_servers}: no Kafka broker answered there"
    except TimeoutError:
        return f"✗ No answer from {config.bootstrap_servers} within {timeout:g} s"
    except Exception as exc:
        return f"✗ {one_line(exc)}"
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    found = sum(1 for t in ALL_TOPICS if f"{config.topic_prefix}{t}" in names)
    ms = (time.monotonic() - started) * 1000
    return f"✓ Connected in {ms:.0f} ms; {found} of {len(ALL_TOPICS)} topics found"
