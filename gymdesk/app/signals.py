"""SIGINT and SIGTERM as a request to shut down in order, on the running asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final, TypeVar

SHUTDOWN_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)

T = TypeVar("T")


@contextlib.contextmanager
def shutdown_on_signals(
    loop: asyncio.AbstractEventLoop, request: Callable[[signal.Signals], None]
) -> Iterator[None]:
    """Call ``request(signum)`` on the loop when SIGINT or SIGTERM arrives, while inside.

    On exit the handlers that were there before are put back (asyncio's own removal would
    reset SIGTERM to the default, which kills the process during the rest of a shutdown).
    """
    previous: dict[signal.Signals, Any] = {}
    via_loop: list[signal.Signals] = []
    for signum in SHUTDOWN_SIGNALS:
        previous[signum] = signal.getsignal(signum)
        try:
            # The loop's handler wakes the loop through its self-pipe, so the request is
            # seen even while Qt's event loop sleeps in C++ with no Python code running.
            loop.add_signal_handler(signum, request, signum)
            via_loop.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            # Windows' loops, or not the main thread: a plain handler that hands over.
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signum, _plain_handler(loop, request))
    try:
        yield
    finally:
        for signum in SHUTDOWN_SIGNALS:
            if signum in via_loop:
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(signum)
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(signum, previous[signum])


def _plain_handler(
    loop: asyncio.AbstractEventLoop, request: Callable[[signal.Signals], None]
) -> Callable[[int, object], None]:
    """Return a ``signal.signal`` handler that schedules ``request`` on the loop."""

    def handler(signum: int, _frame: object) -> None:
        """Hand the signal to the loop's thread."""
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(request, signal.Signals(signum))

    return handler


def run_until_signalled(loop: asyncio.AbstractEventLoop, main: Awaitable[T]) -> T:
    """Run ``main`` on the loop; a signal that nothing inside handles cancels it in order.

    Code inside may take the signals over for its own orderly shutdown (the desk's session
    does); before and after that, SIGINT or SIGTERM cancels ``main``, so its ``finally``
    blocks stop what it started (the demo's broker and simulator, temporary folders), and
    the process then exits with 128 + the signal's number.
    """
    task = asyncio.ensure_future(main, loop=loop)
    received: list[signal.Signals] = []

    def request(signum: signal.Signals) -> None:
        """Cancel the run once."""
        if not received:
            received.append(signum)
            task.cancel()

    with shutdown_on_signals(loop, request):
        try:
            return loop.run_until_complete(task)
        except asyncio.CancelledError:
            if received:
                raise SystemExit(128 + int(received[0])) from None
            raise
