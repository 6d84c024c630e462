"""The simulator against a real broker: what it counts is what the topics hold."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import psutil
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from gymdesk.domain.contract import ALL_TOPICS, RejectedRecord, Topic, decode_key, decode_value
from gymdesk.sim.broker import DEFAULT_PARTITIONS, FETCH_MAX_WAIT_MS, EmbeddedBroker, create_topics
from gymdesk.sim.model import GymModel
from gymdesk.sim.simulator import Simulator, run_simulate, simulate_main
from tests.conftest import run

pytestmark = pytest.mark.broker

NOW = datetime(2025, 5, 14, 16, 20, tzinfo=UTC)

Consumed = dict[Topic, list[tuple[int, bytes, bytes | None]]]


async def read_all(bootstrap: str, prefix: str, expected: int, timeout: float = 20.0) -> Consumed:
    """Read every partition of every topic from the start until ``expected`` records arrived.

    Then keep reading a little longer, so that extra records would be seen too.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(f"{prefix}{topic}", p)
            for topic in ALL_TOPICS
            for p in sorted(consumer.partitions_for_topic(f"{prefix}{topic}") or ())
        ]
        assert len(partitions) == sum(DEFAULT_PARTITIONS.values())
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        got: Consumed = {topic: [] for topic in ALL_TOPICS}
        total = 0
        deadline = time.monotonic() + timeout
        quiet_until: float | None = None
        while True:
            batch = await consumer.getmany(timeout_ms=50)
            for tp, records in batch.items():
                topic = Topic(tp.topic.removeprefix(prefix))
                for record in records:
                    assert record.key is not None
                    got[topic].append((tp.partition, record.key, record.value))
                total += sum(len(records) for records in batch.values())
            now = time.monotonic()
            if total >= expected and quiet_until is None:
                quiet_until = now + 0.5
            if (quiet_until is not None and now >= quiet_until) or now > deadline:
                break
        # The fetch's high watermark is right on this broker (its ListOffsets is not).
        for tp in partitions:
            assert consumer.highwater(tp) == await consumer.position(tp)
        return got
    finally:
        await consumer.stop()


def rejected(topic: Topic, records: list[tuple[int, bytes, bytes | None]]) -> int:
    """Count the records of a topic that gymdesk would reject."""
    count = 0
    for _, key, value in records:
        try:
            decode_key(key)
            if value is not None:
                decode_value(topic, value)
        except RejectedRecord:
            count += 1
    return count


def test_the_topics_hold_exactly_what_the_simulator_counted(
    broker: EmbeddedBroker, prefix: str
) -> None:
    async def scenario() -> tuple[Simulator, Consumed]:
        created = await create_topics(broker.bootstrap_servers, prefix)
        assert sorted(created) == sorted(f"{prefix}{t}" for t in ALL_TOPICS)
        assert await create_topics(broker.bootstrap_servers, prefix) == []
        simulator = Simulator(
            broker.bootstrap_servers,
            prefix=prefix,
            seed=21,
            speed=7200,
            now=NOW,
            malformed_rate=0.01,
        )
        stop = asyncio.Event()
        await simulator.start()
        try:
            await simulator.publish_history()
            assert simulator.sim_time == NOW
            asyncio.get_running_loop().call_later(2.0, stop.set)
            started = time.monotonic()
            await simulator.run_live(stop)
            elapsed = time.monotonic() - started
        finally:
            await simulator.stop()
        assert elapsed < 2.5  # a stop is honoured promptly
        # The gym's clock runs at 7200x the real one: two seconds are four gym hours.
        assert timedelta(hours=3.5) < simulator.sim_time - NOW <= timedelta(hours=2 * elapsed)
        expected = sum(simulator.sent.values())
        return simulator, await read_all(broker.bootstrap_servers, prefix, expected)

    simulator, got = run(scenario())
    assert {t: len(records) for t, records in got.items()} == simulator.sent
    assert {t: rejected(t, records) for t, records in got.items()} == simulator.malformed_sent
    assert sum(simulator.malformed_sent.values()) > 10
    tombstones = {t: sum(v is None for _, _, v in records) for t, records in got.items()}
    assert tombstones == simulator.tombstones_sent

    # Repeatable through Kafka: the records are the first ones a fresh model with the same
    # seed and "now" produces, and within each partition they keep the model's order.
    model = GymModel(21, NOW, malformed_rate=0.01)
    stream = model.history() + model.advance(simulator.sim_time)
    total = sum(simulator.sent.values())
    assert len(stream) >= total
    expected_records = stream[:total]
    assert Counter((e.topic, e.key, e.value) for e in expected_records) == Counter(
        (t, k, v) for t, records in got.items() for _, k, v in records
    )
    for topic, records in got.items():
        by_key_model: dict[bytes, list[bytes | None]] = {}
        for e in expected_records:
            if e.topic is topic:
                by_key_model.setdefault(e.key, []).append(e.value)
        by_key_kafka: dict[bytes, list[bytes | None]] = {}
        for _, key, value in records:
            by_key_kafka.setdefault(key, []).append(value)
        assert by_key_kafka == by_key_model


def test_topics_are_compacted_with_the_default_partitions(
    broker: EmbeddedBroker, prefix: str
) -> None:
    async def scenario() -> list[dict[str, object]]:
        await create_topics(broker.bootstrap_servers, prefix, {Topic.BOOKINGS: 4})
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
        await admin.start()
        try:
            return await admin.describe_topics([f"{prefix}{t}" for t in ALL_TOPICS])
        finally:
            await admin.close()

    described = run(scenario())
    partitions = {d["topic"]: len(d["partitions"]) for d in described}  # type: ignore[arg-type]
    assert partitions == {
        f"{prefix}{t}": 4 if t is Topic.BOOKINGS else DEFAULT_PARTITIONS[t] for t in ALL_TOPICS
    }
    assert DEFAULT_PARTITIONS[Topic.BOOKINGS] == 6
    assert DEFAULT_PARTITIONS[Topic.SALES] == 3


def test_simulate_main_runs_the_given_gym_days_then_returns(
    broker: EmbeddedBroker, prefix: str
) -> None:
    simulator = run(
        simulate_main(broker.bootstrap_servers, prefix, seed=4, speed=200_000, days=0.25, now=NOW)
    )
    assert simulator.sim_time == NOW + timedelta(days=0.25)
    model = GymModel(4, NOW)
    expected = model.history() + model.advance(NOW + timedelta(days=0.25))
    assert sum(simulator.sent.values()) == len(expected)
    assert simulator.sent == dict(Counter(e.topic for e in expected))


def test_run_simulate_reports_and_exits_zero(
    broker: EmbeddedBroker, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_simulate(broker.bootstrap_servers, prefix, seed=12, speed=500_000, days=0.05)
    err = capsys.readouterr().err
    assert code == 0
    assert "seed 12" in err
    assert "Sent " in err
    assert "malformed" in err


def test_run_simulate_refuses_bad_values_and_reports_an_unreachable_broker(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_simulate("127.0.0.1:9", speed=0) == 2
    assert run_simulate("127.0.0.1:9", days=-1) == 2
    assert "--speed" in capsys.readouterr().err


def test_stop_leaves_no_process_behind() -> None:
    broker = EmbeddedBroker()
    with broker:
        pid = broker.pid
        assert pid is not None
        process = psutil.Process(pid)
        assert process.is_running()
        assert broker.running
        assert str(broker.port) in " ".join(process.cmdline())
        assert broker.cluster_id in process.cmdline()
    assert not broker.running
    assert broker.pid is None
    assert not process.is_running()  # compares the start time too: a reused pid won't fool it
    assert not psutil.pid_exists(pid) or psutil.Process(pid).create_time() != process.create_time()
    broker.stop()  # twice is fine


def alive(process: psutil.Process) -> bool:
    """Whether a process still runs (a zombie has finished running)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_broker_dies_with_a_killed_parent() -> None:
    # A parent that starts a broker and is then killed outright: no atexit, no cleanup.
    child = textwrap.dedent(
        """
        import sys, time
        from gymdesk.sim.broker import EmbeddedBroker
        broker = EmbeddedBroker()
        broker.start()
        print(broker.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        broker = psutil.Process(pid)
        assert broker.is_running()
        parent.kill()
        parent.wait()
        # The kernel sends it SIGKILL when its parent dies. Orphans are reaped by whoever
        # adopts them, which in a container may never happen: a zombie counts as dead.
        deadline = time.monotonic() + 5
        while alive(broker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(broker)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_a_stop_during_the_history_is_prompt_and_counted(
    broker: EmbeddedBroker, prefix: str
) -> None:
    async def scenario() -> tuple[Simulator, float, Consumed]:
        await create_topics(broker.bootstrap_servers, prefix)
        simulator = Simulator(broker.bootstrap_servers, prefix=prefix, seed=8, now=NOW)
        stop = asyncio.Event()
        stop.set()
        started = time.monotonic()
        await simulator.run(stop)
        elapsed = time.monotonic() - started
        expected = sum(simulator.sent.values())
        return simulator, elapsed, await read_all(broker.bootstrap_servers, prefix, expected)

    simulator, elapsed, got = run(scenario())
    assert elapsed < 1.0
    assert 0 < sum(simulator.sent.values()) < len(GymModel(8, NOW).history())
    assert {t: len(records) for t, records in got.items()} == simulator.sent


def test_ctrl_c_ends_the_simulate_command_cleanly(broker: EmbeddedBroker, prefix: str) -> None:
    code = (
        "import sys\n"
        "from gymdesk.sim.simulator import run_simulate\n"
        f"sys.exit(run_simulate({broker.bootstrap_servers!r}, {prefix!r}, seed=5, speed=600))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-W", "error", "-c", code], stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        assert "Ctrl-C to stop" in process.stderr.readline()
        time.sleep(2.0)  # into the live run
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    match = re.search(r"Sent (\d+) records \((\d+) malformed\)", err)
    assert match is not None, err
    sent = int(match.group(1))
    got = run(read_all(broker.bootstrap_servers, prefix, sent))
    assert sum(len(records) for records in got.values()) == sent
    assert sum(rejected(t, records) for t, records in got.items()) == int(match.group(2))
