"""The keyring's answers, told apart: saved, no keyring at all, or a keyring that said no."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import keyring
import keyring.backend
import keyring.backends.fail
import pytest
from keyring.errors import KeyringLocked, PasswordSetError

from gymdesk.app.credentials import (
    Stored,
    keyring_available,
    load_password,
    save_password,
    store_password,
)

SECRET = "s3cret-Pa55"
SERVERS = "kafka-1.example:9093"


class RefusingKeyring(keyring.backend.KeyringBackend):
    """A keyring that is there but says no to every write, as a locked Secret Service does."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error
        self.asked = 0

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.asked += 1
        raise self.error

    def delete_password(self, service: str, username: str) -> None:
        raise self.error


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    """Put back whatever keyring was in use before the test."""
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


@pytest.mark.usefixtures("restore_keyring")
@pytest.mark.parametrize(
    "error",
    [
        KeyringLocked("Failed to unlock the collection!"),  # the unlock prompt dismissed
        PasswordSetError("the service said no"),
        # Not one of keyring's: a D-Bus error that a backend let through. Its text quotes
        # the secret, as an error may quote what it was given: the log must not.
        RuntimeError(f"org.freedesktop.DBus.Error.NoReply while storing {SECRET}"),
    ],
    ids=["locked", "set-error", "other-error"],
)
def test_a_keyring_that_refuses_is_told_apart_from_no_keyring(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    backend = RefusingKeyring(error)
    keyring.set_keyring(backend)
    assert keyring_available()  # it is there: the dialog rightly offers it
    with caplog.at_level(logging.DEBUG):
        assert store_password("front-desk", SERVERS, SECRET) is Stored.REFUSED
        assert save_password("front-desk", SERVERS, SECRET) is False
    assert backend.asked == 2
    assert (
        caplog.messages == [f"the system keyring refused the password: {type(error).__name__}"] * 2
    )
    assert "no system keyring" not in caplog.text.lower()
    assert SECRET not in caplog.text
    assert load_password("front-desk", SERVERS) is None


@pytest.mark.usefixtures("restore_keyring")
def test_no_keyring_at_all_is_not_a_refusal(caplog: pytest.LogCaptureFixture) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    assert not keyring_available()
    with caplog.at_level(logging.DEBUG):
        assert store_password("front-desk", SERVERS, SECRET) is Stored.NO_KEYRING
    assert caplog.messages == []  # the caller says it, once


def test_each_outcome_says_where_the_password_is() -> None:
    assert "saved in the system keyring" in Stored.KEYRING.value
    assert Stored.NO_KEYRING.value.startswith("no system keyring:")
    assert "locked or refused" in Stored.REFUSED.value
    for stored in (Stored.NO_KEYRING, Stored.REFUSED):
        assert stored.value.endswith("kept for this session only")
