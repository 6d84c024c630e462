"""The bookings table in a compact layout, with the per-class counts and rosters beside it.

Bookings are by far the largest table (hundreds of thousands of live rows after a
catch-up), so each is stored as one packed ``int`` instead of a Struct holding a
``datetime``: ids, the channel and the UTC offset become indexes into tables of values
seen once, the status a 3-bit code, and ``updated_at`` its wall-clock microseconds. A
booking then costs one 48-byte int beside its key, and nothing here is tracked by the
garbage collector (dicts of str and int are not), so a full collection never walks the
table. Readers still see a ``Mapping[str, BookingRow]``: ``get`` rebuilds the row, equal
to the decoded one, offset included.

Layout of a packed booking, from the lowest bit (every field but the top one has a
fixed width, so Python's unbounded ints never overflow into a neighbour)::

    wall-clock microseconds since 0001-01-01   59 bits (9999-12-31 needs < 2**59)
    UTC offset index                            32 bits
    channel index                               32 bits (0: no channel)
    member index                                32 bits
    cell = class index * 8 + status code        the rest (48 bytes up to 4 million classes)

The cell is what the per-class counts are indexed by: ``counts[cell] += 1`` is the whole
occupancy update.

The rows are spread over SHARDS dicts by key hash: a dict grows by copying itself, and one
dict of 350,000 rows took 17 ms to grow on the benchmark machine, a stall of the event
loop in the middle of a catch-up; a shard grows in well under a millisecond.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, KeysView, Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from itertools import chain
from typing import Any, Final, Generic, TypeVar

from gymdesk.domain.contract import BOOKING_STATUSES, BookingRow, BookingStatus

SHARDS: Final = 32
"""How many dicts the rows are spread over (a power of two)."""
_SHARD_MASK: Final = SHARDS - 1
_TIME_BITS: Final = 59
_ID_BITS: Final = 32
_ZONE_SHIFT: Final = _TIME_BITS
_CHANNEL_SHIFT: Final = _ZONE_SHIFT + _ID_BITS
_MEMBER_SHIFT: Final = _CHANNEL_SHIFT + _ID_BITS
_CELL_SHIFT: Final = _MEMBER_SHIFT + _ID_BITS
_TIME_MASK: Final = (1 << _TIME_BITS) - 1
_ID_MASK: Final = (1 << _ID_BITS) - 1
# A cell holds the status in its low 3 bits; a class owns 8 cells, 5 of them used.
_STATUS_BITS: Final = 3
_STATUS_MASK: Final = (1 << _STATUS_BITS) - 1

STATUS_CODES: Final[dict[str, int]] = {status: i for i, status in enumerate(BOOKING_STATUSES)}
"""Each booking status's code: its index in ``BOOKING_STATUSES`` (booked 0 ... no_show 4)."""

_WALL_EPOCH: Final = datetime(1, 1, 1)

Counts = tuple[int, int, int, int, int]
"""A class's bookings per status, in ``BOOKING_STATUSES`` order."""

_V = TypeVar("_V", bound=Hashable)


class _Codes(Generic[_V]):
    """Values numbered in order of first sight; each code comes shifted into its bit field.

    A value keeps its number for the life of the table, booked or not any more: member and
    class ids run to the thousands, not to the bookings' hundreds of thousands.
    """

    __slots__ = ("codes", "shift", "values")

    def __init__(self, shift: int) -> None:
        self.shift = shift
        self.codes: dict[_V, int] = {}
        self.values: list[_V] = []

    def add(self, value: _V) -> int:
        """Number a value seen for the first time and return its shifted code."""
        index = len(self.values)
        if index > _ID_MASK:  # 4 billion distinct values: more than memory holds
            raise OverflowError("too many distinct values for a booking field")
        code = index << self.shift
        self.codes[value] = code
        self.values.append(value)
        return code


class BookingTable(Mapping[str, BookingRow]):
    """Booking id -> booking, stored packed; keeps per-class status counts and rosters."""

    def __init__(self) -> None:
        # key -> packed booking, in the shard that the key's hash picks.
        self._shards: list[dict[str, int]] = [{} for _ in range(SHARDS)]
        self._size = 0
        self._members: _Codes[str] = _Codes(_MEMBER_SHIFT)
        self._channels: _Codes[str | None] = _Codes(_CHANNEL_SHIFT)
        self._channels.add(None)
        self._zones: _Codes[tzinfo] = _Codes(_ZONE_SHIFT)
        # Per zone index: 0001-01-01 00:00 in that offset, the origin of the wall clock.
        self._zone_epochs: list[datetime] = []
        # The code dicts again, one attribute away for the hot path.
        self._member_codes = self._members.codes
        self._channel_codes = self._channels.codes
        self._zone_codes = self._zones.codes
        # Classes are numbered too (not shifted: the cell is computed from the number).
        self._class_numbers: dict[str, int] = {}
        self._class_ids: list[str] = []
        # cell -> bookings with that class and status; kept for classes with no row yet,
        # so that their bookings count as soon as the class arrives.
        self._counts: list[int] = []
        # class number -> its booking ids, each mapped to itself: a dict, not a set, as a
        # dict of str is not tracked by the garbage collector (a set always is), and the
        # value hands back the one key object that the table and roster share (a record
        # decodes a new str for the same id; keeping that one would hold two copies).
        self._rosters: list[dict[str, str]] = []

    # ------------------------------------------------------------------ reading

    def __getitem__(self, key: str) -> BookingRow:
        return self._unpack(self._shards[hash(key) & _SHARD_MASK][key])

    def get(self, key: str, default: BookingRow | None = None) -> BookingRow | None:  # type: ignore[override]
        """Return the booking ``key``, or ``default``."""
        packed = self._shards[hash(key) & _SHARD_MASK].get(key)
        return default if packed is None else self._unpack(packed)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._shards[hash(key) & _SHARD_MASK]

    def __iter__(self) -> Iterator[str]:
        """Iterate over the booking ids, in no particular order."""
        return chain.from_iterable(self._shards)

    def __len__(self) -> int:
        return self._size

    def key_slices(self) -> Iterator[list[str]]:
        """Yield the booking ids one shard at a time, each copied to a list in C."""
        for shard in self._shards:
            yield list(shard)

    def keys(self) -> KeysView[str]:
        """Return the booking ids: a live view, whose ``|`` runs in C over the shards."""
        return _Keys(self)

    def counts(self, class_id: str) -> Counts:
        """Return a class's bookings per status (zeros for a class never booked)."""
        number = self._class_numbers.get(class_id)
        if number is None:
            return (0, 0, 0, 0, 0)
        return self.counts_of(number)

    def keys_of_class(self, class_id: str) -> frozenset[str]:
        """Return the ids of every booking (any status) of a class."""
        number = self._class_numbers.get(class_id)
        return frozenset() if number is None else frozenset(self._rosters[number])

    def class_id(self, number: int) -> str:
        """Return the id of the class numbered ``number`` (a key of a ``touched`` dict)."""
        return self._class_ids[number]

    def counts_of(self, number: int) -> Counts:
        """Return the status counts of the class numbered ``number``."""
        first = number << _STATUS_BITS
        c = self._counts
        return (c[first], c[first + 1], c[first + 2], c[first + 3], c[first + 4])

    def member_ids_of_class(self, class_id: str) -> list[str]:
        """Return the member id of every booking of a class (no row is rebuilt)."""
        number = self._class_numbers.get(class_id)
        if number is None:
            return []
        shards, members = self._shards, self._members.values
        return [
            members[(shards[hash(key) & _SHARD_MASK][key] >> _MEMBER_SHIFT) & _ID_MASK]
            for key in self._rosters[number]
        ]

    def _unpack(self, packed: int) -> BookingRow:
        """Rebuild the row a packed booking was made from."""
        cell = packed >> _CELL_SHIFT
        # Adding to an aware datetime moves its wall clock and keeps its offset: cheaper
        # than building a naive one and attaching the offset with replace().
        epoch = self._zone_epochs[(packed >> _ZONE_SHIFT) & _ID_MASK]
        status: BookingStatus = BOOKING_STATUSES[cell & _STATUS_MASK]
        return BookingRow(
            self._class_ids[cell >> _STATUS_BITS],
            self._members.values[(packed >> _MEMBER_SHIFT) & _ID_MASK],
            status,
            epoch + timedelta(microseconds=packed & _TIME_MASK),
            self._channels.values[(packed >> _CHANNEL_SHIFT) & _ID_MASK],
        )

    # ------------------------------------------------------------------ writing

    def upsert(self, key: str, row: BookingRow, touched: dict[int, Counts]) -> str:
        """Store a booking; note in ``touched`` the counts, before, of each class it touches.

        Returns the key object the table keeps (an equal, earlier one for a known key).
        This is the hot path of a catch-up: everything is inlined on purpose.
        """
        number = self._class_numbers.get(row.class_id)
        if number is None:
            number = self._add_class(row.class_id)
        member = self._member_codes.get(row.member_id)
        if member is None:
            member = self._members.add(row.member_id)
        channel = self._channel_codes.get(row.channel)
        if channel is None:
            channel = self._channels.add(row.channel)
        moment = row.updated_at
        zone = self._zone_codes.get(moment.tzinfo)  # type: ignore[arg-type]
        if zone is None:
            zone, moment = self._add_zone(moment)
        cell = (number << _STATUS_BITS) | STATUS_CODES[row.status]
        packed = (
            (cell << _CELL_SHIFT)
            | member
            | channel
            | zone
            | (
                (
                    (moment.toordinal() - 1) * 86_400  # day 1 is 0001-01-01
                    + moment.hour * 3600
                    + moment.minute * 60
                    + moment.second
                )
                * 1_000_000
                + moment.microsecond
            )
        )
        # Note each touched class's counts as they were before this batch, once.
        if number not in touched:
            touched[number] = self.counts_of(number)
        rows, counts = self._shards[hash(key) & _SHARD_MASK], self._counts
        old = rows.get(key)
        rows[key] = packed
        if old is None:
            self._size += 1
            self._rosters[number][key] = key
        else:
            old_cell = old >> _CELL_SHIFT
            old_number = old_cell >> _STATUS_BITS
            if old_number != number:
                if old_number not in touched:
                    touched[old_number] = self.counts_of(old_number)
                key = self._rosters[old_number].pop(key)
                self._rosters[number][key] = key
            else:
                key = self._rosters[number][key]
            counts[old_cell] -= 1
        counts[cell] += 1
        return key

    def delete(self, key: str, touched: dict[int, Counts]) -> str | None:
        """Delete a booking (noting its class in ``touched``); return its key, None if none."""
        old = self._shards[hash(key) & _SHARD_MASK].pop(key, None)
        if old is None:
            return None
        self._size -= 1
        cell = old >> _CELL_SHIFT
        number = cell >> _STATUS_BITS
        if number not in touched:
            touched[number] = self.counts_of(number)
        self._counts[cell] -= 1
        return self._rosters[number].pop(key)

    def _add_class(self, class_id: str) -> int:
        """Number a class seen for the first time."""
        number = len(self._class_ids)
        self._class_numbers[class_id] = number
        self._class_ids.append(class_id)
        self._counts.extend([0] * (1 << _STATUS_BITS))
        self._rosters.append({})
        return number

    def _add_zone(self, moment: datetime) -> tuple[int, datetime]:
        """Number the UTC offset of ``moment``; return its code and ``moment`` in that offset.

        Decoded rows carry fixed offsets; another tzinfo (a row built in code) is replaced
        by its offset at that instant, which names the same instant and wall-clock time.
        """
        offset = moment.utcoffset()
        if offset is None:
            raise ValueError("a booking's updated_at must carry a UTC offset")
        zone = moment.tzinfo if type(moment.tzinfo) is timezone else timezone(offset)
        moment = moment.astimezone(zone)
        code = self._zones.codes.get(zone)
        if code is None:
            code = self._zones.add(zone)
            self._zone_epochs.append(_WALL_EPOCH.replace(tzinfo=zone))
        return code, moment


class _Keys(KeysView[str]):
    """The ids of a BookingTable: ``list()``, ``set()`` and ``|`` run over the shards in C."""

    _mapping: BookingTable

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping)

    def __or__(self, other: Iterable[Any]) -> set[Any]:
        return set(self).union(other)

    def __ror__(self, other: Iterable[Any]) -> set[Any]:
        return set(self).union(other)


__all__ = ["STATUS_CODES", "BookingTable", "Counts"]
