"""The app's wiring against the loopback broker: live rows, and a clean start and stop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from gymdesk.app.config import AppConfig
from gymdesk.app.desk import Desk, DeskCallbacks
from gymdesk.domain.contract import Topic
from gymdesk.qtmodels.models import ClassBoardModel
from gymdesk.sim.broker import FETCH_MAX_WAIT_MS, EmbeddedBroker
from gymdesk.stream.reader import WINDOW_FETCH
from gymdesk.stream.snapshot import snapshot_path
from gymdesk.ui.receptionist import ReceptionistBoard
from tests.conftest import create_topics, produce
from tests.unit.domain.records import booking_fields, class_fields

pytestmark = [
    pytest.mark.broker,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
    pytest.mark.timeout(120),
]


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop over the test's QApplication."""
    qapp.setQuitOnLastWindowClosed(False)  # as the app does: shutdown ends the loop
    event_loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    event_loop.close()
    asyncio.set_event_loop(None)


async def _until(predicate: object, timeout: float = 20.0) -> None:
    """Wait on the loop until ``predicate()`` is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


def _desk_config(
    broker: EmbeddedBroker, prefix: str, tmp_path: Path
) -> tuple[AppConfig, QSettings]:
    """Return a desk's config against the test broker, and its QSettings in tmp_path."""
    config = AppConfig(
        bootstrap_servers=broker.bootstrap_servers,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        topic_prefix=prefix,
        timezone="UTC",
        state_dir=str(tmp_path / "state"),
    )
    return config, QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)


def _quit_once_showing(
    monkeypatch: pytest.MonkeyPatch,
    shows: Callable[[Desk], bool],
    note: Callable[[Any, Desk], None],
) -> None:
    """Make each Session run until live and ``shows(desk)``, call ``note``, then quit."""
    from gymdesk.app import main

    original_run = main.Session.run

    async def run_briefly(self: main.Session) -> int:
        """Run the session until it is live and shows what is asked, then quit."""

        async def quit_when_showing() -> None:
            await _until(lambda: self.desk is not None and self.desk.bridge.status.live, 60)
            await _until(lambda: self.desk is not None and shows(self.desk), 60)
            assert self.desk is not None
            note(self, self.desk)
            self.request_quit()

        task = asyncio.ensure_future(quit_when_showing())
        try:
            return await original_run(self)
        finally:
            await task

    monkeypatch.setattr(main.Session, "run", run_briefly)


def test_a_live_booking_changes_exactly_its_row(
    broker: EmbeddedBroker,
    prefix: str,
    tmp_path: Path,
    loop: asyncio.AbstractEventLoop,
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    classes = [
        (
            Topic.CLASSES,
            f"c{n}",
            class_fields(capacity=10, starts_at=(start + timedelta(hours=n)).isoformat()),
            0,
        )
        for n in range(3)
    ]
    config, settings = _desk_config(broker, prefix, tmp_path)

    async def scenario() -> None:
        await create_topics(broker.bootstrap_servers, prefix)
        await produce(broker.bootstrap_servers, prefix, classes)
        desk = Desk(
            config, "receptionist", settings, DeskCallbacks(quit=print, open_settings=print)
        )
        desk.start()
        try:
            assert desk.reader.fetch == WINDOW_FETCH  # small steps beside a window
            await _until(lambda: desk.bridge.status.live)
            board = desk.window.view
            assert isinstance(board, ReceptionistBoard)
            board.proxy.set_day(None)  # every day: the classes may cross midnight
            await _until(lambda: board.proxy.rowCount() == 3)
            changed: list[tuple[int, int]] = []
            board.proxy.dataChanged.connect(lambda a, b, *_: changed.append((a.row(), b.row())))
            inserted: list[int] = []
            board.proxy.rowsInserted.connect(lambda *_: inserted.append(1))
            await produce(
                broker.bootstrap_servers,
                prefix,
                [(Topic.BOOKINGS, "b1", booking_fields("c1"), 0)],
            )
            await _until(lambda: bool(changed))
            await asyncio.sleep(0.2)
            assert set(changed) == {(1, 1)}
            assert not inserted
            assert board.proxy.index(1, ClassBoardModel.BOOKED).data() == "1 / 10"
        finally:
            await desk.stop()

    loop.run_until_complete(scenario())


def test_demo_wiring_starts_and_leaves_nothing_running(
    tmp_path: Path, loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gymdesk.app import main

    settings = QSettings(str(tmp_path / "demo.ini"), QSettings.Format.IniFormat)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    seen: dict[str, object] = {}

    def note(session: Any, desk: Desk) -> None:
        """Note the children and the clocks while the demo runs."""
        seen["children"] = {p.pid for p in psutil.Process().children(recursive=True)}
        # Every view runs on the simulated gym's clock, not the wall clock.
        seen["clock"] = session.clock
        seen["window_clock"] = desk.window.options.clock
        seen["gym_now"] = session.clock() if session.clock is not None else None
        seen["fetch_wait"] = desk.reader.connection.fetch_max_wait_ms

    _quit_once_showing(monkeypatch, lambda desk: any(desk.state.class_views()), note)
    args = argparse.Namespace(demo_role="receptionist", speed=60.0, seed=7, demo_fullscreen=False)
    result = loop.run_until_complete(main._demo_main(args, "receptionist", settings, tmp_path))
    assert result == 0
    assert seen["children"] - before  # the broker ran as a child
    assert seen["clock"] is not None
    assert seen["window_clock"] is seen["clock"]
    # The embedded broker holds a fetch that finds nothing for the whole wait: a short one.
    assert seen["fetch_wait"] == FETCH_MAX_WAIT_MS < AppConfig().fetch_max_wait_ms
    gym_now = seen["gym_now"]
    assert isinstance(gym_now, datetime)
    assert gym_now.utcoffset() is not None
    after = {p.pid for p in psutil.Process().children(recursive=True) if p.is_running()}
    assert after <= before


def test_the_desk_stops_in_order_when_qt_s_loop_quits_under_it(
    broker: EmbeddedBroker, prefix: str, tmp_path: Path, qapp: QApplication
) -> None:
    # Qt's event loop quits by itself when the display goes away (an X server that dies,
    # a remote session that drops). The app must still stop reading, save its snapshot
    # and its window state, and exit with 1, not with a traceback and nothing saved.
    from gymdesk.app import main

    starts = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0).isoformat()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(create_topics(broker.bootstrap_servers, prefix))
        loop.run_until_complete(
            produce(
                broker.bootstrap_servers,
                prefix,
                [(Topic.CLASSES, "c1", class_fields(capacity=10, starts_at=starts), 0)],
            )
        )
    finally:
        loop.close()
    config, settings = _desk_config(broker, prefix, tmp_path)
    session = main.Session(config, "receptionist", settings)
    qapp.setQuitOnLastWindowClosed(False)
    stopped: list[str] = []

    async def quit_qt_once_live() -> int:
        task = asyncio.ensure_future(session.run())
        await _until(lambda: session.desk is not None and session.desk.bridge.status.live, 60)
        assert session.desk is not None
        session.desk.window.destroyed.connect(lambda: stopped.append("window"))
        qapp.exit(1)  # what Qt's xcb plugin does when its X connection breaks
        return await task

    with pytest.raises(SystemExit) as exited:
        main._run_on_loop(qapp, quit_qt_once_live())
    assert exited.value.code == 1
    assert session.desk is None  # Desk.stop ran to its end
    assert stopped == ["window"]
    settings.sync()
    assert settings.value("window/geometry") is not None
    path = snapshot_path(config.state_path(), config.bootstrap_servers, prefix)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        saved = conn.execute("SELECT key FROM rows WHERE topic = 'classes'").fetchall()
    assert saved == [("c1",)]


def test_the_demo_on_a_fresh_machine_asks_the_role_first_then_goes_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: QApplication
) -> None:
    # The README's first command on a machine that has no role yet: a dialog asks. Its
    # own event loop must not run inside a coroutine's step (asyncio refuses to enter
    # another task there: the simulator's first step was lost and the app died).
    from PySide6.QtCore import QEventLoop, QTimer

    from gymdesk.app import main

    settings = QSettings(str(tmp_path / "demo.ini"), QSettings.Format.IniFormat)
    monkeypatch.setattr(main, "desk_settings", lambda demo=False: settings)
    asked: list[bool] = []

    def ask_role() -> str:
        """Answer as a person would, a moment later, from a dialog's own event loop."""
        asked.append(asyncio._get_running_loop() is not None)
        nested = QEventLoop()
        QTimer.singleShot(300, nested.quit)
        nested.exec()
        return "wallboard"

    monkeypatch.setattr(main, "ask_role", ask_role)
    seen: dict[str, object] = {}
    _quit_once_showing(
        monkeypatch,
        lambda desk: any(desk.state.rep_views()),  # the simulated gym's sales
        lambda session, _desk: seen.update(role=session.role),
    )
    qapp.setQuitOnLastWindowClosed(False)
    args = argparse.Namespace(demo_role=None, speed=60.0, seed=7, demo_fullscreen=False)
    assert main.run_demo(args) == 0
    assert asked == [False]  # asked once, before the loop ran
    assert seen["role"] == "wallboard"
    assert settings.value("role") == "wallboard"  # remembered for the next demo
