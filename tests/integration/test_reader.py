"""The changelog reader against a real broker: catch-up, live updates, snapshots, rebuilds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import Topic
from gymdesk.domain.state import GymState, StateSettings
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.sim.broker import FETCH_MAX_WAIT_MS, EmbeddedBroker
from gymdesk.stream.reader import ChangelogReader
from gymdesk.stream.settings import ConnectionSettings
from gymdesk.stream.snapshot import SnapshotStore
from tests.conftest import Record, create_topics, produce, run
from tests.unit.domain.records import booking_json, class_json

PARTITIONS = {Topic.BOOKINGS: 3, Topic.CLASSES: 2}


class Harness:
    """A reader running in the background of the test's event loop."""

    def __init__(
        self, bootstrap: str, prefix: str, snapshot: Path | None = None, **kwargs: object
    ) -> None:
        self.state = GymState(StateSettings(prefix=prefix))
        self.store = SnapshotStore(snapshot) if snapshot else None
        self.changes: list[Changes] = []
        self.statuses: list[ReaderStatus] = []
        self.reader = ChangelogReader(
            ConnectionSettings(bootstrap_servers=bootstrap, fetch_max_wait_ms=FETCH_MAX_WAIT_MS),
            self.state,
            snapshot=self.store,
            on_changes=self.changes.append,
            on_status=self.statuses.append,
            **kwargs,  # type: ignore[arg-type]
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Harness:
        self.task = asyncio.create_task(self.reader.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.reader.stop()
        assert self.task is not None
        await self.task
        if self.store is not None:
            self.store.close()

    async def until(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        """Wait until ``predicate`` holds, failing the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.task is not None and self.task.done():
                self.task.result()
                raise AssertionError("the reader stopped")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; status: {self.reader.status}")
            await asyncio.sleep(0.01)

    async def live(self) -> None:
        """Wait until the reader is live."""
        await self.until(lambda: self.reader.status.phase is Phase.LIVE)

    def phases(self) -> list[Phase]:
        """Return the distinct phases seen, in order."""
        seen: list[Phase] = []
        for status in self.statuses:
            if not seen or seen[-1] is not status.phase:
                seen.append(status.phase)
        return seen


def gym_records(classes: int = 4, bookings: int = 30) -> list[Record]:
    """A small gym: instructors, classes over two partitions, bookings over three."""
    records: list[Record] = [
        (Topic.INSTRUCTORS, "i1", {"name": "Ana"}, 0),
        (Topic.INSTRUCTORS, "i2", {"name": "Ben"}, 0),
    ]
    for c in range(classes):
        records.append((Topic.CLASSES, f"c{c}", class_json(f"i{c % 2 + 1}", 20), c % 2))
    for b in range(bookings):
        status = ("booked", "checked_in", "waitlisted", "cancelled", "no_show")[b % 5]
        records.append(
            (
                Topic.BOOKINGS,
                f"b{b}",
                booking_json(f"c{b % classes}", status, member_id=f"m{b}"),
                b % 3,
            )
        )
    return records


def expected_booked(records: list[Record]) -> dict[str, int]:
    """Count booked + checked-in bookings per class from the last value of each key."""
    import json

    last: dict[str, dict[str, str]] = {}
    for topic, key, value, _partition in records:
        if topic is not Topic.BOOKINGS or not isinstance(key, str):
            continue  # rejected keys change nothing
        if value is None:
            last.pop(key, None)
            continue
        try:
            last[key] = json.loads(value)
        except ValueError:
            continue  # a poison record: the last good row stays
    counts: dict[str, int] = {}
    for row in last.values():
        if row.get("status") in ("booked", "checked_in"):
            counts[row["class_id"]] = counts.get(row["class_id"], 0) + 1
    return counts


def booked_by_class(state: GymState) -> dict[str, int]:
    """Return booked per class as the state has it."""
    return {view.id: view.booked for view in state.class_views() if view.booked}


@pytest.mark.broker
def test_catch_up_over_partitions_with_poison_and_tombstones(
    broker: EmbeddedBroker, prefix: str
) -> None:
    records = gym_records()
    records += [
        (Topic.BOOKINGS, "b1", b"{not json", 1),  # poison between good ones: b1 stays
        (Topic.BOOKINGS, "b2", None, 2),  # tombstone: b2 goes
        (Topic.BOOKINGS, b"\xff\xfe", booking_json("c0"), 0),  # non-UTF-8 key
        (Topic.CLASSES, "c9", class_json(capacity=0), 0),  # capacity 0
        (Topic.BOOKINGS, "b40", booking_json("c1", "booked", member_id="m40"), 1),
    ]

    async def scenario() -> None:
        await create_topics(broker.bootstrap_servers, prefix, PARTITIONS)
        await produce(broker.bootstrap_servers, prefix, records)
        async with Harness(broker.bootstrap_servers, prefix) as h:
            await h.live()
            assert booked_by_class(h.state) == expected_booked(records)
            assert h.state.tables[Topic.BOOKINGS]["b1"] is not None
            assert "b2" not in h.state.tables[Topic.BOOKINGS]
            assert "c9" not in h.state.tables[Topic.CLASSES]
            assert h.state.rejections.by_topic == {
                f"{prefix}bookings": 2,
                f"{prefix}classes": 1,
            }
            reasons = {r.reason for r in h.state.rejections.latest}
            assert any("not JSON" in r for r in reasons)
            assert any("UTF-8" in r for r in reasons)
            # Every partition was read to its end.
            assert sum(h.reader.offsets.values()) == len(records)
            assert Phase.CATCHING_UP in h.phases()
            assert h.phases()[-1] is Phase.LIVE

    run(scenario())


@pytest.mark.broker
def test_live_update_changes_only_its_class(broker: EmbeddedBroker, prefix: str) -> None:
    async def scenario() -> None:
        await create_topics(broker.bootstrap_servers, prefix, PARTITIONS)
        await produce(broker.bootstrap_servers, prefix, gym_records())
        async with Harness(broker.bootstrap_servers, prefix) as h:
            await h.live()
            before = h.state.class_view("c3")
            assert before is not None
            h.changes.clear()
            await produce(
                broker.bootstrap_servers,
                prefix,
                [(Topic.BOOKINGS, "new-1", booking_json("c3", member_id="m99"), 2)],
            )
            await h.until(lambda: any(c.keys(View.CLASSES) for c in h.changes))
            after = h.state.class_view("c3")
            assert after is not None
            assert after.booked == before.booked + 1
            touched = set().union(*(c.keys(View.CLASSES) or set() for c in h.changes))
            assert touched == {"c3"}
            # A deletion arrives live too.
            await produce(broker.bootstrap_servers, prefix, [(Topic.BOOKINGS, "new-1", None, 2)])
            await h.until(lambda: (h.state.class_view("c3") or before).booked == before.booked)
            assert h.reader.status.phase is Phase.LIVE

    run(scenario())


@pytest.mark.broker
def test_restart_from_snapshot_seeks_to_saved_offsets(
    broker: EmbeddedBroker, prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "snap.sqlite"
    first = gym_records()
    later: list[Record] = [
        (Topic.BOOKINGS, "b0", booking_json("c2", "booked", member_id="m0"), 0),  # moves class
        (Topic.BOOKINGS, "b77", booking_json("c1", "booked", member_id="m77"), 2),
        (Topic.CLASSES, "c3", None, 1),  # the class leaves the board
    ]

    async def scenario() -> None:
        await create_topics(broker.bootstrap_servers, prefix, PARTITIONS)
        await produce(broker.bootstrap_servers, prefix, first)
        async with Harness(broker.bootstrap_servers, prefix, path) as h:
            await h.live()
            saved_offsets = dict(h.reader.offsets)
        await produce(broker.bootstrap_servers, prefix, later)
        h2 = Harness(broker.bootstrap_servers, prefix, path)
        # Before connecting, the snapshot is already in the state (shown at once, not live).
        await h2.reader.restore()
        assert booked_by_class(h2.state) == expected_booked(first)
        assert h2.reader.status.phase is not Phase.LIVE
        assert h2.reader.offsets == saved_offsets
        h2.state = h2.reader.state
        async with h2:
            await h2.live()
            assert booked_by_class(h2.state) == {
                k: v for k, v in expected_booked(first + later).items() if k != "c3"
            }
            assert h2.state.class_view("c3") is None
            # Only the new records were read after the restart.
            assert sum(h2.reader.offsets.values()) - sum(saved_offsets.values()) == len(later)

    run(scenario())


@pytest.mark.broker
def test_snapshot_from_another_cluster_is_set_aside(
    broker: EmbeddedBroker, prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "snap.sqlite"

    async def scenario() -> None:
        with EmbeddedBroker() as other:
            await create_topics(other.bootstrap_servers, prefix)
            await produce(
                other.bootstrap_servers,
                prefix,
                [
                    (Topic.CLASSES, "ghost", class_json(), 0),
                    (Topic.BOOKINGS, "g1", booking_json("ghost"), 0),
                ],
            )
            async with Harness(other.bootstrap_servers, prefix, path) as h:
                await h.live()
        await create_topics(broker.bootstrap_servers, prefix, PARTITIONS)
        await produce(broker.bootstrap_servers, prefix, gym_records())
        async with Harness(broker.bootstrap_servers, prefix, path) as h2:
            await h2.live()
            assert "ghost" not in h2.state.tables[Topic.CLASSES]
            assert booked_by_class(h2.state) == expected_booked(gym_records())
            assert any("another cluster" in w or "cluster" in w for w in h2.reader.status.warnings)
        assert list(tmp_path.glob("snap.set-aside-*.sqlite"))

    run(scenario())


@pytest.mark.broker
def test_damaged_snapshot_is_set_aside_and_state_rebuilt(
    broker: EmbeddedBroker, prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "snap.sqlite"
    path.write_bytes(b"this is not a database" * 100)

    async def scenario() -> None:
        await create_topics(broker.bootstrap_servers, prefix, PARTITIONS)
        await produce(broker.bootstrap_servers, prefix, gym_records())
        async with Harness(broker.bootstrap_servers, prefix, path) as h:
            await h.live()
            assert booked_by_class(h.state) == expected_booked(gym_records())
            assert any("set aside" in w for w in h.reader.status.warnings)
        assert list(tmp_path.glob("snap.set-aside-*.sqlite"))

    run(scenario())


@pytest.mark.broker
def test_recreated_topic_is_rebuilt(broker: EmbeddedBroker, prefix: str) -> None:
    async def scenario() -> None:
        await create_topics(broker.bootstrap_servers, prefix, PARTITIONS)
        records = gym_records(bookings=30)
        await produce(broker.bootstrap_servers, prefix, records)
        async with Harness(broker.bootstrap_servers, prefix) as h:
            await h.live()
            assert len(h.state.tables[Topic.BOOKINGS]) > 3
            admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
            await admin.start()
            try:
                await admin.delete_topics([prefix + "bookings"])
                await asyncio.sleep(0.5)
                from aiokafka.admin import NewTopic

                await admin.create_topics(
                    [
                        NewTopic(
                            prefix + "bookings", 3, 1, topic_configs={"cleanup.policy": "compact"}
                        )
                    ]
                )
            finally:
                await admin.close()
            fresh: list[Record] = [
                (Topic.BOOKINGS, "n1", booking_json("c0", member_id="m1"), 0),
                (Topic.BOOKINGS, "n2", booking_json("c1", member_id="m2"), 1),
            ]
            await produce(broker.bootstrap_servers, prefix, fresh)
            await h.until(lambda: set(h.state.tables[Topic.BOOKINGS]) == {"n1", "n2"}, 30)
            assert booked_by_class(h.state) == {"c0": 1, "c1": 1}
            assert any("rebuilding" in w for w in h.reader.status.warnings)
            await h.live()

    run(scenario())


@pytest.mark.broker
def test_unreachable_broker_reports_connecting_not_live(prefix: str) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def scenario() -> None:
        async with Harness(f"127.0.0.1:{port}", prefix) as h:
            await h.until(lambda: bool(h.reader.status.reason), 10)
            status = h.reader.status
            assert status.phase is Phase.CONNECTING
            assert "\n" not in status.reason
            assert not h.reader.live_event.is_set()

    run(scenario())
