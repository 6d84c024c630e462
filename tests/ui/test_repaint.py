"""RepaintThrottle: a lone change paints at once, a stream paints once per interval, latest."""

from __future__ import annotations

import time
from typing import cast

import pytest
from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from gymdesk.domain.contract import Topic
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.ui.receptionist import ReceptionistBoard
from gymdesk.ui.repaint import REPAINT_INTERVAL_MS, RepaintThrottle
from gymdesk.ui.window import MainWindow
from tests.ui.conftest import Feeder, now_local
from tests.unit.domain.records import booking_json

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

INTERVAL_MS = 300


class PaintLog(QObject):
    """Notes, for each paint of a label, when it came and the text it painted."""

    def __init__(self, label: QLabel) -> None:
        super().__init__(label)
        self.label = label
        self.painted: list[tuple[float, str]] = []
        label.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.painted.append((time.monotonic(), self.label.text()))
        return False


def shown_window(qtbot: QtBot) -> tuple[QWidget, QLabel, RepaintThrottle, PaintLog]:
    """A top-level window with a label, its repaints throttled, shown and settled."""
    window = QWidget()
    label = QLabel("0", window)
    QVBoxLayout(window).addWidget(label)
    throttle = RepaintThrottle(window, INTERVAL_MS)
    qtbot.addWidget(window)
    window.resize(300, 100)
    window.show()
    qtbot.waitExposed(window)
    log = PaintLog(label)
    qtbot.wait(INTERVAL_MS + 100)  # past the first paints' interval: a quiet spell
    log.painted.clear()
    return window, label, throttle, log


def hold_a_change(qtbot: QtBot, throttle: RepaintThrottle, log: PaintLog) -> None:
    """Paint "1" at once, then set "2" within the interval: its repaint is held back."""
    log.label.setText("1")
    qtbot.waitUntil(lambda: len(log.painted) == 1, timeout=INTERVAL_MS // 2)
    log.label.setText("2")
    qtbot.wait(10)
    assert throttle.throttle.pending


def test_a_lone_change_paints_in_the_same_turn(qtbot: QtBot) -> None:
    _window, label, throttle, log = shown_window(qtbot)
    label.setText("1")
    qtbot.waitUntil(lambda: len(log.painted) == 1, timeout=INTERVAL_MS // 2)
    assert log.painted[0][1] == "1"
    assert throttle.held == 0


def test_a_stream_of_changes_paints_once_per_interval_with_the_latest_state(
    qtbot: QtBot,
) -> None:
    _window, label, throttle, log = shown_window(qtbot)
    started = time.monotonic()
    label.setText("1")  # the first after a quiet spell: at once
    qtbot.waitUntil(lambda: len(log.painted) == 1, timeout=INTERVAL_MS // 2)
    for n in range(2, 12):  # one change per turn of the loop, within the interval
        label.setText(str(n))
        qtbot.wait(5)
    assert len(log.painted) == 1  # held back, not queued
    assert throttle.held >= 1
    qtbot.waitUntil(lambda: len(log.painted) == 2, timeout=INTERVAL_MS * 3)
    assert log.painted[1][1] == "11"  # one repaint, with the last text
    assert log.painted[1][0] - log.painted[0][0] >= INTERVAL_MS / 1000 * 0.9
    qtbot.wait(INTERVAL_MS * 2)
    assert len(log.painted) == 2  # nothing more was owed
    assert time.monotonic() - started < 5


def test_flush_paints_a_held_change_now(qtbot: QtBot) -> None:
    _window, _label, throttle, log = shown_window(qtbot)
    hold_a_change(qtbot, throttle, log)
    throttle.flush()
    assert [text for _, text in log.painted] == ["1", "2"]
    assert not throttle.throttle.pending


def test_a_resize_paints_at_once_while_a_repaint_is_held(qtbot: QtBot) -> None:
    window, label, throttle, log = shown_window(qtbot)
    hold_a_change(qtbot, throttle, log)
    resized = time.monotonic()
    window.resize(320, 120)  # an expose: Qt paints it at once, not through the throttle
    qtbot.waitUntil(lambda: log.painted[-1][1] == "2", timeout=INTERVAL_MS * 3)
    assert label.width() > 290  # the resize reached the window's layout
    assert log.painted[-1][0] - resized < INTERVAL_MS / 1000 / 2


class Deliveries(QObject):
    """Counts the update requests a window handles (each one repaints what is dirty)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.count = 0
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.UpdateRequest:
            self.count += 1
        return False


def test_the_desk_window_signals_every_booking_and_repaints_at_the_throttle_s_pace(
    qtbot: QtBot, settings: QSettings, bridge: StateBridge, feeder: Feeder
) -> None:
    feeder.gym(now_local().replace(hour=12, minute=0))
    feeder.live()
    window = MainWindow(bridge, "receptionist", settings)
    qtbot.addWidget(window)
    window.resize(1200, 700)
    window.show()
    qtbot.waitExposed(window)
    board = cast(ReceptionistBoard, window.view)
    deliveries = Deliveries(window)
    window.repaints.go_first()  # the count holds only the requests it lets through
    qtbot.wait(REPAINT_INTERVAL_MS * 3)
    deliveries.count = 0
    signals: list[int] = []
    board.board.dataChanged.connect(lambda top, _bottom, _roles: signals.append(top.row()))
    started = time.monotonic()
    for n in range(40):  # one booking per turn of the loop, as a live stream brings them
        feeder.put(Topic.BOOKINGS, f"new{n}", booking_json("c1", "booked", member_id="m1"))
        qtbot.wait(2)
    window.repaints.flush()
    elapsed_ms = (time.monotonic() - started) * 1000
    assert len(signals) >= 40  # every booking reached its row at once
    # ...while the window repainted at most once per interval (plus the first, at once).
    assert 1 <= deliveries.count <= elapsed_ms / REPAINT_INTERVAL_MS + 2
    assert deliveries.count < 40
