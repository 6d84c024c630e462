"""Run by test_keyring_real.py inside its own D-Bus session: gymdesk against a real keyring.

Usage: ``keyring_child.py MODE UNLOCK_PASSWORD SECRET``. It first starts gnome-keyring's
Secret Service on the session bus, unlocking the login keyring with UNLOCK_PASSWORD
(creating it on the first run). MODE ``store`` saves SECRET as the app's settings dialog
does, ``load`` reads it back as the app does at start, ``locked`` tries to read it while
the keyring stays locked. Prints one line of JSON with what it saw.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import traceback
from typing import Any

import keyring
import secretstorage

from gymdesk.app.cli import resolve_config
from gymdesk.app.config import AppConfig, default_config_path
from gymdesk.app.credentials import (
    SERVICE,
    Stored,
    account,
    keyring_available,
    load_password,
    save_password,
    store_password,
)
from gymdesk.app.main import desk_settings, store_settings

SERVERS = "kafka-1.example:9093,kafka-2.example:9093"
USER = "front-desk"
NEW_PASSWORD = "a-new-password"


class Recorder(logging.Handler):
    """Keeps what gymdesk logs, with its level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Remember one message."""
        self.lines.append(f"{record.levelname} {record.getMessage()}")


def start_secret_service(unlock_password: str) -> dict[str, Any]:
    """Start gnome-keyring's secrets component on this session bus, unlocking its login keyring."""
    done = subprocess.run(
        ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
        input=unlock_password,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return {"returncode": done.returncode, "stderr": done.stderr}


def read_back_directly(secret_account: str) -> dict[str, Any]:
    """Look the item up through the Secret Service API itself, not through keyring."""
    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        items = list(collection.search_items({"service": SERVICE, "username": secret_account}))
        return {
            "label": collection.get_label(),
            "item_paths": [item.item_path for item in items],
            "locked": collection.is_locked(),
            "items": len(items),
            "secrets": [item.get_secret().decode() for item in items],
        }
    finally:
        connection.close()


def store(secret: str) -> dict[str, Any]:
    """Save the password as the settings dialog does: keyring for it, the file for the rest."""
    base = AppConfig(bootstrap_servers=SERVERS, timezone="UTC")
    values = {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "username": USER}
    path = default_config_path()
    config = store_settings(base, values, secret, path)
    settings = desk_settings()
    settings.setValue("role", "receptionist")
    settings.sync()
    return {
        "session_password": config.password == secret,
        "config_file": str(path),
        "settings_file": settings.fileName(),
        "load": load_password(USER, SERVERS),
        "load_other_user": load_password("someone-else", SERVERS),
        "load_other_cluster": load_password(USER, "kafka-9.example:9093"),
        "load_no_user": load_password(None, SERVERS),
        "direct": read_back_directly(account(USER, SERVERS)),
        # A second account on the same keyring, straight through save_password.
        "save_second": save_password("night-desk", SERVERS, secret[::-1]),
        "load_second": load_password("night-desk", SERVERS),
    }


def load() -> dict[str, Any]:
    """Read the password back as the app does at start: config file, then keyring."""
    config = resolve_config(argparse.Namespace())
    return {
        "username": config.username,
        "bootstrap_servers": config.bootstrap_servers,
        "resolved": config.password,
        "load_second": load_password("night-desk", SERVERS),
    }


def locked() -> dict[str, Any]:
    """Try to read the password while the login keyring stays locked."""
    connection = secretstorage.dbus_init()
    try:
        still_locked = secretstorage.get_default_collection(connection).is_locked()
    finally:
        connection.close()
    recorder = Recorder()
    logging.getLogger("gymdesk").addHandler(recorder)
    logging.getLogger("gymdesk").setLevel(logging.DEBUG)
    result: dict[str, Any] = {
        "collection_locked": still_locked,
        "load": load_password(USER, SERVERS),
        "save": save_password(USER, SERVERS, NEW_PASSWORD),
        "stored": store_password(USER, SERVERS, NEW_PASSWORD).name,
    }
    # As the settings dialog's Save does (without writing the file the store run wrote).
    heard: list[Stored] = []
    base = AppConfig(bootstrap_servers=SERVERS, timezone="UTC")
    values = {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "username": USER}
    recorder.lines.clear()
    config = store_settings(base, values, NEW_PASSWORD, None, on_stored=heard.append)
    result["settings_stored"] = [stored.name for stored in heard]
    result["settings_session_password"] = config.password == NEW_PASSWORD
    result["settings_said"] = recorder.lines
    result["password_in_log"] = NEW_PASSWORD in "\n".join(recorder.lines)
    return result


def main() -> int:
    """Start the Secret Service, run one mode, print the result as JSON."""
    mode, unlock_password, secret = sys.argv[1:4]
    result: dict[str, Any] = {"daemon": start_secret_service(unlock_password)}
    try:
        backend = keyring.get_keyring()
        result["backend"] = f"{type(backend).__module__}.{type(backend).__name__}"
        result["available"] = keyring_available()
        if mode == "store":
            result.update(store(secret))
        elif mode == "load":
            result.update(load())
        else:
            result.update(locked())
    except Exception:
        result["error"] = traceback.format_exc()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
