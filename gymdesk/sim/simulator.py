"""Publish the simulated gym to Kafka: the history up to now, then a live run at some speed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

from aiokafka import AIOKafkaProducer

from gymdesk.domain.contract import ALL_TOPICS, DEFAULT_PREFIX, Topic
from gymdesk.sim.broker import DEFAULT_PARTITIONS, create_topics
from gymdesk.sim.model import DEFAULT_MALFORMED_RATE, Event, GymModel

__all__ = [
    "DEFAULT_SPEED",
    "Simulator",
    "SimulatorError",
    "run_simulate",
    "simulate_main",
]

log = logging.getLogger(__name__)

DEFAULT_SPEED: Final = 60.0
# Longest nap of the live loop: bounds how late a stop or a due record is noticed.
_MAX_NAP: Final = 0.25
# Yield to the event loop this often while pushing a large backlog (the history).
_YIELD_EVERY: Final = 500
_PROGRESS_EVERY: Final = 30.0


class SimulatorError(RuntimeError):
    """The simulator could not deliver its records."""


class Simulator:
    """Publishes a GymModel's records to ``<prefix><topic>`` and counts what was delivered.

    The counters count acknowledged records only, so after ``run()`` returns they say
    exactly what the topics hold from this run.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        seed: int | None = None,
        speed: float = DEFAULT_SPEED,
        now: datetime | None = None,
        zone: str | tzinfo | None = None,
        malformed_rate: float = DEFAULT_MALFORMED_RATE,
        producer_config: Mapping[str, Any] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.bootstrap_servers = bootstrap_servers
        self.prefix = prefix
        self.speed = speed
        # Pick a seed when none is given, and keep it so the run can be repeated.
        self.seed = seed if seed is not None else random.SystemRandom().randrange(1 << 31)
        start = now if now is not None else datetime.now(UTC)
        self.model = GymModel(self.seed, start, zone=zone, malformed_rate=malformed_rate)
        self._producer_config = dict(producer_config or {})
        self._producer: AIOKafkaProducer | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self._failure: BaseException | None = None
        self._stop = asyncio.Event()
        self._sent: dict[Topic, int] = dict.fromkeys(ALL_TOPICS, 0)
        self._malformed_sent: dict[Topic, int] = dict.fromkeys(ALL_TOPICS, 0)
        self._tombstones_sent: dict[Topic, int] = dict.fromkeys(ALL_TOPICS, 0)

    # --- counters --------------------------------------------------------------------

    @property
    def sent(self) -> dict[Topic, int]:
        """Records acknowledged by the broker, per topic (malformed and tombstones included)."""
        return dict(self._sent)

    @property
    def malformed_sent(self) -> dict[Topic, int]:
        """Deliberately malformed records acknowledged by the broker, per topic."""
        return dict(self._malformed_sent)

    @property
    def tombstones_sent(self) -> dict[Topic, int]:
        """Tombstones (null values) acknowledged by the broker, per topic."""
        return dict(self._tombstones_sent)

    @property
    def sim_time(self) -> datetime:
        """The gym's clock: how far the simulation has run (UTC)."""
        return self.model.clock

    def topic_name(self, topic: Topic) -> str:
        """Return the Kafka topic name of a contract topic."""
        return f"{self.prefix}{topic}"

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Connect the producer."""
        if self._producer is not None:
            return
        config: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": "gymdesk-simulator",
            "acks": 1,
            # Small batches: live records should reach the desks within a few milliseconds.
            "linger_ms": 5,
            "enable_idempotence": False,
        }
        config.update(self._producer_config)
        producer = AIOKafkaProducer(**config)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        """Deliver what is queued and close the producer; safe to call twice."""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            with contextlib.suppress(Exception):
                await producer.flush()
            if self._pending:
                await asyncio.gather(*self._pending, return_exceptions=True)
        finally:
            await producer.stop()

    def request_stop(self) -> None:
        """Ask a running ``run()`` to finish soon (after delivering what it sent)."""
        self._stop.set()

    async def run(
        self,
        stop: asyncio.Event | None = None,
        until: datetime | None = None,
    ) -> None:
        """Publish the history, then run live until ``stop`` is set or gym time ``until``."""
        await self.start()
        try:
            await self.publish_history(stop)
            await self.run_live(stop, until)
        finally:
            await self.stop()
        self._raise_failure()

    async def publish_history(self, stop: asyncio.Event | None = None) -> int:
        """Publish the reference data and everything up to the model's "now"; return the count."""
        events = self.model.history()
        log.info(
            "publishing %d records of history from %s to %s",
            len(events),
            self.model.start.isoformat(),
            self.model.now.isoformat(),
        )
        await self._send_all(events, stop)
        producer = self._require_producer()
        await producer.flush()
        self._raise_failure()
        return len(events)

    async def run_live(
        self,
        stop: asyncio.Event | None = None,
        until: datetime | None = None,
    ) -> None:
        """Advance the gym ``speed`` times faster than real time and publish as it happens."""
        loop = asyncio.get_running_loop()
        base_real = loop.time()
        base_sim = self.model.clock
        last_progress = base_real
        while not self._stopping(stop):
            elapsed = loop.time() - base_real
            target = base_sim + timedelta(seconds=elapsed * self.speed)
            final = False
            if until is not None and target >= until:
                target, final = until, True
            await self._send_all(self.model.advance(target), stop)
            self._raise_failure()
            if final:
                break
            if loop.time() - last_progress >= _PROGRESS_EVERY:
                last_progress = loop.time()
                log.info(
                    "gym time %s, %d records sent", target.isoformat(), sum(self._sent.values())
                )
            await self._nap(target, stop)

    # --- internals -------------------------------------------------------------------

    def _stopping(self, stop: asyncio.Event | None) -> bool:
        """Whether a stop was asked for, by the caller's event or by request_stop()."""
        return self._stop.is_set() or (stop is not None and stop.is_set())

    async def _nap(self, sim_now: datetime, stop: asyncio.Event | None) -> None:
        """Sleep until the next record is due (at most a moment), waking early on a stop."""
        due = self.model.next_due()
        delay = _MAX_NAP
        if due is not None:
            delay = min(_MAX_NAP, max(0.0, (due - sim_now).total_seconds() / self.speed))
        waiters = [asyncio.ensure_future(self._stop.wait())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    def _require_producer(self) -> AIOKafkaProducer:
        """Return the started producer, or raise."""
        if self._producer is None:
            raise SimulatorError("the simulator is not started")
        return self._producer

    async def _send_all(self, events: list[Event], stop: asyncio.Event | None) -> None:
        """Hand records to the producer, yielding now and then and honouring a stop."""
        producer = self._require_producer()
        for i, event in enumerate(events):
            if i and i % _YIELD_EVERY == 0:
                if self._stopping(stop):
                    return
                await asyncio.sleep(0)
            future = await producer.send(
                self.topic_name(event.topic), value=event.value, key=event.key
            )
            self._pending.add(future)
            future.add_done_callback(self._delivered(event))

    def _delivered(self, event: Event) -> Callable[[asyncio.Future[Any]], None]:
        """Return a callback that counts ``event`` once the broker acknowledges it."""

        def done(future: asyncio.Future[Any]) -> None:
            """Count an acknowledged record, or remember the first failure."""
            self._pending.discard(future)
            if future.cancelled():
                return
            error = future.exception()
            if error is not None:
                if self._failure is None:
                    self._failure = error
                return
            self._sent[event.topic] += 1
            if event.malformed is not None:
                self._malformed_sent[event.topic] += 1
            if event.value is None:
                self._tombstones_sent[event.topic] += 1

        return done

    def _raise_failure(self) -> None:
        """Raise the first delivery failure, if any."""
        if self._failure is not None:
            raise SimulatorError(f"a record was not delivered: {self._failure!r}") from (
                self._failure
            )


async def simulate_main(
    bootstrap_servers: str,
    prefix: str = DEFAULT_PREFIX,
    seed: int | None = None,
    speed: float = DEFAULT_SPEED,
    days: float | None = None,
    *,
    malformed_rate: float = DEFAULT_MALFORMED_RATE,
    zone: str | None = None,
    now: datetime | None = None,
    stop: asyncio.Event | None = None,
    partitions: Mapping[Topic, int] | int = DEFAULT_PARTITIONS,
    handle_signals: bool = False,
) -> Simulator:
    """Create the topics if missing, publish the history, then run live for ``days`` (or forever).

    With ``handle_signals``, SIGINT and SIGTERM end the run cleanly (where the platform lets
    asyncio catch them); the previous handlers are put back afterwards.
    """
    stop = stop or asyncio.Event()
    await create_topics(bootstrap_servers, prefix, partitions)
    simulator = Simulator(
        bootstrap_servers,
        prefix=prefix,
        seed=seed,
        speed=speed,
        now=now,
        zone=zone,
        malformed_rate=malformed_rate,
    )
    until = None if days is None else simulator.model.now + timedelta(days=days)
    loop = asyncio.get_running_loop()
    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM) if handle_signals else ():
        before = signal.getsignal(signum)
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            # Windows' loops or a non-main thread: Ctrl-C arrives as KeyboardInterrupt.
            continue
        previous[signum] = before
    log.info(
        "simulating the gym with seed %d at %gx into %s* on %s",
        simulator.seed,
        speed,
        prefix,
        bootstrap_servers,
    )
    try:
        await simulator.run(stop, until)
    finally:
        for signum, before in previous.items():
            loop.remove_signal_handler(signum)
            # asyncio resets to the default; whoever had the signal before gets it back.
            signal.signal(signum, before)
    return simulator


def run_simulate(
    bootstrap_servers: str,
    topic_prefix: str = DEFAULT_PREFIX,
    seed: int | None = None,
    speed: float = DEFAULT_SPEED,
    days: float | None = None,
    *,
    malformed_rate: float = DEFAULT_MALFORMED_RATE,
    zone: str | None = None,
) -> int:
    """Run ``gymdesk simulate`` to the end or to Ctrl-C; return the process exit code."""
    if speed <= 0:
        print("gymdesk simulate: --speed must be positive", file=sys.stderr)
        return 2
    if days is not None and days <= 0:
        print("gymdesk simulate: --days must be positive", file=sys.stderr)
        return 2
    # Choose the seed here so that it is on screen from the start, ready to repeat the run.
    seed = seed if seed is not None else random.SystemRandom().randrange(1 << 31)
    span = "" if days is None else f" for {days:g} gym days"
    print(
        f"Simulating the gym (seed {seed}) into {topic_prefix}* on {bootstrap_servers}"
        f" at {speed:g}x{span}; Ctrl-C to stop.",
        file=sys.stderr,
    )
    try:
        simulator = asyncio.run(
            simulate_main(
                bootstrap_servers,
                topic_prefix,
                seed,
                speed,
                days,
                malformed_rate=malformed_rate,
                zone=zone,
                handle_signals=True,
            )
        )
    except KeyboardInterrupt:
        print("gymdesk simulate: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the command line reports, the traceback helps nobody here
        log.debug("simulation failed", exc_info=True)
        print(f"gymdesk simulate: {exc}", file=sys.stderr)
        return 1
    total = sum(simulator.sent.values())
    malformed = sum(simulator.malformed_sent.values())
    print(
        f"Sent {total} records ({malformed} malformed) with seed {simulator.seed}; "
        f"gym time reached {simulator.sim_time.astimezone(simulator.model.zone):%Y-%m-%d %H:%M}.",
        file=sys.stderr,
    )
    return 0
