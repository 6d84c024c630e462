"""Live latency with the window open: produce -> board model signal -> repainted board.

Run: ``.venv/bin/python benchmarks/live_latency.py [--preload 100000] [--rate 500]
[--seconds 30] [--bootstrap-servers HOST:PORT]``. It starts a loopback broker (or, with
``--bootstrap-servers``, uses a running cluster, under topics of a fresh prefix that it
leaves behind), fills it with a gym (``--preload`` booking changes), opens the app's desk
(receptionist board, real widgets; Qt offscreen unless ``QT_QPA_PLATFORM`` says
otherwise) and waits until it is live. A separate producer process then sends ``--rate``
new bookings a second for ``--seconds`` into the classes visible on the board, each
carrying ``time.time()`` at send in an extra JSON field (the contract ignores extra
fields). Production starts once the desk's first snapshot save (a full one, a few seconds
after it starts) is done, so the figures are the steady state; ``--during-first-save``
starts 1 s after going live instead. The desk's process notes, per booking:

- model: when the board model (``ClassBoardModel``) emits ``dataChanged`` or
  ``rowsInserted`` over that class's row, after the record was applied;
- repaint: when the board's viewport has finished the first paint whose region holds that
  row, after the model signal (an event filter on the viewport).

Both clocks are ``time.time()`` on one machine. Targets: p99 < 50 ms (model), < 100 ms
(repaint).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import argparse
import asyncio
import contextlib
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec
import psutil
from _common import (
    FetchAnswers,
    GymShape,
    LoopTicker,
    add_cluster_arguments,
    bench_cluster,
    booking_value,
    child,
    child_env,
    fill_broker,
    machine,
    make_desk,
    percentile,
    pin,
    watch_delivery,
)

from gymdesk.domain.contract import Topic

MODEL_TARGET_MS = 50.0
PAINT_TARGET_MS = 100.0


class _Probe(msgspec.Struct):
    """The two fields of a produced booking the benchmark reads."""

    class_id: str = ""
    produced_at: float = 0.0


# ---------------------------------------------------------------------- the producer


async def produce(
    bootstrap: str, prefix: str, classes: list[str], rate: float, seconds: float
) -> int:
    """Send ``rate`` new bookings a second, evenly spaced, each stamped at send."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks=1)
    await producer.start()
    shape = GymShape()
    rng = random.Random(7)
    run = f"{os.getpid()}-{int(time.time())}"
    total = int(rate * seconds)
    try:
        print("producing", flush=True)
        started = time.monotonic()
        for i in range(total):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            row = json.loads(booking_value(shape, rng))
            row.update(class_id=classes[i % len(classes)], status="booked")
            row["produced_at"] = now = time.time()
            await producer.send(
                prefix + Topic.BOOKINGS,
                json.dumps(row).encode(),
                key=f"live-{run}-{i:06d}".encode(),
                timestamp_ms=int(now * 1000),
            )
        await producer.flush()
        print(f"sent {total} in {time.monotonic() - started:.2f} s", flush=True)
    finally:
        await producer.stop()
    return total


# ---------------------------------------------------------------------- the desk side


class Probe:
    """Hooks on the desk: applied records, board model signals, board viewport paints."""

    def __init__(self, desk: Any) -> None:
        from PySide6.QtCore import QEvent, QObject, QRect

        self.desk = desk
        board = desk.window.view
        self.board = board
        self.model = board.board
        self.proxy = board.proxy
        self.table = board.table
        self.viewport = board.table.viewport()
        self.applied_at: dict[str, list[float]] = defaultdict(list)  # class -> produced_at
        self.to_paint: list[tuple[float, str]] = []
        self.fetch_ms: list[float] = []  # produce -> applied to the state
        self.fetch_produced: list[float] = []  # when each of those was produced (Unix s)
        self.paint_cost_ms: list[float] = []  # how long each viewport paint took
        self.frame_cost_ms: list[float] = []  # how long each repaint of the window took
        self.model_ms: list[float] = []
        self.paint_ms: list[float] = []
        self.unseen = 0
        self.paints = 0
        self.signals = 0
        state = desk.state
        decode = msgspec.json.Decoder(_Probe).decode

        def note(value: bytes | None) -> None:
            """Keep the produce time of a benchmark booking that was just applied."""
            if value is not None and b"produced_at" in value:
                probe = decode(value)
                now = time.time()
                self.fetch_ms.append((now - probe.produced_at) * 1000)
                self.fetch_produced.append(probe.produced_at)
                self.applied_at[probe.class_id].append(probe.produced_at)

        # The reader looks these methods up per batch, so instance attributes take effect;
        # it applies through ``apply_records`` where the state has it, else ``apply``.
        original_apply = state.apply

        def apply(
            topic: Topic,
            key: bytes | None,
            value: bytes | None,
            partition: int = 0,
            offset: int = -1,
            changes: Any = None,
        ) -> Any:
            result = original_apply(topic, key, value, partition, offset, changes)
            if topic is Topic.BOOKINGS:
                note(value)
            return result

        state.apply = apply
        original_records = getattr(state, "apply_records", None)
        if original_records is not None:

            def apply_records(topic: Topic, records: Any, changes: Any) -> None:
                records = list(records)
                original_records(topic, records, changes)
                if topic is Topic.BOOKINGS:
                    for record in records:
                        note(record.value)

            state.apply_records = apply_records

        self.model.dataChanged.connect(self._on_model_data_changed)
        self.model.rowsInserted.connect(self._on_model_rows_inserted)

        def painted(_watched: QObject, event: QEvent, ms: float) -> None:
            self.paint_cost_ms.append(ms)
            self._on_painted(event.region(), QRect)  # type: ignore[attr-defined]

        def framed(_watched: QObject, _event: QEvent, ms: float) -> None:
            self.frame_cost_ms.append(ms)

        # Which pending rows a viewport paint covered; and each repaint of the whole window
        # (Qt paints and flushes per update request).
        self._watcher = watch_delivery(self.viewport, QEvent.Type.Paint, painted)
        self._frames = watch_delivery(desk.window, QEvent.Type.UpdateRequest, framed)
        desk.window.repaints.go_first()  # time only the repaints it lets through

    def _resolve(self, first: int, last: int) -> None:
        """Note the model latency of every applied booking of rows first..last."""
        now = time.time()
        self.signals += 1
        for row in range(first, last + 1):
            key = self.model.key_at(row)
            pending = self.applied_at.pop(key, None)
            if not pending:
                continue
            for produced in pending:
                self.model_ms.append((now - produced) * 1000)
                self.to_paint.append((produced, key))

    def _on_model_data_changed(self, top_left: Any, bottom_right: Any, roles: Any = None) -> None:
        """The board model announced changed rows."""
        self._resolve(top_left.row(), bottom_right.row())

    def _on_model_rows_inserted(self, parent: Any, first: int, last: int) -> None:
        """The board model announced new rows."""
        self._resolve(first, last)

    def _on_painted(self, region: Any, rect_type: Any) -> None:
        """Note the repaint latency of every pending row the finished paint covered."""
        now = time.time()
        self.paints += 1
        if not self.to_paint:
            return
        width = self.viewport.width()
        keep: list[tuple[float, str]] = []
        for produced, key in self.to_paint:
            source_row = self.model.row_of(key)
            row = (
                -1
                if source_row is None
                # The proxy's source is the board's painted copy: the same rows.
                else self.proxy.mapFromSource(self.proxy.sourceModel().index(source_row, 0)).row()
            )
            if row < 0:
                self.unseen += 1  # filtered out: it is never painted
                continue
            top = self.table.rowViewportPosition(row)
            rect = rect_type(0, top, width, self.table.rowHeight(row))
            if not rect.intersects(self.viewport.rect()):
                self.unseen += 1  # scrolled out of view
            elif region.intersects(rect):
                self.paint_ms.append((now - produced) * 1000)
            else:
                keep.append((produced, key))
        self.to_paint = keep

    def visible_classes(self) -> list[str]:
        """Return the classes whose rows are on screen now."""
        height = self.viewport.height()
        found: list[str] = []
        for row in range(self.proxy.rowCount()):
            top = self.table.rowViewportPosition(row)
            if top >= 0 and top + self.table.rowHeight(row) <= height:
                source = self.proxy.mapToSource(self.proxy.index(row, 0))
                found.append(self.model.key_at(source.row()))
        return found


def near_save(
    latencies: list[float], produced: list[float], saves: list[tuple[float, float]]
) -> list[float]:
    """Return the latencies of records produced while a snapshot save ran (or 50 ms before)."""
    return [
        ms
        for ms, at in zip(latencies, produced, strict=True)
        if any(begun - 0.05 <= at <= done for begun, done in saves)
    ]


async def measure(bootstrap: str, state_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Open the desk, wait until live, run the producer, collect the latencies."""
    desk = make_desk(bootstrap, state_dir, prefix=args.prefix, fetch_max_wait_ms=args.fetch_wait)
    probe = Probe(desk)
    answers = FetchAnswers()
    ticker = LoopTicker()
    saved = asyncio.Event()
    saves: list[tuple[float, float]] = []  # (begun, done) of each snapshot save, Unix s
    store = desk.snapshot
    if store is not None:
        save = store.save

        async def noting_save(*args: Any, **kwargs: Any) -> Any:
            begun = time.time()
            stats = await save(*args, **kwargs)
            saves.append((begun, time.time()))
            saved.set()
            return stats

        store.save = noting_save
    started = time.perf_counter()
    desk.start()
    try:
        await asyncio.wait_for(desk.reader.live_event.wait(), 600)
        live_s = time.perf_counter() - started
        saved_s = None
        if store is not None and args.after_first_save:
            # A fresh desk saves every row once, a few seconds after it starts; measure
            # the steady state after it (--during-first-save measures across it).
            await asyncio.wait_for(saved.wait(), 600)
            saved_s = time.perf_counter() - started
        await asyncio.sleep(1.0)  # let the caught-up board settle and paint
        classes = probe.visible_classes()
        if not classes:
            raise RuntimeError("no class row is visible on the board")
        for figures in (
            probe.model_ms,
            probe.paint_ms,
            probe.fetch_ms,
            probe.paint_cost_ms,
            probe.frame_cost_ms,
        ):
            figures.clear()
        cpu_before = psutil.Process().cpu_times()
        run_started = time.perf_counter()
        probe.applied_at.clear()
        probe.to_paint.clear()
        answers.counting = True
        ticker.start()
        argv = [
            sys.executable,
            __file__,
            "--phase",
            "produce",
            "--bootstrap",
            bootstrap,
            "--prefix",
            args.prefix,
            "--classes",
            ",".join(classes),
            "--rate",
            str(args.rate),
            "--seconds",
            str(args.seconds),
        ]
        # With --split-cores the producer runs on the broker's core, away from the desk's.
        pinned = {"preexec_fn": lambda: pin(0, {0})} if args.split_cores else {}
        with child(argv, env=child_env(), stdout=subprocess.PIPE, **pinned) as proc:
            # Waited for on a worker thread: the loop must keep running the desk.
            await asyncio.get_running_loop().run_in_executor(None, proc.wait)
            output = proc.stdout.read() if proc.stdout else ""
            if proc.returncode != 0:
                raise RuntimeError(f"the producer failed ({proc.returncode}): {output}")
        await asyncio.sleep(1.0)  # the last records through the pipeline
        await ticker.stop()
        cpu_after = psutil.Process().cpu_times()
        wall = time.perf_counter() - run_started
        return {
            "live_s": live_s,
            "saved_s": saved_s,
            "visible_classes": len(classes),
            "producer": output.strip().splitlines()[-1],
            "model_ms": probe.model_ms,
            "fetch_ms": probe.fetch_ms,
            "fetch_near_save_ms": near_save(probe.fetch_ms, probe.fetch_produced, saves),
            "paint_cost_ms": probe.paint_cost_ms,
            "frame_cost_ms": probe.frame_cost_ms,
            "wall_s": wall,
            "cpu_share": (cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system)
            / wall,
            "paint_ms": probe.paint_ms,
            "never_signalled": sum(len(v) for v in probe.applied_at.values()),
            "never_painted": len(probe.to_paint) + probe.unseen,
            "model_signals": probe.signals,
            "paints": probe.paints,
            "loop": ticker.summary(),
            "booking_rows": len(desk.state.tables[Topic.BOOKINGS]),
            "fetch_answers": answers.answers,
            "empty_behind": answers.empty_behind,
        }
    finally:
        answers.close()
        await ticker.stop()
        await desk.stop()


def run_desk(bootstrap: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the measurement on a qasync loop over a QApplication."""
    import PySide6.QtWidgets  # noqa: F401  (before pyqtgraph)
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["gymdesk-bench"])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with tempfile.TemporaryDirectory(prefix="gymdesk-live-") as tmp:
            return loop.run_until_complete(measure(bootstrap, Path(tmp), args))
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.sleep(0.05))
        loop.close()
        asyncio.set_event_loop(None)


def report(fig: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the figures."""
    print(f"machine: {machine()}")
    print(f"broker: {args.broker_label}; the desk's fetch_max_wait_ms {args.fetch_wait}")
    print(
        f"desk live after {fig['live_s']:.1f} s over {fig['booking_rows']:,} booking rows; "
        f"{fig['visible_classes']} classes on screen"
    )
    if fig["saved_s"] is None:
        print("measured from 1 s after going live, across the desk's first (full) snapshot save")
    else:
        print(
            f"measured from 1 s after the desk's first (full) snapshot save "
            f"(done {fig['saved_s']:.1f} s after start)"
        )
    print(f"producer: {fig['producer']}")
    for name, values, target in (
        ("produce -> model signal", fig["model_ms"], MODEL_TARGET_MS),
        ("produce -> repainted  ", fig["paint_ms"], PAINT_TARGET_MS),
    ):
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        verdict = "met" if p99 < target else "NOT met"
        print(
            f"{name}: n={len(values):,} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
            f"max {max(values, default=float('nan')):6.1f} ms  (target p99 < {target:.0f} ms: "
            f"{verdict})"
        )
    fetch, cost = fig["fetch_ms"], fig["paint_cost_ms"]
    print(
        f"of which produce -> applied to the state: p50 {percentile(fetch, 0.5):.1f} ms, "
        f"p99 {percentile(fetch, 0.99):.1f} ms; one viewport paint takes p50 "
        f"{percentile(cost, 0.5):.1f} ms, p99 {percentile(cost, 0.99):.1f} ms"
    )
    near = fig["fetch_near_save_ms"]
    if near:
        print(
            f"  of these, {len(near):,} were produced while a snapshot save ran: p50 "
            f"{percentile(near, 0.5):.1f} ms, p99 {percentile(near, 0.99):.1f} ms"
        )
    frames = fig["frame_cost_ms"]
    print(
        f"window repaints: {len(frames) / fig['wall_s']:.1f} a second, p50 "
        f"{percentile(frames, 0.5):.1f} ms, p99 {percentile(frames, 0.99):.1f} ms, "
        f"{sum(frames) / 1000 / fig['wall_s'] * 100:.0f}% of the time; the desk process used "
        f"{fig['cpu_share'] * 100:.0f}% of a core"
    )
    print(
        f"never signalled {fig['never_signalled']}, never painted {fig['never_painted']}; "
        f"{fig['model_signals']} model signals, {fig['paints']} viewport paints"
    )
    print(
        f"the broker's answers for the bookings partitions: {fig['fetch_answers']:,}, of which "
        f"{fig['empty_behind']:,} empty though their high watermark was past the asked offset "
        "(a record it knows of and did not return; a Kafka broker gives none of these)"
    )
    loop = fig["loop"]
    print(
        f"event loop during the run: longest stall {loop['max_ms']:.1f} ms, p99 "
        f"{loop['p99_ms']:.1f} ms; gaps > 20 ms: {loop['over_20ms']}, > 50 ms: "
        f"{loop['over_50ms']}, > 100 ms: {loop['over_100ms']}"
    )


def main() -> None:
    """Fill a broker, open the desk, produce live bookings, print the latencies."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preload", type=int, default=100_000, help="booking changes first")
    parser.add_argument("--rate", type=float, default=500.0, help="bookings per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--during-first-save",
        dest="after_first_save",
        action="store_false",
        help="start producing 1 s after going live, while the first full save runs",
    )
    parser.add_argument(
        "--split-cores",
        action="store_true",
        help="the broker and the producer on core 0, the desk on core 1 (Linux, 2+ cores)",
    )
    add_cluster_arguments(parser)
    parser.add_argument("--phase", choices=("produce",))
    parser.add_argument("--bootstrap")
    parser.add_argument("--classes")
    args = parser.parse_args()
    if args.phase == "produce":
        asyncio.run(
            produce(args.bootstrap, args.prefix, args.classes.split(","), args.rate, args.seconds)
        )
        return
    with bench_cluster(args) as (bootstrap, broker_pid):
        t0 = time.perf_counter()
        shape = GymShape()
        sent = asyncio.run(fill_broker(bootstrap, shape, args.preload, prefix=args.prefix))
        print(f"filled {sent:,} records in {time.perf_counter() - t0:.1f} s")
        if args.split_cores:
            pin(broker_pid, {0})
            pin(0, {1})  # the desk: this process, and every thread it starts from here
        figures = run_desk(bootstrap, args)
    report(figures, args)


if __name__ == "__main__":
    main()
