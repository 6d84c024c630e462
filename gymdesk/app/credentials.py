"""The SASL password in the OS keyring (the ``keyring`` library), never in a file or a log."""

from __future__ import annotations

import logging

import keyring
from keyring.errors import KeyringError, NoKeyringError

log = logging.getLogger(__name__)

SERVICE = "gymdesk"


def account(username: str, bootstrap_servers: str) -> str:
    """Return the keyring account name for a user on a cluster."""
    return f"{username}@{bootstrap_servers}"


def keyring_available() -> bool:
    """Return whether a real keyring backend exists on this machine."""
    try:
        backend = keyring.get_keyring()
    except KeyringError:
        return False
    priority = getattr(backend, "priority", 0)
    return bool(priority and priority > 0) and "fail" not in type(backend).__module__


def load_password(username: str | None, bootstrap_servers: str) -> str | None:
    """Return the saved password, or None when there is none or no keyring."""
    if not username:
        return None
    try:
        return keyring.get_password(SERVICE, account(username, bootstrap_servers))
    except (KeyringError, NoKeyringError):
        return None


def save_password(username: str, bootstrap_servers: str, password: str) -> bool:
    """Store the password in the keyring; return False when there is no keyring to hold it."""
    if not keyring_available():
        return False
    try:
        keyring.set_password(SERVICE, account(username, bootstrap_servers), password)
    except (KeyringError, NoKeyringError) as exc:
        log.warning("the keyring refused the password: %s", type(exc).__name__)
        return False
    return True
