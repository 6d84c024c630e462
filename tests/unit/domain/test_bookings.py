"""The packed bookings table: rows come back exactly as stored, counts and rosters follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gymdesk.domain.bookings import BookingTable, Counts
from gymdesk.domain.contract import (
    BOOKING_STATUSES,
    BookingRow,
    Topic,
    decode_snapshot_row,
    encode_snapshot_row,
)


def row(
    class_id: str = "c1",
    status: str = "booked",
    *,
    member_id: str = "m1",
    updated_at: datetime = datetime(2024, 5, 9, 8, 0, tzinfo=UTC),
    channel: str | None = "app",
) -> BookingRow:
    return BookingRow(class_id, member_id, status, updated_at, channel)  # type: ignore[arg-type]


def test_a_stored_row_comes_back_equal_with_its_offset() -> None:
    table = BookingTable()
    moments = [
        datetime(2024, 5, 9, 8, 0, tzinfo=UTC),
        datetime(2024, 5, 9, 8, 0, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-8))),
        datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=2))),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-23))),
    ]
    for n, moment in enumerate(moments):
        stored = row(f"c{n}", BOOKING_STATUSES[n], member_id=f"m{n}", updated_at=moment)
        table.upsert(f"b{n}", stored, {})
        back = table[f"b{n}"]
        assert back == stored
        assert back.updated_at.utcoffset() == moment.utcoffset()
        assert back.updated_at.isoformat() == moment.isoformat()


def test_no_channel_and_the_mapping_api() -> None:
    table = BookingTable()
    table.upsert("b1", row(channel=None), {})
    table.upsert("b2", row("c2"), {})
    assert table.get("b1") == row(channel=None)
    assert table.get("nope") is None
    assert "b1" in table
    assert "nope" not in table
    assert len(table) == 2
    assert sorted(table) == ["b1", "b2"]
    assert set(table.keys()) == {"b1", "b2"}
    assert dict(table) == {"b1": row(channel=None), "b2": row("c2")}
    assert table == {"b1": row(channel=None), "b2": row("c2")}
    with pytest.raises(KeyError):
        table["nope"]


def test_a_zone_aware_moment_is_kept_as_its_offset_at_that_instant() -> None:
    table = BookingTable()
    berlin = datetime(2024, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    table.upsert("b1", row(updated_at=berlin), {})
    back = table["b1"].updated_at
    assert back == berlin
    assert back.utcoffset() == timedelta(hours=2)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        BookingTable().upsert("b1", row(updated_at=datetime(2024, 5, 9, 8, 0)), {})


def test_counts_and_rosters_follow_moves_and_deletes() -> None:
    table = BookingTable()
    touched: dict[int, Counts] = {}
    table.upsert("b1", row("c1"), touched)
    table.upsert("b2", row("c1", "checked_in"), touched)
    table.upsert("b3", row("c2", "waitlisted"), touched)
    assert table.counts("c1") == (1, 0, 0, 1, 0)
    assert table.counts("c2") == (0, 1, 0, 0, 0)
    assert table.counts("c9") == (0, 0, 0, 0, 0)
    assert table.keys_of_class("c1") == {"b1", "b2"}
    # The counts before the first touch of each class in this batch: all zeros.
    assert {table.class_id(n): counts for n, counts in touched.items()} == {
        "c1": (0, 0, 0, 0, 0),
        "c2": (0, 0, 0, 0, 0),
    }

    touched = {}
    table.upsert("b2", row("c2", "no_show"), touched)
    assert table.counts("c1") == (1, 0, 0, 0, 0)
    assert table.counts("c2") == (0, 1, 0, 0, 1)
    assert table.keys_of_class("c1") == {"b1"}
    assert table.keys_of_class("c2") == {"b2", "b3"}
    assert {table.class_id(n): counts for n, counts in touched.items()} == {
        "c1": (1, 0, 0, 1, 0),
        "c2": (0, 1, 0, 0, 0),
    }

    touched = {}
    assert table.delete("b3", touched) == "b3"
    assert table.delete("b3", touched) is None
    assert table.counts("c2") == (0, 0, 0, 0, 1)
    assert table.keys_of_class("c2") == {"b2"}
    assert len(table) == 2


def test_the_table_keeps_one_key_object_per_booking() -> None:
    table = BookingTable()
    first = "".join(["b", "1"])
    assert table.upsert(first, row("c1"), {}) is first
    again = "".join(["b", "1"])
    assert again is not first
    assert table.upsert(again, row("c1", "checked_in"), {}) is first
    assert table.upsert("".join(["b", "1"]), row("c2"), {}) is first
    assert next(iter(table.keys_of_class("c2"))) is first
    assert table.delete("".join(["b", "1"]), {}) is first


def test_a_row_survives_the_snapshot_encoding() -> None:
    table = BookingTable()
    moment = datetime(2024, 5, 9, 8, 0, 0, 5, tzinfo=timezone(timedelta(hours=-3)))
    table.upsert("b1", row(updated_at=moment), {})
    data = encode_snapshot_row(table["b1"])
    assert b'"2024-05-09T08:00:00.000005-03:00"' in data
    assert decode_snapshot_row(Topic.BOOKINGS, data) == table["b1"]


offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=200, deadline=None, database=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
    ),
    status=st.sampled_from(BOOKING_STATUSES),
    channel=st.one_of(st.none(), st.text(max_size=5)),
    ids=st.tuples(st.text(min_size=1, max_size=5), st.text(max_size=5)),
)
def test_any_row_round_trips(
    moment: datetime, status: str, channel: str | None, ids: tuple[str, str]
) -> None:
    table = BookingTable()
    stored = row(ids[0], status, member_id=ids[1], updated_at=moment, channel=channel)
    table.upsert("b", stored, {})
    back = table["b"]
    assert back == stored
    assert back.updated_at.isoformat() == moment.isoformat()


def test_member_ids_of_class_without_rebuilding_rows() -> None:
    table = BookingTable()
    table.upsert("b1", row("c1", member_id="m1"), {})
    table.upsert("b2", row("c1", member_id="m2"), {})
    table.upsert("b3", row("c2", member_id="m1"), {})
    table.upsert("b2", row("c2", member_id="m2"), {})
    assert table.member_ids_of_class("c1") == ["m1"]
    assert sorted(table.member_ids_of_class("c2")) == ["m1", "m2"]
    assert table.member_ids_of_class("c9") == []
