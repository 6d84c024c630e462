"""Throttle: the first call at once, a burst is one trailing call, quiet means immediate."""

from __future__ import annotations

import time

import pytest
from pytestqt.qtbot import QtBot

from gymdesk.qtmodels.throttle import Throttle

INTERVAL_MS = 60


class Counter:
    """Counts calls of the throttled callback."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
def throttle(counter: Counter) -> Throttle:
    return Throttle(counter, INTERVAL_MS)


def test_first_call_runs_at_once(throttle: Throttle, counter: Counter) -> None:
    throttle()
    assert counter.calls == 1
    assert not throttle.pending


def test_a_burst_is_one_trailing_call(qtbot: QtBot, throttle: Throttle, counter: Counter) -> None:
    for _ in range(100):
        throttle()
    assert counter.calls == 1
    assert throttle.pending
    qtbot.waitUntil(lambda: counter.calls == 2, timeout=2000)
    assert not throttle.pending
    # Nothing else was queued: a few more intervals pass without a call.
    qtbot.wait(INTERVAL_MS * 3)
    assert counter.calls == 2


def test_a_call_after_a_quiet_interval_runs_at_once(
    qtbot: QtBot, throttle: Throttle, counter: Counter
) -> None:
    throttle()
    throttle()
    qtbot.waitUntil(lambda: counter.calls == 2, timeout=2000)
    qtbot.wait(INTERVAL_MS * 2)
    throttle()
    assert counter.calls == 3
    assert not throttle.pending


def test_a_steady_stream_gets_one_call_per_interval_at_most(
    qtbot: QtBot, throttle: Throttle, counter: Counter
) -> None:
    throttle()
    throttle()
    throttle()
    qtbot.waitUntil(lambda: counter.calls == 2, timeout=2000)
    throttle()  # right after the trailing call: waits for the next interval
    assert counter.calls == 2
    throttle()
    qtbot.waitUntil(lambda: counter.calls == 3, timeout=2000)
    assert counter.calls == 3


def test_flush_runs_the_trailing_call_now_and_cancel_drops_it(
    qtbot: QtBot, throttle: Throttle, counter: Counter
) -> None:
    throttle()
    throttle()
    throttle.flush()
    assert counter.calls == 2
    assert not throttle.pending
    throttle()  # within the interval of the flush: scheduled, then dropped
    assert throttle.pending
    throttle.cancel()
    qtbot.wait(INTERVAL_MS * 3)
    assert counter.calls == 2


def test_negative_interval_is_refused(counter: Counter) -> None:
    with pytest.raises(ValueError, match="interval_ms"):
        Throttle(counter, -1)


def test_a_slow_call_stretches_the_quiet_time_after_it(qtbot: QtBot) -> None:
    calls: list[float] = []

    def slow() -> None:
        calls.append(time.monotonic())
        time.sleep(0.03)  # 30 ms of work: at factor 4, 120 ms of quiet must follow

    throttle = Throttle(slow, 10, slow_factor=4)
    throttle()
    assert throttle.gap_ms >= 120
    throttle()
    assert throttle.pending
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=2000)
    # The gap counts from the end of the first call (Qt's coarse timers may fire 5% early).
    assert calls[1] - calls[0] >= 0.03 + 0.12 * 0.9


def test_a_fast_call_keeps_the_plain_interval(counter: Counter) -> None:
    throttle = Throttle(counter, INTERVAL_MS, slow_factor=4)
    throttle()
    assert throttle.gap_ms == INTERVAL_MS


def test_negative_slow_factor_is_refused(counter: Counter) -> None:
    with pytest.raises(ValueError, match="slow_factor"):
        Throttle(counter, 10, slow_factor=-1)


def test_a_longer_interval_holds_the_trailing_call_back(
    qtbot: QtBot, throttle: Throttle, counter: Counter
) -> None:
    throttle.set_interval(INTERVAL_MS * 4)
    started = time.monotonic()
    throttle()
    throttle()
    assert counter.calls == 1
    qtbot.waitUntil(lambda: counter.calls == 2, timeout=2000)
    assert time.monotonic() - started >= INTERVAL_MS * 4 / 1000 * 0.9


def test_a_shorter_interval_brings_a_scheduled_call_forward(qtbot: QtBot, counter: Counter) -> None:
    throttle = Throttle(counter, 5000)
    throttle()
    throttle()
    assert throttle.pending
    throttle.set_interval(INTERVAL_MS)
    qtbot.waitUntil(lambda: counter.calls == 2, timeout=1000)
    assert throttle.interval_ms == INTERVAL_MS


def test_a_changed_interval_keeps_the_slow_call_gap(qtbot: QtBot) -> None:
    throttle = Throttle(lambda: time.sleep(0.03), 10, slow_factor=4)
    throttle()
    throttle.set_interval(20)
    assert throttle.gap_ms >= 120


def test_a_negative_new_interval_is_refused(throttle: Throttle) -> None:
    with pytest.raises(ValueError, match="interval_ms"):
        throttle.set_interval(-1)
