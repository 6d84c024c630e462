"""``kill -9`` during catch-up, then a restart from the snapshot: totals stay exact."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gymdesk.app.config import AppConfig
from gymdesk.app.statecmd import read_state, state_document
from gymdesk.domain.contract import Topic
from gymdesk.sim.broker import FETCH_MAX_WAIT_MS, EmbeddedBroker
from tests.conftest import Record, create_topics, produce, run
from tests.unit.domain.records import booking_json, class_json

WORKER = Path(__file__).with_name("snapshot_worker.py")


def many_records(n: int, seed: int = 7) -> list[Record]:
    """Classes, then n booking changes with repeated keys, tombstones and poison."""
    rng = random.Random(seed)
    records: list[Record] = [
        (Topic.CLASSES, f"c{c}", class_json(f"i{c % 3}", 40), c % 2) for c in range(20)
    ]
    for _ in range(n):
        key = f"b{rng.randrange(n // 3)}"
        roll = rng.random()
        if roll < 0.05:
            value: object = None
        elif roll < 0.06:
            value = b'{"class_id": 3}'
        else:
            status = rng.choice(["booked", "booked", "checked_in", "cancelled", "waitlisted"])
            value = booking_json(
                f"c{rng.randrange(20)}", status, member_id=f"m{rng.randrange(500)}"
            )
        # A key always lives in one partition, as with any keyed producer.
        records.append((Topic.BOOKINGS, key, value, int(key[1:]) % 3))
    return records


def document(bootstrap: str, prefix: str, state_dir: Path | None) -> dict[str, object]:
    """Read the topics like ``gymdesk state`` and return its document."""
    config = AppConfig(
        bootstrap_servers=bootstrap,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        topic_prefix=prefix,
        timezone="UTC",
        state_dir=str(state_dir) if state_dir else None,
        snapshot=state_dir is not None,
    )
    state, reader = run(read_state(config, 60))
    return state_document(state, dict(reader.offsets))


@pytest.mark.broker
@pytest.mark.parametrize(
    "dirty_cap",
    [
        pytest.param("", id="changed-keys"),
        # Past a cap of 200 changed keys every save writes every row, walking the table a
        # shard at a time while the reader goes on changing it.
        pytest.param("200", id="every-row"),
    ],
)
def test_kill_9_during_catch_up_then_restart_is_exact(
    broker: EmbeddedBroker, prefix: str, tmp_path: Path, dirty_cap: str
) -> None:
    run(create_topics(broker.bootstrap_servers, prefix, {Topic.BOOKINGS: 3, Topic.CLASSES: 2}))
    run(produce(broker.bootstrap_servers, prefix, many_records(20_000), batched=True))
    truth = document(broker.bootstrap_servers, prefix, None)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2]))
    kills = 0
    for saves_before_kill in (1, 3, 6):
        proc = subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                broker.bootstrap_servers,
                prefix,
                str(tmp_path),
                dirty_cap,
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        seen = 0
        for line in proc.stdout:
            if line.strip() == "saved":
                seen += 1
                if seen >= saves_before_kill:
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1
                    break
            elif line.strip() == "live":
                break
        proc.wait(30)
        proc.stdout.close()
    assert kills >= 2, "the kill never landed during catch-up"
    restarted = document(broker.bootstrap_servers, prefix, tmp_path)
    assert json.dumps(restarted, sort_keys=True) == json.dumps(truth, sort_keys=True)
