"""What the desk benchmarks share: a generated gym, a filled broker, child processes, a desk.

Nothing here imports Qt at module level: ``first_paint.py`` times a fresh process from
before PySide6 is imported, and its parent builds data with these helpers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gymdesk.domain.contract import Topic

if TYPE_CHECKING:
    from PySide6.QtCore import QEvent, QObject

    from gymdesk.app.desk import Desk

PREFIX = "bench."
ZONE = "UTC"
LOCATIONS = ("Riverside", "Central")
TITLES = ("Spin", "Yoga Flow", "Boxfit", "Pilates", "HIIT", "Barre", "Zumba", "Row")
STATUSES = ("booked", "booked", "booked", "checked_in", "cancelled", "waitlisted", "no_show")
CHANNELS = ("phone", "web", "desk", "app")
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class GymShape:
    """How big the generated gym is: classes over some days, instructors, members."""

    classes: int = 400
    days: int = 10  # classes from three days ago to ``days - 4`` days ahead
    instructors: int = 24
    members: int = 5000
    capacity: int = 40
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def today_class_ids(shape: GymShape) -> list[str]:
    """Return the ids of the classes that start today (what the board shows first)."""
    per_day = shape.classes // shape.days
    first = 3 * per_day  # day index 3 is today: see ``class_record``
    return [f"cls-{c:04d}" for c in range(first, first + per_day)]


def class_record(shape: GymShape, c: int) -> dict[str, Any]:
    """Return the row of class ``c``: ``classes // days`` a day, 06:00 to 21:30, today at 3."""
    per_day = shape.classes // shape.days
    day, slot = divmod(c, per_day)
    midnight = shape.now.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = midnight + timedelta(days=day - 3, minutes=6 * 60 + slot * (15 * 60) // per_day)
    return {
        "title": TITLES[c % len(TITLES)],
        "location": LOCATIONS[c % len(LOCATIONS)],
        "room": f"Studio {c % 5 + 1}",
        "instructor_id": f"ins-{c % shape.instructors:02d}",
        "starts_at": starts.isoformat(),
        "duration_min": 45,
        "capacity": shape.capacity,
    }


def small_tables(shape: GymShape) -> Iterator[tuple[Topic, str, bytes]]:
    """Yield the instructors, members and classes as ``(topic, key, value)`` records."""
    for i in range(shape.instructors):
        yield Topic.INSTRUCTORS, f"ins-{i:02d}", json.dumps({"name": f"Coach {i:02d}"}).encode()
    for m in range(shape.members):
        yield Topic.MEMBERS, f"mem-{m:05d}", json.dumps({"name": f"Member {m:05d}"}).encode()
    for c in range(shape.classes):
        yield Topic.CLASSES, f"cls-{c:04d}", json.dumps(class_record(shape, c)).encode()


def booking_value(shape: GymShape, rng: random.Random, **extra: Any) -> bytes:
    """Return one random booking row as contract JSON (``extra`` fields are ignored)."""
    updated = shape.now - timedelta(seconds=rng.randrange(86_400 * 7))
    return json.dumps(
        {
            "class_id": f"cls-{rng.randrange(shape.classes):04d}",
            "member_id": f"mem-{rng.randrange(shape.members):05d}",
            "status": rng.choice(STATUSES),
            "channel": rng.choice(CHANNELS),
            "updated_at": updated.isoformat(),
            **extra,
        }
    ).encode()


def booking_changes(
    shape: GymShape, records: int, distinct: int, seed: int = 1, churn: bool = True
) -> Iterator[tuple[str, bytes | None]]:
    """Yield ``records`` booking changes over ``distinct`` keys.

    With ``churn`` keys repeat at random, ~5% are tombstones and one in 100,000 is a poison
    record (like a real changelog); without it every key comes once with a row.
    """
    rng = random.Random(seed)
    for i in range(records):
        if not churn:
            yield f"bkg-{i:08d}", booking_value(shape, rng)
            continue
        key = f"bkg-{rng.randrange(distinct):08d}"
        roll = rng.random()
        if roll < 0.05:
            yield key, None
        elif roll < 0.05001:
            yield key, b'{"class_id": 7, "status": "maybe"}'
        else:
            yield key, booking_value(shape, rng)


async def fill_broker(
    bootstrap: str,
    shape: GymShape,
    records: int,
    *,
    distinct: int | None = None,
    seed: int = 1,
    prefix: str = PREFIX,
) -> int:
    """Create the topics and produce the small tables and ``records`` booking changes."""
    from aiokafka import AIOKafkaProducer

    from gymdesk.sim.broker import create_topics

    await create_topics(bootstrap, prefix)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    sent = 0
    try:
        for topic, key, value in small_tables(shape):
            await producer.send(prefix + topic, value, key=key.encode())
            sent += 1
        changes = booking_changes(shape, records, distinct or max(1, records // 2), seed)
        for i, (key, payload) in enumerate(changes):
            await producer.send(prefix + Topic.BOOKINGS, payload, key=key.encode())
            sent += 1
            if i % 50_000 == 49_999:
                await producer.flush()
        await producer.flush()
    finally:
        await producer.stop()
    return sent


# ---------------------------------------------------------------------- processes


@contextlib.contextmanager
def child(
    args: Sequence[str], *, env: dict[str, str] | None = None, **kwargs: Any
) -> Iterator[subprocess.Popen[str]]:
    """Run a child process for the block; it is terminated (then killed) on the way out."""
    proc = subprocess.Popen(list(args), text=True, env=env, **kwargs)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def pin(pid: int, cpus: set[int]) -> None:
    """Keep every thread of process ``pid`` (0: this one) on ``cpus`` (Linux), and its new ones.

    To stand in for separate machines on a shared box: the broker and the producer on one
    core, the desk on the other, so that neither takes the other's core mid-step.
    """
    for task in Path(f"/proc/{pid or os.getpid()}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), cpus)


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--bootstrap-servers`` (a running cluster instead of the embedded broker)."""
    parser.add_argument(
        "--bootstrap-servers",
        metavar="HOST:PORT",
        help="measure against this running cluster (PLAINTEXT) instead of a loopback broker "
        "started here; the benchmark's topics get a fresh prefix and are left behind",
    )
    parser.add_argument(
        "--fetch-max-wait-ms",
        dest="fetch_wait",
        type=int,
        help="the consumer's fetch_max_wait_ms (default: the embedded broker's 20 ms, "
        "gymdesk's default for any other cluster)",
    )
    # The topics' prefix, passed to the benchmark's own child processes.
    parser.add_argument("--prefix", default=PREFIX, help=argparse.SUPPRESS)


@contextlib.contextmanager
def bench_cluster(args: argparse.Namespace) -> Iterator[tuple[str, int]]:
    """Yield (bootstrap servers, broker pid or 0) of the cluster to measure against.

    Sets ``args.prefix``, ``args.fetch_wait`` and ``args.broker_label`` to match it.
    """
    from gymdesk.sim.broker import FETCH_MAX_WAIT_MS, EmbeddedBroker
    from gymdesk.stream.settings import DEFAULT_FETCH_MAX_WAIT_MS

    if args.bootstrap_servers:
        if getattr(args, "split_cores", False):
            raise SystemExit("--split-cores pins the embedded broker: not with a cluster")
        args.prefix = f"bench-{os.getpid()}-{int(time.time())}."
        if args.fetch_wait is None:
            args.fetch_wait = DEFAULT_FETCH_MAX_WAIT_MS
        args.broker_label = f"{args.bootstrap_servers} (topics {args.prefix}*)"
        yield args.bootstrap_servers, 0
        return
    args.prefix = PREFIX
    if args.fetch_wait is None:
        args.fetch_wait = FETCH_MAX_WAIT_MS
    with EmbeddedBroker() as broker:
        args.broker_label = f"embedded Tansu on {broker.bootstrap_servers}"
        yield broker.bootstrap_servers, broker.pid or 0


def child_env(**extra: str) -> dict[str, str]:
    """Return the environment of a benchmark child: the repository on the path, Qt offscreen."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    env.update(extra)
    return env


def machine() -> str:
    """Return a one-line description of this machine, interpreter and current load."""
    import psutil

    memory = psutil.virtual_memory().total / 2**30
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores {platform.machine()}, {memory:.0f} GiB, "
        f"Python {sys.version.split()[0]}, {platform.system()} {platform.release()}, "
        f"QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', '(default)')}; "
        f"load average {load} (other work shares the cores)"
    )


# ---------------------------------------------------------------------- figures


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of ``values`` by the nearest-rank method."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return ordered[rank - 1]


class LoopTicker:
    """A task that sleeps 1 ms at a time and keeps how late each wake-up was: loop stalls."""

    def __init__(self, period_s: float = 0.001) -> None:
        self.period_s = period_s
        self.gaps: list[float] = []  # seconds beyond the period, one per tick
        self.worst_at: float = 0.0  # time.time() at the end of the longest gap
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start ticking on the running loop."""
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop ticking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        """Tick until cancelled."""
        clock, period = time.perf_counter, self.period_s
        worst = 0.0
        while True:
            before = clock()
            await asyncio.sleep(period)
            gap = clock() - before - period
            self.gaps.append(gap)
            if gap > worst:
                worst, self.worst_at = gap, time.time()

    def summary(self) -> dict[str, float]:
        """Return the longest gap, p99, and how many gaps passed 20, 50 and 100 ms."""
        gaps = self.gaps
        return {
            "ticks": len(gaps),
            "max_ms": max(gaps, default=0.0) * 1000,
            "p99_ms": percentile(gaps, 0.99) * 1000,
            "over_20ms": sum(g > 0.020 for g in gaps),
            "over_50ms": sum(g > 0.050 for g in gaps),
            "over_100ms": sum(g > 0.100 for g in gaps),
        }


class GcWatch:
    """Times the garbage collector's pauses (they stop the loop like any other work)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float, float]] = []  # (generation, start, end)
        self._started = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        """Note the start and end of a collection."""
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], self._started, time.perf_counter()))

    def __enter__(self) -> GcWatch:
        import gc

        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *exc: object) -> None:
        import gc

        gc.callbacks.remove(self._on_gc)

    def summary(self) -> dict[str, float]:
        """Return the number of full collections and the longest pause of any."""
        return {
            "collections": len(self.pauses),
            "full": sum(1 for g, _, _ in self.pauses if g == 2),
            "longest_ms": max(((e - s) * 1000 for _, s, e in self.pauses), default=0.0),
            "total_s": sum(e - s for _, s, e in self.pauses),
        }


# ---------------------------------------------------------------------- a desk


def make_desk(
    bootstrap: str, state_dir: Path, *, prefix: str = PREFIX, fetch_max_wait_ms: int | None = None
) -> Desk:
    """Build the app's desk (receptionist role) as the composition root does."""
    from PySide6.QtCore import QSettings

    from gymdesk.app.config import AppConfig
    from gymdesk.app.desk import Desk, DeskCallbacks
    from gymdesk.sim.broker import FETCH_MAX_WAIT_MS

    config = AppConfig(
        bootstrap_servers=bootstrap,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS if fetch_max_wait_ms is None else fetch_max_wait_ms,
        topic_prefix=prefix,
        timezone=ZONE,
        state_dir=str(state_dir),
        role="receptionist",
    )
    settings = QSettings(str(state_dir / "desk.ini"), QSettings.Format.IniFormat)
    return Desk(
        config,
        "receptionist",
        settings,
        DeskCallbacks(quit=lambda: None, open_settings=lambda: None),
    )


def watch_delivery(
    target: QObject,
    event_type: QEvent.Type,
    on_delivered: Callable[[QObject, QEvent, float], None],
) -> QObject:
    """Deliver each ``event_type`` event of ``target`` inside a filter and time it.

    The filter sends the event on at once, so ``on_delivered(watched, event, ms)`` runs
    when the work is done (for a paint: the pixels are in the backing store). Keep the
    returned filter alive for as long as it should watch.
    """
    from PySide6.QtCore import QCoreApplication, QObject

    class _Watcher(QObject):
        """Times the delivery of one kind of event."""

        inside = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() != event_type or self.inside:
                return False
            self.inside = True
            began = time.perf_counter()
            try:
                QCoreApplication.sendEvent(watched, event)
            finally:
                self.inside = False
            on_delivered(watched, event, (time.perf_counter() - began) * 1000)
            return True

    watcher = _Watcher()
    target.installEventFilter(watcher)
    return watcher


class FetchAnswers:
    """Counts the broker's answers for the bookings partitions, and the empty ones that
    say a record is there: a high watermark past the asked offset, and no records.

    A Kafka broker advances the high watermark only once a record can be fetched; the
    embedded broker was seen not to (docs/performance.md). Benchmark only: it wraps
    ``AIOKafkaClient.send`` for the run.
    """

    def __init__(self) -> None:
        self.answers = 0
        self.empty_behind = 0
        self.counting = False
        from aiokafka.client import AIOKafkaClient

        self._client_type = AIOKafkaClient
        self._original = AIOKafkaClient.send
        me = self

        async def counted(client: Any, node_id: Any, request: Any, *a: Any, **k: Any) -> Any:
            response = await me._original(client, node_id, request, *a, **k)
            if me.counting and type(request).__name__.startswith("FetchRequest"):
                me._count(request, response)
            return response

        AIOKafkaClient.send = counted

    def _count(self, request: Any, response: Any) -> None:
        """Count one fetch's answers for the bookings partitions."""
        asked = {
            (topic, partition): offset
            for topic, partitions in request.topics
            for partition, offset, _max_bytes in partitions
        }
        for topic, partitions in response.topics:
            if not topic.endswith(Topic.BOOKINGS):
                continue
            for partition, _error, highwater, *rest in partitions:
                self.answers += 1
                offset = asked.get((topic, partition))
                if offset is not None and highwater > offset and not rest[-1]:
                    self.empty_behind += 1

    def close(self) -> None:
        """Put ``AIOKafkaClient.send`` back."""
        self._client_type.send = self._original  # type: ignore[method-assign]
