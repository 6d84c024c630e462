"""The composition root: the Qt application, the qasync loop, the desk, the demo, shutdown."""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import argparse
import asyncio
import contextlib
import logging
import signal
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import PySide6.QtWidgets  # noqa: F401  (before pyqtgraph: it must pick PySide6)
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from gymdesk.app.config import AppConfig, ConfigError, default_config_path, save_config
from gymdesk.app.credentials import Stored, keyring_available, store_password
from gymdesk.app.desk import Desk, DeskCallbacks, try_connection
from gymdesk.app.signals import run_until_signalled
from gymdesk.ui.resources import app_icon
from gymdesk.ui.settings import (
    KEYRING_REFUSED_NOTE,
    ConnectionChoice,
    SettingsDialog,
    TestConnection,
    ask_first_run,
    ask_role,
)
from gymdesk.ui.theme import LIGHT, apply_theme
from gymdesk.ui.window import ROLES, Clock

if TYPE_CHECKING:
    from gymdesk.sim.simulator import Simulator

log = logging.getLogger(__name__)

ORGANISATION: Final = "gymdesk"
APPLICATION: Final = "gymdesk"


def _application() -> QApplication:
    """Return the QApplication, creating it once with the app's names and icon."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["gymdesk"])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("gymdesk")
    app.setWindowIcon(app_icon())
    # Dialogs before the window (first run, role question) wear the desk's theme too.
    apply_theme(app, LIGHT)
    # The loop ends when the shutdown sequence says so, not when a window closes.
    app.setQuitOnLastWindowClosed(False)
    return app


def desk_settings(demo: bool = False) -> QSettings:
    """Return this machine's per-user settings (the demo keeps its own)."""
    return QSettings(
        QSettings.Format.IniFormat,
        QSettings.Scope.UserScope,
        ORGANISATION,
        "gymdesk-demo" if demo else APPLICATION,
    )


def choose_role(explicit: str | None, config: AppConfig, settings: QSettings) -> str:
    """Return the role: the flag, the config, this machine's memory, else ask once."""
    for candidate in (explicit, config.role, settings.value("role")):
        if isinstance(candidate, str) and candidate in ROLES:
            return candidate
    role = ask_role() or "receptionist"
    settings.setValue("role", role)
    return role


def connection_test(config: AppConfig) -> TestConnection:
    """Return what the settings dialog's "Test connection" runs: the values as entered."""

    async def test(values: dict[str, Any]) -> str:
        """Try the settings as entered, on the running loop; return one line."""
        try:
            trial = replace(config, **values)
        except (TypeError, ValueError) as exc:
            return f"✗ {exc}"
        return await try_connection(trial)

    return test


def store_settings(
    config: AppConfig,
    values: Mapping[str, Any],
    password: str | None,
    path: Path | None,
    *,
    on_stored: Callable[[Stored], None] | None = None,
) -> AppConfig:
    """Apply the dialog's values; the password goes to the keyring, the rest to the file.

    Returns the config to run with (carrying the password for this session); raises
    ConfigError when the values cannot be used. Without a keyring, or with one locked or
    refusing, the password is kept for this session only, never written anywhere; the log
    says which, and ``on_stored`` hears where a new password went.
    """
    new_config = replace(config, **values)
    new_config.state_settings()  # raises ConfigError on a bad zone or threshold
    if password:
        if new_config.username:
            stored = store_password(new_config.username, new_config.bootstrap_servers, password)
            if stored is not Stored.KEYRING:
                log.warning("%s", stored.value)
            if on_stored is not None:
                on_stored(stored)
        new_config = replace(new_config, password=password)
    if path is not None and (error := save_config(new_config, path)) is not None:
        log.warning("cannot save settings to %s: %s", path, error)
    return new_config


class Session:
    """Runs one desk on the qasync loop until asked to quit; rebuilds it on new settings."""

    def __init__(
        self,
        config: AppConfig,
        role: str,
        settings: QSettings,
        *,
        fullscreen: bool = False,
        config_path: Path | None = None,
        label: str = "",
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.role = role
        self.settings = settings
        self.fullscreen = fullscreen
        self.config_path = config_path
        self.label = label
        self.clock = clock
        self.desk: Desk | None = None
        self._done: asyncio.Event | None = None
        self._restarting: asyncio.Future[None] | None = None

    def _callbacks(self) -> DeskCallbacks:
        """Return what the desk's menus call."""
        return DeskCallbacks(quit=self.request_quit, open_settings=self._on_window_settings)

    def request_quit(self) -> None:
        """Ask the run to end; the shutdown runs in order on the loop."""
        if self._done is not None:
            self._done.set()

    def _build(self) -> Desk:
        """Build and start a desk."""
        desk = Desk(
            self.config,
            self.role,
            self.settings,
            self._callbacks(),
            fullscreen=self.fullscreen,
            label=self.label,
            clock=self.clock,
        )
        desk.window.role_changed.connect(self._on_window_role_changed)
        desk.start()
        return desk

    def _on_window_role_changed(self, role: str) -> None:
        """Remember the new role."""
        self.role = role

    def _on_window_settings(self) -> None:
        """Open the settings dialog; saving writes the file and restarts the desk."""
        if self.desk is None:
            return
        config = self.config
        locations = sorted({view.location for view in self.desk.state.class_views()})
        values = {f.name: getattr(config, f.name) for f in fields(config) if f.name != "password"}
        dialog = SettingsDialog(
            values,
            self.role,
            test_connection=connection_test(config),
            keyring_available=keyring_available(),
            locations=locations,
            parent=self.desk.window,
        )
        dialog.accepted.connect(lambda: self._on_settings_accepted(dialog))
        dialog.open()

    def _on_settings_accepted(self, dialog: SettingsDialog) -> None:
        """Write the new settings (never the password) and restart the desk with them."""
        stored: list[Stored] = []
        try:
            new_config = store_settings(
                self.config,
                dialog.values(),
                dialog.entered_password(),
                self.config_path,
                on_stored=stored.append,
            )
        except ConfigError as exc:
            QMessageBox.warning(dialog.parentWidget(), "gymdesk", f"Not saved: {exc}")
            return
        if stored == [Stored.REFUSED]:
            # The dialog said the keyring would take it: say that it did not.
            QMessageBox.warning(dialog.parentWidget(), "gymdesk", KEYRING_REFUSED_NOTE)
        self.role = new_config.role or self.role
        self.settings.setValue("role", self.role)
        self.config = new_config
        self._restarting = asyncio.ensure_future(self._restart())

    async def _restart(self) -> None:
        """Stop the desk (reader first) and build it again with the new settings."""
        if self.desk is not None:
            await self.desk.stop()
        try:
            self.desk = self._build()
        except ConfigError as exc:
            log.error("settings cannot be used: %s", exc)
            self.request_quit()

    async def run(self) -> int:
        """Start the desk, wait for a quit, shut down in order; return the exit status."""
        self._done = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, self.request_quit)
            loop.add_signal_handler(signal.SIGTERM, self.request_quit)
        self.desk = self._build()
        try:
            await self._done.wait()
        finally:
            # Also when cancelled: Qt's loop quit under the run (run_until_signalled).
            log.info("shutdown")
            if self.desk is not None:
                await self.desk.stop()
                self.desk = None
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)
        return 0


def _run_on_loop(app: QApplication, main: asyncio.Future[int] | object) -> int:
    """Run a coroutine on a qasync loop over the app and return its result."""
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        result: int = run_until_signalled(loop, main)  # type: ignore[arg-type]
    finally:
        # Let aiokafka's closing callbacks run, then close the loop.
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.sleep(0.05))
        loop.close()
        asyncio.set_event_loop(None)
    return int(result)


def _first_run(args: argparse.Namespace, config_path: Path) -> bool:
    """Return whether this is the first run: no config file and no cluster given."""
    return (
        not config_path.exists()
        and not getattr(args, "bootstrap_servers", None)
        and "GYMDESK_BOOTSTRAP_SERVERS" not in os.environ
    )


def run_app(args: argparse.Namespace, config: AppConfig) -> int:
    """Open the app with the saved connection (asking on the first run); return the status."""
    app = _application()
    config_path = getattr(args, "config", None) or default_config_path()
    settings = desk_settings()
    if _first_run(args, config_path):
        choice = ask_first_run()
        if choice is None:
            return 0
        if choice.demo:
            demo_args = argparse.Namespace(
                demo_role=choice.role or args.role,
                speed=60.0,
                seed=None,
                demo_fullscreen=bool(args.fullscreen),
            )
            return run_demo(demo_args)
        config = _save_first_config(config, choice, config_path)
    role = choose_role(getattr(args, "role", None), config, settings)
    session = Session(
        config, role, settings, fullscreen=bool(args.fullscreen), config_path=config_path
    )
    return _run_on_loop(app, session.run())


def _save_first_config(config: AppConfig, choice: ConnectionChoice, path: Path) -> AppConfig:
    """Write the connection chosen on the first run to the config file."""
    config = replace(
        config,
        bootstrap_servers=choice.bootstrap_servers,
        topic_prefix=choice.topic_prefix or config.topic_prefix,
        role=choice.role or config.role,
    )
    if (error := save_config(config, path)) is not None:
        log.warning("cannot save settings to %s: %s", path, error)
    return config


def demo_clock(simulator: Simulator) -> Clock:
    """Return the simulated gym's clock: the demo's gym runs ``speed`` times ahead of ours.

    With the wall clock the views would mark a class members already check in to as
    next, and the wallboard would read 15:49 beside sales stamped 16:28.
    """

    def now() -> datetime:
        """Return the gym's time (UTC, aware)."""
        # While the history is being published the simulation clock still sits at its
        # first day; the gym's "now" is never earlier than the moment the demo began.
        return max(simulator.sim_time, simulator.model.now)

    return now


async def _demo_main(
    args: argparse.Namespace, role: str, settings: QSettings, state_dir: Path
) -> int:
    """Start the broker, the topics and the simulator, then the desk; stop all of it after."""
    from gymdesk.app.config import local_zone_name
    from gymdesk.sim.broker import FETCH_MAX_WAIT_MS, EmbeddedBroker, create_topics
    from gymdesk.sim.simulator import Simulator

    zone = local_zone_name()
    log.info("demo: broker")
    broker = EmbeddedBroker()
    # Started on the main thread: the child dies with the thread that started it.
    broker.start()
    simulator: Simulator | None = None
    sim_task: asyncio.Task[None] | None = None
    stop_sim = asyncio.Event()
    try:
        log.info("demo: topics on %s", broker.bootstrap_servers)
        await create_topics(broker.bootstrap_servers, "gym.")
        log.info("demo: simulator")
        # A handful of malformed records shows the rejected-records view without making
        # the demo gym look broken (the simulator's default rate is for stress).
        simulator = Simulator(
            broker.bootstrap_servers,
            prefix="gym.",
            seed=args.seed,
            speed=args.speed,
            zone=zone,
            malformed_rate=1 / 3000,
        )
        sim_task = asyncio.ensure_future(simulator.run(stop_sim))
        config = AppConfig(
            bootstrap_servers=broker.bootstrap_servers,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            topic_prefix="gym.",
            timezone=zone,
            state_dir=str(state_dir),
            role=args.demo_role,
        )
        session = Session(
            config,
            role,
            settings,
            fullscreen=bool(args.demo_fullscreen),
            label=f"Demo: simulated gym at {args.speed:g}x (seed {simulator.seed})",
            clock=demo_clock(simulator),
        )
        return await session.run()
    finally:
        log.info("demo: stopping the simulator")
        stop_sim.set()
        if simulator is not None:
            simulator.request_stop()
        if sim_task is not None:
            try:
                await asyncio.wait_for(sim_task, 10.0)
            except (TimeoutError, asyncio.CancelledError):
                sim_task.cancel()
            except Exception as exc:
                log.warning("the simulator ended with: %s", exc)
        log.info("demo: stopping the broker")
        broker.stop()


def run_demo(args: argparse.Namespace) -> int:
    """Run ``gymdesk demo``: an embedded broker, a simulated gym, and the app on it."""
    app = _application()
    settings = desk_settings(demo=True)
    # Asked before the loop runs, as run_app does: a dialog's exec() inside a coroutine
    # runs the loop's other callbacks inside that coroutine's step, which asyncio refuses
    # ("Cannot enter into task"): the simulator's first step was lost, then the app.
    role = choose_role(args.demo_role, AppConfig(role=args.demo_role), settings)
    with tempfile.TemporaryDirectory(prefix="gymdesk-demo-") as state_dir:
        return _run_on_loop(app, _demo_main(args, role, settings, Path(state_dir)))
