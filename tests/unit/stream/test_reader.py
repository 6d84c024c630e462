"""ChangelogReader's start: the snapshot shows as it loads, not live, before any read."""

from __future__ import annotations

from pathlib import Path

import pytest

from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import Topic
from gymdesk.domain.state import GymState, StateSettings
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.stream import snapshot as snapshot_module
from gymdesk.stream.reader import HEADLESS_FETCH, WINDOW_FETCH, Backoff, ChangelogReader
from gymdesk.stream.settings import ConnectionSettings
from gymdesk.stream.snapshot import SnapshotStore
from tests.conftest import run
from tests.unit.domain.records import PERIOD

from .test_snapshot import BOOKINGS, PREFIX, saved


def test_the_snapshot_is_shown_as_it_loads_and_nothing_is_read_before_it_is_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original, path = saved(tmp_path)
    monkeypatch.setattr(snapshot_module, "LOAD_SLICE", 500)
    monkeypatch.setattr(snapshot_module, "PROGRESS_INTERVAL_S", 0.0)
    state = GymState(StateSettings(prefix=PREFIX, period=PERIOD))
    reports: list[tuple[int, bool]] = []
    statuses: list[ReaderStatus] = []
    sessions: list[int] = []

    def on_changes(changes: Changes) -> None:
        reports.append((len(state.tables[Topic.BOOKINGS]), changes.touched(View.CLASSES)))

    async def main() -> None:
        store = SnapshotStore(path)
        store.slice_budget_s = 0.0
        reader = ChangelogReader(
            ConnectionSettings(bootstrap_servers="127.0.0.1:9"),
            state,
            snapshot=store,
            on_changes=on_changes,
            on_status=statuses.append,
        )

        async def session(_backoff: Backoff) -> None:
            # The first thing that would talk to the broker: the restore must be done.
            sessions.append(len(state.tables[Topic.BOOKINGS]))
            reader.stop()

        monkeypatch.setattr(reader, "_session", session)
        try:
            await reader.run()
        finally:
            store.close()

    run(main())
    assert sessions == [BOOKINGS]
    # The classes were reported before the bookings were in, then the bookings in parts.
    assert reports[0] == (0, True)
    partial = [n for n, _ in reports if 0 < n < BOOKINGS]
    assert partial
    assert partial == sorted(partial)
    assert reports[-1][0] == BOOKINGS
    # Meanwhile the status was "restoring" (never live) and said how far the load was.
    loading = [s for s in statuses if s.phase is Phase.RESTORING]
    assert loading
    assert not any(s.live for s in loading)
    assert any(s.reason.endswith("%") for s in loading)
    first_connecting = next(i for i, s in enumerate(statuses) if s.phase is Phase.CONNECTING)
    assert all(s.phase is not Phase.RESTORING for s in statuses[first_connecting:])
    assert statuses[-1].phase is Phase.STOPPED
    assert list(state.class_views()) == list(original.class_views())
    assert list(state.instructor_views()) == list(original.instructor_views())


def test_a_reader_beside_a_window_asks_for_small_fetch_answers() -> None:
    # aiokafka decodes a whole answer in one step of the loop: beside a window, answers
    # are kept small; headless, aiokafka's own (larger, faster) limits stay.
    assert WINDOW_FETCH.records < HEADLESS_FETCH.records
    state = GymState(StateSettings(prefix=PREFIX, period=PERIOD))
    connection = ConnectionSettings(bootstrap_servers="127.0.0.1:9")

    async def consumers() -> list[tuple[int, int]]:
        found = []
        for fetch in (WINDOW_FETCH, HEADLESS_FETCH):
            reader = ChangelogReader(connection, state, fetch=fetch)
            consumer = reader._consumer(connection.client_kwargs())
            found.append((consumer._max_partition_fetch_bytes, consumer._fetch_max_bytes))
            await consumer.stop()
        return found

    small, default = run(consumers())
    assert small == (256 * 1024, 1024 * 1024)
    assert default == (1024 * 1024, 50 * 1024 * 1024)
