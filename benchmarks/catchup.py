"""Catch-up speed: the raw aiokafka floor, aiokafka + json.loads, and gymdesk's full path.

Run: ``.venv/bin/python benchmarks/catchup.py [--records 1000000] [--rounds 2]``. It starts
a loopback broker, fills it with booking records (keys repeat, ~5% tombstones, a few poison
records), then reads them three ways, each in a fresh process so that memory figures are
clean, the three taking turns for ``--rounds`` rounds, and prints records per second (the
fastest round of each; all rounds shown), peak RSS, RSS per live booking row, snapshot
save/load times and the longest event-loop stall of each gymdesk catch-up: wall-clock, and
the CPU time the process used meanwhile (on a loaded machine it may wait for a core).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from gymdesk.domain.contract import Topic
from gymdesk.domain.state import GymState, StateSettings
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.sim.broker import FETCH_MAX_WAIT_MS, EmbeddedBroker, create_topics
from gymdesk.stream.reader import ChangelogReader
from gymdesk.stream.settings import ConnectionSettings
from gymdesk.stream.snapshot import SnapshotStore

PREFIX = "bench."
CLASSES = 400


def rss_mb() -> float:
    """Return this process's resident set size in MiB."""
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def fill(bootstrap: str, records: int, seed: int) -> dict[str, int]:
    """Produce the classes and ``records`` booking changes; return what was sent."""
    await create_topics(bootstrap, PREFIX, {Topic.BOOKINGS: 6})
    rng = random.Random(seed)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    sent = {"tombstones": 0, "poison": 0}
    try:
        for c in range(CLASSES):
            value = {
                "title": "Spin",
                "location": "Riverside",
                "room": "A",
                "instructor_id": f"ins-{c % 8}",
                "starts_at": "2026-11-27T18:00:00+01:00",
                "duration_min": 45,
                "capacity": 25,
            }
            await producer.send(
                PREFIX + "classes", json.dumps(value).encode(), key=f"cls-{c}".encode()
            )
        statuses = ["booked", "booked", "booked", "checked_in", "cancelled", "waitlisted"]
        distinct = max(1, records // 2)
        for i in range(records):
            key = f"bkg-{rng.randrange(distinct):08d}".encode()
            roll = rng.random()
            payload: bytes | None
            if roll < 0.05:
                payload = None
                sent["tombstones"] += 1
            elif roll < 0.05001:
                payload = b'{"class_id": 7, "status": "maybe"}'
                sent["poison"] += 1
            else:
                payload = json.dumps(
                    {
                        "class_id": f"cls-{rng.randrange(CLASSES)}",
                        "member_id": f"mem-{rng.randrange(5000)}",
                        "status": rng.choice(statuses),
                        "channel": rng.choice(["phone", "web", "desk"]),
                        "updated_at": "2026-11-27T09:15:00+01:00",
                    }
                ).encode()
            await producer.send(PREFIX + "bookings", payload, key=key)
            if i % 50_000 == 0:
                await producer.flush()
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def read_plain(bootstrap: str, decode: bool) -> dict[str, Any]:
    """Read every booking with aiokafka (and json.loads when ``decode``); discard them."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(PREFIX + "bookings") or set()
        tps = [TopicPartition(PREFIX + "bookings", p) for p in parts]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        count, done = 0, set()
        loads = json.loads
        started = time.perf_counter()
        while len(done) < len(tps):
            batch = await consumer.getmany(timeout_ms=200, max_records=1000)
            for records in batch.values():
                count += len(records)
                if decode:
                    for record in records:
                        if record.value is not None:
                            try:  # noqa: SIM105 - suppress() costs more per record
                                loads(record.value)
                            except ValueError:
                                pass
            for tp in tps:
                hw = consumer.highwater(tp)
                if hw is not None and await consumer.position(tp) >= hw:
                    done.add(tp)
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
    return {"records": count, "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}


async def read_gymdesk(bootstrap: str) -> dict[str, Any]:
    """Read with gymdesk's full path; measure stalls, memory and snapshot times."""
    gc.collect()
    base_rss = rss_mb()
    state = GymState(StateSettings(prefix=PREFIX))
    # The catch-up window, like the other phases' (which start after assignment): from
    # the reader's CATCHING_UP (connected, partitions assigned) to LIVE.
    catching_up_at: list[float] = []

    def on_status(status: ReaderStatus) -> None:
        if status.phase is Phase.CATCHING_UP and not catching_up_at:
            catching_up_at.append(time.perf_counter())

    reader = ChangelogReader(
        ConnectionSettings(bootstrap_servers=bootstrap, fetch_max_wait_ms=FETCH_MAX_WAIT_MS),
        state,
        topics=(Topic.BOOKINGS,),
        on_status=on_status,
    )
    stalls: list[float] = []
    cpu_stalls: list[float] = []

    async def watch_loop() -> None:
        """Measure how late a 1 ms timer fires during the catch-up: the longest stall.

        Also the CPU time this thread used meanwhile: on a loaded machine the process
        may wait for a core, which is a stall the loop's own work did not cause.
        """
        while True:
            before, cpu_before = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.001)
            if catching_up_at and not reader.live_event.is_set():
                stalls.append(time.perf_counter() - before - 0.001)
                cpu_stalls.append(time.thread_time() - cpu_before)

    watcher = asyncio.create_task(watch_loop())
    task = asyncio.create_task(reader.run())
    started = time.perf_counter()
    await reader.live_event.wait()
    ended = time.perf_counter()
    elapsed = ended - catching_up_at[0]
    records = sum(reader.offsets.values())
    reader.stop()
    await task
    watcher.cancel()
    gc.collect()
    live_rows = len(state.tables[Topic.BOOKINGS])
    state_mb = rss_mb() - base_rss
    result: dict[str, Any] = {
        "records": records,
        "seconds": elapsed,
        "peak_rss_mb": peak_rss_mb(),
        "live_rows": live_rows,
        "bytes_per_live_row": state_mb * 2**20 / max(1, live_rows),
        "with_connect_s": ended - started,
        "max_stall_ms": max(stalls) * 1000 if stalls else 0.0,
        "max_cpu_stall_ms": max(cpu_stalls) * 1000 if cpu_stalls else 0.0,
        "stalls_over_20ms": sum(1 for s in stalls if s > 0.020),
        "rejected": state.rejections.total,
    }
    with tempfile.TemporaryDirectory() as tmp:
        store = SnapshotStore(Path(tmp) / "bench.sqlite")
        t0 = time.perf_counter()
        await store.save(state, "bench", dict(reader.offsets))
        result["snapshot_save_s"] = time.perf_counter() - t0
        store.close()
        del state
        gc.collect()
        fresh = GymState(StateSettings(prefix=PREFIX))
        store = SnapshotStore(Path(tmp) / "bench.sqlite")
        t0 = time.perf_counter()
        from gymdesk.domain.changes import Changes

        await store.restore(fresh, Changes())
        result["snapshot_load_s"] = time.perf_counter() - t0
        result["snapshot_mb"] = (Path(tmp) / "bench.sqlite").stat().st_size / 2**20
        store.close()
    return result


def run_phase(phase: str, bootstrap: str) -> dict[str, Any]:
    """Run one reading phase in a fresh interpreter and return its figures."""
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--bootstrap", bootstrap],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Fill a broker, run the three phases, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="read this many times, the phases taking turns; the fastest of each counts",
    )
    parser.add_argument("--phase", choices=("raw", "json", "gymdesk"))
    parser.add_argument("--bootstrap")
    args = parser.parse_args()
    if args.phase:
        coro = (
            read_gymdesk(args.bootstrap)
            if args.phase == "gymdesk"
            else read_plain(args.bootstrap, decode=args.phase == "json")
        )
        print(json.dumps(asyncio.run(coro)))
        return
    with EmbeddedBroker() as broker:
        t0 = time.perf_counter()
        sent = asyncio.run(fill(broker.bootstrap_servers, args.records, args.seed))
        print(f"filled {args.records:,} bookings in {time.perf_counter() - t0:.1f} s {sent}")
        # On a shared machine the load changes from one phase to the next: the phases take
        # turns, and the fastest round of each is compared (every round is printed).
        runs: dict[str, list[dict[str, Any]]] = {"raw": [], "json": [], "gymdesk": []}
        for _ in range(max(1, args.rounds)):
            for phase, phase_runs in runs.items():
                phase_runs.append(run_phase(phase, broker.bootstrap_servers))
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    figures: dict[str, dict[str, Any]] = {}
    for phase, phase_runs in runs.items():
        rates = [fig["records"] / fig["seconds"] for fig in phase_runs]
        fig = figures[phase] = phase_runs[rates.index(max(rates))]
        print(
            f"{phase:8s} {fig['records']:>9,} records in {fig['seconds']:6.2f} s = "
            f"{max(rates):>9,.0f} rec/s, peak RSS {fig['peak_rss_mb']:.0f} MiB "
            f"(rounds: {', '.join(f'{rate:,.0f}' for rate in rates)})"
        )
    g, j = figures["gymdesk"], figures["json"]
    ratio = (g["records"] / g["seconds"]) / (j["records"] / j["seconds"])
    print(f"gymdesk / (aiokafka + json.loads) = {ratio:.2f} x")
    print(f"live booking rows {g['live_rows']:,}, {g['bytes_per_live_row']:.0f} B RSS per row")
    print(
        f"gymdesk including connecting: {g['with_connect_s']:.2f} s = "
        f"{g['records'] / g['with_connect_s']:,.0f} rec/s"
    )
    # Stalls: the worst of every round, not of the fastest.
    for fig in runs["gymdesk"]:
        print(
            f"longest event-loop stall during catch-up: {fig['max_stall_ms']:.1f} ms "
            f"({fig['max_cpu_stall_ms']:.1f} ms of it on the CPU; "
            f"{fig['stalls_over_20ms']} stalls over 20 ms)"
        )
    print(
        f"snapshot: save {g['snapshot_save_s']:.2f} s, load {g['snapshot_load_s']:.2f} s, "
        f"{g['snapshot_mb']:.0f} MiB; rejected {g['rejected']}"
    )


if __name__ == "__main__":
    main()
