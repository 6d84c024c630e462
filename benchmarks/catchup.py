"""Catch-up speed: the raw aiokafka floor, aiokafka + json.loads, and gymdesk's full path.

Run: ``.venv/bin/python benchmarks/catchup.py [--records 1000000]``. It starts a loopback
broker, fills it with booking records (keys repeat, ~5% tombstones, a few poison records),
then reads them three ways, each in a fresh process so that memory figures are clean, and
prints records per second, peak RSS, RSS per live booking row, snapshot save/load times
and the longest event-loop stall during gymdesk's catch-up.
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
from gymdesk.sim.broker import EmbeddedBroker, create_topics
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
        fetch_max_wait_ms=10,
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
    reader = ChangelogReader(
        ConnectionSettings(bootstrap_servers=bootstrap), state, topics=(Topic.BOOKINGS,)
    )
    stalls: list[float] = []

    async def watch_loop() -> None:
        """Measure how late a 1 ms timer fires: the loop's longest stall."""
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            stalls.append(time.perf_counter() - before - 0.001)

    watcher = asyncio.create_task(watch_loop())
    task = asyncio.create_task(reader.run())
    started = time.perf_counter()
    await reader.live_event.wait()
    elapsed = time.perf_counter() - started
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
        "max_stall_ms": max(stalls) * 1000 if stalls else 0.0,
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
        figures = {p: run_phase(p, broker.bootstrap_servers) for p in ("raw", "json", "gymdesk")}
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    for phase, fig in figures.items():
        rate = fig["records"] / fig["seconds"]
        print(
            f"{phase:8s} {fig['records']:>9,} records in {fig['seconds']:6.2f} s = "
            f"{rate:>9,.0f} rec/s, peak RSS {fig['peak_rss_mb']:.0f} MiB"
        )
    g, j = figures["gymdesk"], figures["json"]
    ratio = (g["records"] / g["seconds"]) / (j["records"] / j["seconds"])
    print(f"gymdesk / (aiokafka + json.loads) = {ratio:.2f} x")
    print(f"live booking rows {g['live_rows']:,}, {g['bytes_per_live_row']:.0f} B RSS per row")
    print(f"longest event-loop stall during catch-up: {g['max_stall_ms']:.1f} ms")
    print(
        f"snapshot: save {g['snapshot_save_s']:.2f} s, load {g['snapshot_load_s']:.2f} s, "
        f"{g['snapshot_mb']:.0f} MiB; rejected {g['rejected']}"
    )


if __name__ == "__main__":
    main()
