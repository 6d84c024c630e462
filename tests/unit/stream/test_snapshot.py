"""SnapshotStore: a save and a restore give back the state; small tables are shown first."""

from __future__ import annotations

import gc
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gymdesk.domain import state as state_module
from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import Topic, decode_snapshot_row
from gymdesk.domain.state import GymState, StateSettings
from gymdesk.stream import snapshot as snapshot_module
from gymdesk.stream.snapshot import SnapshotError, SnapshotStore
from tests.conftest import run
from tests.unit.domain.records import (
    PERIOD,
    booking_json,
    class_json,
    instructor_json,
    member_json,
)

PREFIX = "t."
BOOKINGS = 3000


def gym() -> GymState:
    """A state with two instructors, ten classes, members and a few thousand bookings."""
    state = GymState(StateSettings(prefix=PREFIX, period=PERIOD))
    changes = Changes()
    for i in range(2):
        state.apply(
            Topic.INSTRUCTORS, f"i{i}".encode(), instructor_json(f"Coach {i}"), 0, 0, changes
        )
    for m in range(50):
        state.apply(Topic.MEMBERS, f"m{m}".encode(), member_json(f"Member {m}"), 0, 0, changes)
    for c in range(10):
        state.apply(Topic.CLASSES, f"c{c}".encode(), class_json(f"i{c % 2}", 500), 0, 0, changes)
    statuses = ("booked", "checked_in", "cancelled", "waitlisted")
    for b in range(BOOKINGS):
        value = booking_json(f"c{b % 10}", statuses[b % 4], member_id=f"m{b % 50}")
        state.apply(Topic.BOOKINGS, f"b{b}".encode(), value, 0, b, changes)
    return state


def saved(tmp_path: Path) -> tuple[GymState, Path]:
    """Save a gym to a snapshot file; return the state and the file."""
    state, path = gym(), tmp_path / "snap.sqlite"

    async def save() -> None:
        store = SnapshotStore(path)
        try:
            await store.save(state, "cluster-1", {(PREFIX + "bookings", 0): BOOKINGS})
        finally:
            store.close()

    run(save())
    return state, path


def restored(path: Path, **kwargs: object) -> tuple[GymState, object]:
    """Restore a snapshot file into a fresh state; return it and the restore's result."""
    state = GymState(StateSettings(prefix=PREFIX, period=PERIOD))

    async def restore() -> object:
        store = SnapshotStore(path)
        try:
            return await store.restore(state, Changes(), **kwargs)  # type: ignore[arg-type]
        finally:
            store.close()

    return state, run(restore())


def test_a_restore_gives_back_every_table_and_aggregate(tmp_path: Path) -> None:
    original, path = saved(tmp_path)
    state, info = restored(path)
    assert info is not None
    assert info.cluster_id == "cluster-1"  # type: ignore[attr-defined]
    assert info.offsets == {(PREFIX + "bookings", 0): BOOKINGS}  # type: ignore[attr-defined]
    for topic in Topic:
        assert dict(state.tables[topic]) == dict(original.tables[topic]), topic
    assert list(state.class_views()) == list(original.class_views())
    assert list(state.instructor_views()) == list(original.instructor_views())


def test_the_small_tables_are_reported_before_the_bookings_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, path = saved(tmp_path)
    # Small slices and no pause between reports, so the bookings arrive in several parts.
    monkeypatch.setattr(snapshot_module, "LOAD_SLICE", 500)
    monkeypatch.setattr(snapshot_module, "PROGRESS_INTERVAL_S", 0.0)
    monkeypatch.setattr(snapshot_module, "LOAD_BUDGET_S", 0.0)
    seen: list[tuple[int, int, bool, bool]] = []
    state = GymState(StateSettings(prefix=PREFIX, period=PERIOD))

    def on_progress(part: Changes) -> None:
        seen.append(
            (
                len(state.tables[Topic.CLASSES]),
                len(state.tables[Topic.BOOKINGS]),
                part.touched(View.CLASSES),
                part.touched(View.BOOKINGS),
            )
        )

    async def restore() -> Changes:
        store = SnapshotStore(path)
        store.slice_budget_s = 0.0
        changes = Changes()
        try:
            await store.restore(state, changes, on_progress=on_progress)
        finally:
            store.close()
        return changes

    changes = run(restore())
    # First: every class, no booking yet -- the board can paint its classes.
    assert seen[0] == (10, 0, True, False)
    # Then the bookings in parts, each with the classes whose counts moved.
    with_bookings = [s for s in seen if s[3]]
    assert len(with_bookings) > 2
    assert all(s[2] for s in with_bookings)
    assert [s[1] for s in with_bookings] == sorted(s[1] for s in with_bookings)
    assert seen[-1][1] == BOOKINGS
    # The caller's report holds everything that was loaded.
    assert changes.touched(View.CLASSES)
    assert changes.touched(View.BOOKINGS)
    assert changes.touched(View.MEMBERS)


def test_a_restore_without_a_listener_still_reports_into_changes(tmp_path: Path) -> None:
    _, path = saved(tmp_path)
    state, info = restored(path)
    assert info is not None
    assert len(state.tables[Topic.BOOKINGS]) == BOOKINGS


def test_a_damaged_row_raises_snapshot_error(tmp_path: Path) -> None:
    _, path = saved(tmp_path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE rows SET value = ? WHERE topic = 'bookings' AND key = 'b7'", (b"{",))
    conn.close()
    with pytest.raises(SnapshotError, match="damaged row bookings/b7"):
        restored(path)


def test_no_snapshot_file_restores_nothing(tmp_path: Path) -> None:
    state, info = restored(tmp_path / "missing.sqlite")
    assert info is None
    assert not state.tables[Topic.CLASSES]


def test_an_incremental_save_writes_updates_and_deletes(tmp_path: Path) -> None:
    state, path = gym(), tmp_path / "snap.sqlite"

    async def save_twice() -> None:
        store = SnapshotStore(path)
        try:
            await store.save(state, "cluster-1", {})
            changes = Changes()
            state.apply(Topic.BOOKINGS, b"b1", None, 0, 0, changes)
            state.apply(Topic.BOOKINGS, b"b2", booking_json("c3", "no_show"), 0, 0, changes)
            state.apply(Topic.CLASSES, b"c9", None, 0, 0, changes)
            state.apply(Topic.BOOKINGS, b"b4", booking_json("c4", "no_show"), 0, 0, changes)
            state.apply(Topic.BOOKINGS, b"b4", None, 0, 0, changes)  # updated, then deleted
            state.apply(Topic.BOOKINGS, b"b6", None, 0, 0, changes)
            state.apply(Topic.BOOKINGS, b"b6", booking_json("c6"), 0, 0, changes)  # and back
            stats = await store.save(state, "cluster-1", {})
            assert stats.rows == 5  # only what changed since the first save, each key once
        finally:
            store.close()

    run(save_twice())
    back, _ = restored(path)
    for topic in Topic:
        assert dict(back.tables[topic]) == dict(state.tables[topic]), topic
    assert "b1" not in back.tables[Topic.BOOKINGS]
    assert "b4" not in back.tables[Topic.BOOKINGS]
    assert "b6" in back.tables[Topic.BOOKINGS]
    assert list(back.class_views()) == list(state.class_views())


def test_an_incremental_save_in_many_slices_writes_every_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Changed keys are listed, and written rows freed, a slice per step of the loop: with
    # slices of 7, every boundary case (a last slice short, an exact fit) is crossed.
    monkeypatch.setattr(snapshot_module, "_STEP_KEYS", 7)
    state, path = gym(), tmp_path / "snap.sqlite"
    freed: list[int] = []

    async def save_twice() -> None:
        store = SnapshotStore(path)
        store.slice_budget_s = 0.0  # a step of the loop after every slice
        free = store._free

        async def watched_free(lists: list[list[object]]) -> None:
            await free(lists)
            freed.extend(len(items) for items in lists)

        store._free = watched_free  # type: ignore[method-assign]
        try:
            await store.save(state, "cluster-1", {})
            changes = Changes()
            for b in range(0, 700, 3):  # 234 updates
                value = booking_json(f"c{b % 10}", "no_show", member_id=f"m{b % 50}")
                state.apply(Topic.BOOKINGS, f"b{b}".encode(), value, 0, 0, changes)
            for b in range(1, 141, 2):  # 70 deletes
                state.apply(Topic.BOOKINGS, f"b{b}".encode(), None, 0, 0, changes)
            stats = await store.save(state, "cluster-1", {})
            assert stats.rows == 234 + 70 - 23  # 23 keys updated, then deleted: once each
        finally:
            store.close()

    run(save_twice())
    assert freed
    assert not any(freed)  # every list of keys and rows emptied after its write
    back, _ = restored(path)
    assert dict(back.tables[Topic.BOOKINGS]) == dict(state.tables[Topic.BOOKINGS])
    assert list(back.class_views()) == list(state.class_views())


def put_one_by_one(path: Path) -> GymState:
    """Load a snapshot file the plain way: each saved row decoded and ``put`` alone."""
    state = GymState(StateSettings(prefix=PREFIX, period=PERIOD))
    conn = sqlite3.connect(path)
    try:
        for topic in snapshot_module.RESTORE_ORDER:
            for key, value in conn.execute(
                "SELECT key, value FROM rows WHERE topic = ?", (topic.value,)
            ):
                state.put(topic, key, decode_snapshot_row(topic, value), Changes())
    finally:
        conn.close()
    return state


def assert_same_state(a: GymState, b: GymState) -> None:
    """Tables and every aggregate the views read are equal."""
    for topic in Topic:
        assert dict(a.tables[topic]) == dict(b.tables[topic]), topic
    assert list(a.class_views()) == list(b.class_views())
    assert list(a.instructor_views()) == list(b.instructor_views())
    assert list(a.rep_views()) == list(b.rep_views())
    assert list(a.team_views()) == list(b.team_views())
    assert a.period_summary() == b.period_summary()


@pytest.mark.parametrize("budget", [0.0, 0.008])
def test_a_restore_in_chunks_equals_putting_each_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: float
) -> None:
    _, path = saved(tmp_path)
    # A zero budget cuts the load into the smallest chunks, yielding between each.
    monkeypatch.setattr(snapshot_module, "LOAD_SLICE", 700)
    monkeypatch.setattr(snapshot_module, "LOAD_BUDGET_S", budget)
    state, _ = restored(path)
    assert_same_state(state, put_one_by_one(path))
    assert len(state.tables[Topic.BOOKINGS]) == BOOKINGS


def test_a_restore_leaves_nothing_to_save(tmp_path: Path) -> None:
    _, path = saved(tmp_path)
    state, _ = restored(path)
    changed = state.take_changed()
    assert not any(c.every_row or c.upserted or c.deleted for c in changed.values())


def test_progress_reports_partial_state_then_the_rest_and_says_how_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, path = saved(tmp_path)
    monkeypatch.setattr(snapshot_module, "LOAD_SLICE", 500)
    monkeypatch.setattr(snapshot_module, "PROGRESS_INTERVAL_S", 0.0)
    state = GymState(StateSettings(prefix=PREFIX, period=PERIOD))
    progress: list[tuple[int, int, int]] = []

    async def restore() -> tuple[int, int]:
        store = SnapshotStore(path)
        store.slice_budget_s = 0.0

        def on_progress(part: Changes) -> None:
            loaded, total = store.restore_progress
            progress.append((loaded, total, len(state.tables[Topic.BOOKINGS])))

        try:
            await store.restore(state, Changes(), on_progress=on_progress)
            return store.restore_progress
        finally:
            store.close()

    final = run(restore())
    rows = BOOKINGS + 10 + 2 + 50
    assert final == (rows, rows)
    # What was loaded when each report came: climbing, and what the state holds.
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)
    assert all(p[1] == rows for p in progress)
    assert all(p[0] == rows - BOOKINGS + p[2] for p in progress if p[2])
    assert progress[-1][0] == rows


def test_reports_come_at_most_every_progress_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, path = saved(tmp_path)
    monkeypatch.setattr(snapshot_module, "LOAD_SLICE", 100)
    monkeypatch.setattr(snapshot_module, "PROGRESS_INTERVAL_S", 3600.0)
    reports: list[Changes] = []
    restored(path, on_progress=reports.append)
    # Once the small tables are in, then only the rest at the end.
    assert len(reports) == 2
    assert not reports[0].touched(View.BOOKINGS)
    assert reports[1].touched(View.BOOKINGS)


def test_a_row_damaged_into_two_rows_raises_snapshot_error(tmp_path: Path) -> None:
    _, path = saved(tmp_path)
    conn = sqlite3.connect(path)
    with conn:
        (value,) = conn.execute(
            "SELECT value FROM rows WHERE topic = 'bookings' AND key = 'b7'"
        ).fetchone()
        conn.execute(
            "UPDATE rows SET value = ? WHERE topic = 'bookings' AND key = 'b7'",
            (value + b"," + value,),
        )
    conn.close()
    with pytest.raises(SnapshotError, match="damaged row bookings/b7"):
        restored(path)


def saved_rows(path: Path) -> list[tuple[str, str, bytes]]:
    """Every row of a snapshot file, in order."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT topic, key, value FROM rows ORDER BY topic, key").fetchall()
    finally:
        conn.close()


def test_a_save_of_every_row_equals_a_full_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the changed-keys cap a save walks the table; the file equals a full save's."""
    monkeypatch.setattr(state_module, "DIRTY_CAP", 100)
    monkeypatch.setattr(state_module, "DIRTY_SLACK", 0)
    state = gym()
    incremental, full = tmp_path / "incremental.sqlite", tmp_path / "full.sqlite"
    walked: list[Topic] = []
    key_slices = state.key_slices

    def spy(topic: Topic) -> Iterator[list[str]]:
        walked.append(topic)
        return key_slices(topic)

    monkeypatch.setattr(state, "key_slices", spy)

    async def save() -> None:
        store = SnapshotStore(incremental)
        try:
            await store.save(state, "cluster-1", {})  # the first save is a full one
            walked.clear()
            changes = Changes()
            for b in range(0, BOOKINGS, 2):  # past the cap: every row changed
                value = booking_json(f"c{b % 7}", "no_show", member_id=f"m{b % 9}")
                state.apply(Topic.BOOKINGS, f"b{b}".encode(), value, 0, b, changes)
            for b in range(1, 200, 2):
                state.apply(Topic.BOOKINGS, f"b{b}".encode(), None, 0, b, changes)
            state.apply(Topic.BOOKINGS, b"b9999", booking_json("c1"), 0, 0, changes)
            state.apply(Topic.BOOKINGS, b"b3", booking_json("c2"), 0, 0, changes)  # back
            state.apply(Topic.CLASSES, b"c3", None, 0, 0, changes)
            stats = await store.save(state, "cluster-1", {})
            assert walked == [Topic.BOOKINGS]  # only the table past the cap was walked
            # Every booking row, the 99 bookings still deleted, the class: each once.
            assert stats.rows == len(state.tables[Topic.BOOKINGS]) + 99 + 1
        finally:
            store.close()
        other = SnapshotStore(full)
        try:
            await other.save(state, "cluster-1", {})
        finally:
            other.close()

    run(save())
    assert saved_rows(incremental) == saved_rows(full)
    back, _ = restored(incremental)
    assert_same_state(back, state)
    assert "b1" not in back.tables[Topic.BOOKINGS]
    assert "c3" not in back.tables[Topic.CLASSES]


def test_no_automatic_collection_runs_while_a_save_holds_its_rows(tmp_path: Path) -> None:
    state, path = gym(), tmp_path / "snap.sqlite"
    seen: list[bool] = []

    async def save() -> None:
        store = SnapshotStore(path)
        write = store._write

        def watched_write(*args: object) -> float:
            seen.append(gc.isenabled())
            return write(*args)  # type: ignore[arg-type]

        store._write = watched_write  # type: ignore[method-assign]
        try:
            await store.save(state, "cluster-1", {})
        finally:
            store.close()

    assert gc.isenabled()
    run(save())
    assert seen == [False]
    assert gc.isenabled()  # collections resume after the save


def test_a_pause_leaves_collections_as_it_found_them() -> None:
    gc.disable()
    try:
        with snapshot_module.collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # someone else's pause is not lifted
    finally:
        gc.enable()
    with snapshot_module.collections_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.skipif(sys.platform != "linux", reason="threads have their own priority on Linux")
def test_the_worker_thread_runs_below_the_loop_s_priority(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "s.sqlite")

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    try:
        worker = store._executor.submit(niceness).result()
    finally:
        store.close()
    assert worker == min(19, niceness() + snapshot_module.WORKER_NICENESS)
