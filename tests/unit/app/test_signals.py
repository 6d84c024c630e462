"""SIGTERM and SIGINT end a run in order, and the handlers from before come back after."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest

from gymdesk.app.signals import run_until_signalled, shutdown_on_signals


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh asyncio loop, closed after the test."""
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_cancels_the_run_and_its_finally_blocks_run(
    loop: asyncio.AbstractEventLoop, signum: signal.Signals
) -> None:
    cleaned: list[str] = []

    async def main() -> int:
        loop.call_later(0.05, os.kill, os.getpid(), signum)
        try:
            await asyncio.sleep(30)
        finally:
            cleaned.append("stopped")
        return 0

    with pytest.raises(SystemExit) as exited:
        run_until_signalled(loop, main())
    assert exited.value.code == 128 + signum
    assert cleaned == ["stopped"]


def test_a_run_without_signals_returns_its_result(loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> int:
        await asyncio.sleep(0)
        return 7

    assert run_until_signalled(loop, main()) == 7


def test_the_handlers_from_before_come_back(loop: asyncio.AbstractEventLoop) -> None:
    seen: list[int] = []

    def before(signum: int, _frame: object) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGTERM, before)
    try:
        with shutdown_on_signals(loop, lambda _signum: None):
            assert signal.getsignal(signal.SIGTERM) is not before
        # Not SIG_DFL, as asyncio's own removal would leave it: the old handler is back.
        assert signal.getsignal(signal.SIGTERM) is before
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_loop_stopped_under_the_run_cancels_it_and_lets_it_finish(
    loop: asyncio.AbstractEventLoop,
) -> None:
    # As when Qt's event loop quits by itself (its display went away): the loop stops
    # with the run still going; the run is cancelled and its cleanup still runs.
    cleaned: list[str] = []

    async def main() -> int:
        loop.call_later(0.05, loop.stop)
        try:
            await asyncio.sleep(30)
        finally:
            await asyncio.sleep(0.01)  # a cleanup that needs the loop (a snapshot save)
            cleaned.append("stopped")
        return 0

    with pytest.raises(SystemExit) as exited:
        run_until_signalled(loop, main())
    assert exited.value.code == 1
    assert cleaned == ["stopped"]


def test_a_run_s_own_runtime_error_is_not_taken_for_an_early_stop(
    loop: asyncio.AbstractEventLoop,
) -> None:
    async def main() -> int:
        raise RuntimeError("the run's own")

    with pytest.raises(RuntimeError, match="the run's own"):
        run_until_signalled(loop, main())
