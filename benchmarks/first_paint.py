"""First paint from a snapshot: process start to the board painted with the restored data.

Run: ``.venv/bin/python benchmarks/first_paint.py [--bookings 1000000] [--runs 3]``. It
builds a snapshot once: a gym (400 classes, 24 instructors, 5,000 members) and
``--bookings`` distinct bookings, applied to a ``GymState`` and saved with
``SnapshotStore`` against a loopback broker whose topics exist (empty) and whose cluster
id is the snapshot's. Then it starts the app (``gymdesk`` command line, receptionist role,
real widgets; Qt offscreen unless ``QT_QPA_PLATFORM`` says otherwise) in a fresh process
``--runs`` times and reports, from just before the process is spawned (so interpreter
start-up and every import count):

- first paint: the board's viewport has finished a paint showing restored classes;
- complete: the board has finished a paint whose class counts add up to every booking.

The reader hands its report callback to ``SnapshotStore.restore`` (``on_progress``), so
the board paints the small tables before the bookings are in, and the counts fill in as
they load. Target: first paint < 1.5 s.
"""

from __future__ import annotations

import time

STARTED = time.time()  # before anything else: the child's own start, for the breakdown

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

TARGET_S = 1.5
CLUSTER_ID = "gymdesk-bench-first-paint"


# ---------------------------------------------------------------------- the app's process


def watch_app(expected: int) -> None:
    """Hook the board's viewport paints."""
    import signal

    from _common import GcWatch
    from PySide6.QtCore import QCoreApplication, QEvent, QObject

    from gymdesk.ui import receptionist

    gc_watch = GcWatch().__enter__()
    marks: dict[str, Any] = {"imported": time.time()}
    paint_type = QEvent.Type.Paint

    def emit(what: str, **extra: Any) -> None:
        print(json.dumps({"event": what, "t": time.time(), **extra}), flush=True)

    class PaintWatcher(QObject):
        """Notes the first finished paint with classes, and the first with every booking."""

        inside = False

        def __init__(self, board: Any) -> None:
            super().__init__(board)
            self.board = board

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() != paint_type or self.inside:
                return False
            self.inside = True
            try:
                QCoreApplication.sendEvent(watched, event)
            finally:
                self.inside = False
            proxy, model = self.board.proxy, self.board.board
            if proxy.rowCount() == 0:
                return True
            shown = sum(
                v.booked + v.waitlisted + v.cancelled + v.no_show
                for v in (model.class_view_at(r) for r in range(model.rowCount()))
            )
            if "first" not in marks:
                marks["first"] = time.time()
                emit("first_paint", bookings_shown=shown, classes=model.rowCount())
            if shown >= expected and "complete" not in marks:
                marks["complete"] = time.time()
                emit("complete_paint", bookings_shown=shown, gc=gc_watch.summary())
                # An orderly quit, as from the window manager: the app stops in order.
                os.kill(os.getpid(), signal.SIGTERM)
            return True

    original_init = receptionist.ReceptionistBoard.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._bench_watcher = PaintWatcher(self)
        self.table.viewport().installEventFilter(self._bench_watcher)

    receptionist.ReceptionistBoard.__init__ = init  # type: ignore[method-assign]

    emit("imported", started=STARTED)


def run_app(args: argparse.Namespace) -> int:
    """Start the app as its command line does, with the paint hooks in place."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from gymdesk.app import main as _app_main  # noqa: F401  (the app's own import order)
    from gymdesk.app.cli import main

    watch_app(args.expected)
    # The app's own configuration path: the environment (no config file in this HOME).
    os.environ.update(
        GYMDESK_BOOTSTRAP_SERVERS=args.bootstrap,
        GYMDESK_TOPIC_PREFIX=args.prefix,
        GYMDESK_STATE_DIR=args.state_dir,
        GYMDESK_TIMEZONE="UTC",
    )
    return main(["--role", "receptionist"])


# ---------------------------------------------------------------------- building the snapshot


async def build_snapshot(bootstrap: str, state_dir: Path, bookings: int) -> dict[str, Any]:
    """Create the (empty) topics and save a snapshot of a gym with ``bookings`` bookings."""
    from _common import PREFIX, GymShape, booking_changes, small_tables

    from gymdesk.domain.changes import Changes
    from gymdesk.domain.contract import Topic
    from gymdesk.domain.state import GymState, StateSettings
    from gymdesk.sim.broker import create_topics
    from gymdesk.stream.snapshot import SnapshotStore, snapshot_path

    await create_topics(bootstrap, PREFIX)
    shape = GymShape()
    state = GymState(StateSettings(prefix=PREFIX))
    changes = Changes()
    started = time.perf_counter()
    for topic, key, value in small_tables(shape):
        state.apply(topic, key.encode(), value, 0, 0, changes)
    for n, (key, value) in enumerate(booking_changes(shape, bookings, bookings, churn=False)):
        state.apply(Topic.BOOKINGS, key.encode(), value, 0, n, changes)
    built_s = time.perf_counter() - started
    store = SnapshotStore(snapshot_path(state_dir, bootstrap, PREFIX))
    try:
        started = time.perf_counter()
        await store.save(state, CLUSTER_ID, {})
        saved_s = time.perf_counter() - started
    finally:
        store.close()
    return {
        "rows": sum(len(t) for t in state.tables.values()),
        "bookings": len(state.tables[Topic.BOOKINGS]),
        "built_s": built_s,
        "saved_s": saved_s,
        "mib": store.path.stat().st_size / 2**20,
    }


def one_run(bootstrap: str, state_dir: Path, config_dir: Path, expected: int) -> dict[str, Any]:
    """Start the app once; return seconds from spawn to each mark."""
    from _common import PREFIX, child, child_env

    argv = [
        sys.executable,
        __file__,
        "--phase",
        "app",
        "--bootstrap",
        bootstrap,
        "--prefix",
        PREFIX,
        "--state-dir",
        str(state_dir),
        "--expected",
        str(expected),
    ]
    env = child_env(XDG_CONFIG_HOME=str(config_dir), XDG_STATE_HOME=str(config_dir))
    events: dict[str, dict[str, Any]] = {}
    spawned = time.time()
    with child(argv, env=env, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        # A hung app must not hang the benchmark: kill it after a generous while.
        watchdog = threading.Timer(300, proc.kill)
        watchdog.start()
        try:
            for line in proc.stdout:
                if line.startswith("{"):
                    event = json.loads(line)
                    events[event["event"]] = event
            proc.wait(120)
        finally:
            watchdog.cancel()
    if "complete_paint" not in events:
        raise RuntimeError(f"the app never painted every booking: {sorted(events)}")
    return {
        "interpreter_s": events["imported"]["started"] - spawned,
        "imports_s": events["imported"]["t"] - spawned,
        "first_s": events["first_paint"]["t"] - spawned,
        "first_bookings": events["first_paint"]["bookings_shown"],
        "complete_s": events["complete_paint"]["t"] - spawned,
        "gc": events["complete_paint"]["gc"],
        "exit_code": proc.returncode,
    }


def main() -> None:
    """Build the snapshot once, then time the app's first paint from it, several times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--phase", choices=("app",))
    parser.add_argument("--bootstrap")
    parser.add_argument("--prefix")
    parser.add_argument("--state-dir")
    parser.add_argument("--expected", type=int)
    args = parser.parse_args()
    if args.phase == "app":
        sys.exit(run_app(args))

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # what the children inherit
    from _common import machine

    from gymdesk.sim.broker import EmbeddedBroker

    with (
        EmbeddedBroker(cluster_id=CLUSTER_ID) as broker,
        tempfile.TemporaryDirectory(prefix="gymdesk-first-paint-") as tmp,
    ):
        state_dir, config_dir = Path(tmp) / "state", Path(tmp) / "config"
        built = asyncio.run(build_snapshot(broker.bootstrap_servers, state_dir, args.bookings))
        print(
            f"snapshot: {built['rows']:,} rows ({built['bookings']:,} bookings), "
            f"{built['mib']:.0f} MiB; built in {built['built_s']:.1f} s, saved in "
            f"{built['saved_s']:.1f} s",
            flush=True,
        )
        print(f"machine: {machine()}", flush=True)
        for n in range(1, args.runs + 1):
            fig = one_run(broker.bootstrap_servers, state_dir, config_dir, built["bookings"])
            verdict = "met" if fig["first_s"] < TARGET_S else "NOT met"
            print(
                f"run {n}: first paint {fig['first_s']:.2f} s (showing "
                f"{fig['first_bookings']:,} bookings; target < {TARGET_S} s: {verdict}), "
                f"every booking painted {fig['complete_s']:.2f} s; interpreter up "
                f"{fig['interpreter_s']:.2f} s, app imported {fig['imports_s']:.2f} s; "
                f"garbage collection {fig['gc']['total_s']:.2f} s (longest "
                f"{fig['gc']['longest_ms']:.0f} ms); exit {fig['exit_code']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
