"""The topic contract: what decodes to a row and what is rejected, with which reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from gymdesk.domain.contract import (
    ALL_TOPICS,
    DEFAULT_PREFIX,
    BookingRow,
    ClassRow,
    InstructorRow,
    MemberRow,
    RejectedRecord,
    RepRow,
    SaleRow,
    TargetRow,
    Topic,
    decode_key,
    decode_value,
    encode_row,
)

from .records import VALID_FIELDS, dumps


def reason_of(topic: Topic, value: bytes) -> str:
    with pytest.raises(RejectedRecord) as info:
        decode_value(topic, value)
    assert info.value.reason == str(info.value)
    return info.value.reason


def with_field(topic: Topic, name: str, value: Any) -> bytes:
    return dumps({**VALID_FIELDS[topic], name: value})


def without_field(topic: Topic, name: str) -> bytes:
    fields = dict(VALID_FIELDS[topic])
    del fields[name]
    return dumps(fields)


def test_seven_topics_and_the_default_prefix() -> None:
    assert [str(t) for t in ALL_TOPICS] == [
        "classes",
        "instructors",
        "members",
        "bookings",
        "sales",
        "reps",
        "targets",
    ]
    assert DEFAULT_PREFIX == "gym."


# ---------------------------------------------------------------- keys


def test_a_utf8_key_is_the_entity_id() -> None:
    assert decode_key("c-ü1".encode()) == "c-ü1"


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "null key"),
        (b"", "empty key"),
        (b"ab\xff", "key is not UTF-8 (byte 2)"),
        (b"\xed\xa0\x80", "key is not UTF-8 (byte 0)"),  # an encoded lone surrogate
    ],
)
def test_a_bad_key_is_rejected(key: bytes | None, reason: str) -> None:
    with pytest.raises(RejectedRecord) as info:
        decode_key(key)
    assert info.value.reason == reason


# ---------------------------------------------------------------- valid values


def test_every_topic_decodes_its_row() -> None:
    rows = {topic: decode_value(topic, dumps(fields)) for topic, fields in VALID_FIELDS.items()}
    assert rows[Topic.CLASSES] == ClassRow(
        title="Spin",
        location="Central",
        room="A",
        instructor_id="i1",
        starts_at=datetime(2024, 5, 10, 16, 0, tzinfo=UTC),
        duration_min=45,
        capacity=10,
    )
    assert rows[Topic.INSTRUCTORS] == InstructorRow(name="Ana")
    assert rows[Topic.MEMBERS] == MemberRow(name="Bo", tier=None)
    assert rows[Topic.BOOKINGS] == BookingRow(
        class_id="c1",
        member_id="m1",
        status="booked",
        updated_at=datetime(2024, 5, 9, 8, 0, tzinfo=UTC),
        channel=None,
    )
    assert rows[Topic.SALES] == SaleRow(
        rep_id="r1",
        product="annual",
        currency="EUR",
        amount_cents=1000,
        sold_at=datetime(2024, 5, 15, 12, 0, tzinfo=UTC),
    )
    assert rows[Topic.REPS] == RepRow(name="Rae", team="north")
    assert rows[Topic.TARGETS] == TargetRow(
        scope="rep", scope_id="r1", period="2024-05", target_cents=5000
    )


def test_a_timestamp_keeps_its_offset() -> None:
    row = decode_value(
        Topic.CLASSES, with_field(Topic.CLASSES, "starts_at", "2024-05-10T18:00:00+02:00")
    )
    assert isinstance(row, ClassRow)
    assert row.starts_at.utcoffset() == timedelta(hours=2)
    assert row.starts_at == datetime(2024, 5, 10, 18, 0, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize("topic", list(Topic))
def test_extra_fields_are_ignored(topic: Topic) -> None:
    plain = decode_value(topic, dumps(VALID_FIELDS[topic]))
    extended = decode_value(
        topic, dumps({**VALID_FIELDS[topic], "note": {"nested": [1, 2]}, "version": 7})
    )
    assert extended == plain


def test_optional_fields_default_to_none_and_decode_when_given() -> None:
    assert decode_value(Topic.MEMBERS, dumps({"name": "Bo", "tier": "gold"})) == MemberRow(
        "Bo", "gold"
    )
    booking = decode_value(Topic.BOOKINGS, with_field(Topic.BOOKINGS, "channel", "app"))
    assert isinstance(booking, BookingRow)
    assert booking.channel == "app"


@pytest.mark.parametrize("status", ["booked", "waitlisted", "cancelled", "checked_in", "no_show"])
def test_every_booking_status_decodes(status: str) -> None:
    row = decode_value(Topic.BOOKINGS, with_field(Topic.BOOKINGS, "status", status))
    assert isinstance(row, BookingRow)
    assert row.status == status


def test_a_zero_target_and_a_negative_sale_are_valid() -> None:
    target = decode_value(Topic.TARGETS, with_field(Topic.TARGETS, "target_cents", 0))
    assert isinstance(target, TargetRow)
    assert target.target_cents == 0
    refund = decode_value(Topic.SALES, with_field(Topic.SALES, "amount_cents", -250))
    assert isinstance(refund, SaleRow)
    assert refund.amount_cents == -250


@pytest.mark.parametrize("period", ["2024-01", "2024-12", "1999-09"])
def test_a_yyyy_mm_period_is_valid(period: str) -> None:
    row = decode_value(Topic.TARGETS, with_field(Topic.TARGETS, "period", period))
    assert isinstance(row, TargetRow)
    assert row.period == period


def test_encode_row_round_trips() -> None:
    for topic, fields in VALID_FIELDS.items():
        row = decode_value(topic, dumps(fields))
        assert decode_value(topic, encode_row(row)) == row


# ---------------------------------------------------------------- rejected values


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "not JSON: Input data was truncated"),
        (b"{", "not JSON: Input data was truncated"),
        (b"\xff", "not JSON: JSON is malformed: invalid character (byte 0)"),
        (b"[]", "not an object: got `array`"),
        (b"null", "not an object: got `null`"),
        (b"42", "not an object: got `int`"),
        (b'"a class"', "not an object: got `str`"),
    ],
)
def test_not_json_or_not_an_object_is_rejected(value: bytes, reason: str) -> None:
    assert reason_of(Topic.CLASSES, value) == reason


@pytest.mark.parametrize("topic", list(Topic))
def test_a_missing_required_field_is_rejected(topic: Topic) -> None:
    for name in VALID_FIELDS[topic]:
        assert reason_of(topic, without_field(topic, name)) == (
            f"Object missing required field `{name}`"
        )


@pytest.mark.parametrize(
    ("topic", "field", "value", "reason"),
    [
        (Topic.CLASSES, "title", 5, "Expected `str`, got `int` - at `$.title`"),
        (Topic.CLASSES, "capacity", "10", "Expected `int`, got `str` - at `$.capacity`"),
        (Topic.CLASSES, "capacity", 10.0, "Expected `int`, got `float` - at `$.capacity`"),
        (Topic.CLASSES, "capacity", True, "Expected `int`, got `bool` - at `$.capacity`"),
        (Topic.CLASSES, "instructor_id", None, "Expected `str`, got `null` - at `$.instructor_id`"),
        (Topic.SALES, "amount_cents", "10", "Expected `int`, got `str` - at `$.amount_cents`"),
        (Topic.REPS, "team", ["north"], "Expected `str`, got `array` - at `$.team`"),
        (Topic.MEMBERS, "tier", 3, "Expected `str | null`, got `int` - at `$.tier`"),
        (Topic.SALES, "sold_at", 1715774400, "Expected `datetime`, got `int` - at `$.sold_at`"),
    ],
)
def test_a_mistyped_field_is_rejected(topic: Topic, field: str, value: Any, reason: str) -> None:
    assert reason_of(topic, with_field(topic, field, value)) == reason


@pytest.mark.parametrize("status", ["late", "BOOKED", "", "checked-in"])
def test_an_unknown_status_is_rejected(status: str) -> None:
    reason = reason_of(Topic.BOOKINGS, with_field(Topic.BOOKINGS, "status", status))
    assert reason.startswith("Invalid enum value")
    assert reason.endswith("- at `$.status`")


@pytest.mark.parametrize("field", ["capacity", "duration_min"])
@pytest.mark.parametrize("value", [0, -1])
def test_a_non_positive_capacity_or_duration_is_rejected(field: str, value: int) -> None:
    assert reason_of(Topic.CLASSES, with_field(Topic.CLASSES, field, value)) == (
        f"Expected `int` >= 1 - at `$.{field}`"
    )


@pytest.mark.parametrize(
    ("topic", "field", "value", "reason"),
    [
        (
            Topic.CLASSES,
            "starts_at",
            "2024-05-10T18:00:00",
            "Expected `datetime` with a timezone component - at `$.starts_at`",
        ),
        (
            Topic.CLASSES,
            "starts_at",
            "2024-05-10",
            "Invalid RFC3339 encoded datetime - at `$.starts_at`",
        ),
        (
            Topic.SALES,
            "sold_at",
            "2024-02-30T10:00:00Z",
            "Invalid RFC3339 encoded datetime - at `$.sold_at`",
        ),
        (Topic.SALES, "sold_at", "yesterday", "Invalid RFC3339 encoded datetime - at `$.sold_at`"),
        (
            Topic.BOOKINGS,
            "updated_at",
            "2024-05-09T08:00:00",
            "Expected `datetime` with a timezone component - at `$.updated_at`",
        ),
    ],
)
def test_a_bad_timestamp_or_one_without_offset_is_rejected(
    topic: Topic, field: str, value: str, reason: str
) -> None:
    assert reason_of(topic, with_field(topic, field, value)) == reason


@pytest.mark.parametrize("period", ["2024-13", "2024-00", "2024-5", "24-05", "2024-05-01", "May"])
def test_a_target_period_not_yyyy_mm_is_rejected(period: str) -> None:
    reason = reason_of(Topic.TARGETS, with_field(Topic.TARGETS, "period", period))
    assert reason.startswith("Expected `str` matching regex")
    assert reason.endswith("- at `$.period`")


def test_a_negative_target_is_rejected() -> None:
    assert reason_of(Topic.TARGETS, with_field(Topic.TARGETS, "target_cents", -1)) == (
        "Expected `int` >= 0 - at `$.target_cents`"
    )


def test_an_unknown_target_scope_is_rejected() -> None:
    reason = reason_of(Topic.TARGETS, with_field(Topic.TARGETS, "scope", "club"))
    assert reason.startswith("Invalid enum value")
    assert reason.endswith("- at `$.scope`")


@pytest.mark.parametrize(
    "value",
    [
        b'{"name": "Ana\xff"}',
        b'{"name": "\xc3("}',
    ],
)
def test_a_value_with_invalid_utf8_inside_a_string_is_rejected(value: bytes) -> None:
    # JSON is UTF-8 (RFC 8259 section 8.1): such a value is not JSON and must be rejected,
    # not leak a UnicodeDecodeError out of the decoder.
    reason = reason_of(Topic.INSTRUCTORS, value)
    assert reason.startswith("not JSON")


@pytest.mark.parametrize(
    ("value", "position"),
    [
        (b'{"name": "Ana\xff"}', 13),
        (b'{"name": "\xc3("}', 10),
    ],
)
def test_the_invalid_utf8_reason_points_at_the_byte_in_the_record(
    value: bytes, position: int
) -> None:
    # Like msgspec's own "(byte N)", the position must be one in the record that the
    # rejected-records dialog shows, not one inside the decoded string.
    assert reason_of(Topic.INSTRUCTORS, value) == f"not JSON: invalid UTF-8 at byte {position}"
