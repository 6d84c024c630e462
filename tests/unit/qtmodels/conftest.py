"""Fixtures for the Qt models: a real state fed with record bytes, a bridge, a signal log."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject
from PySide6.QtTest import QAbstractItemModelTester

from gymdesk.domain.changes import Changes
from gymdesk.domain.contract import Topic
from gymdesk.domain.state import GymState, StateSettings
from gymdesk.qtmodels.bridge import StateBridge

from ..domain.records import PERIOD

BERLIN = ZoneInfo("Europe/Berlin")

Record = tuple[Topic, str, bytes | None]


class Feed:
    """Applies records to the state and hands the report to the bridge, flushed at once."""

    def __init__(self, bridge: StateBridge) -> None:
        self.bridge = bridge

    def batch(self, *records: Record) -> Changes:
        """Apply records to the state only; return the report without passing it on."""
        changes = Changes()
        for topic, key, value in records:
            self.bridge.state.apply(topic, key.encode(), value, changes=changes)
        return changes

    def __call__(self, *records: Record) -> Changes:
        """Apply records as one batch, like one slice of the reader, and flush."""
        changes = self.batch(*records)
        self.bridge.on_changes(changes)
        self.bridge.flush_now()
        return changes


class SignalLog(QObject):
    """Records the row-level signals of models, and every reset (which tests forbid)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[object, ...]] = []
        self.resets = 0

    def watch(self, model: QAbstractItemModel) -> SignalLog:
        """Log the signals of ``model``."""
        model.dataChanged.connect(self._on_model_data_changed)
        model.rowsInserted.connect(self._on_model_rows_inserted)
        model.rowsRemoved.connect(self._on_model_rows_removed)
        model.rowsMoved.connect(self._on_model_rows_moved)
        model.modelAboutToBeReset.connect(self._on_model_about_to_be_reset)
        model.layoutChanged.connect(self._on_model_layout_changed)
        return self

    def take(self) -> list[tuple[object, ...]]:
        """Return the events so far and start a new log."""
        events, self.events = self.events, []
        return events

    def _on_model_data_changed(self, top: QModelIndex, bottom: QModelIndex, roles: object) -> None:
        self.events.append(("changed", top.row(), bottom.row(), top.column(), bottom.column()))

    def _on_model_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        self.events.append(("inserted", first, last))

    def _on_model_rows_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        self.events.append(("removed", first, last))

    def _on_model_rows_moved(
        self, parent: QModelIndex, first: int, last: int, dest: QModelIndex, row: int
    ) -> None:
        self.events.append(("moved", first, last, row))

    def _on_model_about_to_be_reset(self) -> None:
        self.resets += 1
        self.events.append(("reset",))

    def _on_model_layout_changed(self) -> None:
        self.events.append(("layout",))


@pytest.fixture
def state() -> GymState:
    return GymState(StateSettings(period=PERIOD, zone=BERLIN))


@pytest.fixture
def bridge(qapp: object, state: GymState) -> StateBridge:
    # The application first: the bridge's timers need its event dispatcher, and a file
    # run on its own has no earlier test that made one.
    return StateBridge(state)


@pytest.fixture
def feed(bridge: StateBridge) -> Feed:
    return Feed(bridge)


@pytest.fixture
def signals() -> Iterator[SignalLog]:
    log = SignalLog()
    yield log
    assert log.resets == 0, "a model was reset for an update"


@pytest.fixture
def also_check() -> Iterator[list[QAbstractItemModelTester]]:
    """Keep extra Qt model testers alive (qtmodeltester checks one model per test)."""
    testers: list[QAbstractItemModelTester] = []
    yield testers
    testers.clear()


def model_checker(model: QAbstractItemModel) -> QAbstractItemModelTester:
    """Return a Qt model tester that warns (and so fails the test) on any broken rule."""
    return QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
