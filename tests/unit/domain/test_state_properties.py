"""Property: whatever the log, the incremental aggregates equal a recount from the tables.

Random logs over a small id space (so that keys collide, classes move, reps change team
and targets duplicate) are fed as JSON bytes through ``GymState.apply``. After every step
the state is checked against a recount written here from the tables alone, and every
view line that changed must be named by the step's ``Changes``. After the log the state
must equal the one built from its compaction: the last valid record of each key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import (
    BookingRow,
    ClassRow,
    InstructorRow,
    RepRow,
    Row,
    SaleRow,
    TargetRow,
    Topic,
    decode_value,
)
from gymdesk.domain.state import GymState, StateSettings
from gymdesk.domain.state import Record as StateRecord
from gymdesk.domain.views import ClassView, InstructorView, PeriodSummary, RepView, TeamView

ZONE = ZoneInfo("Europe/Berlin")
PERIODS = ("2024-05", "2024-06")
THRESHOLD = 0.5  # reached exactly by 1 of 2 and 2 of 4

CLASS_IDS = ("c1", "c2", "c3")
INSTRUCTOR_IDS = ("i1", "i2", "i3")
MEMBER_IDS = ("m1", "m2")
BOOKING_IDS = ("b1", "b2", "b3", "b4", "b5")
REP_IDS = ("r1", "r2")
TEAMS = ("north", "south")
SALE_IDS = ("s1", "s2", "s3", "s4", "s5")
TARGET_IDS = ("t1", "t2", "t3", "t4")
TARGET_TRIPLES = [
    (scope, scope_id, period)
    for scope, scope_ids in (("rep", REP_IDS), ("team", TEAMS))
    for scope_id in scope_ids
    for period in PERIODS
]
STATUSES = ("booked", "waitlisted", "cancelled", "checked_in", "no_show")
KEYS: dict[Topic, tuple[str, ...]] = {
    Topic.CLASSES: CLASS_IDS,
    Topic.INSTRUCTORS: INSTRUCTOR_IDS,
    Topic.MEMBERS: MEMBER_IDS,
    Topic.BOOKINGS: BOOKING_IDS,
    Topic.SALES: SALE_IDS,
    Topic.REPS: REP_IDS,
    Topic.TARGETS: TARGET_IDS,
}
# Instants in and around the months, in several offsets, with their month in Berlin.
SOLD_AT = (
    "2024-05-15T12:00:00Z",  # May
    "2024-05-02T09:00:00+02:00",  # May
    "2024-04-30T22:30:00Z",  # May (00:30 on 1 May)
    "2024-05-31T22:30:00Z",  # June (00:30 on 1 June)
    "2024-04-30T21:59:59Z",  # April (a second before May)
    "2024-05-31T23:59:00+02:00",  # May
    "2024-06-10T09:00:00-05:00",  # June
    "2024-06-30T23:00:00+01:00",  # July
    "2024-05-20 08:00:00+09:00",  # May (a space for the T is valid RFC 3339)
)


@dataclass(frozen=True)
class Record:
    """One record of the log; ``valid`` says whether the contract accepts it."""

    topic: Topic
    key: bytes | None
    value: bytes | None
    valid: bool


@dataclass(frozen=True)
class SetPeriod:
    """The user (or the calendar) switches the sales period."""

    period: str


Step = Record | SetPeriod


# ---------------------------------------------------------------- strategies

names = st.sampled_from(("Ana", "Ben", "Cai", "Dee"))
EXTRAS: tuple[dict[str, Any], ...] = ({}, {"note": "ignored"}, {"version": 3, "tags": ["a"]})
extras = st.sampled_from(EXTRAS)


def class_fields(values: tuple[str, str, int]) -> dict[str, Any]:
    title, instructor_id, capacity = values
    return {
        "title": title,
        "location": "Central",
        "room": "A",
        "instructor_id": instructor_id,
        "starts_at": "2024-05-10T18:00:00+02:00",
        "duration_min": 45,
        "capacity": capacity,
    }


def booking_fields(values: tuple[str, str, str, str | None]) -> dict[str, Any]:
    class_id, member_id, status, channel = values
    fields = {
        "class_id": class_id,
        "member_id": member_id,
        "status": status,
        "updated_at": "2024-05-09T08:00:00Z",
    }
    return fields if channel is None else {**fields, "channel": channel}


def sale_fields(values: tuple[str, int, str]) -> dict[str, Any]:
    rep_id, amount_cents, sold_at = values
    return {
        "rep_id": rep_id,
        "product": "annual",
        "currency": "EUR",
        "amount_cents": amount_cents,
        "sold_at": sold_at,
    }


def target_fields(values: tuple[tuple[str, str, str], int]) -> dict[str, Any]:
    (scope, scope_id, period), target_cents = values
    return {"scope": scope, "scope_id": scope_id, "period": period, "target_cents": target_cents}


FIELDS: dict[Topic, st.SearchStrategy[dict[str, Any]]] = {
    Topic.CLASSES: st.tuples(
        names, st.sampled_from(INSTRUCTOR_IDS), st.sampled_from((1, 2, 3, 4))
    ).map(class_fields),
    Topic.INSTRUCTORS: names.map(lambda name: {"name": name}),
    Topic.MEMBERS: st.tuples(names, st.sampled_from(("gold", None))).map(
        lambda values: {"name": values[0], "tier": values[1]}
    ),
    Topic.BOOKINGS: st.tuples(
        st.sampled_from((*CLASS_IDS, "c9")),  # c9 never gets a row
        st.sampled_from(MEMBER_IDS),
        st.sampled_from(STATUSES),
        st.sampled_from((None, "app")),
    ).map(booking_fields),
    Topic.SALES: st.tuples(
        st.sampled_from((*REP_IDS, "r9")),  # r9 never gets a row
        st.sampled_from((1000, 250, 0, -300, 4999)),
        st.sampled_from(SOLD_AT),
    ).map(sale_fields),
    Topic.REPS: st.tuples(names, st.sampled_from(TEAMS)).map(
        lambda values: {"name": values[0], "team": values[1]}
    ),
    # The first triple comes up often, so that several target rows name it at once.
    Topic.TARGETS: st.tuples(
        st.sampled_from([("team", "north", PERIODS[0]), *TARGET_TRIPLES]),
        st.sampled_from((0, 100, 2500, 9000)),
    ).map(target_fields),
}

# Per topic, field changes that break the contract.
BREAKERS: dict[Topic, list[tuple[str, Any]]] = {
    Topic.CLASSES: [
        ("capacity", 0),
        ("capacity", -2),
        ("duration_min", 0),
        ("capacity", "4"),
        ("capacity", 2.0),
        ("starts_at", "2024-05-10T18:00:00"),
        ("starts_at", "soon"),
        ("instructor_id", None),
    ],
    Topic.INSTRUCTORS: [("name", 7), ("name", None)],
    Topic.MEMBERS: [("name", ["x"]), ("tier", 1)],
    Topic.BOOKINGS: [
        ("status", "late"),
        ("status", None),
        ("class_id", 3),
        ("updated_at", "2024-05-09T08:00:00"),
        ("updated_at", "2024-02-30T08:00:00Z"),
    ],
    Topic.SALES: [
        ("amount_cents", "100"),
        ("amount_cents", 1.5),
        ("sold_at", "2024-05-15T12:00:00"),
        ("rep_id", {"id": "r1"}),
    ],
    Topic.REPS: [("team", None), ("team", 1)],
    Topic.TARGETS: [
        ("period", "2024-13"),
        ("period", "2024-5"),
        ("period", "2024-05-01"),
        ("target_cents", -1),
        ("scope", "club"),
    ],
}
NOT_OBJECTS = (b"", b"{", b"[]", b"null", b"7", b'"x"', b"\xff\xfe", b"\x00")


def encode(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields).encode()


# The topics that feed aggregates come up more often than members and instructors.
WEIGHTED_TOPICS = [
    *(Topic.CLASSES, Topic.CLASSES, Topic.BOOKINGS, Topic.BOOKINGS, Topic.BOOKINGS),
    *(Topic.SALES, Topic.SALES, Topic.REPS, Topic.REPS, Topic.TARGETS, Topic.TARGETS),
    *(Topic.INSTRUCTORS, Topic.MEMBERS),
]


@st.composite
def valid_records(draw: st.DrawFn, topics: Sequence[Topic] = WEIGHTED_TOPICS) -> Record:
    topic = draw(st.sampled_from(topics))
    key = draw(st.sampled_from(KEYS[topic]))
    if draw(st.integers(0, 5)) == 0:
        return Record(topic, key.encode(), None, True)  # tombstone
    fields = {**draw(FIELDS[topic]), **draw(extras)}
    return Record(topic, key.encode(), encode(fields), True)


@st.composite
def invalid_records(draw: st.DrawFn) -> Record:
    topic = draw(st.sampled_from(list(Topic)))
    key = draw(st.sampled_from(KEYS[topic])).encode()
    fields = draw(FIELDS[topic])
    kind = draw(st.integers(0, 4))
    if kind == 0:  # a bad key, with a good value or a tombstone
        bad_key = draw(st.sampled_from((None, b"", b"\xff", b"c1\xc3(")))
        value = draw(st.sampled_from((None, encode(fields))))
        return Record(topic, bad_key, value, False)
    if kind == 1:
        return Record(topic, key, draw(st.sampled_from(NOT_OBJECTS)), False)
    if kind == 2:  # a required field missing
        required = [name for name in fields if name not in ("tier", "channel")]
        del fields[draw(st.sampled_from(required))]
        return Record(topic, key, encode(fields), False)
    if kind == 3:
        name, bad = draw(st.sampled_from(BREAKERS[topic]))
        return Record(topic, key, encode({**fields, name: bad}), False)
    # Invalid UTF-8 inside a string value: not JSON.
    name = next(name for name, value in fields.items() if isinstance(value, str))
    raw = encode({**fields, name: "@@"}).replace(b'"@@"', b'"\xc3("')
    return Record(topic, key, raw, False)


@st.composite
def steps(draw: st.DrawFn) -> Step:
    """Mostly valid records, some broken ones, now and then a switch of period."""
    roll = draw(st.integers(0, 19))
    if roll == 0:
        return SetPeriod(draw(st.sampled_from(PERIODS)))
    if roll <= 4:
        return draw(invalid_records())
    return draw(valid_records())


# ---------------------------------------------------------------- the recount


def month(sale: SaleRow) -> str:
    return sale.sold_at.astimezone(ZONE).strftime("%Y-%m")


def expected_target(
    tables: dict[Topic, dict[str, Row]],
    written: dict[str, int],
    scope: str,
    scope_id: str,
    period: str,
) -> int | None:
    """The target of the most recently written row naming (scope, scope id, period)."""
    matches = [
        (written[key], cast(TargetRow, row).target_cents)
        for key, row in tables[Topic.TARGETS].items()
        if (row_t := cast(TargetRow, row)).scope == scope
        and row_t.scope_id == scope_id
        and row_t.period == period
    ]
    return max(matches)[1] if matches else None


def recount(
    tables: dict[Topic, dict[str, Row]], period: str, written: dict[str, int]
) -> dict[str, Any]:
    """Every view line, computed from the tables alone (and the write order of targets)."""
    classes = cast(dict[str, ClassRow], tables[Topic.CLASSES])
    instructors = cast(dict[str, InstructorRow], tables[Topic.INSTRUCTORS])
    bookings = cast(dict[str, BookingRow], tables[Topic.BOOKINGS])
    sales = cast(dict[str, SaleRow], tables[Topic.SALES])
    reps = cast(dict[str, RepRow], tables[Topic.REPS])

    by_status: dict[str, dict[str, int]] = {}
    for booking in bookings.values():
        per_class = by_status.setdefault(booking.class_id, dict.fromkeys(STATUSES, 0))
        per_class[booking.status] += 1

    class_lines: dict[str, ClassView | None] = {}
    for class_id in (*CLASS_IDS, "c9"):
        row = classes.get(class_id)
        if row is None:
            class_lines[class_id] = None
            continue
        n = by_status.get(class_id, dict.fromkeys(STATUSES, 0))
        booked = n["booked"] + n["checked_in"]
        teacher = instructors.get(row.instructor_id)
        class_lines[class_id] = ClassView(
            id=class_id,
            title=row.title,
            location=row.location,
            room=row.room,
            instructor_id=row.instructor_id,
            instructor_name=None if teacher is None else teacher.name,
            starts_at=row.starts_at,
            duration_min=row.duration_min,
            capacity=row.capacity,
            booked=booked,
            waitlisted=n["waitlisted"],
            checked_in=n["checked_in"],
            cancelled=n["cancelled"],
            no_show=n["no_show"],
            fill=booked / row.capacity,
            busy=booked / row.capacity >= THRESHOLD or n["waitlisted"] > 0,
            full=booked >= row.capacity,
        )

    instructor_lines: dict[str, InstructorView | None] = {}
    for instructor_id in INSTRUCTOR_IDS:
        teacher = instructors.get(instructor_id)
        if teacher is None:
            instructor_lines[instructor_id] = None
            continue
        theirs = [
            line
            for class_id, line in class_lines.items()
            if line is not None and classes[class_id].instructor_id == instructor_id
        ]
        instructor_lines[instructor_id] = InstructorView(
            id=instructor_id,
            name=teacher.name,
            classes=len(theirs),
            booked=sum(line.booked for line in theirs),
            capacity=sum(line.capacity for line in theirs),
            checked_in=sum(line.checked_in for line in theirs),
            no_show=sum(line.no_show for line in theirs),
        )

    in_period = [sale for sale in sales.values() if month(sale) == period]

    def target(scope: str, scope_id: str) -> int | None:
        return expected_target(tables, written, scope, scope_id, period)

    rep_lines: dict[str, RepView | None] = {}
    for rep_id in (*REP_IDS, "r9"):
        rep = reps.get(rep_id)
        mine = [sale.amount_cents for sale in in_period if sale.rep_id == rep_id]
        rep_lines[rep_id] = (
            None
            if rep is None
            else RepView(rep_id, rep.name, rep.team, sum(mine), len(mine), target("rep", rep_id))
        )

    named_teams = {rep.team for rep in reps.values()}
    team_lines: dict[str, TeamView | None] = {}
    for team in TEAMS:
        if team not in named_teams:
            team_lines[team] = None
            continue
        members = {rep_id for rep_id, rep in reps.items() if rep.team == team}
        theirs_cents = [sale.amount_cents for sale in in_period if sale.rep_id in members]
        team_lines[team] = TeamView(
            team, sum(theirs_cents), len(theirs_cents), len(members), target("team", team)
        )

    by_day: dict[int, int] = {}
    for sale in in_period:
        day = sale.sold_at.astimezone(ZONE).day
        by_day[day] = by_day.get(day, 0) + sale.amount_cents
    team_targets = [t for team in named_teams if (t := target("team", team)) is not None]
    summary = PeriodSummary(
        period,
        sum(sale.amount_cents for sale in in_period),
        len(in_period),
        sum(team_targets) if team_targets else None,
        {day: cents for day, cents in by_day.items() if cents != 0},
    )

    return {
        "classes": class_lines,
        "class ids": sorted(classes),
        "instructors": instructor_lines,
        "instructor ids": sorted(instructors),
        "reps": rep_lines,
        "rep ids": sorted(reps),
        "teams": team_lines,
        "team ids": sorted(named_teams),
        "period": summary,
        "rosters": {
            class_id: frozenset(k for k, b in bookings.items() if b.class_id == class_id)
            for class_id in (*CLASS_IDS, "c9")
        },
        "targets": {triple: expected_target(tables, written, *triple) for triple in TARGET_TRIPLES},
    }


def observe(state: GymState) -> dict[str, Any]:
    """The same lines, read through the state's public views."""
    return {
        "classes": {c: state.class_view(c) for c in (*CLASS_IDS, "c9")},
        "class ids": sorted(v.id for v in state.class_views()),
        "instructors": {i: state.instructor_view(i) for i in INSTRUCTOR_IDS},
        "instructor ids": sorted(v.id for v in state.instructor_views()),
        "reps": {r: state.rep_view(r) for r in (*REP_IDS, "r9")},
        "rep ids": sorted(v.id for v in state.rep_views()),
        "teams": {t: state.team_view(t) for t in TEAMS},
        "team ids": sorted(v.id for v in state.team_views()),
        "period": state.period_summary(),
        "rosters": {c: state.bookings_of_class(c) for c in (*CLASS_IDS, "c9")},
        "targets": {triple: state.target_cents(*triple) for triple in TARGET_TRIPLES},
    }


def lines(state: GymState) -> dict[View, dict[str, object]]:
    """Everything a screen shows, by view and key, to see which lines a step changed."""
    seen = observe(state)
    tables = state.tables
    return {
        View.CLASSES: dict(seen["classes"]),
        View.INSTRUCTORS: dict(seen["instructors"]),
        View.REPS: dict(seen["reps"]),
        View.TEAMS: dict(seen["teams"]),
        View.PERIOD: {"summary": seen["period"]},
        View.MEMBERS: {k: tables[Topic.MEMBERS].get(k) for k in MEMBER_IDS},
        View.BOOKINGS: {k: tables[Topic.BOOKINGS].get(k) for k in BOOKING_IDS},
        View.SALES: {k: tables[Topic.SALES].get(k) for k in SALE_IDS},
        View.TARGETS: {k: tables[Topic.TARGETS].get(k) for k in TARGET_IDS},
        View.REJECTED: {str(t): state.rejections.by_topic[f"p.{t}"] for t in Topic},
    }


def assert_changes_name_every_changed_line(
    before: dict[View, dict[str, object]],
    after: dict[View, dict[str, object]],
    changes: Changes,
    period: str,
) -> None:
    for view, old_lines in before.items():
        keys = changes.keys(view)
        for line, old in old_lines.items():
            # The period summary is reported under the period it sums.
            key = period if view is View.PERIOD else line
            if after[view][line] != old:
                assert keys is None or key in keys, f"{view} {key!r} changed but not reported"


def snapshot(state: GymState) -> dict[Topic, dict[str, Row]]:
    return {topic: dict(rows) for topic, rows in state.tables.items()}


def new_state(period: str) -> GymState:
    return GymState(StateSettings(prefix="p.", busy_threshold=THRESHOLD, zone=ZONE, period=period))


def run(log: list[Step], check: Callable[[GymState, dict[str, int]], None]) -> GymState:
    """Apply the log step by step, checking each step; return the final state."""
    state = new_state(PERIODS[0])
    written: dict[str, int] = {}
    for position, step in enumerate(log):
        before_lines, before_tables = lines(state), snapshot(state)
        rejected_before = state.rejections.total
        changes = Changes()
        if isinstance(step, SetPeriod):
            state.set_period(step.period, changes)
        else:
            state.apply(step.topic, step.key, step.value, 0, position, changes)
            if step.valid:
                assert state.rejections.total == rejected_before
                if step.topic is Topic.TARGETS and step.value is not None:
                    assert step.key is not None
                    written[step.key.decode()] = position
            else:
                assert state.tables == before_tables, "a rejected record changed a table"
                assert state.rejections.total == rejected_before + 1
                assert changes.views() == {View.REJECTED}
        assert_changes_name_every_changed_line(before_lines, lines(state), changes, state.period)
        check(state, written)
    return state


def assert_matches_recount(state: GymState, written: dict[str, int]) -> None:
    assert observe(state) == recount(state.tables, state.period, written)


def compaction(log: list[Step]) -> list[tuple[int, Record]]:
    """The last valid record of each key, at its position in the log."""
    last: dict[tuple[Topic, bytes], tuple[int, Record]] = {}
    for position, step in enumerate(log):
        if isinstance(step, Record) and step.valid:
            assert step.key is not None
            last[(step.topic, step.key)] = (position, step)
    return sorted(last.values(), key=lambda item: item[0])


def final_period(log: list[Step]) -> str:
    periods = [step.period for step in log if isinstance(step, SetPeriod)]
    return periods[-1] if periods else PERIODS[0]


PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(log=st.lists(steps(), min_size=15, max_size=60))
def test_aggregates_equal_a_recount_after_every_step(log: list[Step]) -> None:
    run(log, assert_matches_recount)


@PROPERTY_SETTINGS
@given(log=st.lists(steps(), min_size=15, max_size=60), topic_order=st.permutations(list(Topic)))
def test_state_equals_the_state_of_the_compacted_log(
    log: list[Step], topic_order: list[Topic]
) -> None:
    full = new_state(PERIODS[0])
    for position, step in enumerate(log):
        if isinstance(step, SetPeriod):
            full.set_period(step.period, Changes())
        else:
            full.apply(step.topic, step.key, step.value, 0, position)
    kept = compaction(log)
    # Read back in log order, and topic after topic (as a catch-up may read them).
    in_log_order = new_state(final_period(log))
    for position, record in kept:
        in_log_order.apply(record.topic, record.key, record.value, 0, position)
    by_topic = new_state(final_period(log))
    for topic in topic_order:
        for position, record in kept:
            if record.topic is topic:
                by_topic.apply(record.topic, record.key, record.value, 0, position)
    for rebuilt in (in_log_order, by_topic):
        assert rebuilt.rejections.total == 0
        assert rebuilt.tables == full.tables
        assert observe(rebuilt) == observe(full)
        for scope, ids in (("rep", REP_IDS), ("team", TEAMS)):
            for scope_id in ids:
                for period in PERIODS:
                    assert rebuilt.target_cents(scope, scope_id, period) == (
                        full.target_cents(scope, scope_id, period)
                    )


def target_record(key: str, scope_id: str | None, cents: int = 0) -> Record:
    """A rep target for the first period (None: a tombstone)."""
    value = None
    if scope_id is not None:
        value = encode(target_fields((("rep", scope_id, PERIODS[0]), cents)))
    return Record(Topic.TARGETS, key.encode(), value, True)


target_logs = st.lists(
    st.builds(
        target_record,
        st.sampled_from(TARGET_IDS[:3]),
        st.sampled_from(("r1", "r1", "r2", None)),
        st.integers(0, 9),
    ),
    max_size=25,
)


@PROPERTY_SETTINGS
@given(log=target_logs)
@example(
    # t1 wrote last before t3 came and went: t1 (100) must stand in, not t2 (200).
    log=[
        target_record("t1", "r1", 100),
        target_record("t2", "r1", 200),
        target_record("t1", "r1", 100),
        target_record("t3", "r1", 300),
        target_record("t3", None),
    ]
)
def test_duplicate_targets_resolve_to_the_latest_write_as_in_the_compacted_log(
    log: list[Step],
) -> None:
    full = run(log, assert_matches_recount)
    rebuilt = new_state(PERIODS[0])
    for position, record in compaction(log):
        rebuilt.apply(record.topic, record.key, record.value, 0, position)
    for rep_id in REP_IDS:
        assert rebuilt.target_cents("rep", rep_id) == full.target_cents("rep", rep_id)


# ---------------------------------------------------------------- batches


def changes_as_dict(changes: Changes) -> dict[View, frozenset[str] | None]:
    return {view: changes.keys(view) for view in changes.views()}


def batches(records: list[Record], cuts: list[bool]) -> list[list[Record]]:
    """Split a log into runs of one topic, also cut wherever ``cuts`` says."""
    out: list[list[Record]] = []
    for n, record in enumerate(records):
        if not out or out[-1][-1].topic is not record.topic or cuts[n % len(cuts)]:
            out.append([])
        out[-1].append(record)
    return out


# Mostly bookings (the batch path), with classes moving under them and broken records.
batch_records = st.one_of(
    valid_records(),
    # Bookings twice more, drawn as such: filtering them out of every topic threw away
    # six draws in seven, and Hypothesis's health check failed the test now and then.
    valid_records(topics=[Topic.BOOKINGS]),
    valid_records(topics=[Topic.BOOKINGS]),
    invalid_records(),
)


@PROPERTY_SETTINGS
@given(
    records=st.lists(batch_records, min_size=10, max_size=80),
    cuts=st.lists(st.booleans(), min_size=1, max_size=20),
    catching_up=st.booleans(),
)
def test_applying_batches_equals_applying_each_record(
    records: list[Record], cuts: list[bool], catching_up: bool
) -> None:
    one_by_one, batched = new_state(PERIODS[0]), new_state(PERIODS[0])
    for position, batch in enumerate(batches(records, cuts)):
        each = Changes()
        for n, record in enumerate(batch):
            one_by_one.apply(record.topic, record.key, record.value, 0, position * 100 + n, each)
        together = Changes()
        if catching_up:
            together.touch_all(View.BOOKINGS)
            each.touch_all(View.BOOKINGS)
        batched.apply_records(
            batch[0].topic,
            [StateRecord(r.key, r.value, 0, position * 100 + n) for n, r in enumerate(batch)],
            together,
        )
        assert changes_as_dict(together) == changes_as_dict(each)
        assert batched.tables == one_by_one.tables
        assert observe(batched) == observe(one_by_one)
        if cuts[position % len(cuts)]:  # as a snapshot save would, now and then
            assert batched.take_dirty() == one_by_one.take_dirty()
    assert batched.rejections.by_reason == one_by_one.rejections.by_reason
    assert list(batched.rejections.latest) == list(one_by_one.rejections.latest)
    assert batched.take_dirty() == one_by_one.take_dirty()


@PROPERTY_SETTINGS
@given(records=st.lists(batch_records, min_size=10, max_size=80))
def test_putting_many_rows_equals_putting_each(records: list[Record]) -> None:
    """What a snapshot load does: decoded rows, in order, one topic per call."""
    one_by_one, together = new_state(PERIODS[0]), new_state(PERIODS[0])
    for batch in batches([r for r in records if r.valid], [False]):
        topic = batch[0].topic
        rows = [
            (r.key.decode(), None if r.value is None else decode_value(topic, r.value))
            for r in batch
            if r.key is not None
        ]
        each, all_at_once = Changes(), Changes()
        for key, row in rows:
            one_by_one.put(topic, key, row, each)
        together.put_many(topic, rows, all_at_once)
        assert changes_as_dict(all_at_once) == changes_as_dict(each)
        assert together.tables == one_by_one.tables
        assert observe(together) == observe(one_by_one)
        assert together.take_dirty() == one_by_one.take_dirty()
