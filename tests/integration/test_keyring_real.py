"""The SASL password in a real OS keyring: gnome-keyring's Secret Service on a private bus.

Each run of keyring_child.py gets a D-Bus session of its own (dbus-run-session) and a
HOME and XDG directories under a temporary folder, so the keyring it creates and unlocks
is a throwaway one. Three runs share that folder: one saves the password as the settings
dialog does, a second (a fresh daemon, as after a reboot) reads it back as the app does at
start, a third finds it out of reach while the keyring stays locked. Then no file there
may hold the password in clear. The runs happen once for all the tests of this module.
"""

from __future__ import annotations

import base64
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.children import json_result, require_tools

CHILD = Path(__file__).with_name("keyring_child.py")
TOOLS = ("dbus-run-session", "gnome-keyring-daemon")
NO_KEYRING = "GYMDESK_NO_KEYRING"
SECRET = "s3cret-Pa55-Ünïcode"
UNLOCK = "login-keyring-pass"  # not empty: with an empty one the store would not be encrypted
SERVERS = "kafka-1.example:9093,kafka-2.example:9093"
KEYRING_BACKEND = "keyring.backends.SecretService.Keyring"


@dataclass
class KeyringRuns:
    """What the three runs saw, and what the temporary home held afterwards."""

    store: dict[str, Any]
    load: dict[str, Any]
    locked: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    survivors: list[str] = field(default_factory=list)


def require_keyring_tools() -> None:
    """Fail (skip only when GYMDESK_NO_KEYRING=1) when D-Bus or gnome-keyring is missing."""
    require_tools(TOOLS, "D-Bus and gnome-keyring", NO_KEYRING)


def ours(home: Path) -> list[psutil.Process]:
    """Return the live processes that run with this temporary HOME."""
    found = []
    for process in psutil.process_iter():
        try:
            if (
                process.environ().get("HOME") == str(home)
                and process.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def run_child(mode: str, unlock: str, root: Path) -> dict[str, Any]:
    """Run the child in a D-Bus session of its own, with its home under ``root``."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_CACHE_HOME": str(root / "cache"),
        "XDG_STATE_HOME": str(root / "state"),
        "XDG_RUNTIME_DIR": str(root / "run"),
        "QT_QPA_PLATFORM": "offscreen",
    }  # no DISPLAY: an unlock prompt cannot show, so a locked keyring stays locked
    done = subprocess.run(
        ["dbus-run-session", "--", sys.executable, str(CHILD), mode, unlock, SECRET],
        env=env,
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = json_result(f"the {mode} run", done.returncode, done.stdout, done.stderr)
    result["child_stderr"] = done.stderr
    return result


@functools.cache
def keyring_runs() -> KeyringRuns:
    """Store, reload (a new session), and try while locked; then read every file left."""
    root = Path(tempfile.mkdtemp(prefix="gymdesk-keyring-"))
    try:
        for name in ("home", "config", "data", "cache", "state"):
            (root / name).mkdir()
        (root / "run").mkdir(mode=0o700)
        runs = KeyringRuns(
            store=run_child("store", UNLOCK, root),
            load=run_child("load", UNLOCK, root),
            locked=run_child("locked", "not-the-login-password", root),
        )
        runs.files = {
            str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*"))
            if path.is_file() and not path.is_symlink()
        }
    finally:
        left = ours(root / "home")
        for process in left:  # started by these runs: a daemon that outlived its bus
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
    runs.survivors = [f"{p.pid} {p.name()}" for p in left]
    return runs


def runs_here() -> KeyringRuns:
    """Return the runs' findings, after checking that they can happen here."""
    # Not a fixture: a missing tool then fails the test itself, saying how to install it.
    require_keyring_tools()
    runs = keyring_runs()
    for result in (runs.store, runs.load, runs.locked):
        assert "error" not in result, result["error"]
    return runs


def test_a_real_secret_service_is_the_keyring_gymdesk_finds() -> None:
    runs = runs_here()
    for result in (runs.store, runs.load, runs.locked):
        assert result["daemon"]["returncode"] == 0, result["daemon"]["stderr"]
        assert result["backend"] == KEYRING_BACKEND
        assert result["available"] is True


def test_the_settings_dialog_path_saves_the_password_in_the_login_keyring() -> None:
    store = runs_here().store
    assert store["session_password"]  # the running session keeps it for its connection
    assert store["load"] == SECRET
    assert store["load_other_user"] is None
    assert store["load_other_cluster"] is None
    assert store["load_no_user"] is None
    # Read through the Secret Service API itself: one item, in the login keyring.
    direct = store["direct"]
    assert direct["label"] == "Login"
    assert not direct["locked"]
    assert direct["items"] == 1
    (path,) = direct["item_paths"]
    assert path.startswith("/org/freedesktop/secrets/collection/login/")
    assert direct["secrets"] == [SECRET]
    assert store["save_second"] is True
    assert store["load_second"] == SECRET[::-1]


def test_a_fresh_session_reads_it_back_as_the_app_does_at_start() -> None:
    load = runs_here().load
    assert load["username"] == "front-desk"
    assert load["bootstrap_servers"] == SERVERS
    assert load["resolved"] == SECRET  # from the keyring on disk, through a new daemon
    assert load["load_second"] == SECRET[::-1]


def test_a_locked_keyring_neither_gives_nor_takes_a_password() -> None:
    locked = runs_here().locked
    assert locked["collection_locked"] is True
    assert locked["load"] is None
    assert locked["save"] is False  # the settings dialog then keeps it for the session only


def test_a_locked_keyring_is_reported_as_locked_not_as_missing() -> None:
    locked = runs_here().locked
    assert locked["available"] is True  # present: the dialog offers it
    assert locked["stored"] == "REFUSED"  # and it said no: not NO_KEYRING
    assert locked["settings_stored"] == ["REFUSED"]  # what makes the app say so after Save
    assert locked["settings_session_password"]  # kept for this session
    warnings = [line for line in locked["settings_said"] if line.startswith("WARNING")]
    assert warnings == [
        "WARNING the system keyring is locked or refused the password: "
        "it is kept for this session only"
    ], locked["settings_said"]
    # The cause is there too, at info: which exception the keyring raised.
    assert any(
        line.startswith("INFO the system keyring refused the password: ")
        for line in locked["settings_said"]
    )
    assert not any("no keyring" in line.lower() for line in locked["settings_said"])
    assert not locked["password_in_log"]


def test_no_file_holds_the_password_in_clear() -> None:
    runs = runs_here()
    files = runs.files
    store = runs.store
    root_of = {Path(store["config_file"]).name, Path(store["settings_file"]).name}
    names = {Path(name).name for name in files}
    assert root_of <= names, sorted(files)  # gymdesk's config file and QSettings were written
    assert "data/keyrings/login.keyring" in files  # gnome-keyring's own (encrypted) store
    config = next(data for name, data in files.items() if name.endswith("gymdesk.toml"))
    assert b"front-desk" in config
    assert b"password" not in config
    forms = {
        "utf-8": SECRET.encode(),
        "utf-16-le": SECRET.encode("utf-16-le"),
        "base64": base64.b64encode(SECRET.encode()),
        "second, utf-8": SECRET[::-1].encode(),
    }
    holding = [
        f"{name} ({form})"
        for name, data in files.items()
        for form, raw in forms.items()
        if raw in data
    ]
    assert holding == []


def test_the_sessions_leave_nothing_running() -> None:
    assert runs_here().survivors == []
