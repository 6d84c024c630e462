"""Event-loop stalls while the window is open and a large changelog catches up.

Run: ``.venv/bin/python benchmarks/desk_catchup.py [--records 1000000]``. It starts a
loopback broker and fills it with a gym (400 classes, 24 instructors, 5,000 members) and
``--records`` booking changes (keys repeat: N/2 distinct; ~5% tombstones; a few poison
records). Then, in a fresh process, it opens the app's desk (receptionist board, real
widgets, snapshots on as in the app; Qt offscreen unless ``QT_QPA_PLATFORM`` says
otherwise) and lets it catch up to live while a task sleeps 1 ms at a time on the qasync
loop: how late each wake-up comes is a stall of the loop. It prints the longest stall, a
histogram of stalls, and what ran during the longest ones: the bridge's flushes (model
updates), window repaints, snapshot saves and garbage collections. Target:
longest stall < 20 ms.

Every asyncio callback is timed too and named by what it runs: the reader's task (its
slices: fetch, apply, report), aiokafka's tasks (the fetcher, the connections' readers),
socket reads, snapshot saves; each one over 8 ms is listed with the CPU time its thread
spent in it (a long callback on little CPU waited for a core or for the GIL).
``--passes`` also times every event Qt dispatches at the top
level (timers of the models' slices, posted events, repaints) and marks where each pass
of the Qt event loop ends, then lists the passes inside the longest stalls one by one
(it adds a Python call per Qt event, so its stall figures are a little worse).

``--catch-up-interval-ms N`` sets the bridge's flush interval during the catch-up (the
app's is 250 ms; 25 ms is how it was before, to compare).

``--paints`` also times each widget's paint inside the repaints (the board's viewport, the
roster's, the status bar...), to see what a long repaint is made of.

``--slow-callbacks`` also turns on asyncio's debug mode (qasync logs every callback that
runs for more than 20 ms, naming it).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from _common import (
    GcWatch,
    GymShape,
    LoopTicker,
    child,
    child_env,
    fill_broker,
    machine,
    make_desk,
)

from gymdesk.domain.contract import Topic

TARGET_MS = 20.0
SLOW_CALLBACK_MS = 8.0


class Timeline:
    """Intervals of known work on the loop's thread: flushes, repaints, snapshot saves."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, float, float]] = []  # (what, start, end), perf_counter

    def timed(self, what: str, call: Any, *args: Any) -> Any:
        """Run ``call`` and keep how long it took."""
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            self.spans.append((what, started, time.perf_counter()))

    def within(self, start: float, end: float) -> dict[str, float]:
        """Return milliseconds of each kind of work that overlapped ``start..end``."""
        found: dict[str, float] = {}
        for what, s, e in self.spans:
            overlap = min(e, end) - max(s, start)
            if overlap > 0:
                found[what] = found.get(what, 0.0) + overlap * 1000
        return found


def callback_label(handle: asyncio.Handle) -> str:
    """Name what an asyncio callback runs: a task by its coroutine, else the function."""
    callback = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        name = getattr(coro, "__qualname__", type(coro).__name__)
        frame = getattr(coro, "cr_frame", None)
        module = frame.f_globals.get("__name__", "") if frame is not None else ""
        if name.startswith("ChangelogReader.run"):
            return "reader task (slices: fetch, apply)"
        if name.startswith("ChangelogReader._save") or "Snapshot" in name:
            return "snapshot save (loop steps)"
        if module.startswith("aiokafka") or name.startswith(("Fetcher", "AIOKafka")):
            return f"aiokafka task {name}"
        if "_run" in name and "Ticker" in name:
            return "1 ms ticker"
        return f"task {name}"
    args = getattr(handle, "_args", None) or ()
    # qasync hands a ready socket to its callback through a wrapper: name the callback.
    inner = args[3] if len(args) >= 4 and callable(args[3]) else callback
    name = getattr(inner, "__qualname__", type(inner).__name__)
    if "_read_ready" in name or "_write_ready" in name:
        return "socket I/O (transport)"
    return f"callback {name}"


class CallbackTimer:
    """Times every asyncio callback (benchmark only: patches ``asyncio.Handle._run``)."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.current: str | None = None  # label of the callback now running, for QtPasses
        # Callbacks of over SLOW_CALLBACK_MS: (label, start, wall s, thread CPU s). A long
        # callback on little CPU was waiting: for a core, or for the GIL.
        self.slow: list[tuple[str, float, float, float]] = []
        self._original = asyncio.Handle._run

    def __enter__(self) -> CallbackTimer:
        original, spans, clock = self._original, self.timeline.spans, time.perf_counter
        cpu_clock, slow, limit = time.thread_time, self.slow, SLOW_CALLBACK_MS / 1000
        me = self

        def timed_run(handle: asyncio.Handle) -> None:
            label = callback_label(handle)
            me.current = label
            started, cpu_started = clock(), cpu_clock()
            try:
                original(handle)
            finally:
                ended = clock()
                spans.append((label, started, ended))
                if ended - started > limit:
                    slow.append((label, started, ended - started, cpu_clock() - cpu_started))

        asyncio.Handle._run = timed_run  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.Handle._run = self._original  # type: ignore[method-assign]


def instrument(desk: Any, timeline: Timeline, callbacks: CallbackTimer, paints: bool) -> Any:
    """Time the bridge's flushes, the window's repaints and the snapshot saves."""
    from PySide6.QtCore import QCoreApplication, QEvent, QObject

    throttle = desk.bridge._throttle  # benchmark only: the flush the throttle calls
    flush = throttle._callback

    def timed_flush() -> Any:
        callbacks.current = "bridge flush (models, board)"
        return timeline.timed("bridge flush (models, board)", flush)

    throttle._callback = timed_flush

    update_type = QEvent.Type.UpdateRequest

    class FrameWatcher(QObject):
        """Times each repaint of the whole window."""

        inside = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() != update_type or self.inside:
                return False
            self.inside = True
            callbacks.current = "window repaint"
            try:
                timeline.timed("window repaint", QCoreApplication.sendEvent, watched, event)
            finally:
                self.inside = False
            return True

    watcher = FrameWatcher()
    desk.window.installEventFilter(watcher)
    desk.window.repaints.go_first()  # time only the repaints it lets through
    paint_type = QEvent.Type.Paint

    class PaintWatcher(QObject):
        """Times each widget's paint inside the repaints, named by the widget (``--paints``)."""

        inside: set[int] = set()

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() != paint_type or id(watched) in self.inside:
                return False
            self.inside.add(id(watched))
            parent = watched.parent()
            name = watched.objectName() or type(watched).__name__
            if parent is not None and type(watched).__name__ == "QWidget":
                # an item view's viewport, by its view's name
                name = f"{parent.objectName() or type(parent).__name__} viewport"
            try:
                timeline.timed(f"paint: {name}", QCoreApplication.sendEvent, watched, event)
            finally:
                self.inside.discard(id(watched))
            return True

    if paints:
        paint_watcher = PaintWatcher()
        QCoreApplication.instance().installEventFilter(paint_watcher)  # type: ignore[union-attr]
        watcher.paint_watcher = paint_watcher  # type: ignore[attr-defined]  (kept alive)

    snapshot = desk.snapshot
    if snapshot is not None:
        save = snapshot.save

        async def timed_save(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            stats = await save(*args, **kwargs)
            timeline.spans.append(("snapshot save (incl. yields)", started, time.perf_counter()))
            return stats

        snapshot.save = timed_save
        write = snapshot._write

        def timed_write(*args: Any) -> Any:
            # On the worker thread: a list's append is atomic, the timeline takes it.
            started = time.perf_counter()
            try:
                return write(*args)
            finally:
                span = ("snapshot write (worker thread)", started, time.perf_counter())
                timeline.spans.append(span)

        snapshot._write = timed_write  # type: ignore[method-assign]
    return watcher


class QtPasses:
    """Top-level Qt events, each named by the work inside it, and where each pass ended."""

    def __init__(self, callbacks: CallbackTimer) -> None:
        self.callbacks = callbacks
        self.events: list[tuple[str, float, float]] = []  # (what, start, end), top level
        self.ends: list[float] = []  # perf_counter when the dispatcher was about to wait
        self.depth = 0

    def on_about_to_block(self) -> None:
        """Mark the end of a pass of the Qt event loop."""
        self.ends.append(time.perf_counter())

    def notify(self, base: Any, receiver: Any, event: Any) -> bool:
        """Dispatch an event; time it when it is a top-level one."""
        if self.depth:
            return bool(base(receiver, event))
        self.depth = 1
        self.callbacks.current = None
        try:  # named before dispatch: a DeferredDelete's receiver is gone after it
            parent = receiver.parent() if hasattr(receiver, "parent") else None
            owner = type(parent if parent is not None else receiver).__name__
            label = f"qt {event.type().name} -> {owner}"
        except RuntimeError:
            label = "qt event to a deleted object"
        started = time.perf_counter()
        try:
            return bool(base(receiver, event))
        finally:
            ended = time.perf_counter()
            self.depth = 0
            label = self.callbacks.current or label
            self.events.append((label, started, ended))

    def passes(self, start: float, end: float) -> list[dict[str, Any]]:
        """Return the passes that overlapped ``start..end``: length and named work (ms)."""
        import bisect

        first = max(0, bisect.bisect_left(self.ends, start) - 1)
        last = bisect.bisect_right(self.ends, end) + 1
        bounds = self.ends[first:last]
        found = []
        for a, b in itertools.pairwise(bounds):
            work: dict[str, float] = {}
            for what, s, e in self.events:
                if s >= a and e <= b:
                    work[what] = work.get(what, 0.0) + (e - s) * 1000
            found.append(
                {
                    "at_s": a,
                    "ms": round((b - a) * 1000, 1),
                    "work": {k: round(v, 1) for k, v in sorted(work.items(), key=lambda i: -i[1])},
                }
            )
        return found


class GapTicker(LoopTicker):
    """A loop ticker that also keeps where the longest gaps were."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[tuple[float, float]] = []  # (start, end) of gaps over 20 ms

    async def _run(self) -> None:
        """Tick until cancelled, keeping the long gaps' positions."""
        clock, period = time.perf_counter, self.period_s
        while True:
            before = clock()
            await asyncio.sleep(period)
            after = clock()
            gap = after - before - period
            self.gaps.append(gap)
            if gap > TARGET_MS / 1000:
                self.spans.append((before, after))


async def catch_up(
    bootstrap: str,
    state_dir: Path,
    slow_callbacks: bool,
    passes: QtPasses | None,
    catch_up_interval_ms: int | None,
    paints: bool = False,
) -> dict[str, Any]:
    """Open the desk, catch up with a 1 ms ticker running, and return the figures."""
    if slow_callbacks:
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = TARGET_MS / 1000
    desk = make_desk(bootstrap, state_dir)
    if catch_up_interval_ms is not None:
        desk.bridge._catch_up_interval_ms = catch_up_interval_ms  # benchmark only: compare
    timeline = Timeline()
    callbacks = passes.callbacks if passes is not None else CallbackTimer(Timeline())
    callbacks.timeline = timeline
    keep = instrument(desk, timeline, callbacks, paints)
    callbacks.__enter__()
    ticker = GapTicker()
    ticker.start()
    started = time.perf_counter()
    cpu_before = psutil.Process().cpu_times()
    gc_watch = GcWatch().__enter__()
    desk.start()
    try:
        await asyncio.wait_for(desk.reader.live_event.wait(), 1800)
        elapsed = time.perf_counter() - started
        await ticker.stop()
        callbacks.__exit__()
        gc_watch.__exit__()
        for generation, s, e in gc_watch.pauses:
            timeline.spans.append((f"garbage collection (gen {generation})", s, e))
        cpu = psutil.Process().cpu_times()
        offsets = desk.reader.offsets
        records = sum(offsets.values())  # a fresh desk reads from the start
        worst = sorted(ticker.spans, key=lambda span: span[0] - span[1])[:10]
        kinds: dict[str, float] = {}
        for what, s, e in timeline.spans:
            kinds[what] = kinds.get(what, 0.0) + (e - s)
        counts: dict[str, int] = {}
        for what, _, _ in timeline.spans:
            counts[what] = counts.get(what, 0) + 1
        return {
            "seconds": elapsed,
            "records": records,
            "booking_rows": len(desk.state.tables[Topic.BOOKINGS]),
            "loop": ticker.summary(),
            "cpu_s": cpu.user + cpu.system - cpu_before.user - cpu_before.system,
            "peak_rss_mb": psutil.Process().memory_info().rss / 2**20,
            "worst": [
                {
                    "at_s": s - started,
                    "ms": (e - s) * 1000 - 1,
                    "work": {k: round(v, 1) for k, v in timeline.within(s, e).items()},
                    "passes": [
                        dict(p, at_s=p["at_s"] - started)
                        for p in (passes.passes(s, e) if passes is not None else [])
                    ],
                }
                for s, e in worst
            ],
            "pass_count": len(passes.ends) if passes is not None else None,
            "slow_callbacks": [
                {"what": what, "at_s": s - started, "wall_ms": w * 1000, "cpu_ms": c * 1000}
                for what, s, w, c in callbacks.slow
            ],
            "gc": gc_watch.summary(),
            "work_totals_s": {k: round(v, 2) for k, v in kinds.items()},
            "work_counts": counts,
            "longest_work_ms": {
                what: round(max((e - s) * 1000 for w, s, e in timeline.spans if w == what), 1)
                for what in counts
            },
        }
    finally:
        callbacks.__exit__()
        await ticker.stop()
        await desk.stop()
        del keep


def run_desk(
    bootstrap: str,
    slow_callbacks: bool,
    by_pass: bool,
    catch_up_interval_ms: int | None,
    paints: bool = False,
) -> dict[str, Any]:
    """Run the catch-up on a qasync loop over a QApplication."""
    import PySide6.QtWidgets  # noqa: F401  (before pyqtgraph)
    import qasync
    from PySide6.QtCore import QAbstractEventDispatcher
    from PySide6.QtWidgets import QApplication

    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    passes = QtPasses(CallbackTimer(Timeline())) if by_pass else None

    class TimedApplication(QApplication):
        """Sends every event through ``QtPasses.notify`` (with ``--passes``)."""

        def notify(self, receiver: Any, event: Any) -> bool:
            assert passes is not None
            return passes.notify(super().notify, receiver, event)

    app = QApplication.instance() or (
        TimedApplication(["gymdesk-bench"]) if by_pass else QApplication(["gymdesk-bench"])
    )
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    if passes is not None:
        dispatcher = QAbstractEventDispatcher.instance()
        assert dispatcher is not None
        dispatcher.aboutToBlock.connect(passes.on_about_to_block)
    try:
        with tempfile.TemporaryDirectory(prefix="gymdesk-catchup-") as tmp:
            return loop.run_until_complete(
                catch_up(bootstrap, Path(tmp), slow_callbacks, passes, catch_up_interval_ms, paints)
            )
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.sleep(0.05))
        loop.close()
        asyncio.set_event_loop(None)


def report(fig: dict[str, Any]) -> None:
    """Print the figures."""
    loop = fig["loop"]
    print(f"machine: {machine()}")
    print(
        f"caught up {fig['records']:,} records in {fig['seconds']:.1f} s "
        f"({fig['records'] / fig['seconds']:,.0f} rec/s) with the window open; "
        f"{fig['booking_rows']:,} live booking rows; RSS {fig['peak_rss_mb']:.0f} MiB; "
        f"{fig['cpu_s']:.1f} s CPU"
    )
    verdict = "met" if loop["max_ms"] < TARGET_MS else "NOT met"
    print(
        f"longest event-loop stall: {loop['max_ms']:.1f} ms (target < {TARGET_MS:.0f} ms: "
        f"{verdict}); p99 {loop['p99_ms']:.1f} ms over {loop['ticks']:,} ticks"
    )
    print(
        f"stalls > 20 ms: {loop['over_20ms']}, > 50 ms: {loop['over_50ms']}, "
        f"> 100 ms: {loop['over_100ms']}"
    )
    if fig.get("pass_count"):
        print(
            f"Qt event-loop passes: {fig['pass_count']:,} "
            f"({fig['seconds'] * 1000 / fig['pass_count']:.1f} ms each on average)"
        )
    print("work on the loop's thread (total s / count / longest ms):")
    for what, total in sorted(fig["work_totals_s"].items()):
        print(
            f"  {what:32s} {total:7.2f} s  {fig['work_counts'][what]:6d}  "
            f"{fig['longest_work_ms'][what]:8.1f} ms"
        )
    gc = fig["gc"]
    print(
        f"garbage collections: {gc['collections']} ({gc['full']} full), "
        f"{gc['total_s']:.2f} s in all, longest {gc['longest_ms']:.1f} ms"
    )
    slow = fig.get("slow_callbacks", [])
    if slow:
        wall = sum(one["wall_ms"] for one in slow)
        cpu = sum(one["cpu_ms"] for one in slow)
        print(
            f"asyncio callbacks over {SLOW_CALLBACK_MS:.0f} ms: {len(slow)}, {wall:.0f} ms in "
            f"all, of which on the CPU {cpu:.0f} ms (the rest waited for a core or the GIL); "
            "the longest:"
        )
        for one in sorted(slow, key=lambda one: -one["wall_ms"])[:5]:
            print(
                f"  at {one['at_s']:7.2f} s: {one['what']}, {one['wall_ms']:.1f} ms, "
                f"on the CPU {one['cpu_ms']:.1f} ms"
            )
    print("longest stalls, with the work that overlapped them (ms):")
    for stall in fig["worst"]:
        work = ", ".join(f"{k} {v:.1f}" for k, v in stall["work"].items()) or "none of these"
        print(f"  at {stall['at_s']:7.2f} s: {stall['ms']:6.1f} ms  <- {work}")
        for one in stall.get("passes", []):
            inside = ", ".join(f"{k} {v:.1f}" for k, v in one["work"].items()) or "nothing"
            print(f"      Qt pass at {one['at_s']:7.3f} s, {one['ms']:5.1f} ms: {inside}")


def main() -> None:
    """Fill a broker, catch up with the window open in a fresh process, print the stalls."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slow-callbacks", action="store_true")
    parser.add_argument("--passes", action="store_true")
    parser.add_argument("--catch-up-interval-ms", type=int)
    parser.add_argument("--paints", action="store_true")
    parser.add_argument("--phase", choices=("desk",))
    parser.add_argument("--bootstrap")
    args = parser.parse_args()
    if args.phase == "desk":
        print(
            json.dumps(
                run_desk(
                    args.bootstrap,
                    args.slow_callbacks,
                    args.passes,
                    args.catch_up_interval_ms,
                    args.paints,
                )
            )
        )
        return
    from gymdesk.sim.broker import EmbeddedBroker

    with EmbeddedBroker() as broker:
        t0 = time.perf_counter()
        sent = asyncio.run(
            fill_broker(broker.bootstrap_servers, GymShape(), args.records, seed=args.seed)
        )
        print(f"filled {sent:,} records in {time.perf_counter() - t0:.1f} s", flush=True)
        argv = [sys.executable, __file__, "--phase", "desk", "--bootstrap"]
        argv.append(broker.bootstrap_servers)
        if args.slow_callbacks:
            argv.append("--slow-callbacks")
        if args.passes:
            argv.append("--passes")
        if args.paints:
            argv.append("--paints")
        if args.catch_up_interval_ms is not None:
            argv += ["--catch-up-interval-ms", str(args.catch_up_interval_ms)]
        with child(argv, env=child_env(), stdout=subprocess.PIPE) as proc:
            # A hung desk must not hang the benchmark: child() kills it on the way out.
            output, _ = proc.communicate(timeout=1800)
            if proc.returncode != 0:
                raise SystemExit(f"the desk process failed ({proc.returncode})")
    report(json.loads(output.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
