"""A believable gym as a pure, seeded discrete-event model: no Kafka, no I/O, no wall clock.

Everything that happens is an action in one time-ordered queue; an action may emit records
and schedule later actions. All randomness is drawn inside actions, in queue order, so the
records depend only on the seed and the starting "now", never on how finely the caller
slices time (a fast or slow live run yields the same sequence).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
import math
import random
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from gymdesk.domain.contract import (
    ALL_TOPICS,
    BookingRow,
    BookingStatus,
    ClassRow,
    InstructorRow,
    MemberRow,
    RepRow,
    Row,
    SaleRow,
    TargetRow,
    Topic,
    encode_row,
)

__all__ = [
    "DEFAULT_MALFORMED_RATE",
    "DEFAULT_ZONE",
    "Event",
    "GymModel",
    "resolve_zone",
]

DEFAULT_MALFORMED_RATE: Final = 1 / 500
DEFAULT_ZONE: Final = "Europe/Berlin"
CURRENCY: Final = "EUR"

_KEY_PREFIX: Final[Mapping[Topic, str]] = {
    Topic.CLASSES: "cls",
    Topic.INSTRUCTORS: "ins",
    Topic.MEMBERS: "mem",
    Topic.BOOKINGS: "bkg",
    Topic.SALES: "sale",
    Topic.REPS: "rep",
    Topic.TARGETS: "tgt",
}


def resolve_zone(zone: str | tzinfo | None) -> tzinfo:
    """Return the gym's time zone: a name, a tzinfo, or None for Europe/Berlin."""
    if zone is None:
        return ZoneInfo(DEFAULT_ZONE)
    if isinstance(zone, str):
        return ZoneInfo(zone)
    return zone


@dataclass(frozen=True, slots=True)
class Event:
    """One record to publish: ``value`` None is a tombstone; ``malformed`` names a breakage."""

    at: datetime
    topic: Topic
    key: bytes
    value: bytes | None
    malformed: str | None = None


# --- the gym's fixed cast ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kind:
    """A class format: where it runs, how long, how many, how popular."""

    title: str
    room_kind: str
    durations: tuple[int, ...]
    capacity: tuple[int, int]
    appeal: float


_KINDS: Final[tuple[_Kind, ...]] = (
    _Kind("Spin", "cycle", (45,), (16, 24), 1.25),
    _Kind("Spin Express", "cycle", (30,), (16, 24), 1.0),
    _Kind("Yoga Flow", "studio", (60, 75), (14, 25), 1.1),
    _Kind("Pilates", "studio", (45, 60), (10, 15), 1.2),
    _Kind("Mobility", "studio", (30,), (12, 20), 0.6),
    _Kind("HIIT", "hall", (30, 45), (18, 30), 1.15),
    _Kind("Boxfit", "hall", (45, 60), (14, 24), 0.95),
    _Kind("Strength", "hall", (45, 60), (12, 20), 0.85),
)
_KIND_BY_TITLE: Final = {k.title: k for k in _KINDS}


@dataclass(frozen=True, slots=True)
class _Room:
    """A room and the kind of classes it can hold."""

    name: str
    kind: str
    capacity: int


@dataclass(frozen=True, slots=True)
class _Location:
    """A gym site with its rooms; its sales team carries its name."""

    name: str
    code: str
    rooms: tuple[_Room, ...]
    share: float


_LOCATIONS: Final[tuple[_Location, ...]] = (
    _Location(
        "Riverside",
        "rv",
        (
            _Room("Studio 1", "studio", 25),
            _Room("Studio 2", "studio", 14),
            _Room("Cycle Room", "cycle", 24),
            _Room("Main Hall", "hall", 30),
            _Room("Reformer Studio", "studio", 12),
        ),
        0.55,
    ),
    _Location(
        "Old Town",
        "ot",
        (
            _Room("Loft", "studio", 16),
            _Room("Spin Studio", "cycle", 18),
            _Room("Gym Floor", "hall", 22),
            _Room("Boxing Room", "hall", 16),
            _Room("Studio B", "studio", 20),
        ),
        0.45,
    ),
)

_INSTRUCTORS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("Lena Hoffmann", ("Yoga Flow", "Pilates", "Mobility")),
    ("Marco Rossi", ("Spin", "Spin Express", "HIIT", "Strength")),
    ("Aisha Bello", ("Boxfit", "HIIT", "Strength")),
    ("Jonas Becker", ("Spin", "Spin Express", "Strength")),
    ("Sofia Lindqvist", ("Pilates", "Yoga Flow", "Mobility")),
    ("Tom O'Neill", ("Boxfit", "HIIT", "Spin")),
    ("Mei Chen", ("Yoga Flow", "Mobility", "Pilates")),
    ("Daniel Okafor", ("Strength", "HIIT", "Spin", "Boxfit")),
    ("Clara Weiss", ("Spin Express", "Spin", "Pilates", "HIIT")),
    ("Jana Novak", ("Pilates", "Yoga Flow", "Mobility")),
    ("Kemal Aydin", ("Boxfit", "Strength", "HIIT")),
    ("Sophie Laurent", ("Spin", "Spin Express", "Yoga Flow")),
)

# (local start time, demand factor): early risers, a lunch crowd, a big evening.
_WEEKDAY_SLOTS: Final = (
    (time(6, 30), 0.85),
    (time(7, 15), 0.9),
    (time(9, 30), 0.6),
    (time(10, 30), 0.55),
    (time(12, 15), 1.0),
    (time(13, 0), 0.9),
    (time(16, 30), 0.8),
    (time(17, 30), 1.2),
    (time(18, 15), 1.35),
    (time(19, 0), 1.3),
    (time(19, 45), 1.05),
    (time(20, 30), 0.75),
)
_WEEKEND_SLOTS: Final = (
    (time(8, 30), 0.8),
    (time(9, 30), 1.2),
    (time(10, 30), 1.3),
    (time(11, 30), 1.1),
    (time(12, 30), 0.85),
    (time(13, 30), 0.7),
    (time(16, 0), 0.7),
)

_REPS: Final[tuple[tuple[str, str], ...]] = (
    ("Nina Schulz", "Riverside"),
    ("Paul Meyer", "Riverside"),
    ("Hannah Wolf", "Riverside"),
    ("Lukas Braun", "Old Town"),
    ("Emma Richter", "Old Town"),
)

# (product, list price in cents, weight): memberships, class packs, PT, merchandise.
_PRODUCTS: Final[tuple[tuple[str, int, int], ...]] = (
    ("Membership Basic 12m", 35880, 8),
    ("Membership Plus 12m", 53880, 5),
    ("Membership Premium 12m", 83880, 2),
    ("Membership Monthly", 4990, 6),
    ("Class Pack 10", 15000, 8),
    ("Class Pack 20", 27000, 4),
    ("PT Session", 6500, 10),
    ("PT Pack 5", 30000, 4),
    ("Day Pass", 1500, 6),
    ("Merch Water Bottle", 1500, 6),
    ("Merch T-Shirt", 2900, 5),
    ("Merch Hoodie", 5900, 3),
)
_PRODUCT_WEIGHTS: Final = tuple(itertools.accumulate(w for _, _, w in _PRODUCTS))
_MEAN_SALE_CENTS: Final = sum(p * w for _, p, w in _PRODUCTS) / _PRODUCT_WEIGHTS[-1]
_SALES_PER_DAY: Final = {"weekday": 34.0, "weekend": 22.0}

_TIERS: Final = (("Basic", 45), ("Plus", 30), ("Premium", 13), ("Student", 12))
_FIRST_NAMES: Final = (
    "Anna",
    "Ben",
    "Chiara",
    "David",
    "Elif",
    "Felix",
    "Greta",
    "Hamza",
    "Ida",
    "Jan",
    "Katarina",
    "Leon",
    "Mia",
    "Noah",
    "Olga",
    "Pedro",
    "Quentin",
    "Rosa",
    "Samir",
    "Tara",
    "Ugo",
    "Vera",
    "Wojtek",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Amelie",
    "Bruno",
    "Carla",
    "Deniz",
    "Emil",
    "Fatma",
    "Georg",
    "Hanna",
    "Igor",
    "Julia",
    "Karim",
    "Lara",
    "Max",
    "Nora",
    "Oskar",
    "Paula",
    "Rafael",
    "Sara",
    "Theo",
    "Ulrike",
    "Valentin",
    "Wiebke",
    "Yara",
    "Zeynep",
    "Moritz",
    "Lotte",
    "Finn",
    "Maja",
    "Elias",
    "Sophie",
    "Luca",
    "Marie",
)
_LAST_NAMES: Final = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Koch",
    "Yilmaz",
    "Kaya",
    "Nowak",
    "Kowalski",
    "Rossi",
    "Russo",
    "García",
    "Martínez",
    "Dubois",
    "Martin",
    "Nguyen",
    "Tran",
    "Ivanova",
    "Petrov",
    "Jansen",
    "de Vries",
    "Andersson",
    "Nielsen",
    "Smith",
    "Brown",
    "Ahmed",
    "Khan",
    "Schäfer",
    "Krüger",
    "Neumann",
    "Zimmermann",
    "Hartmann",
    "Lange",
    "Krause",
    "Lehmann",
    "Köhler",
    "Vogel",
    "Frank",
    "Berger",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Scholz",
    "Möller",
    "Roth",
)

_CHANNELS_EARLY: Final = (("web", 75), ("phone", 25))
_CHANNELS_LATE: Final = (("web", 50), ("phone", 15), ("desk", 35))
_WAITLIST_LIMIT: Final = 10
_CANCEL_P_BOOKED: Final = 0.15
_CANCEL_P_WAITLISTED: Final = 0.3
_GYM_CANCEL_P: Final = 1 / 150
_SUBSTITUTE_P: Final = 1 / 40
_DOORS_BEFORE: Final = timedelta(minutes=15)
_ACTIVE: Final[frozenset[str]] = frozenset({"booked", "waitlisted", "checked_in"})


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    """Pick one option by weight."""
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _month_start(day: date) -> date:
    """Return the first day of ``day``'s month."""
    return day.replace(day=1)


def _next_month(day: date) -> date:
    """Return the first day of the month after ``day``'s."""
    first = day.replace(day=1)
    return (first + timedelta(days=32)).replace(day=1)


@dataclass(slots=True)
class _Booking:
    """A booking's live state."""

    booking_id: str
    class_id: str
    member_id: str
    status: BookingStatus
    channel: str


@dataclass(slots=True)
class _Class:
    """A scheduled class's live state: its row, who is booked, who waits."""

    class_id: str
    row: ClassRow
    starts_at: datetime
    booked: int = 0
    waitlist: deque[str] = field(default_factory=deque)
    holders: set[str] = field(default_factory=set)
    bookings: list[str] = field(default_factory=list)
    doors_open: bool = False
    started: bool = False
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class _Slot:
    """One line of the weekly timetable."""

    location: _Location
    room: _Room
    kind: _Kind
    at: time
    duration_min: int
    capacity: int
    instructor: int
    demand: float


class GymModel:
    """Generates a gym's changelog records deterministically from a seed and a starting "now".

    ``advance(t)`` returns the records of everything that happened up to ``t``; the first
    call with ``now`` yields the reference data and the history (a few days of past classes
    and this month's sales), later calls the live run.
    """

    def __init__(
        self,
        seed: int,
        now: datetime,
        *,
        zone: str | tzinfo | None = None,
        malformed_rate: float = DEFAULT_MALFORMED_RATE,
        members: int = 900,
        history_days: int = 3,
        ahead_days: int = 3,
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if not 0.0 <= malformed_rate <= 1.0:
            raise ValueError("malformed_rate must be between 0 and 1")
        self.seed = seed
        self.zone = resolve_zone(zone)
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.malformed_rate = malformed_rate
        self._rng = random.Random(seed)
        # Its own stream: turning malformed records on or off leaves the valid ones alone.
        self._bad_rng = random.Random(f"{seed}:malformed")
        self._ahead = timedelta(days=ahead_days)
        self._queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._bad_ids = itertools.count(1)
        self._out: list[Event] = []
        self.emitted: dict[Topic, int] = dict.fromkeys(ALL_TOPICS, 0)
        self.malformed: dict[Topic, int] = dict.fromkeys(ALL_TOPICS, 0)

        today = self.now.astimezone(self.zone).date()
        first_day = today - timedelta(days=history_days)
        self.start = min(self._open_time(first_day), self._midnight(_month_start(today)))
        self._clock = self.start

        self._instructors = [f"ins-{i:02d}" for i in range(1, len(_INSTRUCTORS) + 1)]
        self._reps = {f"rep-{i:02d}": [name, team] for i, (name, team) in enumerate(_REPS, start=1)}
        self._members: list[str] = []
        self._member_weights: list[float] = []
        self._member_name: dict[str, str] = {}
        self._names = self._name_pool()
        self._timetable = self._weekly_timetable()
        self._classes: dict[str, _Class] = {}
        self._bookings: dict[str, _Booking] = {}

        self._at(self.start, lambda: self._publish_reference(members))
        self._at(self.start, lambda: self._open_month(self.start.astimezone(self.zone).date()))
        self._at(self._open_time(first_day), lambda: self._open_day(first_day))
        sales_day = self.start.astimezone(self.zone).date()
        self._at(self.start, lambda: self._open_sales_day(sales_day))
        self._schedule_team_changes()

    # --- driving ---------------------------------------------------------------------

    @property
    def clock(self) -> datetime:
        """How far the model has run (UTC)."""
        return self._clock

    def next_due(self) -> datetime | None:
        """When the next action is due (UTC), or None if nothing is scheduled."""
        return self._queue[0][0] if self._queue else None

    def advance(self, until: datetime) -> list[Event]:
        """Run every action due up to ``until`` and return their records in order."""
        until = until.astimezone(UTC)
        while self._queue and self._queue[0][0] <= until:
            at, _, action = heapq.heappop(self._queue)
            self._clock = at
            action()
        self._clock = max(self._clock, until)
        out, self._out = self._out, []
        return out

    def history(self) -> list[Event]:
        """Return the reference data and everything that happened up to ``now``."""
        return self.advance(self.now)

    def iter_until(self, until: datetime, step: timedelta = timedelta(hours=1)) -> Iterator[Event]:
        """Yield the records up to ``until`` in slices of ``step`` (for long offline runs)."""
        while self._clock < until:
            yield from self.advance(min(until, self._clock + step))

    # --- scheduling helpers ----------------------------------------------------------

    def _at(self, when: datetime, action: Callable[[], None]) -> None:
        """Queue ``action`` at ``when`` (never in the past), whole seconds."""
        when = max(when, self._clock).replace(microsecond=0)
        heapq.heappush(self._queue, (when, next(self._seq), action))

    def _midnight(self, day: date) -> datetime:
        """Return local midnight of ``day`` in UTC."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def _local(self, day: date, at: time) -> datetime:
        """Return the local wall time ``at`` on ``day`` in UTC."""
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def _open_time(self, day: date) -> datetime:
        """Return when ``day``'s timetable is published: ``ahead_days`` before it."""
        # Whole local days back, not 72 hours: a timetable goes out at midnight, DST or not.
        return self._midnight(day - self._ahead)

    def _stamp(self) -> datetime:
        """Return the current time in the gym's zone, as the records carry it."""
        return self._clock.astimezone(self.zone)

    def _emit(self, topic: Topic, key: str, row: Row | None) -> None:
        """Record one event now; now and then follow it with a malformed sibling."""
        value = None if row is None else encode_row(row)
        self._out.append(Event(self._clock, topic, key.encode(), value))
        self.emitted[topic] += 1
        if row is not None and self.malformed_rate and self._bad_rng.random() < self.malformed_rate:
            self._emit_malformed(topic, row)

    def _emit_malformed(self, topic: Topic, row: Row) -> None:
        """Emit a record that breaks the contract, under a key no valid record uses."""
        rng = self._bad_rng
        # A fresh key: compaction can never hide it behind a later valid record.
        key = f"{_KEY_PREFIX[topic]}-x{next(self._bad_ids):05d}"
        fields: dict[str, object] = json.loads(encode_row(row))
        kinds = ["bad_json", "missing_field"]
        if topic is Topic.CLASSES:
            kinds.append("zero_capacity")
        elif topic is Topic.BOOKINGS:
            kinds.append("unknown_status")
        elif topic is Topic.SALES:
            kinds += ["amount_not_integer", "naive_timestamp"]
        kind = rng.choice(kinds)
        if kind == "bad_json":
            good = encode_row(row)
            # Dropping the closing brace (and some) always leaves unbalanced JSON.
            value = good[: rng.randint(len(good) // 2, len(good) - 1)]
        else:
            if kind == "missing_field":
                required = [f for f in row.__struct_fields__ if f not in ("tier", "channel")]
                del fields[rng.choice(required)]
            elif kind == "zero_capacity":
                fields["capacity"] = 0
            elif kind == "unknown_status":
                fields["status"] = rng.choice(("pending", "attended", "BOOKED"))
            elif kind == "amount_not_integer":
                fields["amount_cents"] = f"{rng.randint(100, 9000) / 100:.2f}"
            elif kind == "naive_timestamp":
                fields["sold_at"] = self._stamp().replace(tzinfo=None).isoformat()
            value = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
        self._out.append(Event(self._clock, topic, key.encode(), value, malformed=kind))
        self.emitted[topic] += 1
        self.malformed[topic] += 1

    # --- reference data --------------------------------------------------------------

    def _name_pool(self) -> Iterator[str]:
        """Yield distinct plausible member names in a seeded order."""
        pairs = [(f, last) for f in _FIRST_NAMES for last in _LAST_NAMES]
        self._rng.shuffle(pairs)
        plain = (f"{f} {last}" for f, last in pairs)
        # A live run of many months signs up more people than there are pairs of names.
        initials = (f"{f} {m}. {last}" for m in "ABCDEFGHJKLMNPRSTW" for f, last in pairs)
        return itertools.chain(plain, initials)

    def _publish_reference(self, members: int) -> None:
        """Emit instructors, reps and the member base."""
        for ins_id, (name, _) in zip(self._instructors, _INSTRUCTORS, strict=True):
            self._emit(Topic.INSTRUCTORS, ins_id, InstructorRow(name=name))
        for rep_id, (name, team) in self._reps.items():
            self._emit(Topic.REPS, rep_id, RepRow(name=name, team=team))
        for _ in range(members):
            self._add_member(_weighted(self._rng, _TIERS))

    def _add_member(self, tier: str) -> str:
        """Sign up a new member and emit their row."""
        member_id = f"mem-{len(self._members) + 1:05d}"
        self._members.append(member_id)
        # A few regulars book most classes: a heavy-tailed activity per member.
        self._member_weights.append(self._rng.paretovariate(1.6))
        name = next(self._names)
        self._member_name[member_id] = name
        self._emit(Topic.MEMBERS, member_id, MemberRow(name=name, tier=tier))
        return member_id

    def _weekly_timetable(self) -> dict[int, list[_Slot]]:
        """Draw a weekly timetable (weekday -> slots) that repeats, as gyms' do."""
        rng = self._rng
        table: dict[int, list[_Slot]] = {}
        for weekday in range(7):
            weekend = weekday >= 5
            slots = _WEEKEND_SLOTS if weekend else _WEEKDAY_SLOTS
            busy: dict[int, list[tuple[int, int]]] = {}
            day: list[_Slot] = []
            for location in _LOCATIONS:
                for room in location.rooms:
                    free_from = 0
                    for at, demand in slots:
                        minute = at.hour * 60 + at.minute
                        # Busy hours fill every room; quiet ones only some.
                        if minute < free_from or rng.random() > min(0.95, 0.25 + demand * 0.5):
                            continue
                        kinds = [k for k in _KINDS if k.room_kind == room.kind]
                        kind = rng.choices(kinds, weights=[k.appeal for k in kinds])[0]
                        duration = rng.choice(kind.durations)
                        end = minute + duration
                        teachers = [
                            i
                            for i, (_, skills) in enumerate(_INSTRUCTORS)
                            if kind.title in skills
                            and all(end + 30 <= s or minute >= e + 30 for s, e in busy.get(i, []))
                        ]
                        if not teachers:
                            continue
                        teacher = rng.choice(teachers)
                        busy.setdefault(teacher, []).append((minute, end))
                        low, high = kind.capacity
                        capacity = min(room.capacity, rng.randint(low, high))
                        day.append(
                            _Slot(location, room, kind, at, duration, capacity, teacher, demand)
                        )
                        free_from = end + 15
            day.sort(key=lambda s: (s.at, s.location.code, s.room.name))
            table[weekday] = day
        return table

    # --- classes and bookings --------------------------------------------------------

    def _open_day(self, day: date) -> None:
        """Publish one day's classes, plan their bookings, and chain the next day."""
        for slot in self._timetable[day.weekday()]:
            self._open_class(day, slot)
        following = day + timedelta(days=1)
        self._at(self._open_time(following), lambda: self._open_day(following))

    def _open_class(self, day: date, slot: _Slot) -> None:
        """Publish one class and schedule its life: bookings, doors, start, no-shows."""
        rng = self._rng
        room_no = slot.location.rooms.index(slot.room) + 1
        class_id = f"cls-{day:%Y%m%d}-{slot.location.code}{room_no}-{slot.at:%H%M}"
        starts = self._local(day, slot.at)
        row = ClassRow(
            title=slot.kind.title,
            location=slot.location.name,
            room=slot.room.name,
            instructor_id=self._instructors[slot.instructor],
            starts_at=starts.astimezone(self.zone),
            duration_min=slot.duration_min,
            capacity=slot.capacity,
        )
        cls = _Class(class_id, row, starts)
        self._classes[class_id] = cls
        self._emit(Topic.CLASSES, class_id, row)

        opened = self._clock
        window = (starts - timedelta(minutes=5) - opened).total_seconds()
        demand = slot.demand * slot.kind.appeal * rng.uniform(0.85, 1.5)
        attempts = round(slot.capacity * demand)
        for _ in range(attempts if window > 0 else 0):
            # Lead time skewed short: most people book in the last day, many in the last hours.
            lead = max(300.0, window * rng.random() ** 2.4)
            when = starts - timedelta(seconds=int(lead))
            if when.astimezone(self.zone).hour < 6 and rng.random() < 0.75:
                # Few people book between midnight and six: most of them try again later.
                when = starts - timedelta(seconds=int(max(300.0, window * rng.random() ** 2.4)))
            self._at(when, functools.partial(self._book, cls))
        self._at(starts - _DOORS_BEFORE, lambda: self._open_doors(cls))
        self._at(starts, lambda: self._start_class(cls))
        self._at(starts + timedelta(minutes=rng.randint(15, 25)), lambda: self._sweep(cls))
        if window > 7200 and rng.random() < _GYM_CANCEL_P:
            when = opened + timedelta(seconds=int(rng.uniform(0.3, 0.95) * (window - 3600)))
            self._at(when, lambda: self._gym_cancels(cls))
        elif window > 7200 and rng.random() < _SUBSTITUTE_P:
            when = opened + timedelta(seconds=int(rng.uniform(0.2, 0.9) * (window - 3600)))
            self._at(when, lambda: self._substitute(cls, slot))

    def _book(self, cls: _Class) -> None:
        """A member tries to book: a place if there is one, else the waitlist, else nothing."""
        if cls.cancelled or cls.started:
            return
        rng = self._rng
        member = None
        for _ in range(6):
            candidate = rng.choices(self._members, weights=self._member_weights)[0]
            if candidate not in cls.holders:
                member = candidate
                break
        if member is None:
            return
        if cls.booked < cls.row.capacity:
            status: BookingStatus = "booked"
        elif len(cls.waitlist) < _WAITLIST_LIMIT:
            status = "waitlisted"
        else:
            return
        late = cls.starts_at - self._clock < timedelta(hours=2)
        channel = _weighted(rng, _CHANNELS_LATE if late else _CHANNELS_EARLY)
        booking = _Booking(f"bkg-{next(self._ids):07d}", cls.class_id, member, status, channel)
        self._bookings[booking.booking_id] = booking
        cls.bookings.append(booking.booking_id)
        cls.holders.add(member)
        if status == "booked":
            cls.booked += 1
        else:
            cls.waitlist.append(booking.booking_id)
        self._emit_booking(booking)
        if status == "booked" and cls.doors_open:
            # Booked at the desk a few minutes before: almost surely coming in.
            self._maybe_check_in(cls, booking, 0.9)
            return
        p_cancel = _CANCEL_P_BOOKED if status == "booked" else _CANCEL_P_WAITLISTED
        left = (cls.starts_at - timedelta(minutes=2) - self._clock).total_seconds()
        if left > 60 and rng.random() < p_cancel:
            when = self._clock + timedelta(seconds=int(rng.uniform(60, left)))
            self._at(when, lambda: self._cancel(booking))

    def _emit_booking(self, booking: _Booking) -> None:
        """Emit a booking's current state."""
        row = BookingRow(
            class_id=booking.class_id,
            member_id=booking.member_id,
            status=booking.status,
            updated_at=self._stamp(),
            channel=booking.channel,
        )
        self._emit(Topic.BOOKINGS, booking.booking_id, row)

    def _set_status(self, booking: _Booking, status: BookingStatus) -> None:
        """Move a booking to ``status`` and emit it."""
        booking.status = status
        self._emit_booking(booking)

    def _cancel(self, booking: _Booking) -> None:
        """A member cancels; a freed place goes to the first on the waitlist."""
        cls = self._classes[booking.class_id]
        if cls.cancelled or cls.started or booking.status not in ("booked", "waitlisted"):
            return
        was_booked = booking.status == "booked"
        self._set_status(booking, "cancelled")
        cls.holders.discard(booking.member_id)
        if not was_booked:
            cls.waitlist.remove(booking.booking_id)
            return
        cls.booked -= 1
        if cls.waitlist:
            # The booking system promotes at once, in the same moment as the cancellation.
            promoted = self._bookings[cls.waitlist.popleft()]
            cls.booked += 1
            self._set_status(promoted, "booked")
            if cls.doors_open:
                self._maybe_check_in(cls, promoted, 0.55)

    def _open_doors(self, cls: _Class) -> None:
        """Doors open a quarter of an hour before: decide who turns up and when."""
        if cls.cancelled:
            return
        cls.doors_open = True
        early = cls.row.starts_at.hour < 8
        show = 0.9 if early else 0.84
        for booking_id in cls.bookings:
            booking = self._bookings[booking_id]
            if booking.status == "booked":
                self._maybe_check_in(cls, booking, show)

    def _maybe_check_in(self, cls: _Class, booking: _Booking, p: float) -> None:
        """With probability ``p`` the member checks in at the door around the start."""
        rng = self._rng
        if rng.random() >= p:
            return
        offset = min(12.0, max(-14.0, rng.gauss(-5.0, 4.5)))
        when = max(
            self._clock + timedelta(seconds=20), cls.starts_at + timedelta(seconds=int(offset * 60))
        )
        self._at(when, lambda: self._check_in(cls, booking))

    def _check_in(self, cls: _Class, booking: _Booking) -> None:
        """The member is scanned in at the door."""
        if not cls.cancelled and booking.status == "booked":
            self._set_status(booking, "checked_in")

    def _start_class(self, cls: _Class) -> None:
        """The class starts: the waitlist closes, waiting bookings lapse."""
        if cls.cancelled:
            return
        cls.started = True
        while cls.waitlist:
            self._set_status(self._bookings[cls.waitlist.popleft()], "cancelled")

    def _sweep(self, cls: _Class) -> None:
        """After the start, who is still only booked did not come; then forget the class."""
        for booking_id in cls.bookings:
            booking = self._bookings.pop(booking_id)
            if booking.status == "booked" and not cls.cancelled:
                self._set_status(booking, "no_show")
        # Nothing changes a class after this: dropping it keeps a long live run small.
        del self._classes[cls.class_id]

    def _gym_cancels(self, cls: _Class) -> None:
        """The gym cancels a class: every booking is cancelled, then the class is deleted."""
        if cls.started:
            return
        cls.cancelled = True
        for booking_id in cls.bookings:
            booking = self._bookings[booking_id]
            if booking.status in _ACTIVE:
                self._set_status(booking, "cancelled")
        cls.waitlist.clear()
        self._emit(Topic.CLASSES, cls.class_id, None)

    def _substitute(self, cls: _Class, slot: _Slot) -> None:
        """Another instructor covers the class (the regular one is ill or away)."""
        if cls.cancelled or cls.started:
            return
        cover = [
            ins_id
            for i, ins_id in enumerate(self._instructors)
            if i != slot.instructor
            and slot.kind.title in _INSTRUCTORS[i][1]
            and not self._teaching(ins_id, cls)
        ]
        if not cover:
            return
        old = cls.row
        cls.row = ClassRow(
            title=old.title,
            location=old.location,
            room=old.room,
            instructor_id=self._rng.choice(cover),
            starts_at=old.starts_at,
            duration_min=old.duration_min,
            capacity=old.capacity,
        )
        self._emit(Topic.CLASSES, cls.class_id, cls.row)

    def _teaching(self, instructor_id: str, cls: _Class) -> bool:
        """Whether the instructor teaches another class overlapping ``cls`` (with travel)."""
        start = cls.starts_at - timedelta(minutes=30)
        end = cls.starts_at + timedelta(minutes=cls.row.duration_min + 30)
        for other in self._classes.values():
            if other.cancelled or other.row.instructor_id != instructor_id:
                continue
            other_end = other.starts_at + timedelta(minutes=other.row.duration_min)
            if other.starts_at < end and other_end > start:
                return True
        return False

    # --- sales, reps and targets -----------------------------------------------------

    def _open_sales_day(self, day: date) -> None:
        """Plan one day's sales over the opening hours, and chain the next day."""
        rng = self._rng
        weekend = day.weekday() >= 5
        opens, closes = (time(8), time(18)) if weekend else (time(7), time(21))
        mean = _SALES_PER_DAY["weekend" if weekend else "weekday"]
        start, end = self._local(day, opens), self._local(day, closes)
        span = (end - start).total_seconds()
        for _ in range(self._poisson(mean)):
            # Busiest around lunch and after work: a mix of two humps over the day.
            centre = rng.choice((0.35, 0.75))
            frac = min(0.999, max(0.0, rng.gauss(centre, 0.18)))
            self._at(start + timedelta(seconds=int(frac * span)), self._sell)
        following = day + timedelta(days=1)
        self._at(self._midnight(following), lambda: self._open_sales_day(following))

    def _poisson(self, mean: float) -> int:
        """Draw a Poisson count (Knuth; the means here are small)."""
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self._rng.random()
            if p <= limit:
                return k
            k += 1

    def _sell(self) -> None:
        """A rep at one location makes a sale; a membership sale signs up or upgrades."""
        rng = self._rng
        location = rng.choices(_LOCATIONS, weights=[loc.share for loc in _LOCATIONS])[0]
        team = [r for r, (_, t) in self._reps.items() if t == location.name]
        rep_id = rng.choice(team or list(self._reps))
        index = rng.choices(range(len(_PRODUCTS)), cum_weights=_PRODUCT_WEIGHTS)[0]
        product, price, _ = _PRODUCTS[index]
        if rng.random() < 0.12:
            price = round(price * (1 - rng.choice((0.1, 0.15, 0.2))))
        sale_id = f"sale-{next(self._ids):07d}"
        row = SaleRow(
            rep_id=rep_id,
            product=product,
            currency=CURRENCY,
            amount_cents=price,
            sold_at=self._stamp(),
        )
        self._emit(Topic.SALES, sale_id, row)
        if product.startswith("Membership"):
            tier = {"Plus": "Plus", "Premium": "Premium"}.get(product.split()[1], "Basic")
            if rng.random() < 0.65:
                self._add_member(tier)
            else:
                member = rng.choice(self._members)
                # A changelog row is the whole entity: an upgrade repeats the name.
                row_m = MemberRow(name=self._member_name[member], tier=tier)
                self._emit(Topic.MEMBERS, member, row_m)

    def _open_month(self, day: date) -> None:
        """Set this month's targets for every rep and team, and chain the next month."""
        rng = self._rng
        period = f"{day:%Y-%m}"
        month_days = (_next_month(day) - _month_start(day)).days
        per_day = (5 * _SALES_PER_DAY["weekday"] + 2 * _SALES_PER_DAY["weekend"]) / 7
        expected = month_days * per_day * _MEAN_SALE_CENTS
        team_totals: dict[str, int] = {}
        for rep_id, (_, team) in self._reps.items():
            share = next(loc.share for loc in _LOCATIONS if loc.name == team)
            size = sum(1 for _, t in self._reps.values() if t == team)
            # A stretch target: a little above what the rep should make, in whole hundreds.
            target = round(expected * share / size * rng.uniform(0.95, 1.2), -5)
            team_totals[team] = team_totals.get(team, 0) + int(target)
            self._emit(
                Topic.TARGETS,
                f"rep:{rep_id}:{period}",
                TargetRow(scope="rep", scope_id=rep_id, period=period, target_cents=int(target)),
            )
        for team, total in team_totals.items():
            self._emit(
                Topic.TARGETS,
                f"team:{team}:{period}",
                TargetRow(scope="team", scope_id=team, period=period, target_cents=total),
            )
        following = _next_month(day)
        self._at(self._midnight(following), lambda: self._open_month(following))

    def _schedule_team_changes(self) -> None:
        """Plan a rep's move between teams: once in the history if it is long, once live."""
        rng = self._rng
        history = self.now - self.start
        if history > timedelta(days=2):
            when = self.start + timedelta(
                seconds=int(rng.uniform(0.2, 0.8) * history.total_seconds())
            )
            self._at(when, self._change_team)
        first_live = self.now + timedelta(seconds=rng.randint(20 * 60, 4 * 3600))
        self._at(first_live, self._change_team_and_repeat)

    def _change_team(self) -> None:
        """Move a rep from the bigger team to the other one."""
        teams = [loc.name for loc in _LOCATIONS]
        sizes = {t: sum(1 for _, team in self._reps.values() if team == t) for t in teams}
        source = max(teams, key=lambda t: sizes[t])
        target = next(t for t in teams if t != source)
        rep_id = self._rng.choice(sorted(r for r, (_, t) in self._reps.items() if t == source))
        self._reps[rep_id][1] = target
        self._emit(Topic.REPS, rep_id, RepRow(name=self._reps[rep_id][0], team=target))

    def _change_team_and_repeat(self) -> None:
        """Move a rep now, and plan the next move some days later."""
        self._change_team()
        later = self._clock + timedelta(seconds=self._rng.randint(4 * 86400, 10 * 86400))
        self._at(later, self._change_team_and_repeat)
