"""The changelog reader: every partition of every contract topic, caught up, then live.

Like a GlobalKTable, each gymdesk reads all partitions by manual assignment (never a
shared consumer group, where two desks would each see half the bookings) and commits
nothing to Kafka: the local snapshot holds the offsets.

The connection state cannot be read off ``getmany()``: during an outage it raises nothing
and returns empty while aiokafka reconnects by itself. A probe asks for the end offsets
under a short timeout instead; its answers (and fetch responses) confirm the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka import errors as kafka_errors
from aiokafka.admin import AIOKafkaAdminClient

from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import Topic
from gymdesk.domain.pacing import PassBudget
from gymdesk.domain.state import GymState
from gymdesk.domain.status import Phase, ReaderStatus, TopicProgress
from gymdesk.stream.settings import ConnectionSettings, SettingsError
from gymdesk.stream.snapshot import SnapshotError, SnapshotStore
from gymdesk.stream.turns import next_turn

log = logging.getLogger(__name__)

# Apply records for at most this long before yielding to the loop (the UI shares it).
SLICE_BUDGET_S: Final = 0.002
STATUS_INTERVAL_S: Final = 0.1

# Errors that no retry will mend: the user must change a setting.
_FATAL_ERRORS: Final[tuple[type[BaseException], ...]] = (
    kafka_errors.AuthenticationFailedError,
    kafka_errors.AuthenticationMethodNotSupported,
    kafka_errors.SaslAuthenticationFailed,
    kafka_errors.UnsupportedSaslMechanismError,
    kafka_errors.IllegalSaslStateError,
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.ClusterAuthorizationFailedError,
    kafka_errors.KafkaConfigurationError,
    SettingsError,
)


_startup_frozen = False


def freeze_startup_objects() -> None:
    """Take every object alive now out of the garbage collector's sight, once per process.

    What exists when the first reader starts (modules, classes, the window and its
    wrappers) lives as long as the process. Left in view, every full collection during a
    catch-up walks all of it: measured at 10-40 ms each on the benchmark machine, a
    frozen window. Cyclic garbage that happens to exist at this moment is kept for good,
    a one-off of a few KiB.
    """
    global _startup_frozen
    if not _startup_frozen:
        gc.freeze()
        _startup_frozen = True


def one_line(exc: BaseException) -> str:
    """Return a short one-line description of an exception for people to read."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    if isinstance(
        exc, kafka_errors.SaslAuthenticationFailed | kafka_errors.AuthenticationFailedError
    ):
        return f"authentication failed: {text or name}"
    if isinstance(exc, kafka_errors.TopicAuthorizationFailedError):
        return f"not authorized to read the topics: {text or name}"
    if isinstance(exc, kafka_errors.ClusterAuthorizationFailedError):
        return f"not authorized on the cluster: {text or name}"
    if isinstance(exc, TimeoutError):
        return "the broker did not answer in time"
    return f"{text}" if text else name


class Backoff:
    """Exponential backoff with jitter between reconnection attempts."""

    def __init__(self, first_s: float = 0.5, cap_s: float = 30.0) -> None:
        self.first_s, self.cap_s = first_s, cap_s
        self._next = first_s

    def reset(self) -> None:
        """Start again from the shortest wait."""
        self._next = self.first_s

    def next(self) -> float:
        """Return the next wait and lengthen the one after."""
        wait = self._next * random.uniform(0.8, 1.2)
        self._next = min(self.cap_s, self._next * 2)
        return wait


@dataclass(frozen=True)
class FetchLimits:
    """How much the reader takes at a time: records per step, bytes per fetch answer."""

    records: int = 500
    """Records one ``getmany`` hands over, applied in one go (one step of the loop)."""
    per_partition_bytes: int | None = None
    """Bytes an answer may hold per partition (None: aiokafka's own, 1 MiB)."""
    total_bytes: int | None = None
    """Bytes an answer may hold in all (None: aiokafka's own, 50 MiB)."""


HEADLESS_FETCH: Final = FetchLimits()
"""Without a window (``gymdesk state``, the catch-up benchmark): big steps, fewer trips."""
WINDOW_FETCH: Final = FetchLimits(
    records=200, per_partition_bytes=256 * 1024, total_bytes=1024 * 1024
)
"""For a reader that shares its loop with a window: every step small.

aiokafka reads an answer and decodes it in one step of the loop: with its defaults (1 MiB
a partition, 50 MiB in all) a catch-up answer of several MiB took single steps of 16-48
ms, with 4 MiB in all still up to 34 ms; with these, 2-10 ms. Applying 200 records a step
instead of 500 took the longest stall of a 1M catch-up from 13-15 to 9-12 ms, catching up
no slower (``benchmarks/desk_catchup.py``, docs/performance.md). Headless, the small
answers cost round trips: catching up was ~15% slower (``benchmarks/catchup.py``)."""


class ChangelogReader:
    """Reads the contract topics into a GymState and reports changes and status."""

    def __init__(
        self,
        connection: ConnectionSettings,
        state: GymState,
        *,
        snapshot: SnapshotStore | None = None,
        on_changes: Callable[[Changes], None] | None = None,
        on_status: Callable[[ReaderStatus], None] | None = None,
        topics: Iterable[Topic] = tuple(Topic),
        save_interval_s: float = 5.0,
        probe_interval_s: float = 2.0,
        probe_timeout_s: float = 3.0,
        slice_budget_s: float = SLICE_BUDGET_S,
        pacer: PassBudget | None = None,
        fetch: FetchLimits = HEADLESS_FETCH,
    ) -> None:
        self.connection = connection
        self.fetch = fetch
        self.state = state
        self.snapshot = snapshot
        self._on_changes = on_changes or (lambda _changes: None)
        self._on_status = on_status or (lambda _status: None)
        prefix = state.settings.prefix
        self._topic_of: dict[str, Topic] = {prefix + t.value: t for t in topics}
        self.save_interval_s = save_interval_s
        self.probe_interval_s = probe_interval_s
        self.probe_timeout_s = probe_timeout_s
        self.slice_budget_s = slice_budget_s
        # Shares each turn of the loop with the UI's sliced jobs; alone, slices of
        # slice_budget_s.
        self.pacer = pacer or PassBudget()

        self.cluster_id: str | None = None
        self._snapshot_cluster: str | None = None
        self.offsets: dict[TopicPartition, int] = {}  # next offset to apply, per partition
        self._session_start: dict[TopicPartition, int] = {}
        self._targets: dict[TopicPartition, int] = {}
        self._caught_up: set[TopicPartition] = set()
        self._phase = Phase.CONNECTING
        self._reason = ""
        self._warnings: list[str] = []
        self._confirmed_at: float | None = None
        self._last_status_emit = 0.0
        self._stopping = asyncio.Event()
        self._last_save = time.monotonic()
        self._save_task: asyncio.Task[None] | None = None
        self.live_event = asyncio.Event()
        self.failed_reason: str | None = None
        self.max_stall_s = 0.0
        self._current_consumer: AIOKafkaConsumer | None = None
        self._slice_started = time.perf_counter()
        self._slice_deadline = self._slice_started + slice_budget_s

    # ------------------------------------------------------------------ status

    @property
    def status(self) -> ReaderStatus:
        """Return the current status."""
        return ReaderStatus(
            self._phase, self._reason, self._progress(), self._confirmed_at, tuple(self._warnings)
        )

    def _set_phase(self, phase: Phase, reason: str = "") -> None:
        """Change phase and report it at once."""
        if phase is self._phase and reason == self._reason:
            return
        if phase is not self._phase:
            log.info("reader: %s%s", phase.value, f" ({reason})" if reason else "")
        self._phase, self._reason = phase, reason
        if phase is Phase.LIVE:
            self.live_event.set()
        self._emit_status(force=True)

    def _emit_status(self, force: bool = False) -> None:
        """Report the status, at most every STATUS_INTERVAL_S unless forced."""
        now = time.monotonic()
        if force or now - self._last_status_emit >= STATUS_INTERVAL_S:
            self._last_status_emit = now
            self._on_status(self.status)

    def _warn(self, text: str) -> None:
        """Keep a warning for the status and the log."""
        log.warning("%s", text)
        self._warnings.append(text)
        del self._warnings[:-10]

    def _progress(self) -> dict[str, TopicProgress]:
        """Return catch-up progress per topic: records read since the session began."""
        done: dict[str, int] = {}
        total: dict[str, int] = {}
        for tp, target in self._targets.items():
            start = self._session_start.get(tp, 0)
            position = self.offsets.get(tp, start)
            end = position if tp in self._caught_up else max(target, self._highwater(tp) or 0)
            done[tp.topic] = done.get(tp.topic, 0) + max(0, min(position, end) - start)
            total[tp.topic] = total.get(tp.topic, 0) + max(0, end - start)
        return {name: TopicProgress(done[name], total[name]) for name in total}

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        """Ask the reader to stop; ``run`` returns after a final snapshot save."""
        self._stopping.set()

    async def run(self) -> None:
        """Restore the snapshot, then read until stopped, reconnecting as needed."""
        freeze_startup_objects()
        await self.restore()
        backoff = Backoff()
        try:
            while not self._stopping.is_set():
                try:
                    await self._session(backoff)
                except Exception as exc:
                    if isinstance(exc, _FATAL_ERRORS):
                        self.failed_reason = one_line(exc)
                        self._set_phase(Phase.FAILED, self.failed_reason)
                        await self._stopping.wait()
                        break
                    phase = Phase.CONNECTING if self.cluster_id is None else Phase.RECONNECTING
                    self._set_phase(phase, one_line(exc))
                    log.debug("reader session ended", exc_info=True)
                    wait = backoff.next()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), wait)
        finally:
            await self._final_save()
            self._set_phase(Phase.STOPPED)

    async def restore(self) -> None:
        """Load the snapshot (if any) and show it as it loads, marked as not yet live.

        The views hear the rows as they come in (the small tables first, then bookings
        every quarter second) while the status says "restoring" with how far the load
        is; nothing is read from the topics until every row is in, so a new record never
        lands on counts that are still being rebuilt.
        """
        if self.snapshot is None:
            return
        changes = Changes()
        self._set_phase(Phase.RESTORING)
        try:
            info = await self.snapshot.restore(
                self.state, changes, on_progress=self._on_restore_progress
            )
        except SnapshotError as exc:
            self.snapshot.set_aside(str(exc))
            self._warn(f"snapshot set aside ({exc}); rebuilding from the topics")
            self.state.clear(changes)
            self.state.rejections.restore({}, [])
            self.state.take_changed()
            info = None
        if info is not None:
            self._snapshot_cluster = info.cluster_id
            self.offsets = {
                TopicPartition(topic, partition): offset
                for (topic, partition), offset in info.offsets.items()
                if topic in self._topic_of
            }
        for view in View:
            changes.touch_all(view)
        self._on_changes(changes)
        self._set_phase(Phase.CONNECTING)

    def _on_restore_progress(self, part: Changes) -> None:
        """Pass on the rows loaded so far, and say how far the load is."""
        self._on_changes(part)
        if self.snapshot is not None:
            loaded, total = self.snapshot.restore_progress
            share = loaded / total if total else 1.0
            self._set_phase(Phase.RESTORING, f"{share:.0%}")

    # ------------------------------------------------------------------ one session

    def _consumer(self, kwargs: dict[str, Any]) -> AIOKafkaConsumer:
        """Build the consumer: no group, no commits, no silent offset reset."""
        if self.fetch.per_partition_bytes is not None:
            kwargs = {**kwargs, "max_partition_fetch_bytes": self.fetch.per_partition_bytes}
        if self.fetch.total_bytes is not None:
            kwargs = {**kwargs, "fetch_max_bytes": self.fetch.total_bytes}
        return AIOKafkaConsumer(
            **kwargs,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="none",
            fetch_max_wait_ms=self.connection.fetch_max_wait_ms,
            metadata_max_age_ms=30_000,
        )

    async def _session(self, backoff: Backoff) -> None:
        """Connect, assign every partition, catch up and follow until stopped or cut off."""
        kwargs = self.connection.client_kwargs()
        cluster_id = await self._describe_cluster(kwargs)
        consumer = self._consumer(kwargs)
        await consumer.start()
        probe: asyncio.Task[None] | None = None
        try:
            self._confirm()
            self._check_cluster(cluster_id)
            tps = await self._assign(consumer)
            backoff.reset()
            self._set_phase(Phase.CATCHING_UP)
            probe = asyncio.create_task(self._probe_loop(consumer, tps))
            await self._read_loop(consumer, tps, probe)
        finally:
            if probe is not None:
                probe.cancel()
                await asyncio.gather(probe, return_exceptions=True)
            await consumer.stop()

    async def _describe_cluster(self, kwargs: dict[str, Any]) -> str:
        """Return the cluster id, and warn about topics that are not compacted."""
        admin = AIOKafkaAdminClient(**kwargs)
        try:
            await asyncio.wait_for(admin.start(), self.connection.request_timeout_ms / 1000)
            described = await asyncio.wait_for(
                admin.describe_cluster(), self.connection.request_timeout_ms / 1000
            )
            cluster_id = str(described.get("cluster_id") or "")
            await self._check_cleanup_policy(admin)
        finally:
            await admin.close()
        return cluster_id

    async def _check_cleanup_policy(self, admin: AIOKafkaAdminClient) -> None:
        """Warn when a contract topic says it is not compacted (silence counts as unknown)."""
        from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

        existing = set(await admin.list_topics())
        names = [name for name in self._topic_of if name in existing]
        if not names:
            return
        try:
            responses = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
            )
        except kafka_errors.KafkaError:
            return
        for response in responses:
            for resource in response.resources:
                _error, _message, _type, name, configs = resource[:5]
                for config in configs:
                    if config[0] == "cleanup.policy" and "compact" not in str(config[1]):
                        self._warn(f"{name} has cleanup.policy={config[1]}, not compact")

    def _confirm(self) -> None:
        """Note that the broker has just answered."""
        self._confirmed_at = time.time()

    def _check_cluster(self, cluster_id: str) -> None:
        """Set the snapshot aside and rebuild when it was saved against another cluster."""
        if self._snapshot_cluster is not None and self._snapshot_cluster != cluster_id:
            why = f"saved against cluster {self._snapshot_cluster!r}, now {cluster_id!r}"
            self._warn(f"snapshot {why}: rebuilding from the topics")
            if self.snapshot is not None:
                self.snapshot.set_aside(why)
            changes = Changes()
            self.state.clear(changes)
            self.state.rejections.restore({}, [])
            changes.touch_all(View.REJECTED)
            self.offsets.clear()
            self._on_changes(changes)
        self._snapshot_cluster = cluster_id
        self.cluster_id = cluster_id

    async def _assign(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        """Assign every partition of every contract topic and seek to the saved offsets."""
        existing = await consumer.topics()
        tps: list[TopicPartition] = []
        for name in self._topic_of:
            if name not in existing:
                self._warn(f"topic {name} does not exist; it is read as empty")
                continue
            for partition in sorted(consumer.partitions_for_topic(name) or ()):
                tps.append(TopicPartition(name, partition))
        consumer.assign(tps)
        if not tps:
            self._targets = {}
            return tps
        beginnings = await consumer.beginning_offsets(tps)
        self._targets = await consumer.end_offsets(tps)
        for tp in tps:
            saved = self.offsets.get(tp)
            start = beginnings[tp] if saved is None else max(saved, 0)
            if saved is not None and saved < beginnings[tp]:
                # The log was truncated past our position: what we hold may be missing deletes.
                self._rebuild(consumer, tp.topic, beginnings, "log start moved past the snapshot")
                start = beginnings[tp]
            self.offsets[tp] = start
            consumer.seek(tp, start)
        self._session_start = {tp: self.offsets[tp] for tp in tps}
        self._caught_up = set()
        self._confirm()
        return tps

    def _rebuild(
        self,
        consumer: AIOKafkaConsumer,
        topic_name: str,
        beginnings: dict[TopicPartition, int],
        why: str,
    ) -> None:
        """Drop a topic's rows and read it again from the beginning of every partition."""
        self._warn(f"{topic_name}: {why}; rebuilding it from the beginning")
        changes = Changes()
        self.state.clear(changes, [self._topic_of[topic_name]])
        for tp in list(self.offsets):
            if tp.topic == topic_name:
                start = beginnings.get(tp, 0)
                self.offsets[tp] = start
                self._session_start[tp] = start
                self._caught_up.discard(tp)
                if tp in consumer.assignment():
                    consumer.seek(tp, start)
        self._on_changes(changes)
        if self._phase is Phase.LIVE:
            self._set_phase(Phase.CATCHING_UP)

    def _highwater(self, tp: TopicPartition) -> int | None:
        """Return the partition's high watermark from the last fetch, if known."""
        consumer = self._current_consumer
        if consumer is None:
            return None
        try:
            value = consumer.highwater(tp)
        except (AssertionError, kafka_errors.IllegalStateError):
            return None
        return None if value is None else int(value)

    async def _read_loop(
        self,
        consumer: AIOKafkaConsumer,
        tps: list[TopicPartition],
        probe: asyncio.Task[None],
    ) -> None:
        """Fetch and apply records in slices until stopped; raise when the session must end."""
        self._current_consumer = consumer
        self._begin_slice()
        try:
            self._update_caught_up(tps)
            while not self._stopping.is_set():
                if probe.done() and probe.exception() is not None:
                    raise probe.exception()  # type: ignore[misc]
                try:
                    batch = await consumer.getmany(timeout_ms=100, max_records=self.fetch.records)
                except kafka_errors.OffsetOutOfRangeError as exc:
                    await self._on_out_of_range(consumer, exc)
                    continue
                if batch:
                    await self._apply_batch(batch)
                await self._check_recreated(consumer, tps)
                self._update_caught_up(tps)
                self._maybe_save()
                await self._yield_if_due()
        finally:
            self._current_consumer = None
            self.pacer.withdraw(self)

    def _begin_slice(self) -> None:
        """Start a slice of work: its end is the pacer's share of this turn of the loop."""
        self._slice_started = time.perf_counter()
        self._slice_deadline = self.pacer.deadline(self, self.slice_budget_s)

    def _slice_spent(self) -> bool:
        """Return whether the current slice has used its time."""
        return time.perf_counter() >= self._slice_deadline

    async def _yield_if_due(self) -> None:
        """Yield to the loop once the current slice has used its time.

        ``getmany`` returns at once while records are buffered, without suspending, so
        the read loop itself must yield: otherwise a catch-up never lets the UI run.
        """
        if self._slice_spent():
            self.max_stall_s = max(self.max_stall_s, time.perf_counter() - self._slice_started)
            if self._phase is Phase.CATCHING_UP:
                await next_turn(self.pacer, self)  # bulk work: a turn with time left
            else:
                await asyncio.sleep(0)  # live: a few fresh records, held back by nothing
            self._begin_slice()

    def _new_changes(self) -> Changes:
        """Start a report; during a catch-up it names every booking instead of each key.

        A catch-up changes bookings by the hundred thousand: tracking their keys would cost
        more than the models' refresh of what they show, and would overflow anyway.
        """
        changes = Changes()
        if self._phase is Phase.CATCHING_UP:
            changes.touch_all(View.BOOKINGS)
        return changes

    async def _apply_batch(self, batch: dict[TopicPartition, list[Any]]) -> None:
        """Apply fetched records, a topic at a time, yielding once a slice is spent.

        The records of one topic go to the state in one call, whatever partitions they
        came from: the classes and instructors a call touched are settled once per call,
        so small calls (one partition's share of a fetch) cost more per record.
        """
        by_topic: dict[Topic, list[tuple[TopicPartition, list[Any]]]] = {}
        for tp, records in batch.items():
            if records:
                by_topic.setdefault(self._topic_of[tp.topic], []).append((tp, records))
        changes, applied = self._new_changes(), False
        for topic, parts in by_topic.items():
            records = parts[0][1] if len(parts) == 1 else [r for _, rs in parts for r in rs]
            self.state.apply_records(topic, records, changes)
            for tp, part in parts:
                self.offsets[tp] = part[-1].offset + 1
            applied = True
            if self._slice_spent():
                # Report what was applied so far, then let the UI paint.
                self._on_changes(changes)
                changes, applied = self._new_changes(), False
                await self._yield_if_due()
        if applied and changes:
            self._on_changes(changes)

    async def _on_out_of_range(
        self, consumer: AIOKafkaConsumer, exc: kafka_errors.OffsetOutOfRangeError
    ) -> None:
        """Rebuild every topic whose position the broker no longer has."""
        bad = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        names = {tp.topic for tp in bad} or {tp.topic for tp in consumer.assignment()}
        tps = [tp for tp in consumer.assignment() if tp.topic in names]
        beginnings = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        for name in names:
            self._rebuild(consumer, name, beginnings, "position out of range")
        self._targets.update(ends)

    async def _check_recreated(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        """Detect a log that is now shorter than our position (topic deleted and recreated).

        Some brokers answer such a fetch with no records and no error; the high watermark
        of the fetch response still tells.
        """
        for name in {tp.topic for tp in tps}:
            shrunk = [
                tp
                for tp in tps
                if tp.topic == name
                and (hw := self._highwater(tp)) is not None
                and self.offsets.get(tp, 0) > hw
            ]
            if shrunk:
                topic_tps = [tp for tp in tps if tp.topic == name]
                beginnings = await consumer.beginning_offsets(topic_tps)
                ends = await consumer.end_offsets(topic_tps)
                self._rebuild(consumer, name, beginnings, "the log is shorter than our position")
                self._targets.update(ends)

    def _update_caught_up(self, tps: list[TopicPartition]) -> None:
        """Mark partitions that reached both the start end offset and the high watermark."""
        for tp in tps:
            if tp in self._caught_up:
                continue
            hw = self._highwater(tp)
            position = self.offsets.get(tp, 0)
            # Some brokers answer "latest offset" with the last batch's base offset + 1, so
            # the end offset alone is not enough: the fetch's high watermark must agree.
            if hw is not None and position >= hw and position >= self._targets.get(tp, 0):
                self._caught_up.add(tp)
        if self._phase is Phase.CATCHING_UP:
            if len(self._caught_up) >= len(tps):
                self._set_phase(Phase.LIVE)
            else:
                self._emit_status()

    async def _probe_loop(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        """Confirm the connection by asking for end offsets; report outages and recoveries."""
        while True:
            await asyncio.sleep(self.probe_interval_s)
            try:
                ends = await asyncio.wait_for(consumer.end_offsets(tps), self.probe_timeout_s)
            except (TimeoutError, kafka_errors.KafkaError, OSError) as exc:
                if isinstance(exc, _FATAL_ERRORS):
                    raise
                if self._phase in (Phase.LIVE, Phase.CATCHING_UP):
                    self._set_phase(Phase.RECONNECTING, f"broker unreachable: {one_line(exc)}")
                continue
            self._confirm()
            if self._phase is Phase.RECONNECTING:
                # What happened during the outage is read before we call it live again.
                self._targets.update(ends)
                self._session_start = dict(self.offsets)
                self._caught_up.clear()
                self._set_phase(Phase.CATCHING_UP)
            self._emit_status(force=self._phase is Phase.LIVE)

    # ------------------------------------------------------------------ snapshots

    def _maybe_save(self) -> None:
        """Start a background save when changes waited long enough and none is running."""
        if self.snapshot is None or self.cluster_id is None:
            return
        if self._save_task is not None and not self._save_task.done():
            return
        if time.monotonic() - self._last_save < self.save_interval_s:
            return
        self._last_save = time.monotonic()
        self._save_task = asyncio.create_task(self._save())

    async def _save(self) -> None:
        """Save the snapshot; a failure is logged and retried at the next interval."""
        if self.snapshot is None or self.cluster_id is None:
            return
        try:
            stats = await self.snapshot.save(self.state, self.cluster_id, dict(self.offsets))
            log.debug("snapshot saved: %s", stats)
        except Exception as exc:
            self._warn(f"snapshot not saved: {one_line(exc)}")

    async def _final_save(self) -> None:
        """Wait for a running save, then save once more (clean exit)."""
        if self._save_task is not None:
            await asyncio.gather(self._save_task, return_exceptions=True)
        await self._save()
