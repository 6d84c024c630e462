"""The local snapshot: tables, offsets and rejection counts saved together in SQLite.

One SQLite transaction writes the rows changed since the last save, the offsets and the
rejection counts, so a ``kill -9`` leaves either the old snapshot or the new one. The
offsets are taken first and rows encoded after, possibly newer than the offsets: replaying
a compacted changelog from an older offset re-applies each key's records in order and ends
on the same row, and aggregates are recomputed from the rows on load, so the state after a
restart neither loses nor double-counts a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import os
import re
import sqlite3
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain, islice, repeat
from pathlib import Path
from typing import Any, Final

import msgspec
import platformdirs

from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import (
    Row,
    Topic,
    decode_snapshot_row,
    decode_snapshot_rows,
    encode_snapshot_row,
)
from gymdesk.domain.pacing import PassBudget
from gymdesk.domain.rejections import Rejection
from gymdesk.domain.state import ChangedKeys, GymState
from gymdesk.stream.turns import next_turn

log = logging.getLogger(__name__)

FORMAT: Final = "gymdesk-snapshot-1"
# Rows are read off the disk this many at a time (on the worker thread).
LOAD_SLICE: Final = 5000
# Rows are encoded (saving) or decoded and applied (restoring) on the loop for at most
# this long before yielding to it; the writes and reads run on the worker thread.
LOAD_BUDGET_S: Final = 0.008
# Rows encoded between two looks at the clock when saving (about 0.5 ms of bookings).
_CHUNK: Final = 256
# Keys copied out of a changed-keys set, and encoded rows freed after a write, per step of
# the loop: a set of 400,000 keys listed at once, or as many rows freed at once, took 10-12
# ms each (a catch-up's save between two 5 s marks), one stall of the loop apiece.
_STEP_KEYS: Final = 16_384
# Restoring, rows are decoded (in one call) and stored (in one ``put_many``) a chunk at
# a time, sized from the cost per row so far to fill what is left of the slice: large
# chunks spread the settling of the class lines (one per class a call touched, ~400
# here) over more rows, and a chunk that would overrun the slice is cut short.
RESTORE_CHUNK_MIN: Final = 64
RESTORE_CHUNK_MAX: Final = 4096
_FIRST_ROW_COST_S: Final = 5e-6  # a guess for the first chunk: a booking costs ~3 µs
# How often a restore reports the rows loaded so far while the bookings load.
PROGRESS_INTERVAL_S: Final = 0.25
# The small tables first, so that a first paint has classes, instructors and members;
# the bookings (up to millions of rows) load after it.
_FIRST: Final = (Topic.CLASSES, Topic.INSTRUCTORS, Topic.MEMBERS)
RESTORE_ORDER: Final[tuple[Topic, ...]] = (
    *_FIRST,
    *(t for t in Topic if t not in _FIRST and t is not Topic.BOOKINGS),
    Topic.BOOKINGS,
)
_LAST_SMALL_TABLE: Final = RESTORE_ORDER[-2]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    topic TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (topic, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offsets (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS rejection_counts (
    topic TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (topic, reason)
);
CREATE TABLE IF NOT EXISTS rejection_latest (
    seq INTEGER PRIMARY KEY, topic TEXT, partition INTEGER, offset INTEGER,
    key TEXT, reason TEXT, first_bytes TEXT
);
"""

Offsets = dict[tuple[str, int], int]  # (full topic name, partition) -> next offset to read
_Upserts = tuple[str, list[str], list[bytes]]  # table, keys, encoded rows
_Deletes = tuple[str, list[str]]  # table, keys


class SnapshotError(Exception):
    """A snapshot that cannot be used (damaged, of another format or another cluster)."""


def default_state_dir() -> Path:
    """Return the per-platform directory for gymdesk's local state."""
    return Path(platformdirs.user_state_dir("gymdesk", appauthor=False))


def snapshot_path(state_dir: Path, bootstrap_servers: str, prefix: str) -> Path:
    """Return the snapshot file for one cluster address and topic prefix."""
    ident = f"{bootstrap_servers}|{prefix}"
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", ident)[:60].strip("_")
    digest = hashlib.sha256(ident.encode()).hexdigest()[:12]
    return state_dir / f"{readable}-{digest}.sqlite"


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """What a loaded snapshot said about itself."""

    cluster_id: str
    prefix: str
    saved_at: float
    offsets: Offsets
    rows: int


@dataclass(frozen=True, slots=True)
class SaveStats:
    """How one save went: rows written, and time on and off the loop."""

    rows: int
    encode_s: float
    write_s: float


def _decode(topic: Topic, keys: list[str], values: list[bytes]) -> list[Row]:
    """Decode saved rows in one call; name the first damaged one in a SnapshotError."""
    try:
        return decode_snapshot_rows(topic, values)
    except (msgspec.MsgspecError, ValueError):
        pass  # rare: decode one by one to say which row is damaged
    for key, value in zip(keys, values, strict=True):
        try:
            decode_snapshot_row(topic, value)
        except (msgspec.MsgspecError, ValueError) as exc:
            raise SnapshotError(f"damaged row {topic}/{key}: {exc}") from None
    raise SnapshotError(f"damaged rows in {topic}: {len(values)} saved rows do not decode as many")


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """Pause automatic garbage collection while a save holds its encoded rows.

    A save holds every row it writes in a few flat lists (400,000 items in each during a
    catch-up's full save): each automatic collection while they are young traverses them
    all, and one of generation 1 took 9-17 ms of the loop in ``desk_catchup.py``. Nothing
    the save makes is cyclic: reference counting frees it when the save ends, and
    collections resume then (as they were: a caller's own pause is left alone).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


WORKER_NICENESS: Final = 10
"""How much lower the snapshot worker thread runs than the loop's thread (Linux)."""


def _background_thread() -> None:
    """Run the calling thread at a lower CPU priority than the loop's, where the OS allows.

    A save writes hundreds of thousands of rows on the worker thread. With the broker, the
    loop's thread and the writer sharing two cores, the scheduler would otherwise take the
    loop's thread off a core now and then in the middle of a callback: 12-17 ms stalls of
    the loop during saves, measured (docs/performance.md). Linux schedules threads on
    their own and ``setpriority`` takes a thread's id; elsewhere this does nothing.
    """
    if sys.platform != "linux":
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)
    except OSError as exc:  # not allowed here (a sandbox): the thread runs as it is
        log.debug("snapshot worker keeps its priority: %s", exc)


def _slices(keys: Iterable[str]) -> Iterator[list[str]]:
    """Yield a set's keys in lists of ``_STEP_KEYS``, each copied when it is reached.

    The set is a save's own (taken from the state), so nothing changes it meanwhile.
    """
    it = iter(keys)
    while part := list(islice(it, _STEP_KEYS)):
        yield part


class SnapshotStore:
    """Loads and incrementally saves one snapshot file; writes happen on one worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="gymdesk-snapshot", initializer=_background_thread
        )
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._needs_full_save = True
        self.slice_budget_s = LOAD_BUDGET_S
        # A save's encoding slices share each turn of the loop with the other sliced jobs.
        self.pacer = PassBudget()
        self._restored = self._to_restore = 0

    # ------------------------------------------------------------------ files

    def _connect(self) -> sqlite3.Connection:
        """Open (once) the database on the calling thread; WAL makes each save atomic."""
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def close(self) -> None:
        """Close the database and the worker thread."""
        self._executor.submit(self._close_conn).result()
        self._executor.shutdown(wait=True)

    def _close_conn(self) -> None:
        """Close the connection on the worker thread."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def set_aside(self, why: str) -> Path | None:
        """Move an unusable snapshot out of the way (kept for inspection), with a warning."""
        self._executor.submit(self._close_conn).result()
        if not self.path.exists():
            return None
        aside = self.path.with_name(f"{self.path.stem}.set-aside-{int(time.time())}.sqlite")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                src.replace(Path(str(aside) + suffix))
        log.warning("snapshot %s set aside (%s); the state is rebuilt from the topics", aside, why)
        self._needs_full_save = True
        return aside

    # ------------------------------------------------------------------ loading

    def read_info(self, prefix: str) -> SnapshotInfo | None:
        """Return the snapshot's metadata and offsets, None if there is none; or SnapshotError."""
        if not self.path.exists():
            return None
        return self._executor.submit(self._read_info, prefix).result()

    async def _read_info_off_loop(self, prefix: str) -> SnapshotInfo | None:
        """``read_info`` on the worker thread: counting a million rows takes ~60 ms."""
        if not self.path.exists():
            return None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._read_info, prefix)

    def _read_info(self, prefix: str) -> SnapshotInfo | None:
        """Read the metadata, offsets and row count (on the worker thread)."""
        try:
            conn = self._connect()
            meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
            if not meta:
                return None
            if meta.get("format") != FORMAT:
                raise SnapshotError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
            if meta.get("prefix") != prefix:
                raise SnapshotError(f"saved for prefix {meta.get('prefix')!r}, not {prefix!r}")
            offsets = {
                (topic, int(partition)): int(offset)
                for topic, partition, offset in conn.execute(
                    "SELECT topic, partition, next_offset FROM offsets"
                )
            }
            (rows,) = conn.execute("SELECT count(*) FROM rows").fetchone()
            return SnapshotInfo(
                meta.get("cluster_id", ""), prefix, float(meta.get("saved_at", 0)), offsets, rows
            )
        except sqlite3.DatabaseError as exc:
            raise SnapshotError(f"damaged: {exc}") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise SnapshotError(f"unreadable metadata: {exc}") from None

    def _open_rows(self, topic: Topic) -> sqlite3.Cursor:
        """Start reading one table's rows (on the worker thread)."""
        return self._connect().execute(
            "SELECT key, value FROM rows WHERE topic = ?", (topic.value,)
        )

    async def _topic_rows(self, topic: Topic) -> AsyncIterator[list[tuple[str, bytes]]]:
        """Yield one table's saved rows in slices, each read while the last is applied.

        SQLite releases the GIL while it reads, so on the worker thread the next slice
        comes off the disk while the loop decodes and applies this one.
        """
        loop = asyncio.get_running_loop()
        try:
            cursor = await loop.run_in_executor(self._executor, self._open_rows, topic)
            ahead = loop.run_in_executor(self._executor, cursor.fetchmany, LOAD_SLICE)
            while batch := await ahead:
                ahead = loop.run_in_executor(self._executor, cursor.fetchmany, LOAD_SLICE)
                yield batch
        except sqlite3.DatabaseError as exc:
            raise SnapshotError(f"damaged rows: {exc}") from None

    def load_rejections(self, state: GymState) -> None:
        """Restore the rejection counts and the latest rejections saved with the rows."""
        counts, latest = self._executor.submit(self._read_rejections).result()
        state.rejections.restore(counts, latest)

    def _read_rejections(self) -> tuple[dict[tuple[str, str], int], list[Rejection]]:
        """Read the rejection counts and the latest rejections (on the worker thread)."""
        conn = self._connect()
        try:
            counts = {
                (topic, reason): count
                for topic, reason, count in conn.execute(
                    "SELECT topic, reason, count FROM rejection_counts"
                )
            }
            latest = [
                Rejection(*row)
                for row in conn.execute(
                    "SELECT topic, partition, offset, key, reason, first_bytes "
                    "FROM rejection_latest ORDER BY seq"
                )
            ]
        except sqlite3.DatabaseError as exc:
            raise SnapshotError(f"damaged rejections: {exc}") from None
        return counts, latest

    @property
    def restore_progress(self) -> tuple[int, int]:
        """Return (rows loaded, rows in the snapshot) of the restore running or last run."""
        return self._restored, self._to_restore

    async def restore(
        self,
        state: GymState,
        changes: Changes,
        on_progress: Callable[[Changes], None] | None = None,
    ) -> SnapshotInfo | None:
        """Load the snapshot into ``state`` in slices that yield to the loop.

        The small tables come first and the bookings last; ``on_progress``, when given,
        hears what was loaded so far: once the small tables are in (the board can paint
        its classes), then at most every ``PROGRESS_INTERVAL_S`` while bookings load, then
        the rest at the end (``restore_progress`` says how far it got). Everything loaded is
        also recorded in ``changes``. Each slice decodes a chunk of rows in one call and
        stores them with ``GymState.put_many`` (one settle of the counts per chunk).

        Raises SnapshotError when it cannot be used; the caller sets it aside and clears
        what was loaded.
        """
        info = await self._read_info_off_loop(state.settings.prefix)
        if info is None:
            return None
        loop = asyncio.get_running_loop()
        counts, latest = await loop.run_in_executor(self._executor, self._read_rejections)
        self._restored, self._to_restore = 0, info.rows
        put_many, clock, budget = state.put_many, time.perf_counter, self.slice_budget_s
        started = slice_started = last_report = clock()
        part = Changes()
        row_cost_s = _FIRST_ROW_COST_S  # seconds per row, a moving average

        def report() -> None:
            """Pass on what was loaded since the last report."""
            nonlocal part, last_report
            changes.merge(part)
            if on_progress is not None and part:
                on_progress(part)
            part, last_report = Changes(), clock()

        for topic in RESTORE_ORDER:
            async for batch in self._topic_rows(topic):
                i = 0
                while i < len(batch):
                    chunk_started = clock()
                    room = budget - (chunk_started - slice_started)
                    if room < budget / 3:
                        if chunk_started - last_report >= PROGRESS_INTERVAL_S:
                            report()
                        await asyncio.sleep(0)
                        slice_started = chunk_started = clock()
                        room = budget
                    # Half the room: the cost of a row varies from chunk to chunk (GC, cache),
                    # and the slice should end near 6 ms, well inside the budget.
                    size = int(room * 0.5 / row_cost_s)
                    size = max(RESTORE_CHUNK_MIN, min(RESTORE_CHUNK_MAX, size))
                    chunk = batch[i : i + size]
                    i += size
                    keys = [key for key, _ in chunk]
                    rows = _decode(topic, keys, [value for _, value in chunk])
                    if topic is Topic.BOOKINGS:
                        # Every booking is new: naming each would only overflow the report.
                        part.touch_all(View.BOOKINGS)
                    put_many(topic, zip(keys, rows, strict=True), part)
                    self._restored += len(chunk)
                    per_row = (clock() - chunk_started) / len(chunk)
                    row_cost_s = (row_cost_s + per_row) / 2
            if topic is _LAST_SMALL_TABLE:
                report()  # the classes and who teaches them: enough for a first paint
        report()
        state.rejections.restore(counts, latest)
        # What was just loaded is already on disk: drop the record of it (without listing
        # it: a million keys would be one long step).
        state.take_changed()
        self._needs_full_save = False
        took = clock() - started
        log.info("snapshot %s: %d rows loaded in %.2f s", self.path.name, self._restored, took)
        return info

    # ------------------------------------------------------------------ saving

    async def save(self, state: GymState, cluster_id: str, offsets: Offsets) -> SaveStats:
        """Save what changed since the last save, with ``offsets``, in one transaction.

        ``offsets`` must describe what ``state`` holds at the moment of the call; rows are
        encoded in slices after it (see the module docstring for why that is sound). A
        table that changed everywhere (a long catch-up) is walked a slice of keys at a
        time (``GymState.key_slices``), never listed in one step.
        """
        async with self._lock:
            full = self._needs_full_save
            changed = state.take_changed()
            offsets = dict(offsets)
            rej = state.rejections
            counts = [(t, r, n) for (t, r), n in rej.by_reason.items()]
            latest = [
                (i, r.topic, r.partition, r.offset, r.key, r.reason, r.first_bytes)
                for i, r in enumerate(rej.latest)
            ]
            started = time.perf_counter()
            # Per table: the keys and rows to write, the keys to delete. Flat lists of str
            # and bytes, not a tuple per row: a million tracked tuples made each full
            # garbage collection during the save a 20-30 ms stall.
            upserts: list[_Upserts] = []
            deletes: list[_Deletes] = []
            try:
                with collections_paused():
                    for topic, keys in changed.items():
                        up, down = await self._encode(state, topic, keys, full)
                        upserts.append(up)
                        deletes.append(down)
                    encode_s = time.perf_counter() - started
                    loop = asyncio.get_running_loop()
                    write_s = await loop.run_in_executor(
                        self._executor,
                        self._write,
                        full,
                        cluster_id,
                        state.settings.prefix,
                        upserts,
                        deletes,
                        offsets,
                        counts,
                        latest,
                    )
                    rows = sum(len(keys) for _, keys, _ in upserts)
                    rows += sum(len(keys) for _, keys in deletes)
                    # Freed now, before collections resume, a slice per step of the loop.
                    await self._free([part for up in upserts for part in up[1:]])
                    upserts.clear()
                    deletes.clear()
            except BaseException:
                state.mark_changed(changed)
                raise
            self._needs_full_save = False
            return SaveStats(rows, encode_s, write_s)

    async def _encode(
        self,
        state: GymState,
        topic: Topic,
        changed: ChangedKeys,
        full: bool,
    ) -> tuple[_Upserts, _Deletes]:
        """Encode one table's changed rows to write, and list its keys to delete, in slices.

        A full save replaces every row (the rows there are now, no deletes); a table that
        changed everywhere writes every row too, and deletes its deleted keys. Keys come
        in lists copied at C speed (a shard of the bookings, or the changed keys), then
        are encoded ``_CHUNK`` at a time with a look at the clock between chunks.
        """
        table, name = state.tables[topic], topic.value
        get, encode, clock = table.get, encode_snapshot_row, time.perf_counter
        # A key can be in both lists (updated, then deleted; or deleted, then back): each
        # is written once, from the first list that holds it.
        if full or changed.every_row:
            sources: Iterable[list[str]] = state.key_slices(topic)
            if not full:  # the table's walk has every key still there
                sources = chain(sources, _slices(k for k in changed.deleted if get(k) is None))
        else:
            upserted = changed.upserted
            deleted = (k for k in changed.deleted if k not in upserted)
            sources = chain(_slices(upserted), _slices(deleted))
        up_keys: list[str] = []
        up_rows: list[bytes] = []
        down_keys: list[str] = []
        pacer, budget = self.pacer, self.slice_budget_s
        slice_started = clock()
        deadline = pacer.deadline(self, budget)
        try:
            for keys in sources:
                for i in range(0, len(keys), _CHUNK):
                    part = keys[i : i + _CHUNK]
                    for key, row in zip(part, map(get, part), strict=True):
                        if row is not None:
                            up_keys.append(key)
                            up_rows.append(encode(row))
                        elif not full:
                            down_keys.append(key)
                    if clock() >= deadline:
                        await next_turn(pacer, self)
                        slice_started, deadline = clock(), pacer.deadline(self, budget)
                # The next slice is copied in one step: yield first if this one used half
                # its time.
                if clock() - slice_started >= (deadline - slice_started) / 2:
                    await next_turn(pacer, self)
                    slice_started, deadline = clock(), pacer.deadline(self, budget)
        finally:
            pacer.withdraw(self)
        return (name, up_keys, up_rows), (name, down_keys)

    async def _free(self, lists: Iterable[list[Any]]) -> None:
        """Empty big lists from their ends, ``_STEP_KEYS`` items a step of the loop."""
        pacer, budget, clock = self.pacer, self.slice_budget_s, time.perf_counter
        deadline = pacer.deadline(self, budget)
        try:
            for items in lists:
                while items:
                    del items[-_STEP_KEYS:]
                    if items and clock() >= deadline:
                        await next_turn(pacer, self)
                        deadline = pacer.deadline(self, budget)
        finally:
            pacer.withdraw(self)

    def _write(
        self,
        full: bool,
        cluster_id: str,
        prefix: str,
        upserts: list[_Upserts],
        deletes: list[_Deletes],
        offsets: Offsets,
        counts: list[tuple[str, str, int]],
        latest: list[tuple[int, str, int, int, str, str, str]],
    ) -> float:
        """Write one save in a single transaction (on the worker thread)."""
        started = time.perf_counter()
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if full:
                conn.execute("DELETE FROM rows")
            for name, keys, values in upserts:
                conn.executemany(
                    "INSERT OR REPLACE INTO rows (topic, key, value) VALUES (?, ?, ?)",
                    zip(repeat(name), keys, values),
                )
            for name, keys in deletes:
                conn.executemany(
                    "DELETE FROM rows WHERE topic = ? AND key = ?", zip(repeat(name), keys)
                )
            conn.execute("DELETE FROM offsets")
            conn.executemany(
                "INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?)",
                [(t, p, o) for (t, p), o in offsets.items()],
            )
            conn.execute("DELETE FROM rejection_counts")
            conn.executemany("INSERT INTO rejection_counts VALUES (?, ?, ?)", counts)
            conn.execute("DELETE FROM rejection_latest")
            conn.executemany("INSERT INTO rejection_latest VALUES (?, ?, ?, ?, ?, ?, ?)", latest)
            conn.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [
                    ("format", FORMAT),
                    ("cluster_id", cluster_id),
                    ("prefix", prefix),
                    ("saved_at", repr(time.time())),
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return time.perf_counter() - started
