"""``gymdesk self-test``: prove on this machine that the installed app works, end to end.

It starts the embedded broker on a free loopback port, runs the simulated gym for a few
seconds, reads it back the way the app does (ChangelogReader into a GymState, through the
Qt bridge) until live, checks the state exactly against what the simulator delivered,
renders the main window of every role once, and stops everything it started. One line
per step goes to stdout; the exit status is 0 (ok), 1 (a step failed) or 128 + the signal
number when interrupted. It never touches the user's snapshots, settings or keyring.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import asyncio
import contextlib
import logging
import random
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO
from zoneinfo import ZoneInfo

import PySide6.QtWidgets  # noqa: F401  (before pyqtgraph: it must pick PySide6)
import qasync
from PySide6.QtCore import QSettings, qVersion
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from gymdesk import __version__
from gymdesk.app.config import AppConfig, local_zone_name
from gymdesk.app.signals import shutdown_on_signals
from gymdesk.domain.contract import ALL_TOPICS, Topic
from gymdesk.domain.state import GymState
from gymdesk.domain.views import ClassView
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.sim.broker import FETCH_MAX_WAIT_MS, EmbeddedBroker, create_topics
from gymdesk.sim.simulator import Simulator
from gymdesk.stream.reader import ChangelogReader, one_line
from gymdesk.stream.snapshot import SnapshotStore, snapshot_path
from gymdesk.ui.resources import ICON_SIZES, app_icon, resource_path
from gymdesk.ui.window import ROLES, DeskOptions, MainWindow

__all__ = ["SelfTestOptions", "StepFailed", "run_selftest"]

log = logging.getLogger(__name__)

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
PREFIX: Final = "selftest."
# A speed at which a few seconds of live run still bring bookings and sales.
SPEED: Final = 600.0
WINDOW_SIZE: Final = (1280, 800)
# A rendered window with text, a table and a chart has hundreds of colours; a blank or
# single-colour surface has one or two.
MIN_COLOURS: Final = 8
_SAMPLES: Final = 96
# After a signal, how long the orderly shutdown may take before the run is ended hard.
FORCE_EXIT_AFTER_S: Final = 20.0


class StepFailed(Exception):
    """A step of the self-test failed; the message is one line for people."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SelfTestOptions:
    """What ``gymdesk self-test`` was asked to do."""

    timeout_s: float = 60.0
    seconds: float = 3.0
    seed: int | None = None
    verbose: int = 0


class _Run:
    """One run of the self-test: prints a line per step and remembers the current step."""

    def __init__(self, options: SelfTestOptions, out: TextIO, scratch: Path) -> None:
        self.options = options
        self.out = out
        self.scratch = scratch
        self.current = "start"
        self.interrupted: signal.Signals | None = None
        self.main_task: asyncio.Task[None] | None = None
        self.broker: EmbeddedBroker | None = None
        self.watchdog: threading.Timer | None = None

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run one step: any error in it fails the step with a one-line reason."""
        self.current = name
        try:
            yield
        except (StepFailed, asyncio.CancelledError):
            raise
        except Exception as exc:
            # The whole story for whoever asks for it (-v); the line says what failed.
            log.info("step %s failed", name, exc_info=True)
            # The root cause reads best: numpy's ImportError, say, wraps the missing library.
            cause: BaseException = exc
            while cause.__cause__ is not None:
                cause = cause.__cause__
            raise StepFailed(name, f"{type(cause).__name__}: {one_line(cause)}") from exc

    def passed(self, name: str, detail: str) -> None:
        """Print the line of a step that passed."""
        print(f"  ok  {name:<22} {detail}", file=self.out, flush=True)

    def on_signal(self, signum: signal.Signals) -> None:
        """Stop at once: cancel the steps; their cleanups run on the way out."""
        if self.interrupted is not None:
            # A second signal: the person means it.
            self.force_exit()
        self.interrupted = signum
        if self.main_task is not None:
            self.main_task.cancel()
        # Should a cleanup hang, a watchdog still ends the run and the broker with it.
        self.watchdog = threading.Timer(FORCE_EXIT_AFTER_S, self.force_exit)
        self.watchdog.daemon = True
        self.watchdog.start()

    def force_exit(self) -> None:
        """Kill the broker and leave now, without the orderly shutdown."""
        pid = self.broker.pid if self.broker is not None else None
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        signum = self.interrupted or signal.SIGTERM
        print(f"self-test: interrupted by {signum.name}, forced exit", file=self.out, flush=True)
        os._exit(128 + int(signum))

    # ------------------------------------------------------------------ steps

    def preflight(self) -> str:
        """Run the steps that need neither Qt nor the loop; return the time zone to use."""
        self._check_version()
        self._check_resources()
        return self._check_timezone()

    async def run(self, zone: str) -> None:
        """Run the steps on the loop in order; everything started is stopped on the way out."""
        async with contextlib.AsyncExitStack() as stack:
            broker = self.broker = EmbeddedBroker()
            stack.callback(broker.stop)
            with self.step("broker"):
                # On the main thread: on Linux the broker dies with the thread that made it.
                broker.start()
                self.passed("broker", f"{broker.bootstrap_servers} (pid {broker.pid})")
            servers = broker.bootstrap_servers

            with self.step("topics"):
                await create_topics(servers, PREFIX)
                self.passed("topics", f"{len(ALL_TOPICS)} compacted topics {PREFIX}*")

            simulator = await self._simulate(stack, servers, zone)
            state, bridge, reader = await self._read(stack, servers, zone)
            self._check_state(state, reader, simulator)
            for role in ROLES:
                await self._render(bridge, role)

            with self.step("stop"):
                pid = broker.pid
                await stack.aclose()
                if broker.running or (pid is not None and _alive(pid)):
                    raise StepFailed("stop", f"the broker (pid {pid}) is still running")
                self.passed("stop", f"reader, simulator and broker (pid {pid}) stopped")

    def _check_version(self) -> None:
        """The version comes from the package metadata (a frozen build must carry it)."""
        with self.step("version"):
            if __version__.startswith("0.0.0+unknown"):
                raise StepFailed("version", "no package metadata for gymdesk")
            frozen = " (frozen)" if getattr(sys, "frozen", False) else ""
            self.passed("version", f"gymdesk {__version__}{frozen}, Python {_python()}")

    def _check_resources(self) -> None:
        """The icons the window, the tray and the desktop entry use are all there."""
        with self.step("resources"):
            missing = [
                f"gymdesk-{size}.png"
                for size in ICON_SIZES
                if not resource_path("icons", f"gymdesk-{size}.png").is_file()
            ]
            for name in ("icons/gymdesk.svg", "gymdesk.desktop"):
                if not resource_path(*name.split("/")).is_file():
                    missing.append(name)
            if missing:
                raise StepFailed("resources", f"missing {', '.join(missing)}")
            self.passed("resources", f"icons {ICON_SIZES[0]}-{ICON_SIZES[-1]} px, svg, desktop")

    def _check_timezone(self) -> str:
        """The machine's zone and a named zone load (the platform's or the bundled data)."""
        with self.step("timezone"):
            zone = local_zone_name()
            ZoneInfo(zone)
            ZoneInfo("Europe/Berlin")
            self.passed("timezone", zone)
            return zone

    def start_qt(self) -> QApplication:
        """Qt starts on this machine's platform plugin, with the app's icon."""
        # A platform plugin that cannot start aborts the process inside Qt, with Qt's
        # message on stderr: that is why this comes before anything is started.
        with self.step("qt"):
            existing = QApplication.instance()
            app = existing if isinstance(existing, QApplication) else QApplication(["gymdesk"])
            # A scope of its own, and every settings file under the scratch directory.
            app.setOrganizationName("gymdesk-selftest")
            app.setApplicationName("gymdesk-selftest")
            app.setQuitOnLastWindowClosed(False)
            icon = app_icon()
            if icon.isNull() or not icon.availableSizes():
                raise StepFailed("qt", "the app icon did not load")
            app.setWindowIcon(icon)
            self.passed("qt", f"Qt {qVersion()} on {app.platformName()}")
            return app

    async def _simulate(
        self, stack: contextlib.AsyncExitStack, servers: str, zone: str
    ) -> Simulator:
        """Publish the simulated gym's history, then run it live for a few seconds."""
        with self.step("simulate"):
            seed = self.options.seed
            simulator = Simulator(
                servers,
                prefix=PREFIX,
                seed=seed if seed is not None else random.SystemRandom().randrange(1 << 31),
                speed=SPEED,
                zone=zone,
            )
            stack.push_async_callback(simulator.stop)
            started = time.monotonic()
            await simulator.start()
            await simulator.publish_history()
            stop = asyncio.Event()
            timer = asyncio.get_running_loop().call_later(self.options.seconds, stop.set)
            try:
                await simulator.run_live(stop)
            finally:
                timer.cancel()
            # Stopping delivers what is queued: after it the counters say what the topics hold.
            await simulator.stop()
            sent = sum(simulator.sent.values())
            malformed = sum(simulator.malformed_sent.values())
            self.passed(
                "simulate",
                f"{sent} records ({malformed} malformed on purpose) in "
                f"{time.monotonic() - started:.1f} s, seed {simulator.seed}",
            )
            return simulator

    async def _read(
        self, stack: contextlib.AsyncExitStack, servers: str, zone: str
    ) -> tuple[GymState, StateBridge, ChangelogReader]:
        """Read every topic as the app does, until live or the timeout."""
        with self.step("read"):
            config = AppConfig(
                bootstrap_servers=servers,
                fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
                topic_prefix=PREFIX,
                timezone=zone,
                state_dir=str(self.scratch / "state"),
            )
            state = GymState(config.state_settings())
            snapshot = SnapshotStore(
                snapshot_path(config.state_path(), config.bootstrap_servers, PREFIX)
            )
            stack.callback(snapshot.close)
            bridge = StateBridge(state)
            reader = ChangelogReader(
                config.connection(),
                state,
                snapshot=snapshot,
                on_changes=bridge.on_changes,
                on_status=bridge.on_status,
                pacer=bridge.pacer,
            )
            snapshot.pacer = bridge.pacer
            task = asyncio.ensure_future(reader.run())

            async def stop_reader() -> None:
                """Stop reading (the final snapshot save included) and wait for it."""
                reader.stop()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.gather(task, return_exceptions=True)

            stack.push_async_callback(stop_reader)
            started = time.monotonic()
            live = asyncio.ensure_future(reader.live_event.wait())
            try:
                await asyncio.wait(
                    {live, task},
                    timeout=self.options.timeout_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                live.cancel()
            if not reader.live_event.is_set():
                status = reader.status
                why = reader.failed_reason or status.reason or status.phase.value
                raise StepFailed("read", f"not live within {self.options.timeout_s:g} s ({why})")
            records = sum(reader.offsets.values())
            self.passed("read", f"live after {time.monotonic() - started:.2f} s, {records} records")
            return state, bridge, reader

    def _check_state(self, state: GymState, reader: ChangelogReader, simulator: Simulator) -> None:
        """Every record delivered was read; the counts add up; only meant rejections."""
        with self.step("state"):
            read: dict[str, int] = {}
            for tp, offset in reader.offsets.items():
                read[tp.topic] = read.get(tp.topic, 0) + offset
            sent = {PREFIX + topic: n for topic, n in simulator.sent.items()}
            if read != sent:
                raise StepFailed("state", f"read {read}, but the simulator delivered {sent}")
            classes: list[ClassView] = list(state.class_views())
            if not classes:
                raise StepFailed("state", "no classes")
            class_ids = {view.id for view in classes}
            bookings = state.tables[Topic.BOOKINGS].values()
            expected = sum(1 for row in bookings if getattr(row, "class_id", None) in class_ids)
            counted = sum(v.booked + v.waitlisted + v.cancelled + v.no_show for v in classes)
            if expected == 0 or counted != expected:
                raise StepFailed(
                    "state", f"classes count {counted} bookings, the bookings table {expected}"
                )
            meant = {PREFIX + t: n for t, n in simulator.malformed_sent.items() if n}
            rejected = {t: n for t, n in state.rejections.by_topic.items() if n}
            if rejected != meant:
                reasons = "; ".join(r.reason for r in list(state.rejections.latest)[-3:])
                raise StepFailed(
                    "state",
                    f"rejected {rejected}, the simulator meant {meant} (latest: {reasons})",
                )
            self.passed(
                "state",
                f"{len(classes)} classes, {counted} bookings counted, "
                f"{sum(meant.values())} rejected as meant",
            )

    async def _render(self, bridge: StateBridge, role: str) -> None:
        """Open the main window of a role, render it once, check it is not blank, close it."""
        name = f"window {role}"
        with self.step(name):
            settings = QSettings(str(self.scratch / "desk.ini"), QSettings.Format.IniFormat)
            window = MainWindow(
                bridge, role, settings, DeskOptions(connection_label="gymdesk self-test")
            )
            try:
                window.resize(*WINDOW_SIZE)
                window.show()
                # Let layouts, the throttled models and the charts settle: sleeping on the
                # qasync loop runs Qt's events (processEvents() here would re-enter the loop).
                await asyncio.sleep(0.3)
                if window.windowIcon().isNull():
                    raise StepFailed(name, "the window has no icon")
                image = window.grab().toImage()
                if image.isNull() or image.width() == 0 or image.height() == 0:
                    raise StepFailed(name, "the window rendered nothing")
                colours = _colours(image)
                if colours < MIN_COLOURS:
                    raise StepFailed(name, f"the window rendered blank ({colours} colours)")
                self.passed(name, f"{image.width()}x{image.height()}, {colours} colours")
            finally:
                window.allow_close()
                window.close()
                window.deleteLater()
                settings.sync()


def _colours(image: QImage) -> int:
    """Return how many distinct colours a grid of samples over the image has."""
    width, height = image.width(), image.height()
    seen: set[int] = set()
    for i in range(_SAMPLES):
        for j in range(_SAMPLES):
            seen.add(image.pixel(i * width // _SAMPLES, j * height // _SAMPLES))
    return len(seen)


def _alive(pid: int) -> bool:
    """Return whether a process exists (and is not a zombie we failed to reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        return status.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _python() -> str:
    """Return the running Python's version."""
    return ".".join(str(n) for n in sys.version_info[:3])


def _prepare_environment(scratch: Path) -> None:
    """Offscreen without a display; every QSettings file under the scratch directory."""
    has_display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and not has_display:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(scratch / "settings"))


def run_selftest(options: SelfTestOptions, out: TextIO | None = None) -> int:
    """Run ``gymdesk self-test``; return 0 when every step passed."""
    out = out or sys.stdout
    if not options.verbose:
        # The simulator's malformed records are meant: their warnings are noise here.
        logging.getLogger("gymdesk.domain.rejections").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="gymdesk-selftest-") as scratch_dir:
        scratch = Path(scratch_dir)
        _prepare_environment(scratch)
        run = _Run(options, out, scratch)
        try:
            zone = run.preflight()
            app = run.start_qt()
            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            try:
                # The task first: a signal that arrives at once must have something to cancel.
                run.main_task = loop.create_task(run.run(zone))
                with (
                    shutdown_on_signals(loop, run.on_signal),
                    contextlib.suppress(asyncio.CancelledError),
                ):
                    loop.run_until_complete(run.main_task)
            finally:
                if run.watchdog is not None:
                    run.watchdog.cancel()
                # Let the Kafka clients' closing callbacks run, then close the loop.
                with contextlib.suppress(Exception):
                    loop.run_until_complete(asyncio.sleep(0.05))
                loop.close()
                asyncio.set_event_loop(None)
        except StepFailed as exc:
            print(f"FAIL  {exc.step:<22} {exc.reason}", file=out, flush=True)
            print(f"self-test: failed at {exc.step}: {exc.reason}", file=out, flush=True)
            return EXIT_FAILED
        if run.interrupted is not None:
            name = run.interrupted.name
            print(f"self-test: interrupted by {name} at {run.current}", file=out, flush=True)
            return 128 + int(run.interrupted)
        print("self-test: ok", file=out, flush=True)
        return EXIT_OK
