"""next_turn: a slice resumes in a turn of the loop that has time left, soon."""

from __future__ import annotations

import asyncio

from gymdesk.domain.pacing import MAX_WAITS, PassBudget
from gymdesk.stream.turns import next_turn
from tests.clock import HandClock


async def turns_taken(pacer: PassBudget, job: object) -> int:
    """Return how many turns of the loop ``next_turn`` let go by before it returned."""
    turns = 0
    done = False

    async def count() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.ensure_future(count())
    await asyncio.sleep(0)  # the counter is running
    turns = 0
    await next_turn(pacer, job)
    done = True
    await counter
    return turns


def test_a_turn_with_time_left_is_taken_at_once() -> None:
    clock = HandClock()
    pacer = PassBudget(0.005, clock=clock)
    pacer.new_pass()
    assert asyncio.run(turns_taken(pacer, "reader")) == 1


def test_spent_turns_are_let_go_by_but_never_more_than_max_waits() -> None:
    clock = HandClock()
    pacer = PassBudget(0.005, clock=clock)
    pacer.new_pass()
    clock.now += 0.020  # every turn from here looks spent: no new_pass is reported
    assert asyncio.run(turns_taken(pacer, "reader")) == MAX_WAITS + 1


def test_an_undriven_pacer_never_holds_a_job_back() -> None:
    pacer = PassBudget(0.005)
    assert asyncio.run(turns_taken(pacer, "save")) == 1
