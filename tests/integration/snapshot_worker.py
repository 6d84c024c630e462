"""A reader process for the kill -9 test: saves snapshots as often as it can, slowly."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from gymdesk.domain.state import GymState, StateSettings
from gymdesk.stream.reader import ChangelogReader
from gymdesk.stream.settings import ConnectionSettings
from gymdesk.stream.snapshot import SnapshotStore, snapshot_path


async def main(bootstrap: str, prefix: str, state_dir: str) -> None:
    """Read with a snapshot saved on every batch, announcing each save on stdout."""
    state = GymState(StateSettings(prefix=prefix))
    store = SnapshotStore(snapshot_path(Path(state_dir), bootstrap, prefix))
    original_apply = state.apply

    def slow_apply(*args: object, **kwargs: object) -> object:
        time.sleep(0.0001)  # stretch the catch-up so that the kill lands inside it
        return original_apply(*args, **kwargs)  # type: ignore[arg-type]

    state.apply = slow_apply  # type: ignore[method-assign]
    original_save = store.save

    async def announcing_save(*args: object, **kwargs: object) -> object:
        stats = await original_save(*args, **kwargs)  # type: ignore[arg-type]
        print("saved", flush=True)
        return stats

    store.save = announcing_save  # type: ignore[method-assign]
    reader = ChangelogReader(
        ConnectionSettings(bootstrap_servers=bootstrap), state, snapshot=store, save_interval_s=0
    )
    task = asyncio.create_task(reader.run())
    await reader.live_event.wait()
    print("live", flush=True)
    reader.stop()
    await task
    store.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
