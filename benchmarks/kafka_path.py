"""Produce -> consume latency of the bare Kafka path, without the desk: the floor under it.

Run: ``.venv/bin/python benchmarks/kafka_path.py [--qasync] [--all-topics] [--split-cores]
[--bootstrap-servers HOST:PORT]``. A loopback broker (or a running cluster, under topics of
a fresh prefix) gets the benchmarks' gym; a plain aiokafka consumer (the desk's
``fetch_max_wait_ms``, no group) follows the bookings topic from its end while the same
producer as ``live_latency.py`` sends 500 bookings a second for 20 s, each stamped at
send. It prints p50 / p99 / max of produce -> consumed. ``--qasync`` runs the consumer on
qasync over a QApplication (as the desk does), ``--all-topics`` assigns every topic's
partitions (as the desk does), ``--split-cores`` puts the broker and the producer on core
0 and the consumer on core 1; ``--preload N`` fills the bookings with N changes first.
Compare with ``live_latency.py``'s "produce -> applied": what the desk adds on top of
this is the desk's.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    FetchAnswers,
    GymShape,
    add_cluster_arguments,
    bench_cluster,
    child,
    child_env,
    fill_broker,
    machine,
    percentile,
    pin,
)

from gymdesk.domain.contract import Topic

RATE = 500
SECONDS = 20
CLASSES = "cls-0120,cls-0121"


async def consume(bootstrap: str, args: argparse.Namespace, out: list[float]) -> None:
    """Follow the bookings (or every topic) from the end; note each stamped record's age."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, fetch_max_wait_ms=args.fetch_wait, enable_auto_commit=False
    )
    prefix, seconds = args.prefix, SECONDS + 4
    await consumer.start()
    try:
        topics = list(Topic) if args.all_topics else [Topic.BOOKINGS]
        tps = [
            TopicPartition(prefix + topic, partition)
            for topic in topics
            for partition in consumer.partitions_for_topic(prefix + topic) or {0}
        ]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            batch = await consumer.getmany(timeout_ms=100)
            now = time.time()
            for records in batch.values():
                for record in records:
                    try:
                        stamp = json.loads(record.value)["produced_at"]
                    except (TypeError, ValueError, KeyError):
                        continue
                    out.append((now - stamp) * 1000)
    finally:
        await consumer.stop()


def reap(proc: subprocess.Popen[str]) -> None:
    """Wait for a finished child (no executor thread: qasync's would outlive the app)."""
    proc.wait(timeout=10)


async def measure(bootstrap: str, args: argparse.Namespace, out: list[float]) -> None:
    """Consume while the producer of ``live_latency.py`` runs in a child process."""
    task = asyncio.create_task(consume(bootstrap, args, out))  # longer than the producer
    await asyncio.sleep(2)  # at the end of every partition first
    producer = Path(__file__).with_name("live_latency.py")
    argv = [sys.executable, str(producer), "--phase", "produce", "--bootstrap", bootstrap]
    argv += ["--prefix", args.prefix]
    argv += ["--classes", CLASSES, "--rate", str(RATE), "--seconds", str(SECONDS)]
    extra: dict[str, Any] = {"preexec_fn": lambda: pin(0, {0})} if args.split_cores else {}
    with child(argv, env=child_env(), stdout=subprocess.DEVNULL, **extra) as proc:
        await task
        reap(proc)


def main() -> None:
    """Fill a broker, consume while producing, print the latencies."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qasync", action="store_true")
    parser.add_argument("--all-topics", action="store_true")
    parser.add_argument("--split-cores", action="store_true")
    parser.add_argument(
        "--preload", type=int, default=1000, help="booking changes first (live_latency: 100000)"
    )
    add_cluster_arguments(parser)
    args = parser.parse_args()
    out: list[float] = []
    answers = FetchAnswers()
    with bench_cluster(args) as (bootstrap, broker_pid):
        asyncio.run(fill_broker(bootstrap, GymShape(), args.preload, prefix=args.prefix))
        if args.split_cores:
            pin(broker_pid, {0})
            pin(0, {1})
        answers.counting = True
        if args.qasync:
            import qasync
            from PySide6.QtWidgets import QApplication

            app = QApplication([])
            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            loop.run_until_complete(measure(bootstrap, args, out))
        else:
            asyncio.run(measure(bootstrap, args, out))
    how = ", ".join(
        name
        for name, on in (
            ("qasync", args.qasync),
            ("every topic", args.all_topics),
            ("split cores", args.split_cores),
        )
        if on
    )
    how = f"{how}, {args.preload:,} booking changes first" if how else f"{args.preload:,} first"
    print(machine())
    print(f"broker: {args.broker_label}; fetch_max_wait_ms {args.fetch_wait}")
    print(
        f"produce -> consumed ({how or 'asyncio, bookings only, shared cores'}): n={len(out):,} "
        f"p50 {percentile(out, 0.5):.1f} ms, p99 {percentile(out, 0.99):.1f} ms, "
        f"max {max(out, default=0):.1f} ms"
    )
    print(
        f"the broker's answers for the bookings partitions: {answers.answers:,}, of which "
        f"{answers.empty_behind:,} empty though their high watermark was past the asked offset"
    )


if __name__ == "__main__":
    main()
