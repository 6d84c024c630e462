"""The SASL password in the OS keyring (the ``keyring`` library), never in a file or a log."""

from __future__ import annotations

import logging
from enum import Enum

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


class Stored(Enum):
    """Where a password given in the settings ended up; the value says so in a log."""

    KEYRING = "the password is saved in the system keyring"
    NO_KEYRING = "no system keyring: the password is kept for this session only"
    REFUSED = (
        "the system keyring is locked or refused the password: it is kept for this session only"
    )


def store_password(username: str, bootstrap_servers: str, password: str) -> Stored:
    """Store the password in the keyring; return where it went (never log it)."""
    if not keyring_available():
        return Stored.NO_KEYRING
    try:
        keyring.set_password(SERVICE, account(username, bootstrap_servers), password)
    except Exception as exc:
        # A keyring is there but said no: locked (its unlock prompt dismissed or unable
        # to show), or failing (a D-Bus error that keyring does not wrap). Only the
        # exception's type is logged: its text might quote what it was given. At info:
        # the caller warns once, with what it means (kept for this session only).
        log.info("the system keyring refused the password: %s", type(exc).__name__)
        return Stored.REFUSED
    return Stored.KEYRING


def save_password(username: str, bootstrap_servers: str, password: str) -> bool:
    """Store the password in the keyring; return False when it is not there (see store_password)."""
    return store_password(username, bootstrap_servers, password) is Stored.KEYRING
