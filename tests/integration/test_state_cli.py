"""``gymdesk state`` as a command: one JSON document that matches a hand count, or exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gymdesk.domain.contract import Topic
from gymdesk.sim.broker import EmbeddedBroker
from tests.conftest import Record, create_topics, produce, run
from tests.proxy import free_port
from tests.unit.domain.records import booking_json, class_json, sale_json, target_json


def gymdesk(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command line in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "gymdesk", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.broker
def test_state_prints_hand_counted_totals(
    broker: EmbeddedBroker, prefix: str, tmp_path: Path
) -> None:
    records: list[Record] = [
        (Topic.INSTRUCTORS, "i1", {"name": "Ana"}, 0),
        (Topic.CLASSES, "c1", class_json("i1", 4), 0),
        (Topic.BOOKINGS, "b1", booking_json("c1", "booked", member_id="m1"), 0),
        (Topic.BOOKINGS, "b2", booking_json("c1", "checked_in", member_id="m2"), 0),
        (Topic.BOOKINGS, "b3", booking_json("c1", "waitlisted", member_id="m3"), 0),
        (Topic.BOOKINGS, "b4", b"\x00garbage", 0),
        (Topic.BOOKINGS, "b2", b'{"status": "teleported"}', 0),
        (Topic.REPS, "r1", {"name": "Rae", "team": "north"}, 0),
        (Topic.SALES, "s1", sale_json("r1", 1500), 0),
        (Topic.SALES, "s2", sale_json("r1", 2500), 0),
        (Topic.TARGETS, "t1", target_json("rep", "r1", "2024-05", 10000), 0),
    ]
    run(create_topics(broker.bootstrap_servers, prefix))
    run(produce(broker.bootstrap_servers, prefix, records))
    result = gymdesk(
        "state", "--bootstrap-servers", broker.bootstrap_servers, "--topic-prefix", prefix,
        "--period", "2024-05", "--timezone", "Europe/Berlin", "--state-dir", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    (c1,) = doc["classes"]
    assert (c1["booked"], c1["waitlisted"], c1["checked_in"], c1["capacity"]) == (2, 1, 1, 4)
    assert (c1["fill"], c1["busy"], c1["full"]) == (0.5, True, False)
    assert doc["instructors"] == [
        {"id": "i1", "name": "Ana", "classes": 1, "booked": 2, "capacity": 4,
         "checked_in": 1, "no_show": 0}
    ]  # fmt: skip
    assert doc["reps"] == [
        {"id": "r1", "name": "Rae", "team": "north", "total_cents": 4000, "count": 2,
         "target_cents": 10000}
    ]  # fmt: skip
    assert doc["teams"] == [{"id": "north", "total_cents": 4000, "target_cents": None}]
    assert doc["period"] == "2024-05"
    assert (doc["currency"], doc["other_currency_sales"]) == ("EUR", 0)
    assert doc["rejected"] == {"total": 2, "by_topic": {f"{prefix}bookings": 2}}
    assert doc["offsets"][f"{prefix}bookings"] == {"0": 5}
    # Second run: from the snapshot, same document.
    again = gymdesk(
        "state", "--bootstrap-servers", broker.bootstrap_servers, "--topic-prefix", prefix,
        "--period", "2024-05", "--timezone", "Europe/Berlin", "--state-dir", str(tmp_path),
    )  # fmt: skip
    assert json.loads(again.stdout) == doc
    # A desk that counts in dollars, from the same snapshot: the euro sales are left out.
    dollars = gymdesk(
        "state", "--bootstrap-servers", broker.bootstrap_servers, "--topic-prefix", prefix,
        "--period", "2024-05", "--timezone", "Europe/Berlin", "--state-dir", str(tmp_path),
        "--currency", "USD",
    )  # fmt: skip
    assert dollars.returncode == 0, dollars.stderr
    in_dollars = json.loads(dollars.stdout)
    assert (in_dollars["currency"], in_dollars["other_currency_sales"]) == ("USD", 2)
    assert in_dollars["reps"][0]["total_cents"] == 0


def test_state_exits_2_with_one_line_when_unreachable() -> None:
    port = free_port()
    result = gymdesk(
        "state", "--bootstrap-servers", f"127.0.0.1:{port}", "--timeout", "3", "--no-snapshot"
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "not reachable" in lines[0]
