"""The pure gym model: repeatable, within the contract, and believable."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from gymdesk.domain.contract import (
    BookingRow,
    ClassRow,
    MemberRow,
    RejectedRecord,
    RepRow,
    SaleRow,
    TargetRow,
    Topic,
    decode_key,
    decode_value,
)
from gymdesk.sim.model import Event as SimEvent
from gymdesk.sim.model import GymModel

NOW = datetime(2025, 3, 19, 13, 47, 12, tzinfo=UTC)  # a Wednesday, mid-month
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAY_TIMES = [(6, 30), (7, 15), (9, 30), (10, 30), (12, 15), (13, 0), (16, 30), (17, 30)]
WEEKDAY_TIMES += [(18, 15), (19, 0), (19, 45), (20, 30)]
KEY_PREFIX = {
    Topic.CLASSES: "cls-",
    Topic.INSTRUCTORS: "ins-",
    Topic.MEMBERS: "mem-",
    Topic.BOOKINGS: "bkg-",
    Topic.SALES: "sale-",
    Topic.REPS: "rep-",
}


def run_model(seed: int, days: float = 2.0, **kwargs: object) -> tuple[GymModel, list[SimEvent]]:
    """Return a model and its records: the history plus ``days`` of live run."""
    model = GymModel(seed, NOW, **kwargs)  # type: ignore[arg-type]
    events = model.history()
    events += model.advance(NOW + timedelta(days=days))
    return model, events


@cache
def standard() -> tuple[GymModel, tuple[SimEvent, ...]]:
    """One shared run (seed 1, default settings) for the read-only checks."""
    model, events = run_model(1)
    return model, tuple(events)


def signature(events: list[SimEvent] | tuple[SimEvent, ...]) -> list[tuple[object, ...]]:
    """Return everything about the records that a consumer could observe."""
    return [(e.at, e.topic, e.key, e.value, e.malformed) for e in events]


def decoded(topic: Topic) -> list[tuple[SimEvent, object]]:
    """Return the valid records of ``topic`` in the standard run with their decoded rows."""
    _, events = standard()
    return [
        (e, decode_value(topic, e.value))
        for e in events
        if e.topic is topic and e.value is not None and e.malformed is None
    ]


# --- repeatability ----------------------------------------------------------------------


def test_same_seed_and_now_give_the_same_records() -> None:
    _, first = run_model(42)
    _, second = run_model(42)
    assert len(first) > 5000
    assert signature(first) == signature(second)


def test_another_seed_gives_another_gym_day() -> None:
    _, first = run_model(42, days=0.5)
    _, other = run_model(43, days=0.5)
    assert signature(first) != signature(other)


def test_records_do_not_depend_on_how_time_is_sliced() -> None:
    whole = GymModel(9, NOW)
    expected = whole.history() + whole.advance(NOW + timedelta(hours=30))
    sliced = GymModel(9, NOW)
    got = sliced.history()
    t = NOW
    while t < NOW + timedelta(hours=30):
        t += timedelta(minutes=7, seconds=13)
        got += sliced.advance(min(t, NOW + timedelta(hours=30)))
    assert signature(got) == signature(expected)


def test_records_come_in_time_order_and_history_ends_at_now() -> None:
    model, events = standard()
    times = [e.at for e in events]
    assert times == sorted(times)
    history = GymModel(1, NOW).history()
    assert history[-1].at <= NOW < events[len(history)].at
    assert model.start <= times[0]


def test_malformed_records_do_not_change_the_valid_ones() -> None:
    _, clean = run_model(5, days=1, malformed_rate=0.0)
    _, noisy = run_model(5, days=1, malformed_rate=0.05)
    assert signature(clean) == signature([e for e in noisy if e.malformed is None])


# --- the contract -----------------------------------------------------------------------


def test_every_valid_record_decodes_with_its_topic_contract() -> None:
    _, events = standard()
    seen = Counter[Topic]()
    for event in events:
        key = decode_key(event.key)
        if event.topic in KEY_PREFIX:
            assert key.startswith(KEY_PREFIX[event.topic]), (event.topic, key)
        if event.value is None or event.malformed is not None:
            continue
        decode_value(event.topic, event.value)
        seen[event.topic] += 1
    assert set(seen) == set(Topic)


def test_timestamps_carry_the_gym_zone_offset() -> None:
    for event, row in decoded(Topic.BOOKINGS)[:500]:
        assert isinstance(row, BookingRow)
        assert row.updated_at == event.at
        assert row.updated_at.utcoffset() == event.at.astimezone(BERLIN).utcoffset()
        assert b'+01:00"' in event.value or b'+02:00"' in event.value  # type: ignore[operator]


def test_another_zone_is_honoured() -> None:
    model = GymModel(3, NOW, zone="America/New_York")
    for event in model.history():
        if event.topic is Topic.CLASSES and event.value is not None and not event.malformed:
            row = decode_value(Topic.CLASSES, event.value)
            assert isinstance(row, ClassRow)
            assert row.starts_at.utcoffset() == timedelta(hours=-4)  # EDT in mid-March
            assert time(6) <= row.starts_at.time() <= time(21)


# --- malformed records ------------------------------------------------------------------


def test_malformed_records_are_rejected_and_counted_exactly() -> None:
    model, events = run_model(8, days=2, malformed_rate=0.02)
    rejected = Counter[Topic]()
    for event in events:
        assert event.value is not None or event.malformed is None
        if event.value is None:
            continue
        try:
            decode_value(event.topic, event.value)
        except RejectedRecord:
            rejected[event.topic] += 1
            assert event.malformed is not None
        else:
            assert event.malformed is None
    assert {t: n for t, n in model.malformed.items() if n} == dict(rejected)
    assert model.emitted == Counter(e.topic for e in events)
    kinds = Counter(e.malformed for e in events if e.malformed)
    assert {"bad_json", "missing_field", "unknown_status"} <= set(kinds)


def test_malformed_rate_is_about_as_configured() -> None:
    model, events = run_model(2, days=3, malformed_rate=0.01)
    bad = sum(model.malformed.values())
    good = len(events) - bad
    assert good > 10000
    # Binomial: expected about 1 % of the valid records; allow four standard deviations.
    expected = good * 0.01
    assert abs(bad - expected) < 4 * (expected**0.5)


def test_malformed_rate_zero_sends_none_and_default_is_rare() -> None:
    model, events = run_model(2, days=1, malformed_rate=0.0)
    assert not any(e.malformed for e in events)
    assert sum(model.malformed.values()) == 0
    default, default_events = standard()
    assert 0 < sum(default.malformed.values()) < len(default_events) / 200


def test_malformed_keys_are_never_reused_by_valid_records() -> None:
    _, events = run_model(8, days=1, malformed_rate=0.05)
    bad_keys = {(e.topic, e.key) for e in events if e.malformed}
    good_keys = {(e.topic, e.key) for e in events if not e.malformed}
    assert bad_keys
    assert not bad_keys & good_keys


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_a_malformed_rate_outside_zero_to_one_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="malformed_rate"):
        GymModel(1, NOW, malformed_rate=rate)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        GymModel(1, NOW.replace(tzinfo=None))


# --- classes ----------------------------------------------------------------------------


def classes_by_id() -> dict[str, ClassRow]:
    """Return the latest row of every class in the standard run (deleted ones included)."""
    rows: dict[str, ClassRow] = {}
    for event, row in decoded(Topic.CLASSES):
        assert isinstance(row, ClassRow)
        rows[event.key.decode()] = row
    return rows


def test_the_timetable_is_a_believable_week_around_today() -> None:
    rows = classes_by_id()
    today = NOW.astimezone(BERLIN).date()
    days = {row.starts_at.date() for row in rows.values()}
    assert {today + timedelta(days=d) for d in range(-3, 4)} <= days
    assert {row.location for row in rows.values()} == {"Riverside", "Old Town"}
    assert len({(row.location, row.room) for row in rows.values()}) >= 6
    assert len({row.instructor_id for row in rows.values()}) >= 6
    assert {"Spin", "Yoga Flow", "HIIT", "Pilates", "Boxfit", "Strength"} <= {
        row.title for row in rows.values()
    }
    for row in rows.values():
        assert 10 <= row.capacity <= 30
        assert 30 <= row.duration_min <= 75
        assert time(6) <= row.starts_at.time() <= time(21)
    hours = Counter(row.starts_at.hour for row in rows.values())
    assert hours[6] + hours[7] > 0  # early birds
    assert hours[12] + hours[13] > 0  # lunch
    assert hours[17] + hours[18] + hours[19] > hours[9] + hours[10]  # the evening rush
    per_day = Counter(row.starts_at.date() for row in rows.values())
    assert min(per_day[today + timedelta(days=d)] for d in range(-3, 4)) >= 15


def test_rooms_and_instructors_are_never_double_booked() -> None:
    rows = sorted(classes_by_id().values(), key=lambda r: r.starts_at)
    for i, a in enumerate(rows):
        a_end = a.starts_at + timedelta(minutes=a.duration_min)
        for b in rows[i + 1 :]:
            if b.starts_at >= a_end:
                break
            assert (a.location, a.room) != (b.location, b.room), (a, b)
            assert a.instructor_id != b.instructor_id, (a, b)


def test_a_class_cancelled_by_the_gym_is_a_tombstone_after_its_bookings_are_cancelled() -> None:
    tombstones = 0
    for seed in (1, 2, 3):
        _, events = run_model(seed, days=4)
        status: dict[bytes, tuple[str, str]] = {}
        deleted: set[str] = set()
        for event in events:
            if event.topic is Topic.BOOKINGS and event.malformed is None:
                row = decode_value(Topic.BOOKINGS, event.value)  # type: ignore[arg-type]
                assert isinstance(row, BookingRow)
                assert row.class_id not in deleted  # nothing happens to a deleted class
                status[event.key] = (row.class_id, row.status)
            elif event.topic is Topic.CLASSES and event.value is None:
                tombstones += 1
                class_id = event.key.decode()
                deleted.add(class_id)
                left = [s for c, s in status.values() if c == class_id]
                assert all(s == "cancelled" for s in left), left
            elif event.topic is Topic.CLASSES and event.malformed is None:
                assert event.key.decode() not in deleted
    assert tombstones >= 1


# --- bookings ---------------------------------------------------------------------------


def test_booking_lifecycles_respect_capacity_waitlists_and_the_clock() -> None:
    rows = classes_by_id()
    status: dict[str, str] = {}
    first_seen: dict[str, datetime] = {}
    holding: dict[str, set[str]] = defaultdict(set)  # class -> bookings in booked/checked_in
    waiting: dict[str, set[str]] = defaultdict(set)
    last_cancel: dict[str, datetime] = {}
    checked_offsets: list[float] = []
    channels = Counter[str]()
    promotions = 0
    for event, row in decoded(Topic.BOOKINGS):
        assert isinstance(row, BookingRow)
        key = event.key.decode()
        cls = rows[row.class_id]
        before = status.get(key)
        # Terminal states stay terminal.
        assert before not in ("cancelled", "checked_in", "no_show"), (key, before, row.status)
        if before is None:
            assert row.status in ("booked", "waitlisted")
            assert row.updated_at < cls.starts_at
            first_seen[key] = row.updated_at
            channels[row.channel or ""] += 1
            if row.status == "waitlisted":
                # Only a full class has a waitlist.
                assert len(holding[row.class_id]) == cls.capacity
        if before == "waitlisted" and row.status == "booked":
            promotions += 1
            assert last_cancel[row.class_id] == row.updated_at  # promoted by a cancellation
        if row.status == "checked_in":
            assert before == "booked"
            offset = (row.updated_at - cls.starts_at).total_seconds() / 60
            assert -15 <= offset <= 15
            checked_offsets.append(offset)
        if row.status == "no_show":
            assert before == "booked"
            assert row.updated_at > cls.starts_at
        if row.status == "cancelled" and before == "booked":
            last_cancel[row.class_id] = row.updated_at
        holding[row.class_id].discard(key)
        waiting[row.class_id].discard(key)
        if row.status in ("booked", "checked_in"):
            holding[row.class_id].add(key)
        elif row.status == "waitlisted":
            waiting[row.class_id].add(key)
        status[key] = row.status
        assert len(holding[row.class_id]) <= cls.capacity
    final = Counter(status.values())
    assert final["checked_in"] > final["no_show"] > 0
    assert final["waitlisted"] > 0
    assert final["cancelled"] > 0
    assert promotions > 0
    assert set(channels) == {"phone", "web", "desk"}
    assert abs(statistics.median(checked_offsets)) < 10  # people arrive around the start


def test_bookings_rise_towards_the_start_of_a_class() -> None:
    rows = classes_by_id()
    leads: list[float] = []
    seen: set[bytes] = set()
    for event, row in decoded(Topic.BOOKINGS):
        assert isinstance(row, BookingRow)
        if event.key not in seen:
            seen.add(event.key)
            leads.append((rows[row.class_id].starts_at - row.updated_at).total_seconds() / 3600)
    last_day = sum(1 for h in leads if h <= 24)
    day_before = sum(1 for h in leads if 24 < h <= 48)
    assert last_day > 2 * day_before > 0
    assert sum(1 for h in leads if h <= 3) > sum(1 for h in leads if 21 < h <= 24)


def test_finished_classes_leave_no_booking_open() -> None:
    rows = classes_by_id()
    model, _ = standard()
    status: dict[str, tuple[str, str]] = {}
    for event, row in decoded(Topic.BOOKINGS):
        assert isinstance(row, BookingRow)
        status[event.key.decode()] = (row.class_id, row.status)
    for class_id, state in status.values():
        if rows[class_id].starts_at + timedelta(minutes=30) < model.clock:
            assert state in ("checked_in", "no_show", "cancelled"), (class_id, state)


# --- members, sales, reps and targets ---------------------------------------------------


def test_hundreds_of_members_with_names_and_tiers() -> None:
    members: dict[bytes, MemberRow] = {}
    for event, row in decoded(Topic.MEMBERS):
        assert isinstance(row, MemberRow)
        members[event.key] = row
    assert 300 <= len(members) <= 2000
    assert len({m.name for m in members.values()}) == len(members)
    assert all(" " in m.name for m in members.values())
    assert {m.tier for m in members.values()} == {"Basic", "Plus", "Premium", "Student"}


def test_sales_happen_through_opening_hours_since_the_month_began() -> None:
    reps = {event.key.decode() for event, _ in decoded(Topic.REPS)}
    sales = decoded(Topic.SALES)
    month_start = datetime(2025, 3, 1, tzinfo=BERLIN)
    assert len(sales) > 300
    products = Counter[str]()
    for _, row in sales:
        assert isinstance(row, SaleRow)
        assert row.rep_id in reps
        assert row.currency == "EUR"
        assert 500 <= row.amount_cents <= 100_000
        assert time(7) <= row.sold_at.time() < time(21)
        assert row.sold_at >= month_start
        products[row.product.split()[0]] += 1
    assert {"Membership", "Class", "PT", "Merch"} <= set(products)
    first = min(row.sold_at for _, row in sales)  # type: ignore[attr-defined]
    assert first.date() <= datetime(2025, 3, 2).date()


def test_reps_form_two_teams_and_one_changes_team() -> None:
    teams: dict[str, list[str]] = defaultdict(list)
    for event, row in decoded(Topic.REPS):
        assert isinstance(row, RepRow)
        teams[event.key.decode()].append(row.team)
    assert 4 <= len(teams) <= 6
    assert {history[0] for history in teams.values()} == {"Riverside", "Old Town"}
    assert any(len(set(history)) > 1 for history in teams.values())


def test_monthly_targets_for_every_rep_and_team() -> None:
    targets: dict[str, TargetRow] = {}
    for event, row in decoded(Topic.TARGETS):
        assert isinstance(row, TargetRow)
        targets[event.key.decode()] = row
    reps = {event.key.decode() for event, _ in decoded(Topic.REPS)}
    expected = {f"rep:{r}:2025-03" for r in reps} | {
        "team:Riverside:2025-03",
        "team:Old Town:2025-03",
    }
    assert set(targets) == expected
    for key, row in targets.items():
        scope, scope_id, period = key.split(":")
        assert (row.scope, row.scope_id, row.period) == (scope, scope_id, period)
        assert row.target_cents > 0
    team_total = sum(t.target_cents for t in targets.values() if t.scope == "team")
    rep_total = sum(t.target_cents for t in targets.values() if t.scope == "rep")
    assert team_total == rep_total


def test_a_new_month_brings_new_targets() -> None:
    model = GymModel(4, datetime(2025, 3, 31, 12, tzinfo=UTC))
    model.history()
    events = model.advance(datetime(2025, 4, 1, 1, tzinfo=UTC))
    periods = {
        decode_value(Topic.TARGETS, e.value).period  # type: ignore[arg-type, union-attr]
        for e in events
        if e.topic is Topic.TARGETS and not e.malformed
    }
    assert periods == {"2025-04"}


def test_the_timetable_keeps_wall_clock_times_across_a_dst_change() -> None:
    model = GymModel(6, datetime(2025, 3, 28, 9, tzinfo=UTC))
    events = model.history() + model.advance(datetime(2025, 4, 1, tzinfo=UTC))
    starts: dict[int, set[time]] = defaultdict(set)
    published: set[bytes] = set()
    for event in events:
        if event.topic is Topic.CLASSES and event.value is not None and not event.malformed:
            row = decode_value(Topic.CLASSES, event.value)
            assert isinstance(row, ClassRow)
            starts[row.starts_at.weekday()].add(row.starts_at.time())
            winter = row.starts_at.date() < datetime(2025, 3, 30).date()
            assert row.starts_at.utcoffset() == timedelta(hours=1 if winter else 2)
        if event.topic is Topic.CLASSES and event.malformed is None and event.key not in published:
            # Timetables go out at local midnight, also on the day the clocks change.
            published.add(event.key)
            assert event.at.astimezone(BERLIN).time() == time(0)
    # The timetable repeats weekly in wall-clock time: the same slots on either side.
    assert starts[0]
    weekday_slots = {time(h, m) for h, m in WEEKDAY_TIMES}
    assert set().union(*(starts[d] for d in range(5))) <= weekday_slots
