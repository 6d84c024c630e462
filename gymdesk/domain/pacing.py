"""One time budget per turn of the event loop, shared fairly by every sliced job on it.

The reader, the board's and the roster's reconciles and the snapshot save each do big
work in slices and give the loop a turn between them. Each used to keep its own budget,
but one turn of the Qt loop runs every job whose next slice is due: their budgets added
up, and a turn with four jobs and a repaint stalled the loop for 30-40 ms. Here they
share one budget per turn instead, each taking a fair part of what is left.

How it is driven: whoever runs the loop calls ``new_pass`` as each turn begins (the UI
connects it to the Qt event dispatcher's ``awake``). A job says ``ask`` when it schedules
its next slice, and ``deadline`` when that slice begins: it must stop when the deadline
is past, after one unit of work at least (so every job always progresses). Time spent
earlier in the turn (a repaint, a flush) counts against the budget; a job that finds the
turn spent before it began lets it go by (``should_wait``), for two turns at most.
Undriven (no loop says when turns begin: a command-line reader, the tests), each slice
gets ``fallback_s`` of its own, as before.

Pure bookkeeping on a clock: no Qt, no asyncio, so the stream and the Qt models can
share one without knowing each other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

PASS_BUDGET_S: Final = 0.003
"""The work of every job together in one turn of the loop. A timer waiting on the loop
sees up to two turns, and a repaint of the whole window takes 15-16 ms of one: the turns
around it must stay short. Measured in ``benchmarks/desk_catchup.py`` (1M records): 5 ms
gave a longest stall of 23.6-25.6 ms and a p99 of 15-17 ms, 3 ms 14.4-26.4 ms and 11-14
ms, 2 ms no better, with the catch-up as fast (the reader's unit of work, a 500-record
fetch, is 3-5 ms anyway)."""
UNDRIVEN_AFTER_S: Final = 0.5
"""A pacer whose turns have not been reported for this long counts as undriven."""
MAX_WAITS: Final = 2
"""Turns in a row a job may let go by because they were spent before it began."""


class PassBudget:
    """Shares ``budget_s`` of each turn of the loop among the jobs that wait for one."""

    def __init__(
        self,
        budget_s: float = PASS_BUDGET_S,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.budget_s = budget_s
        self._clock = clock
        self._pass_started: float | None = None
        # Asked in the turn before this one and not run yet. Only that turn's: a job that
        # asked and then went away (its view closed mid-slice) must not keep a share.
        self._due: set[object] = set()
        self._asked: set[object] = set()  # asked during this turn: due in the next one
        self._waits: dict[object, int] = {}  # turns each job let go by, in a row
        self.passes = 0

    @property
    def driven(self) -> bool:
        """Return whether a loop reports its turns (recently)."""
        return self._turn_start(self._clock()) is not None

    def _turn_start(self, now: float) -> float | None:
        """Return when this turn began, or None when no loop reports turns (recently)."""
        started = self._pass_started
        return started if started is not None and now - started < UNDRIVEN_AFTER_S else None

    def new_pass(self) -> None:
        """Begin a turn: the jobs that asked for one share a fresh budget."""
        self._pass_started = self._clock()
        self._due, self._asked = self._asked, set()
        self.passes += 1

    def ask(self, job: object) -> None:
        """Say that ``job`` has scheduled a slice for a coming turn."""
        self._asked.add(job)

    def withdraw(self, job: object) -> None:
        """Say that ``job`` no longer waits for a turn (done, or stopped)."""
        self._due.discard(job)
        self._asked.discard(job)
        self._waits.pop(job, None)

    def should_wait(self, job: object) -> bool:
        """Return whether ``job`` should let this turn go by and begin in the next one.

        So it should when something earlier in the turn (a repaint of the whole window,
        say) used the budget up: one unit of its work on top would make the turn longer
        still. Never more than ``MAX_WAITS`` turns in a row, so it always progresses; a
        job told to wait is counted as due in the next turn.
        """
        now = self._clock()
        started = self._turn_start(now)
        if started is None:
            return False
        waits = self._waits.get(job, 0)
        if now < started + self.budget_s or waits >= MAX_WAITS:
            return False
        self._waits[job] = waits + 1
        self._due.discard(job)
        self._asked.add(job)
        return True

    def deadline(self, job: object, fallback_s: float) -> float:
        """Begin a slice of ``job``: return the clock reading at which it must stop.

        Its part is what is left of this turn's budget over the jobs still due in it
        (itself included); past the deadline already, it still does one unit of work.
        """
        now = self._clock()
        self._due.discard(job)
        self._asked.discard(job)
        self._waits.pop(job, None)
        started = self._turn_start(now)
        if started is None:
            return now + fallback_s
        left = started + self.budget_s - now
        return now + max(0.0, left / (1 + len(self._due)))
