"""``gymdesk state``: read every topic up to the end offsets seen at start, print JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from gymdesk.app.config import AppConfig
from gymdesk.domain.state import GymState
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.stream.reader import ChangelogReader
from gymdesk.stream.snapshot import SnapshotStore, snapshot_path

EXIT_UNREACHABLE = 2


def state_document(state: GymState, offsets: dict[tuple[str, int], int]) -> dict[str, Any]:
    """Return what the app would show, as the ``state`` command's JSON document."""
    classes = sorted(state.class_views(), key=lambda c: (c.starts_at, c.id))
    by_topic: dict[str, dict[str, int]] = {}
    for (topic, partition), offset in sorted(offsets.items()):
        by_topic.setdefault(topic, {})[str(partition)] = offset
    return {
        "classes": [
            {
                "id": c.id,
                "title": c.title,
                "location": c.location,
                "room": c.room,
                "instructor_id": c.instructor_id,
                "starts_at": c.starts_at.isoformat(),
                "duration_min": c.duration_min,
                "capacity": c.capacity,
                "booked": c.booked,
                "waitlisted": c.waitlisted,
                "checked_in": c.checked_in,
                "cancelled": c.cancelled,
                "no_show": c.no_show,
                "fill": round(c.fill, 4),
                "busy": c.busy,
                "full": c.full,
            }
            for c in classes
        ],
        "instructors": [
            {
                "id": i.id,
                "name": i.name,
                "classes": i.classes,
                "booked": i.booked,
                "capacity": i.capacity,
                "checked_in": i.checked_in,
                "no_show": i.no_show,
            }
            for i in sorted(state.instructor_views(), key=lambda i: i.id)
        ],
        "reps": [
            {
                "id": r.id,
                "name": r.name,
                "team": r.team,
                "total_cents": r.total_cents,
                "count": r.count,
                "target_cents": r.target_cents,
            }
            for r in sorted(state.rep_views(), key=lambda r: r.id)
        ],
        "teams": [
            {"id": t.id, "total_cents": t.total_cents, "target_cents": t.target_cents}
            for t in sorted(state.team_views(), key=lambda t: t.id)
        ],
        "period": state.period,
        "currency": state.settings.currency,
        "other_currency_sales": state.period_summary().other_currency_count,
        "rejected": {
            "total": state.rejections.total,
            "by_topic": dict(sorted(state.rejections.by_topic.items())),
        },
        "offsets": by_topic,
    }


async def read_state(config: AppConfig, timeout_s: float) -> tuple[GymState, ChangelogReader]:
    """Read until live; raise TimeoutError or RuntimeError (failed) with a one-line reason."""
    state = GymState(config.state_settings())
    snapshot = None
    if config.snapshot:
        path = snapshot_path(config.state_path(), config.bootstrap_servers, config.topic_prefix)
        snapshot = SnapshotStore(path)
    last: list[ReaderStatus] = []
    failed = asyncio.Event()

    def on_status(status: ReaderStatus) -> None:
        last[:] = [status]
        if status.phase is Phase.FAILED:
            failed.set()

    reader = ChangelogReader(
        config.connection(), state, snapshot=snapshot, on_status=on_status, probe_interval_s=1.0
    )
    task = asyncio.create_task(reader.run())
    live = asyncio.create_task(reader.live_event.wait())
    failing = asyncio.create_task(failed.wait())
    try:
        done, _ = await asyncio.wait(
            {live, failing, task}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        live.cancel()
        failing.cancel()
        reader.stop()
        await asyncio.gather(task, return_exceptions=True)
        if snapshot is not None:
            snapshot.close()
    if live in done and reader.live_event.is_set():
        return state, reader
    if reader.failed_reason:
        raise RuntimeError(reader.failed_reason)
    reason = last[0].reason if last and last[0].reason else "no answer"
    raise TimeoutError(f"{config.bootstrap_servers} not reachable within {timeout_s:g} s: {reason}")


def run_state(config: AppConfig, timeout_s: float) -> int:
    """Run the ``state`` command; print the document, or one line on stderr and exit 2."""
    try:
        state, reader = asyncio.run(read_state(config, timeout_s))
    except (TimeoutError, RuntimeError) as exc:
        print(f"gymdesk state: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    json.dump(state_document(state, dict(reader.offsets)), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0
