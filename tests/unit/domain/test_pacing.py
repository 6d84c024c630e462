"""The pacer: one budget per turn of the loop, shared fairly by the jobs due in it."""

from __future__ import annotations

import pytest

from gymdesk.domain.pacing import MAX_WAITS, UNDRIVEN_AFTER_S, PassBudget
from tests.clock import HandClock


def test_undriven_slices_get_their_own_fallback() -> None:
    clock = HandClock()
    pacer = PassBudget(0.005, clock=clock)
    assert not pacer.driven
    assert pacer.deadline("reader", 0.002) == pytest.approx(100.002)
    clock.now += 10
    assert pacer.deadline("board", 0.004) == pytest.approx(110.004)


def test_a_lone_job_gets_the_whole_turn_less_what_ran_before_it() -> None:
    clock = HandClock()
    pacer = PassBudget(0.005, clock=clock)
    pacer.new_pass()
    assert pacer.driven
    clock.now += 0.001  # a repaint ran first in this turn
    assert pacer.deadline("reader", 0.002) == pytest.approx(clock.now + 0.004)


def test_jobs_due_in_a_turn_share_what_is_left() -> None:
    clock = HandClock()
    pacer = PassBudget(0.006, clock=clock)
    for job in ("reader", "board", "roster"):
        pacer.ask(job)
    pacer.new_pass()
    first = pacer.deadline("reader", 1.0)
    assert first == pytest.approx(clock.now + 0.002)  # a third of 6 ms
    clock.now = first
    second = pacer.deadline("board", 1.0)
    assert second == pytest.approx(clock.now + 0.002)  # half of the 4 ms left
    clock.now = second
    assert pacer.deadline("roster", 1.0) == pytest.approx(clock.now + 0.002)  # the rest


def test_a_job_asking_during_a_turn_is_due_in_the_next_one() -> None:
    clock = HandClock()
    pacer = PassBudget(0.006, clock=clock)
    pacer.new_pass()
    pacer.ask("roster")  # scheduled now: its timer fires in the next turn
    assert pacer.deadline("reader", 1.0) == pytest.approx(clock.now + 0.006)
    pacer.ask("reader")
    pacer.new_pass()
    assert pacer.deadline("reader", 1.0) == pytest.approx(clock.now + 0.003)


def test_a_spent_turn_gives_no_time_and_a_withdrawn_job_no_share() -> None:
    clock = HandClock()
    pacer = PassBudget(0.004, clock=clock)
    pacer.ask("board")
    pacer.ask("save")
    pacer.new_pass()
    pacer.withdraw("save")
    assert pacer.deadline("reader", 1.0) == pytest.approx(clock.now + 0.002)
    clock.now += 0.010  # the reader's one unit of work overran the whole turn
    assert pacer.deadline("board", 1.0) == pytest.approx(clock.now)


def test_a_loop_that_stops_reporting_turns_counts_as_undriven() -> None:
    clock = HandClock()
    pacer = PassBudget(0.005, clock=clock)
    pacer.new_pass()
    clock.now += UNDRIVEN_AFTER_S
    assert not pacer.driven
    assert pacer.deadline("reader", 0.002) == pytest.approx(clock.now + 0.002)


def test_a_job_lets_a_spent_turn_go_by_but_never_more_than_max_waits_in_a_row() -> None:
    clock = HandClock()
    pacer = PassBudget(0.005, clock=clock)
    pacer.new_pass()
    assert not pacer.should_wait("board")  # budget left: begin now
    clock.now += 0.015  # a repaint of the whole window took the turn
    for _ in range(MAX_WAITS):
        assert pacer.should_wait("board")
        pacer.new_pass()
        clock.now += 0.015  # and the next ones too
    assert not pacer.should_wait("board")  # it has waited enough: one unit now
    pacer.deadline("board", 1.0)
    assert pacer.should_wait("board")  # a granted slice starts the count again


def test_a_waiting_job_counts_as_due_in_the_next_turn() -> None:
    clock = HandClock()
    pacer = PassBudget(0.006, clock=clock)
    pacer.new_pass()
    clock.now += 0.010
    assert pacer.should_wait("roster")
    pacer.new_pass()
    assert pacer.deadline("reader", 1.0) == pytest.approx(clock.now + 0.003)  # shares with it


def test_undriven_jobs_never_wait() -> None:
    clock = HandClock()
    pacer = PassBudget(0.005, clock=clock)
    assert not pacer.should_wait("reader")
    pacer.new_pass()
    clock.now += UNDRIVEN_AFTER_S
    assert not pacer.should_wait("reader")


def test_a_job_that_asked_and_went_away_keeps_no_share() -> None:
    clock = HandClock()
    pacer = PassBudget(0.006, clock=clock)
    pacer.ask("closed roster")  # its view closed before its slice ran
    pacer.new_pass()
    assert pacer.deadline("reader", 1.0) == pytest.approx(clock.now + 0.003)  # it was due
    pacer.new_pass()
    assert pacer.deadline("reader", 1.0) == pytest.approx(clock.now + 0.006)  # not any more
