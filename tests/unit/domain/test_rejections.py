"""Rejected records: counted by full topic name and reason, the latest kept, nothing raised."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from gymdesk.domain import rejections
from gymdesk.domain.contract import Topic
from gymdesk.domain.rejections import KEEP_LATEST, Rejection, RejectionLog
from gymdesk.domain.state import GymState, StateSettings

from .records import PERIOD, booking_json, class_json


@pytest.fixture
def state() -> GymState:
    return GymState(StateSettings(prefix="acme.", period=PERIOD))


def test_a_rejection_is_counted_under_the_full_topic_name_and_its_reason(
    state: GymState,
) -> None:
    state.apply(Topic.BOOKINGS, b"b1", b"[]", partition=2, offset=41)
    state.apply(Topic.BOOKINGS, b"b2", b"[]", partition=0, offset=7)
    state.apply(Topic.CLASSES, b"c1", class_json(capacity=0), partition=1, offset=3)
    log = state.rejections
    assert log.total == 3
    assert dict(log.by_topic) == {"acme.bookings": 2, "acme.classes": 1}
    assert dict(log.by_reason) == {
        ("acme.bookings", "not an object: got `array`"): 2,
        ("acme.classes", "Expected `int` >= 1 - at `$.capacity`"): 1,
    }
    assert list(log.latest) == [
        Rejection("acme.bookings", 2, 41, "b1", "not an object: got `array`", "[]"),
        Rejection("acme.bookings", 0, 7, "b2", "not an object: got `array`", "[]"),
        Rejection(
            "acme.classes",
            1,
            3,
            "c1",
            "Expected `int` >= 1 - at `$.capacity`",
            class_json(capacity=0)[:64].decode() + "...",
        ),
    ]


def test_the_default_prefix_is_gym_dot() -> None:
    state = GymState(StateSettings(period=PERIOD))
    state.apply(Topic.SALES, b"s1", b"{")
    assert dict(state.rejections.by_topic) == {"gym.sales": 1}


def test_first_bytes_are_cut_at_64_and_escaped() -> None:
    log = RejectionLog("p.")
    exactly = b"x" * 64
    assert log.add(Topic.SALES, 0, 0, b"k", exactly, "r").first_bytes == "x" * 64
    assert log.add(Topic.SALES, 0, 1, b"k", exactly + b"y", "r").first_bytes == "x" * 64 + "..."
    raw = log.add(Topic.SALES, 0, 2, b"k", b"\x00\xff\n{", "r").first_bytes
    assert raw == "\\x00\\xff\\n{"
    assert log.add(Topic.SALES, 0, 3, b"k", None, "r").first_bytes == "null"


def test_keys_are_shown_printable_and_bounded() -> None:
    log = RejectionLog("p.")
    assert log.add(Topic.MEMBERS, 0, 0, None, b"{}", "null key").key == "null"
    assert log.add(Topic.MEMBERS, 0, 1, b"", b"{}", "empty key").key == ""
    assert log.add(Topic.MEMBERS, 0, 2, b"m\xff", b"{}", "bad").key == "m\\xff"
    long_key = b"k" * 81
    assert log.add(Topic.MEMBERS, 0, 3, long_key, b"{}", "bad").key == "k" * 80 + "..."


def test_the_list_of_latest_rejections_is_bounded() -> None:
    log = RejectionLog("p.", keep=3)
    for offset in range(5):
        log.add(Topic.REPS, 0, offset, b"r1", b"{}", "Object missing required field `name`")
    assert [r.offset for r in log.latest] == [2, 3, 4]
    assert log.total == 5
    assert dict(log.by_reason) == {("p.reps", "Object missing required field `name`"): 5}


def test_the_state_keeps_the_latest_500(state: GymState) -> None:
    for offset in range(KEEP_LATEST + 1):
        state.apply(Topic.MEMBERS, b"m1", b"nope", offset=offset)
    assert KEEP_LATEST == 500
    assert len(state.rejections.latest) == 500
    assert state.rejections.latest[0].offset == 1
    assert state.rejections.total == 501


def test_rejections_never_raise_and_never_touch_the_tables(state: GymState) -> None:
    state.apply(Topic.CLASSES, b"c1", class_json("i1", capacity=10))
    state.apply(Topic.BOOKINGS, b"b1", booking_json("c1"))
    before = {topic: dict(rows) for topic, rows in state.tables.items()}
    garbage: list[tuple[bytes | None, bytes | None]] = [
        (None, b"{}"),
        (b"", None),
        (b"\xfe", booking_json()),
        (b"b1", b""),
        (b"b1", b"\x00\x01"),
        (b"b1", b"{}"),
        (b"b1", b"true"),
        (b"c1", b'{"title": 1}'),
    ]
    for offset, (key, value) in enumerate(garbage):
        for topic in Topic:
            state.apply(topic, key, value, offset=offset)
    assert state.tables == before
    assert state.rejections.total == len(garbage) * len(Topic)
    assert sum(state.rejections.by_reason.values()) == state.rejections.total
    view = state.class_view("c1")
    assert view is not None
    assert view.booked == 1


def test_log_lines_are_rate_limited(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(rejections, "time", SimpleNamespace(monotonic=lambda: clock.now))
    log = RejectionLog("p.")
    with caplog.at_level(logging.WARNING, logger=rejections.__name__):
        log.add(Topic.SALES, 1, 10, b"s1", b"{", "not JSON")
        clock.now += 1.0
        log.add(Topic.SALES, 1, 11, b"s2", b"{", "not JSON")
        log.add(Topic.SALES, 1, 12, b"s3", b"{", "not JSON")
        clock.now += rejections.LOG_INTERVAL_S
        log.add(Topic.SALES, 1, 13, b"s4", b"{", "not JSON")
    assert [r.getMessage() for r in caplog.records] == [
        "rejected p.sales[1]@10 key=s1: not JSON",
        "rejected p.sales[1]@13 key=s4: not JSON (and 2 more since the last report)",
    ]
    assert log.total == 4


def test_restore_loads_counts_and_latest() -> None:
    log = RejectionLog("p.")
    log.add(Topic.SALES, 0, 0, b"x", b"{", "stale")
    saved = [Rejection("p.sales", 0, 5, "s1", "not JSON", "{")]
    log.restore({("p.sales", "not JSON"): 3, ("p.reps", "bad"): 2}, saved)
    assert dict(log.by_topic) == {"p.sales": 3, "p.reps": 2}
    assert log.total == 5
    assert list(log.latest) == saved
