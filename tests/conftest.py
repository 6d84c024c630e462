"""Shared fixtures: the loopback broker, a fresh topic prefix per test, and a producer."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Iterator, Mapping
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from gymdesk.domain.contract import Topic
from gymdesk.sim.broker import EmbeddedBroker

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

T = TypeVar("T")


def run(awaitable: Awaitable[T]) -> T:
    """Run a coroutine to completion on a fresh event loop."""

    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """One loopback broker with in-memory storage for the whole test session."""
    with EmbeddedBroker() as embedded:
        yield embedded


@pytest.fixture
def prefix() -> str:
    """A fresh topic prefix, so that every test has topics of its own."""
    return f"t{uuid.uuid4().hex[:10]}."


async def create_topics(
    bootstrap: str, prefix: str, partitions: Mapping[Topic, int] | None = None
) -> None:
    """Create every contract topic (compacted) with the given partition counts."""
    parts = partitions or {}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    prefix + t, parts.get(t, 1), 1, topic_configs={"cleanup.policy": "compact"}
                )
                for t in Topic
            ]
        )
    finally:
        await admin.close()


Record = tuple[
    Topic, str | bytes | None, Any, int
]  # topic, key, value (dict/bytes/None), partition


def encode(value: Any) -> bytes | None:
    """Encode a test value: dicts as JSON, bytes as they are, None as a tombstone."""
    if value is None or isinstance(value, bytes):
        return value
    return json.dumps(value).encode()


async def produce(
    bootstrap: str, prefix: str, records: list[Record], *, batched: bool = False
) -> None:
    """Produce records in order: each in a batch of its own, or batched for speed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5 if batched else 0)
    await producer.start()
    try:
        for topic, key, value, partition in records:
            raw_key = key.encode() if isinstance(key, str) else key
            send = producer.send if batched else producer.send_and_wait
            await send(prefix + topic, value=encode(value), key=raw_key, partition=partition)
        await producer.flush()
    finally:
        await producer.stop()
