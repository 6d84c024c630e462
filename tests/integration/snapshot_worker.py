"""A reader process for the kill -9 test: saves snapshots as often as it can, slowly."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from gymdesk.domain import state as state_module
from gymdesk.domain.changes import Changes
from gymdesk.domain.contract import Topic
from gymdesk.domain.state import GymState, RecordLike, StateSettings
from gymdesk.sim.broker import FETCH_MAX_WAIT_MS
from gymdesk.stream.reader import ChangelogReader
from gymdesk.stream.settings import ConnectionSettings
from gymdesk.stream.snapshot import SnapshotStore, snapshot_path


async def main(bootstrap: str, prefix: str, state_dir: str, dirty_cap: str = "") -> None:
    """Read with a snapshot saved on every batch, announcing each save on stdout.

    A ``dirty_cap`` makes the state switch to "every row changed" past that many changed
    keys, so that saves walk the table while the reader changes it.
    """
    if dirty_cap:
        setattr(state_module, "DIRTY_CAP", int(dirty_cap))  # noqa: B010 - a Final, for a test
        setattr(state_module, "DIRTY_SLACK", 0)  # noqa: B010
    state = GymState(StateSettings(prefix=prefix))
    store = SnapshotStore(snapshot_path(Path(state_dir), bootstrap, prefix))
    original_apply_records = state.apply_records

    def slow_apply_records(topic: Topic, records: Iterable[RecordLike], changes: Changes) -> None:
        # Stretch the catch-up (0.1 ms a record) so that the kill lands inside it.
        records = list(records)
        time.sleep(0.0001 * len(records))
        original_apply_records(topic, records, changes)

    state.apply_records = slow_apply_records  # type: ignore[method-assign]
    original_save = store.save

    async def announcing_save(*args: object, **kwargs: object) -> object:
        stats = await original_save(*args, **kwargs)  # type: ignore[arg-type]
        print("saved", flush=True)
        return stats

    store.save = announcing_save  # type: ignore[method-assign,assignment]
    reader = ChangelogReader(
        ConnectionSettings(bootstrap_servers=bootstrap, fetch_max_wait_ms=FETCH_MAX_WAIT_MS),
        state,
        snapshot=store,
        save_interval_s=0,
    )
    task = asyncio.create_task(reader.run())
    await reader.live_event.wait()
    print("live", flush=True)
    reader.stop()
    await task
    store.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
