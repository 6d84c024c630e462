"""SIGINT and SIGTERM as a request to shut down in order, on the running asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final, TypeVar

SHUTDOWN_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
# How often a run whose loop stopped under it is run again to finish its shutdown.
EARLY_STOP_RERUNS: Final = 10

log = logging.getLogger(__name__)

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
    the process then exits with 128 + the signal's number. If the loop stops under
    ``main`` (Qt's loop quit: the display went away), ``main`` is cancelled and run to
    its end the same way, and the process exits with 1.
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
            try:
                return loop.run_until_complete(task)
            except RuntimeError:
                if task.done():
                    raise  # the run's own error
                _finish_after_early_stop(loop, task)
                raise SystemExit(1) from None
        except asyncio.CancelledError:
            if received:
                raise SystemExit(128 + int(received[0])) from None
            raise


def _finish_after_early_stop(loop: asyncio.AbstractEventLoop, task: asyncio.Future[Any]) -> None:
    """Cancel a run whose loop stopped under it, and let it shut down in order.

    Qt's event loop quits by itself when the window system goes away (the X server dies,
    a remote session drops) or when something calls ``QApplication.exit``; qasync then
    stops with the run still going. Running the loop again works even without a display
    (measured under Xvfb), so the run's ``finally`` blocks still stop reading, save the
    snapshot and stop what the demo started.
    """
    log.error("the event loop stopped under the app (did the display go away?); shutting down")
    task.cancel()
    for _ in range(EARLY_STOP_RERUNS):
        with contextlib.suppress(Exception, asyncio.CancelledError):  # read below
            loop.run_until_complete(task)
        if task.done():
            break
    else:
        log.error("the shutdown did not finish: the loop keeps stopping")
    if task.done() and not task.cancelled() and task.exception() is not None:
        log.error("the shutdown ended with an error: %s", task.exception())
