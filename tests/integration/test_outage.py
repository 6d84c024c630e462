"""A broker outage cut by a TCP proxy: the state is kept, marked, and nothing is lost."""

from __future__ import annotations

import pytest

from gymdesk.domain.contract import Topic
from gymdesk.domain.status import Phase
from gymdesk.sim.broker import FETCH_MAX_WAIT_MS, EmbeddedBroker
from gymdesk.stream.settings import ConnectionSettings
from tests.conftest import Record, create_topics, produce, run
from tests.integration.test_reader import (
    PARTITIONS,
    Harness,
    booked_by_class,
    expected_booked,
    gym_records,
)
from tests.proxy import free_port, running_proxy
from tests.unit.domain.records import booking_json

READER_ID = "gymdesk-under-test"


@pytest.mark.broker
def test_outage_reconnects_without_loss_or_double_count(prefix: str) -> None:
    proxy_port = free_port()
    with (
        EmbeddedBroker(advertised_port=proxy_port) as broker,
        running_proxy(broker.port, proxy_port) as proxy,
    ):
        bootstrap = f"127.0.0.1:{proxy_port}"
        before = gym_records()
        during: list[Record] = [
            (Topic.BOOKINGS, f"o{i}", booking_json(f"c{i % 4}", member_id=f"mo{i}"), i % 3)
            for i in range(12)
        ] + [(Topic.BOOKINGS, "b0", None, 0), (Topic.BOOKINGS, "b1", b"broken", 1)]

        async def scenario() -> None:
            await create_topics(bootstrap, prefix, PARTITIONS)
            await produce(bootstrap, prefix, before)
            harness = Harness(bootstrap, prefix, probe_interval_s=0.3, probe_timeout_s=1.0)
            harness.reader.connection = ConnectionSettings(
                bootstrap_servers=bootstrap,
                client_id=READER_ID,
                request_timeout_ms=2000,
                fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            )
            async with harness as h:
                await h.live()
                shown = booked_by_class(h.state)
                assert shown == expected_booked(before)
                proxy.cut(READER_ID)
                await h.until(lambda: h.reader.status.phase is Phase.RECONNECTING, 15)
                # The last known state stays on screen while the broker is unreachable.
                assert booked_by_class(h.state) == shown
                await produce(bootstrap, prefix, during)
                proxy.restore(READER_ID)
                await h.until(lambda: h.reader.status.phase is Phase.LIVE, 30)
                await h.until(lambda: booked_by_class(h.state) == expected_booked(before + during))
                # Exactly once: every record applied, none twice.
                assert sum(h.reader.offsets.values()) == len(before) + len(during)
                assert h.state.rejections.total == 1
                phases = h.phases()
                assert phases.index(Phase.RECONNECTING) < len(phases) - 1
                assert phases[-1] is Phase.LIVE

        run(scenario())
