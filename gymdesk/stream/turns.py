"""Giving the event loop a turn between slices of work, as the pacer says."""

from __future__ import annotations

import asyncio

from gymdesk.domain.pacing import MAX_WAITS, PassBudget


async def next_turn(pacer: PassBudget, job: object) -> None:
    """Yield to the loop; resume in a turn that has time left (at most ``MAX_WAITS`` later).

    A turn that a repaint of the whole window used up is let go by: one more unit of
    work in it would only make it longer.
    """
    pacer.ask(job)
    for _ in range(MAX_WAITS + 1):
        await asyncio.sleep(0)
        if not pacer.should_wait(job):
            return
