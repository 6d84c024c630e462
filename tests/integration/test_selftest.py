"""``gymdesk self-test`` as a command: ok, a failing step, an interrupt; nothing left behind."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import psutil
import pytest

STEPS = [
    "version",
    "resources",
    "timezone",
    "qt",
    "broker",
    "topics",
    "simulate",
    "read",
    "state",
    "window receptionist",
    "window instructor",
    "window wallboard",
    "stop",
]

pytestmark = [pytest.mark.broker, pytest.mark.timeout(180)]


class Descendants:
    """Every process started under a pid while it runs, seen by polling its children."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seen: dict[int, float] = {}  # pid -> create time (pids get reused)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        """Record the process tree until told to stop or the root is gone."""
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._done.is_set():
            try:
                children = root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            for child in children:
                try:
                    self.seen.setdefault(child.pid, child.create_time())
                except psutil.NoSuchProcess:
                    continue
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop polling."""
        self._done.set()
        self._thread.join(5)

    def alive(self) -> list[str]:
        """Return the descendants seen that still run (zombies awaiting init do not)."""
        left = []
        for pid, created in self.seen.items():
            try:
                process = psutil.Process(pid)
                if process.create_time() != created:
                    continue
                if process.status() == psutil.STATUS_ZOMBIE:
                    continue
                left.append(f"{pid} {' '.join(process.cmdline())}")
            except psutil.NoSuchProcess:
                continue
        return left


@contextmanager
def selftest(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], Descendants]]:
    """Start ``python -m gymdesk self-test`` and watch its process tree."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gymdesk", "self-test", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    watcher = Descendants(proc.pid)
    try:
        yield proc, watcher
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
        watcher.stop()


def broker_pid(lines: list[str]) -> int:
    """Return the broker's pid from its step line."""
    (line,) = [line for line in lines if line.split()[:2] == ["ok", "broker"]]
    match = re.search(r"\(pid (\d+)\)", line)
    assert match, line
    return int(match.group(1))


def test_self_test_passes_every_step_and_leaves_nothing(tmp_path: Path) -> None:
    # No display and no platform asked for: the self-test goes offscreen by itself. A home
    # of its own shows what it writes there.
    home = tmp_path / "home"
    home.mkdir()
    hidden = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_CONFIG_HOME", "XDG_STATE_HOME")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    with selftest(env=env) as (proc, watcher):
        out, err = proc.communicate(timeout=150)
        watcher.stop()
        assert proc.returncode == 0, out + err
        lines = out.splitlines()
        assert lines[-1] == "self-test: ok"
        steps = [line[4:].strip() for line in lines[:-1]]
        assert len(steps) == len(STEPS), out
        for step, expected in zip(steps, STEPS, strict=True):
            assert step.startswith(expected), (step, expected)
        assert all(line.startswith("  ok  ") for line in lines[:-1]), out
        assert "on offscreen" in lines[3], lines[3]
        pid = broker_pid(lines)
        assert pid in watcher.seen, "the broker was not seen as a child of the self-test"
        assert watcher.alive() == []
    # The user's settings, config and snapshots are untouched (Qt may cache a theme image).
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
    assert [p for p in written if not p.startswith(".cache/")] == [], written


def test_a_failing_step_stops_there_with_exit_1_and_leaves_nothing() -> None:
    # 1 ms is too short to connect to any broker: the read step fails, deterministically.
    with selftest("--timeout", "0.001", "--seconds", "0.5") as (proc, watcher):
        out, err = proc.communicate(timeout=150)
        watcher.stop()
        assert proc.returncode == 1, out + err
        lines = out.splitlines()
        assert lines[-2].startswith("FAIL  read "), out
        assert "not live within 0.001 s" in lines[-2]
        assert lines[-1].startswith("self-test: failed at read: not live within 0.001 s")
        assert not any(line.split()[1:2] == ["state"] for line in lines[:-2]), out
        assert broker_pid(lines) in watcher.seen
        assert watcher.alive() == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupt_mid_run_stops_everything(signum: signal.Signals) -> None:
    with selftest("--seconds", "30") as (proc, watcher):
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.split()[:2] == ["ok", "topics"]:
                break
        pid = broker_pid(lines)
        assert psutil.pid_exists(pid)
        # The simulator is publishing now; interrupt it in the middle.
        time.sleep(1.0)
        proc.send_signal(signum)
        rest, err = proc.communicate(timeout=60)
        watcher.stop()
        lines += rest.splitlines()
        assert proc.returncode == 128 + signum, "\n".join(lines) + err
        assert lines[-1] == f"self-test: interrupted by {signum.name} at simulate", lines
        assert pid in watcher.seen
        assert watcher.alive() == []


def test_a_forced_exit_kills_the_broker_and_says_so() -> None:
    # What the watchdog (or a second signal) runs, in a process of its own: os._exit.
    code = """
import signal, subprocess, sys
from pathlib import Path
from types import SimpleNamespace
from gymdesk.app.selftest import SelfTestOptions, _Run
broker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(broker.pid, flush=True)
run = _Run(SelfTestOptions(), sys.stdout, Path("."))
run.broker = SimpleNamespace(pid=broker.pid)
run.interrupted = signal.SIGTERM
run.force_exit()
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    broker_pid_line, said = result.stdout.splitlines()
    assert result.returncode == 128 + signal.SIGTERM, result.stderr
    assert said == "self-test: interrupted by SIGTERM, forced exit"
    deadline = time.monotonic() + 10
    while psutil.pid_exists(int(broker_pid_line)) and time.monotonic() < deadline:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(int(broker_pid_line)).status() == psutil.STATUS_ZOMBIE:
                break
        time.sleep(0.05)
    assert not psutil.pid_exists(int(broker_pid_line)) or (
        psutil.Process(int(broker_pid_line)).status() == psutil.STATUS_ZOMBIE
    )


def test_a_cleanup_that_hangs_is_ended_by_the_watchdog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gymdesk.app import selftest as selftest_module

    monkeypatch.setattr(selftest_module, "FORCE_EXIT_AFTER_S", 0.05)
    run = selftest_module._Run(selftest_module.SelfTestOptions(), sys.stdout, tmp_path)
    forced = threading.Event()
    monkeypatch.setattr(run, "force_exit", forced.set)
    run.on_signal(signal.SIGTERM)  # the first signal arms the watchdog...
    assert run.interrupted is signal.SIGTERM
    assert forced.wait(5)  # ...which fires when the cleanup does not end in time


def test_version_comes_from_the_package_metadata() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gymdesk", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"gymdesk {version('gymdesk')}"
