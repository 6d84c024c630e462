"""What one repaint of the receptionist's window costs, widget by widget.

Run: ``.venv/bin/python benchmarks/board_paint.py [--bookings 20000] [--repeats 30]``.
No broker: a state is filled in process with the benchmarks' gym (400 classes, 40 of
them today, 5,000 members) and ``--bookings`` bookings, and the receptionist's window
opens over it at 1280x800 (Qt offscreen unless ``QT_QPA_PLATFORM`` says otherwise), with
the running class's roster shown. It prints the median and the fastest of ``--repeats``
synchronous repaints of the whole window, of the board's and the roster's viewports, and
of going stale and back live (the stale banner shows or hides: the window is laid out
again and repainted). Going live is the repaint that ends every catch-up, next to the
reader's last step; the loop-stall target (< 20 ms, ``desk_catchup.py``) has to hold it.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import GymShape, booking_changes, machine, small_tables


def timed(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Return the median and the fastest duration of ``call`` in ms."""
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations), min(durations)


def main() -> None:
    """Fill a state, open the receptionist's window over it, time its repaints."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QTableView

    from gymdesk.domain.changes import Changes, View
    from gymdesk.domain.contract import Topic
    from gymdesk.domain.state import GymState, StateSettings
    from gymdesk.domain.status import Phase, ReaderStatus
    from gymdesk.qtmodels.bridge import StateBridge
    from gymdesk.ui.window import MainWindow

    app = QApplication([])
    state = GymState(StateSettings(zone=ZoneInfo("UTC"), busy_threshold=0.8))
    shape = GymShape()
    changes = Changes()
    for topic, key, value in small_tables(shape):
        state.apply(topic, key.encode(), value, 0, -1, changes)
    for key, value in booking_changes(shape, args.bookings, args.bookings, churn=False):
        state.apply(Topic.BOOKINGS, key.encode(), value, 0, -1, changes)
    bridge = StateBridge(state, interval_ms=0)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "desk.ini"), QSettings.Format.IniFormat)
        window = MainWindow(bridge, "receptionist", settings)
        window.resize(1280, 800)
        window.show()
        everything = Changes()
        for view in View:
            everything.touch_all(view)
        bridge.on_changes(everything)
        bridge.flush_now()
        bridge.on_status(ReaderStatus(Phase.LIVE, confirmed_at=time.time()))
        for _ in range(50):
            app.processEvents()
        board = window.findChild(QTableView, "board")
        roster = window.findChild(QTableView, "roster")
        if board is None or roster is None:
            raise SystemExit("the receptionist's window has no board or roster")

        def stale() -> None:
            bridge.on_status(ReaderStatus(Phase.CATCHING_UP))
            app.processEvents()

        def live() -> None:
            bridge.on_status(ReaderStatus(Phase.LIVE, confirmed_at=time.time()))
            app.processEvents()

        to_stale, to_live = [], []
        for _ in range(args.repeats):
            to_stale.append(timed(stale, 1)[0])
            to_live.append(timed(live, 1)[0])
        print(machine())
        rows = board.viewport().height() / board.verticalHeader().defaultSectionSize()
        print(
            f"board: {board.model().rowCount()} classes today, ~{rows:.0f} rows in view; "
            f"roster: {roster.model().rowCount()} bookings, 1280x800 window"
        )
        for what, call in (
            ("window repaint", window.repaint),
            ("board viewport repaint", board.viewport().repaint),
            ("roster viewport repaint", roster.viewport().repaint),
        ):
            median, fastest = timed(call, args.repeats)
            print(f"{what:<28} median {median:5.2f} ms, fastest {fastest:5.2f} ms")
        moves = (("going stale (banner shows)", to_stale), ("going live (banner hides)", to_live))
        for what, values in moves:
            print(
                f"{what:<28} median {statistics.median(values):5.2f} ms, "
                f"longest {max(values):5.2f} ms"
            )
        window.allow_close()
        window.close()


if __name__ == "__main__":
    main()
