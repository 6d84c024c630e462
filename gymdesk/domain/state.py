"""The local state: one table per topic and the aggregates kept incrementally beside them.

Every upsert or delete subtracts the old row's contribution and adds the new one (the
adder/subtractor of a Kafka Streams aggregate), so a record costs the same whether the
table holds ten rows or a million. ``apply`` takes plain values and returns the views and
keys it touched; it never raises for bad input: a record that breaks the contract is
rejected, logged and counted, and the last good row stays.

``apply_records`` takes a fetched batch of one topic at once: for bookings it decodes,
stores and counts each record without the per-record view bookkeeping, then settles the
class and instructor lines the batch touched once. The result equals applying the records
one by one.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Final, NamedTuple, Protocol, cast
from zoneinfo import ZoneInfo

import msgspec

from gymdesk.domain.bookings import BookingTable, Counts
from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import (
    BOOKING_DECODER,
    DEFAULT_PREFIX,
    BookingRow,
    ClassRow,
    InstructorRow,
    MemberRow,
    RejectedRecord,
    RepRow,
    Row,
    SaleRow,
    TargetRow,
    Topic,
    decode_key,
    decode_value,
)
from gymdesk.domain.rejections import RejectionLog
from gymdesk.domain.views import ClassView, InstructorView, PeriodSummary, RepView, TeamView

DEFAULT_BUSY_THRESHOLD: Final = 0.8
DEFAULT_CURRENCY: Final = "EUR"
# Once more keys of a table changed since the last save than it holds rows (plus the
# slack), or more than the cap, "every row, and the deleted keys" is the record of what
# changed. The cap keeps the dict of changed keys small during a catch-up: one of 350,000
# keys took 17 ms to grow (a loop stall), and a catch-up rewrites most rows anyway.
DIRTY_SLACK: Final = 4096
DIRTY_CAP: Final = 32768

# Index of each status in a class's counts (``BookingTable.counts``).
_BOOKED, _WAITLISTED, _CANCELLED, _CHECKED_IN, _NO_SHOW = range(5)
_ZERO5: Final = (0, 0, 0, 0, 0)


class RecordLike(Protocol):
    """A changelog record as a fetch returns it (aiokafka's ConsumerRecord is one)."""

    @property
    def key(self) -> bytes | None:
        """The record key: the entity id."""

    @property
    def value(self) -> bytes | None:
        """The record value: the row's JSON, None to delete."""

    @property
    def partition(self) -> int:
        """The partition the record was read from."""

    @property
    def offset(self) -> int:
        """The record's offset in its partition."""


@dataclass(frozen=True, slots=True)
class ChangedKeys:
    """What changed in one table since the last save, without listing a whole table.

    ``every_row`` means every row of the table may have changed (past ``DIRTY_CAP``, as in
    a long catch-up): a save then walks the table itself (``GymState.key_slices``) instead
    of a set of every key built in one go. ``upserted`` is empty then.
    """

    every_row: bool
    upserted: Collection[str]
    """Keys stored since the last save (empty when ``every_row``)."""
    deleted: Collection[str]
    """Keys deleted since the last save (some may be back since; read the table)."""


class Record(NamedTuple):
    """A changelog record built in code: key, value (None deletes) and position."""

    key: bytes | None
    value: bytes | None
    partition: int = 0
    offset: int = -1


def period_of(moment: datetime, zone: tzinfo) -> str:
    """Return the ``YYYY-MM`` month of ``moment`` in ``zone``."""
    local = moment.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}"


@dataclass(frozen=True, slots=True)
class StateSettings:
    """What shapes the aggregates: the topic prefix, the busy rule and the sales period."""

    prefix: str = DEFAULT_PREFIX
    busy_threshold: float = DEFAULT_BUSY_THRESHOLD
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    currency: str = DEFAULT_CURRENCY  # ISO 4217: sales in another one are not summed
    period: str | None = None  # None: the current month in ``zone``

    def resolved_period(self, now: datetime | None = None) -> str:
        """Return the sales period, the current month when none was given."""
        if self.period is not None:
            return self.period
        return period_of(now or datetime.now(self.zone), self.zone)


class GymState:
    """Tables keyed by entity id, with occupancy, instructor and sales aggregates."""

    def __init__(self, settings: StateSettings | None = None) -> None:
        self.settings = settings or StateSettings()
        self.period = self.settings.resolved_period()
        # Bookings (the large table) are packed, with per-class counts and rosters beside
        # them; the other tables are plain dicts of rows.
        self._bookings = BookingTable()
        self._dicts: dict[Topic, dict[str, Row]] = {
            topic: {} for topic in Topic if topic is not Topic.BOOKINGS
        }
        self.tables: dict[Topic, Mapping[str, Row]] = {
            topic: self._bookings if topic is Topic.BOOKINGS else self._dicts[topic]
            for topic in Topic
        }
        self.rejections = RejectionLog(self.settings.prefix)
        # instructor id -> [classes, booked, capacity, checked_in, no_show]
        self._instructor_totals: dict[str, list[int]] = {}
        # rep id -> [total_cents, count] over sales in the period
        self._rep_sales: dict[str, list[int]] = {}
        # team -> [total_cents, count, reps naming the team]
        self._team_sales: dict[str, list[int]] = {}
        # day of month -> cents sold that day in the period (for the pace line)
        self._day_sales: dict[int, int] = {}
        # sales in the period in another currency than the settings': kept and listed,
        # not summed (cents of two currencies do not add up)
        self._other_currency: dict[str, None] = {}
        # (scope, scope id, period) -> target key, latest writer wins
        self._target_index: dict[tuple[str, str, str], str] = {}
        # Keys changed since the last snapshot save. Dicts of str keys and None values,
        # not sets: the garbage collector never tracks those, so a catch-up's million
        # keys cost no time in its full collections (a set would be walked each time).
        # Deleted keys are kept apart, so that a topic can switch to "every row changed"
        # (``_dirty_all``, see DIRTY_SLACK) by dropping its upserted keys at no cost.
        self._dirty: dict[Topic, dict[str, None]] = {topic: {} for topic in Topic}
        self._deleted: dict[Topic, dict[str, None]] = {topic: {} for topic in Topic}
        self._dirty_all: set[Topic] = set()
        self._handlers = {
            Topic.CLASSES: self._on_class,
            Topic.INSTRUCTORS: self._on_instructor,
            Topic.MEMBERS: self._on_member,
            Topic.SALES: self._on_sale,
            Topic.REPS: self._on_rep,
            Topic.TARGETS: self._on_target,
        }

    # ------------------------------------------------------------------ applying

    def apply(
        self,
        topic: Topic,
        key: bytes | None,
        value: bytes | None,
        partition: int = 0,
        offset: int = -1,
        changes: Changes | None = None,
    ) -> Changes:
        """Apply one record (``value`` None deletes); return what changed, never raise."""
        changes = Changes() if changes is None else changes
        try:
            entity = decode_key(key)
            row = None if value is None else decode_value(topic, value)
        except RejectedRecord as exc:
            self.rejections.add(topic, partition, offset, key, value, exc.reason)
            changes.touch(View.REJECTED, topic)
            return changes
        self.put(topic, entity, row, changes)
        return changes

    def apply_many(
        self,
        topic: Topic,
        records: Iterable[tuple[bytes | None, bytes | None, int, int]],
        changes: Changes,
    ) -> None:
        """Apply ``(key, value, partition, offset)`` records of one topic in order."""
        self.apply_records(topic, (Record(*record) for record in records), changes)

    def apply_records(self, topic: Topic, records: Iterable[RecordLike], changes: Changes) -> None:
        """Apply fetched records of one topic in order; the same as ``apply`` on each.

        Bookings take a batch path: no view bookkeeping per record, and none at all for
        the bookings view when ``changes`` already reports all of it (as during a catch-up).
        """
        if topic is not Topic.BOOKINGS:
            apply = self.apply
            for record in records:
                apply(topic, record.key, record.value, record.partition, record.offset, changes)
            return
        upsert, delete = self._bookings.upsert, self._bookings.delete
        decode = BOOKING_DECODER.decode
        dirty = None if Topic.BOOKINGS in self._dirty_all else self._dirty[Topic.BOOKINGS]
        deleted_keys = self._deleted[Topic.BOOKINGS]
        touched: dict[int, Counts] = {}
        keys: list[str] | None = None if changes.touched_all(View.BOOKINGS) else []
        for record in records:
            key, value = record.key, record.value
            try:
                if not key:
                    raise RejectedRecord("no key")  # apply() below says which
                entity = key.decode()
                row = None if value is None else decode(value)
            except (RejectedRecord, msgspec.MsgspecError, UnicodeDecodeError):
                # Rare: let the one-record path name the reason and log the rejection.
                self.apply(Topic.BOOKINGS, key, value, record.partition, record.offset, changes)
                continue
            if row is None:
                deleted = delete(entity, touched)
                if deleted is None:
                    continue
                deleted_keys[deleted] = None
            else:
                entity = upsert(entity, row, touched)
                if dirty is not None:
                    dirty[entity] = None
            if keys is not None:
                keys.append(entity)
        self._check_dirty(Topic.BOOKINGS)
        self._settle_bookings(touched, changes)
        if keys:
            changes.touch_many(View.BOOKINGS, keys)

    def put_many(
        self, topic: Topic, rows: Iterable[tuple[str, Row | None]], changes: Changes
    ) -> None:
        """Store decoded rows in order (as ``put`` on each); bookings settle once a call.

        For loading many rows at once, as from a snapshot: per-booking ``put`` settles
        the class and instructor lines after every row. Like ``apply_records``, the
        switch to "every row changed" (``DIRTY_CAP``) is checked once a call.
        """
        if topic is not Topic.BOOKINGS:
            for key, row in rows:
                self.put(topic, key, row, changes)
            return
        upsert, delete = self._bookings.upsert, self._bookings.delete
        dirty = None if Topic.BOOKINGS in self._dirty_all else self._dirty[Topic.BOOKINGS]
        deleted_keys = self._deleted[Topic.BOOKINGS]
        touched: dict[int, Counts] = {}
        keys: list[str] | None = None if changes.touched_all(View.BOOKINGS) else []
        for key, row in rows:
            if row is None:
                deleted = delete(key, touched)
                if deleted is None:
                    continue
                key = deleted
                deleted_keys[key] = None
            else:
                # A bookings row (no cast: a call per row, on the restore's hot path).
                key = upsert(key, row, touched)  # type: ignore[arg-type]
                if dirty is not None:
                    dirty[key] = None
            if keys is not None:
                keys.append(key)
        self._check_dirty(Topic.BOOKINGS)
        self._settle_bookings(touched, changes)
        if keys:
            changes.touch_many(View.BOOKINGS, keys)

    def put(self, topic: Topic, key: str, row: Row | None, changes: Changes) -> None:
        """Store a decoded row (None deletes) and update every aggregate it feeds."""
        if topic is Topic.BOOKINGS:
            self._put_booking(key, cast(BookingRow | None, row), changes)
            return
        table = self._dicts[topic]
        old = table.get(key)
        if row is None:
            if old is None:
                return
            del table[key]
        else:
            table[key] = row
        self._mark_dirty(topic, key, row is None)
        self._handlers[topic](key, old, row, changes)

    def clear(self, changes: Changes, topics: Iterable[Topic] = tuple(Topic)) -> None:
        """Delete every row of ``topics`` (aggregates follow), as when a topic is rebuilt."""
        for topic in topics:
            for key in list(self.tables[topic]):
                self.put(topic, key, None, changes)

    def mark_dirty(self, dirty: dict[Topic, set[str]]) -> None:
        """Mark keys as changed again (a snapshot save that failed)."""
        for topic, keys in dirty.items():
            table = self.tables[topic]
            for key in keys:
                self._mark_dirty(topic, key, key not in table)

    def take_dirty(self) -> dict[Topic, set[str]]:
        """Return the keys changed since the last call, per topic, and start afresh.

        Past the cap this lists every row of a table in one set: a long call for a large
        table (40-60 ms for 410k bookings). A save uses ``take_changed`` instead.
        """
        taken: dict[Topic, set[str]] = {}
        for topic, changed in self.take_changed().items():
            every = self.tables[topic].keys() if changed.every_row else changed.upserted
            keys = set(every)
            keys.update(changed.deleted)
            taken[topic] = keys
        return taken

    def take_changed(self) -> dict[Topic, ChangedKeys]:
        """Return what changed since the last call, per topic, and start afresh.

        Constant time whatever changed: the records are handed over, not copied, and a
        table past the cap is reported as ``every_row`` rather than listed.
        """
        taken = {
            topic: ChangedKeys(topic in self._dirty_all, self._dirty[topic], self._deleted[topic])
            for topic in Topic
        }
        self._dirty = {topic: {} for topic in Topic}
        self._deleted = {topic: {} for topic in Topic}
        self._dirty_all = set()
        return taken

    def mark_changed(self, changed: Mapping[Topic, ChangedKeys]) -> None:
        """Give back what ``take_changed`` returned (a snapshot save that failed)."""
        for topic, keys in changed.items():
            if keys.every_row:
                self._dirty_all.add(topic)
                self._dirty[topic] = {}
            else:
                for key in keys.upserted:
                    self._mark_dirty(topic, key, False)
            deleted = self._deleted[topic]
            for key in keys.deleted:
                deleted[key] = None

    def key_slices(self, topic: Topic) -> Iterator[list[str]]:
        """Yield every key of a table, a slice at a time, each slice copied in C.

        For walking a large table between turns of the loop: the bookings come one shard
        at a time (a 32nd of the table), so no single step lists a million keys. Each
        slice is copied when it is reached; a key stored or deleted meanwhile may or may
        not be in a later slice.
        """
        if topic is Topic.BOOKINGS:
            yield from self._bookings.key_slices()
        else:
            yield list(self._dicts[topic])

    def _mark_dirty(self, topic: Topic, key: str, deleted: bool) -> None:
        """Note that ``key`` changed (or was deleted) since the last save."""
        if deleted:
            self._deleted[topic][key] = None
        elif topic not in self._dirty_all:
            self._dirty[topic][key] = None
            self._check_dirty(topic)

    def _check_dirty(self, topic: Topic) -> None:
        """Switch a topic to "every row changed" once that is the smaller record.

        Without a snapshot (or between two saves of a long catch-up) the changed keys
        would grow to every key ever seen: a second index of the table.
        """
        if len(self._dirty[topic]) > min(len(self.tables[topic]), DIRTY_CAP) + DIRTY_SLACK:
            self._dirty_all.add(topic)
            self._dirty[topic] = {}

    def set_period(self, period: str, changes: Changes) -> None:
        """Switch the sales period (a new month) and recount the sales aggregates."""
        if period == self.period:
            return
        self.period = period
        self._rep_sales.clear()
        self._day_sales.clear()
        self._other_currency.clear()
        for team_totals in self._team_sales.values():
            team_totals[0] = team_totals[1] = 0
        for key, sale in self.tables[Topic.SALES].items():
            self._add_sale(key, cast(SaleRow, sale), 1, changes)
        for view in (View.REPS, View.TEAMS, View.SALES, View.PERIOD):
            changes.touch_all(view)

    # ------------------------------------------------------------------ classes

    def _class_contribution(self, row: ClassRow | None, class_id: str) -> tuple[int, ...]:
        """Return what a class adds to its instructor: classes, booked, capacity, in, no-show."""
        if row is None:
            return _ZERO5
        occ = self._bookings.counts(class_id)
        return (1, occ[_BOOKED] + occ[_CHECKED_IN], row.capacity, occ[_CHECKED_IN], occ[_NO_SHOW])

    def _add_to_instructor(
        self, instructor_id: str, contribution: tuple[int, ...], sign: int, changes: Changes
    ) -> None:
        """Add (sign 1) or subtract (sign -1) a class's contribution to an instructor."""
        totals = self._instructor_totals.get(instructor_id)
        if totals is None:
            totals = self._instructor_totals[instructor_id] = [0, 0, 0, 0, 0]
        for i, amount in enumerate(contribution):
            totals[i] += sign * amount
        if not any(totals):
            del self._instructor_totals[instructor_id]
        changes.touch(View.INSTRUCTORS, instructor_id)

    def _on_class(self, key: str, old: Row | None, new: Row | None, changes: Changes) -> None:
        """Move the class's counts between instructors when it changes or goes."""
        old_row, new_row = cast(ClassRow | None, old), cast(ClassRow | None, new)
        if old_row is not None:
            self._add_to_instructor(
                old_row.instructor_id, self._class_contribution(old_row, key), -1, changes
            )
        if new_row is not None:
            self._add_to_instructor(
                new_row.instructor_id, self._class_contribution(new_row, key), 1, changes
            )
        changes.touch(View.CLASSES, key)

    # ------------------------------------------------------------------ bookings

    def _put_booking(self, key: str, row: BookingRow | None, changes: Changes) -> None:
        """Store or delete one booking and settle the lines it touched."""
        touched: dict[int, Counts] = {}
        if row is None:
            deleted = self._bookings.delete(key, touched)
            if deleted is None:
                return
            key = deleted
        else:
            key = self._bookings.upsert(key, row, touched)
        self._mark_dirty(Topic.BOOKINGS, key, row is None)
        self._settle_bookings(touched, changes)
        changes.touch(View.BOOKINGS, key)

    def _settle_bookings(self, touched: dict[int, Counts], changes: Changes) -> None:
        """Pass the count changes of classes touched by bookings on to their instructors.

        ``touched`` maps each class number to its counts before the records; a class's
        contribution to its instructor ([classes, booked, capacity, checked_in, no_show])
        moves by the difference. Classes without a row count toward no one yet.
        """
        if not touched:
            return
        class_id_of, counts_of = self._bookings.class_id, self._bookings.counts_of
        classes, all_totals = self._dicts[Topic.CLASSES], self._instructor_totals
        class_ids: list[str] = []
        instructor_ids: list[str] = []
        for number, before in touched.items():
            class_id = class_id_of(number)
            class_row = cast(ClassRow | None, classes.get(class_id))
            if class_row is None:
                continue
            after = counts_of(number)
            checked_in = after[_CHECKED_IN] - before[_CHECKED_IN]
            totals = all_totals[class_row.instructor_id]
            totals[1] += after[_BOOKED] - before[_BOOKED] + checked_in
            totals[3] += checked_in
            totals[4] += after[_NO_SHOW] - before[_NO_SHOW]
            class_ids.append(class_id)
            instructor_ids.append(class_row.instructor_id)
        if class_ids:
            changes.touch_many(View.CLASSES, class_ids)
            changes.touch_many(View.INSTRUCTORS, instructor_ids)

    # ------------------------------------------------------------------ people

    def _on_instructor(self, key: str, old: Row | None, new: Row | None, changes: Changes) -> None:
        """An instructor's row changed: their line on every view changes."""
        changes.touch(View.INSTRUCTORS, key)
        # Class rows show the instructor's name.
        for class_id, row in self.tables[Topic.CLASSES].items():
            if cast(ClassRow, row).instructor_id == key:
                changes.touch(View.CLASSES, class_id)

    def _on_member(self, key: str, old: Row | None, new: Row | None, changes: Changes) -> None:
        """A member's row changed: rosters show their name."""
        changes.touch(View.MEMBERS, key)

    # ------------------------------------------------------------------ sales

    def _add_sale(self, key: str, row: SaleRow, sign: int, changes: Changes) -> None:
        """Add or remove one sale's contribution to its rep, team and day in the period."""
        local = row.sold_at.astimezone(self.settings.zone)
        if f"{local.year:04d}-{local.month:02d}" != self.period:
            return
        if row.currency != self.settings.currency:
            if sign > 0:
                self._other_currency[key] = None
            else:
                self._other_currency.pop(key, None)
            changes.touch(View.PERIOD, self.period)
            return
        amount = sign * row.amount_cents
        rep_totals = self._rep_sales.get(row.rep_id)
        if rep_totals is None:
            rep_totals = self._rep_sales[row.rep_id] = [0, 0]
        rep_totals[0] += amount
        rep_totals[1] += sign
        if rep_totals == [0, 0]:
            del self._rep_sales[row.rep_id]
        self._day_sales[local.day] = self._day_sales.get(local.day, 0) + amount
        if self._day_sales[local.day] == 0:
            del self._day_sales[local.day]
        rep = cast(RepRow | None, self.tables[Topic.REPS].get(row.rep_id))
        if rep is not None:
            team_totals = self._team_sales[rep.team]
            team_totals[0] += amount
            team_totals[1] += sign
            changes.touch(View.TEAMS, rep.team)
        changes.touch(View.REPS, row.rep_id)
        changes.touch(View.SALES, key)
        changes.touch(View.PERIOD, self.period)

    def _on_sale(self, key: str, old: Row | None, new: Row | None, changes: Changes) -> None:
        """Move a sale between reps, days and periods."""
        if old is not None:
            self._add_sale(key, cast(SaleRow, old), -1, changes)
        if new is not None:
            self._add_sale(key, cast(SaleRow, new), 1, changes)
        changes.touch(View.SALES, key)

    def _on_rep(self, key: str, old: Row | None, new: Row | None, changes: Changes) -> None:
        """A rep joins, leaves or changes team, taking their period sales along."""
        total, count = self._rep_sales.get(key, (0, 0))
        old_row, new_row = cast(RepRow | None, old), cast(RepRow | None, new)
        if old_row is not None:
            team = self._team_sales[old_row.team]
            team[0] -= total
            team[1] -= count
            team[2] -= 1
            if team[2] == 0:
                del self._team_sales[old_row.team]
            changes.touch(View.TEAMS, old_row.team)
        if new_row is not None:
            team = self._team_sales.setdefault(new_row.team, [0, 0, 0])
            team[0] += total
            team[1] += count
            team[2] += 1
            changes.touch(View.TEAMS, new_row.team)
        changes.touch(View.REPS, key)
        changes.touch(View.PERIOD, self.period)

    def _on_target(self, key: str, old: Row | None, new: Row | None, changes: Changes) -> None:
        """Keep the (scope, scope id, period) -> target index; latest writer wins."""
        old_row, new_row = cast(TargetRow | None, old), cast(TargetRow | None, new)
        if old_row is not None:
            triple = (old_row.scope, old_row.scope_id, old_row.period)
            if self._target_index.get(triple) == key:
                del self._target_index[triple]
                # Another row may name the same target: let it stand in (a small table).
                for other_key, other in self.tables[Topic.TARGETS].items():
                    other_row = cast(TargetRow, other)
                    if (other_row.scope, other_row.scope_id, other_row.period) == triple:
                        self._target_index[triple] = other_key
            self._touch_target(old_row, changes)
        if new_row is not None:
            # Keep the table in order of last write, so a stand-in is the latest writer.
            targets = self._dicts[Topic.TARGETS]
            targets[key] = targets.pop(key)
            self._target_index[(new_row.scope, new_row.scope_id, new_row.period)] = key
            self._touch_target(new_row, changes)
        changes.touch(View.TARGETS, key)

    def _touch_target(self, row: TargetRow, changes: Changes) -> None:
        """Mark the rep or team line a target belongs to."""
        if row.period != self.period:
            return
        changes.touch(View.REPS if row.scope == "rep" else View.TEAMS, row.scope_id)
        changes.touch(View.PERIOD, self.period)

    # ------------------------------------------------------------------ reading

    def target_cents(self, scope: str, scope_id: str, period: str | None = None) -> int | None:
        """Return the target of a rep or team for a period (default: the state's), or None."""
        key = self._target_index.get((scope, scope_id, period or self.period))
        if key is None:
            return None
        return cast(TargetRow, self.tables[Topic.TARGETS][key]).target_cents

    def class_view(self, class_id: str) -> ClassView | None:
        """Return the board line of a class with its occupancy, or None if it has no row."""
        row = cast(ClassRow | None, self.tables[Topic.CLASSES].get(class_id))
        if row is None:
            return None
        occ = self._bookings.counts(class_id)
        instructor = cast(
            InstructorRow | None, self.tables[Topic.INSTRUCTORS].get(row.instructor_id)
        )
        return ClassView.build(
            class_id,
            row,
            instructor.name if instructor else None,
            booked=occ[_BOOKED] + occ[_CHECKED_IN],
            waitlisted=occ[_WAITLISTED],
            checked_in=occ[_CHECKED_IN],
            cancelled=occ[_CANCELLED],
            no_show=occ[_NO_SHOW],
            busy_threshold=self.settings.busy_threshold,
        )

    def class_views(self) -> Iterator[ClassView]:
        """Yield the board line of every class with a row."""
        for class_id in self.tables[Topic.CLASSES]:
            view = self.class_view(class_id)
            if view is not None:
                yield view

    def instructor_view(self, instructor_id: str) -> InstructorView | None:
        """Return an instructor's totals over their classes, or None if they have no row."""
        row = cast(InstructorRow | None, self.tables[Topic.INSTRUCTORS].get(instructor_id))
        if row is None:
            return None
        classes, booked, capacity, checked_in, no_show = self._instructor_totals.get(
            instructor_id, _ZERO5
        )
        return InstructorView(
            instructor_id, row.name, classes, booked, capacity, checked_in, no_show
        )

    def instructor_views(self) -> Iterator[InstructorView]:
        """Yield every instructor with a row."""
        for instructor_id in self.tables[Topic.INSTRUCTORS]:
            view = self.instructor_view(instructor_id)
            if view is not None:
                yield view

    def rep_view(self, rep_id: str) -> RepView | None:
        """Return a rep's sales in the period against their target, or None if no row."""
        row = cast(RepRow | None, self.tables[Topic.REPS].get(rep_id))
        if row is None:
            return None
        total, count = self._rep_sales.get(rep_id, (0, 0))
        return RepView(rep_id, row.name, row.team, total, count, self.target_cents("rep", rep_id))

    def rep_views(self) -> Iterator[RepView]:
        """Yield every rep with a row."""
        for rep_id in self.tables[Topic.REPS]:
            view = self.rep_view(rep_id)
            if view is not None:
                yield view

    def team_view(self, team: str) -> TeamView | None:
        """Return a team's sales in the period (over its current reps), or None if unnamed."""
        totals = self._team_sales.get(team)
        if totals is None:
            return None
        return TeamView(team, totals[0], totals[1], totals[2], self.target_cents("team", team))

    def team_views(self) -> Iterator[TeamView]:
        """Yield every team named by a rep."""
        for team in self._team_sales:
            view = self.team_view(team)
            if view is not None:
                yield view

    def period_summary(self) -> PeriodSummary:
        """Return the period's total, its target and the cents sold on each day."""
        total = sum(t[0] for t in self._rep_sales.values())
        count = sum(t[1] for t in self._rep_sales.values())
        team_targets = [self.target_cents("team", team) for team in self._team_sales]
        known = [t for t in team_targets if t is not None]
        target = sum(known) if known else None
        return PeriodSummary(
            self.period,
            total,
            count,
            target,
            dict(self._day_sales),
            currency=self.settings.currency,
            other_currency_count=len(self._other_currency),
        )

    def bookings_of_class(self, class_id: str) -> frozenset[str]:
        """Return the ids of every booking (any status) of a class."""
        return self._bookings.keys_of_class(class_id)

    def member_ids_of_class(self, class_id: str) -> list[str]:
        """Return the member of every booking of a class, cheaper than reading each row.

        Bookings are stored packed and ``tables[Topic.BOOKINGS].get`` rebuilds a row
        (1-2 µs); a search over every class's members wants only the ids.
        """
        return self._bookings.member_ids_of_class(class_id)

    def latest_sales(self, limit: int) -> list[tuple[str, SaleRow]]:
        """Return the newest ``limit`` sales, newest first."""
        sales = cast(Mapping[str, SaleRow], self.tables[Topic.SALES])
        return heapq.nlargest(limit, sales.items(), key=lambda item: item[1].sold_at)

    def member_name(self, member_id: str) -> str | None:
        """Return a member's name, or None if they have no row."""
        row = cast(MemberRow | None, self.tables[Topic.MEMBERS].get(member_id))
        return None if row is None else row.name
