"""The settings dialog, its keyring and test-connection button, and the first-run dialog."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import pytest
import qasync
from keyring.errors import KeyringLocked
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from gymdesk.app import main
from gymdesk.app.config import AppConfig, ConfigError, load_config
from gymdesk.app.credentials import SERVICE, Stored, account, keyring_available, load_password
from gymdesk.sim.broker import EmbeddedBroker
from gymdesk.ui.settings import (
    KEYRING_NOTE,
    KEYRING_REFUSED_NOTE,
    ConnectionChoice,
    FirstRunDialog,
    SettingsDialog,
    ask_first_run,
)
from tests.conftest import create_topics

# The offscreen platform says it cannot size top-level windows from hints: not our noise.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

SECRET = "s3cret-Pa55"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps passwords in a dict: a real backend, minus the OS."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


class LockedKeyring(keyring.backend.KeyringBackend):
    """A Secret Service that is there but locked: its unlock prompt was dismissed."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    """Put back whatever keyring was in use before the test."""
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


@pytest.fixture
def memory_keyring(restore_keyring: None) -> MemoryKeyring:
    """An in-memory keyring backend for the test."""
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def no_keyring(restore_keyring: None) -> None:
    """No usable keyring, as on a bare Linux box without a secret service."""
    keyring.set_keyring(keyring.backends.fail.Keyring())


@pytest.fixture
def locked_keyring(restore_keyring: None) -> None:
    """A keyring that is present but locked."""
    keyring.set_keyring(LockedKeyring())


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop over the test's QApplication, as the app runs on."""
    event_loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    event_loop.close()
    asyncio.set_event_loop(None)


FULL = AppConfig(
    bootstrap_servers="kafka-1.example:9093,kafka-2.example:9093",
    security_protocol="SASL_SSL",
    sasl_mechanism="SCRAM-SHA-512",
    username="front-desk",
    ca_file="/etc/gymdesk/ca.pem",
    cert_file="/etc/gymdesk/client.pem",
    key_file="/etc/gymdesk/client.key",
    topic_prefix="acme.",
    timezone="Europe/Berlin",
    busy_threshold=0.75,
    currency="GBP",
    alert_window_h=2.5,
    location="North",
    role="instructor",
)


def dialog_values(config: AppConfig) -> dict[str, Any]:
    """Return what the app hands the dialog: every setting but the password."""
    return {f.name: getattr(config, f.name) for f in fields(config) if f.name != "password"}


def make_dialog(qtbot: QtBot, config: AppConfig, **kwargs: Any) -> SettingsDialog:
    """Return a settings dialog over a config, as the app opens it."""
    dialog = SettingsDialog(
        dialog_values(config),
        config.role or "receptionist",
        locations=["Central", "North"],
        **kwargs,
    )
    qtbot.addWidget(dialog)
    return dialog


# ---------------------------------------------------------------------- fields


def test_every_field_round_trips_to_the_config(qtbot: QtBot) -> None:
    dialog = make_dialog(qtbot, FULL)
    assert replace(FULL, **dialog.values()) == FULL
    assert dialog.mechanism.isEnabled()
    assert dialog.ca_file.isEnabled()


def test_edited_fields_reach_the_config(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, AppConfig())
    dialog.bootstrap.clear()
    qtbot.keyClicks(dialog.bootstrap, "broker-a:9092 ")  # trailing space trimmed
    dialog.protocol.setCurrentText("SASL_PLAINTEXT")
    assert dialog.username.isEnabled()
    assert not dialog.ca_file.isEnabled()  # no TLS on SASL_PLAINTEXT
    dialog.mechanism.setCurrentText("SCRAM-SHA-256")
    qtbot.keyClicks(dialog.username, "desk-2")
    dialog.prefix.setText("club.")
    dialog.timezone.setText("Europe/Vienna")
    dialog.busy.setValue(90)
    dialog.currency.clear()
    qtbot.keyClicks(dialog.currency, "chf9")  # letters only, three at most, upper case
    dialog.alert_window.setValue(1.5)
    dialog.location.setCurrentIndex(dialog.location.findData("Central"))
    dialog.role.setCurrentIndex(dialog.role.findData("wallboard"))

    path = tmp_path / "gymdesk.toml"
    config = main.store_settings(AppConfig(), dialog.values(), None, path)
    expected = replace(
        AppConfig(),
        bootstrap_servers="broker-a:9092",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-256",
        username="desk-2",
        topic_prefix="club.",
        timezone="Europe/Vienna",
        busy_threshold=0.9,
        currency="CHF",
        alert_window_h=1.5,
        location="Central",
        role="wallboard",
    )
    assert config == expected
    # What was written is what the next start reads.
    assert load_config(path, environ={}) == config


def test_a_typed_location_not_in_the_list_is_kept(qtbot: QtBot) -> None:
    dialog = make_dialog(qtbot, AppConfig())
    dialog.location.setEditText("Harbour")
    assert dialog.values()["location"] == "Harbour"
    dialog.location.setCurrentIndex(0)  # "All locations"
    assert dialog.values()["location"] is None


def test_an_unusable_zone_is_refused_before_anything_is_written(
    qtbot: QtBot, tmp_path: Path
) -> None:
    dialog = make_dialog(qtbot, AppConfig())
    dialog.timezone.setText("Mars/Olympus")
    path = tmp_path / "gymdesk.toml"
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        main.store_settings(AppConfig(), dialog.values(), None, path)
    assert not path.exists()


def test_a_currency_that_is_not_a_code_is_refused(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, AppConfig())
    dialog.currency.setText("EU")
    path = tmp_path / "gymdesk.toml"
    with pytest.raises(ConfigError, match="currency must be a code like EUR, not 'EU'"):
        main.store_settings(AppConfig(), dialog.values(), None, path)
    assert not path.exists()
    # From the file too: the same rule, before anything runs.
    path.write_text('[gym]\ncurrency = "euro"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'euro'"):
        load_config(path, environ={}).state_settings()


# ---------------------------------------------------------------------- the password


def test_the_password_goes_to_the_keyring_and_never_to_the_file(
    qtbot: QtBot, tmp_path: Path, memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    assert keyring_available()
    dialog = make_dialog(qtbot, FULL, keyring_available=keyring_available())
    assert dialog.keyring_note.text() == KEYRING_NOTE
    assert "on Save" in KEYRING_NOTE  # a promise to try, not a claim it is done
    assert dialog.password.echoMode() is dialog.password.EchoMode.Password
    qtbot.keyClicks(dialog.password, SECRET)
    assert dialog.entered_password() == SECRET
    assert "password" not in dialog.values()

    path = tmp_path / "gymdesk.toml"
    with caplog.at_level(logging.DEBUG):
        config = main.store_settings(FULL, dialog.values(), dialog.entered_password(), path)
    assert config.password == SECRET  # for this session's connection
    key = (SERVICE, account("front-desk", FULL.bootstrap_servers))
    assert memory_keyring.passwords == {key: SECRET}
    assert load_password("front-desk", FULL.bootstrap_servers) == SECRET
    text = path.read_text(encoding="utf-8")
    assert "front-desk" in text  # the file was written, with the user
    assert SECRET not in text
    assert "password" not in text
    assert load_config(path, environ={}).password is None
    assert SECRET not in caplog.text


def test_an_unchanged_password_field_leaves_the_keyring_alone(
    qtbot: QtBot, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(SERVICE, account("front-desk", FULL.bootstrap_servers), "old")
    dialog = make_dialog(qtbot, FULL, keyring_available=True)
    assert dialog.password.placeholderText() == "unchanged"
    assert dialog.entered_password() is None
    main.store_settings(FULL, dialog.values(), dialog.entered_password(), tmp_path / "g.toml")
    assert load_password("front-desk", FULL.bootstrap_servers) == "old"


def test_without_a_keyring_the_dialog_says_so_and_keeps_it_for_the_session(
    qtbot: QtBot, tmp_path: Path, no_keyring: None, caplog: pytest.LogCaptureFixture
) -> None:
    assert not keyring_available()
    dialog = make_dialog(qtbot, FULL, keyring_available=keyring_available())
    assert "No system keyring" in dialog.keyring_note.text()
    assert "for this session only" in dialog.keyring_note.text()
    qtbot.keyClicks(dialog.password, SECRET)

    path = tmp_path / "gymdesk.toml"
    with caplog.at_level(logging.WARNING):
        config = main.store_settings(FULL, dialog.values(), dialog.entered_password(), path)
    assert config.password == SECRET  # kept in memory for this session
    assert load_password("front-desk", FULL.bootstrap_servers) is None
    assert "kept for this session only" in caplog.text
    assert SECRET not in caplog.text
    assert SECRET not in path.read_text(encoding="utf-8")
    assert not any(SECRET in p.read_text(errors="replace") for p in tmp_path.rglob("*.*"))


def test_a_locked_keyring_is_reported_as_locked_not_as_missing(
    qtbot: QtBot, tmp_path: Path, locked_keyring: None, caplog: pytest.LogCaptureFixture
) -> None:
    assert keyring_available()  # present, so the dialog offers it...
    dialog = make_dialog(qtbot, FULL, keyring_available=keyring_available())
    assert dialog.keyring_note.text() == KEYRING_NOTE
    assert dialog.keyring_note.text() != "Saved in the system keyring."
    qtbot.keyClicks(dialog.password, SECRET)

    path = tmp_path / "gymdesk.toml"
    stored: list[Stored] = []
    with caplog.at_level(logging.DEBUG):
        config = main.store_settings(
            FULL, dialog.values(), dialog.entered_password(), path, on_stored=stored.append
        )
    assert stored == [Stored.REFUSED]  # ...and saving it failed: the caller hears so
    assert config.password == SECRET  # kept in memory for this session
    # One warning, with what it means; the cause beside it at info.
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "the system keyring is locked or refused the password: it is kept for this session only",
    ]
    assert "the system keyring refused the password: KeyringLocked" in caplog.messages
    assert "no keyring" not in caplog.text.lower()
    assert "no system keyring" not in caplog.text.lower()
    assert SECRET not in caplog.text
    assert load_config(path, environ={}).password is None
    assert not any(SECRET in p.read_text(errors="replace") for p in tmp_path.rglob("*.*"))


@pytest.mark.parametrize("backend", ["memory", "locked", "none"])
def test_after_save_the_app_says_so_only_when_the_keyring_refused(
    qtbot: QtBot,
    tmp_path: Path,
    restore_keyring: None,
    loop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
) -> None:
    keyring.set_keyring(
        {
            "memory": MemoryKeyring,
            "locked": LockedKeyring,
            "none": keyring.backends.fail.Keyring,
        }[backend]()
    )
    shown: list[str] = []

    def warning(parent: QWidget | None, title: str, text: str) -> None:
        shown.append(text)

    monkeypatch.setattr(main.QMessageBox, "warning", staticmethod(warning))
    settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    session = main.Session(FULL, "instructor", settings, config_path=tmp_path / "g.toml")
    restarts: list[AppConfig] = []

    async def restart() -> None:
        restarts.append(session.config)

    monkeypatch.setattr(session, "_restart", restart)
    dialog = make_dialog(qtbot, FULL, keyring_available=keyring_available())
    qtbot.keyClicks(dialog.password, SECRET)
    session._on_settings_accepted(dialog)
    assert session._restarting is not None
    loop.run_until_complete(session._restarting)
    assert [c.password for c in restarts] == [SECRET]  # runs with it either way
    # The dialog said a keyring would take it: only when it did not is that corrected.
    # Without one, the dialog had said so before Save.
    assert shown == ([KEYRING_REFUSED_NOTE] if backend == "locked" else [])
    assert "locked or refused" in KEYRING_REFUSED_NOTE
    assert "for this session only" in KEYRING_REFUSED_NOTE


# ---------------------------------------------------------------------- test connection


def free_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class TickWatch:
    """Ticks a 10 ms timer and keeps the longest gap: a frozen loop shows as a long gap."""

    def __init__(self) -> None:
        self.ticks = 0
        self.longest = 0.0
        self._last = time.monotonic()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.timer.start()

    def _on_timer_timeout(self) -> None:
        now = time.monotonic()
        self.longest = max(self.longest, now - self._last)
        self._last = now
        self.ticks += 1


async def click_test_and_wait(dialog: SettingsDialog, watch: TickWatch) -> str:
    """Click "Test connection", check it is under way, and wait for its one line."""
    dialog.test_button.click()
    assert dialog.testing()
    assert not dialog.test_button.isEnabled()
    assert dialog.test_result.text() == "Testing…"
    deadline = time.monotonic() + 30
    while dialog.testing():
        assert time.monotonic() < deadline, "the connection test never finished"
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.05)  # a few more ticks after the answer
    watch.timer.stop()
    assert dialog.test_button.isEnabled()
    return dialog.test_result.text()


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_test_connection_reaches_the_broker_without_freezing(
    qtbot: QtBot, broker: EmbeddedBroker, prefix: str, loop: asyncio.AbstractEventLoop
) -> None:
    loop.run_until_complete(create_topics(broker.bootstrap_servers, prefix))
    config = AppConfig(bootstrap_servers="unused:1")
    dialog = make_dialog(qtbot, config, test_connection=main.connection_test(config))
    dialog.bootstrap.setText(broker.bootstrap_servers)  # tests the values as entered
    dialog.prefix.setText(prefix)
    watch = TickWatch()
    text = loop.run_until_complete(click_test_and_wait(dialog, watch))
    assert text.startswith("✓ Connected in ")
    assert text.endswith("; 7 of 7 topics found")
    assert watch.ticks > 3
    assert watch.longest < 0.5  # the loop kept turning: the window never froze


@pytest.mark.timeout(60)
def test_test_connection_to_a_closed_port_fails_in_one_clear_line(
    qtbot: QtBot, loop: asyncio.AbstractEventLoop
) -> None:
    address = f"127.0.0.1:{free_port()}"
    config = AppConfig(bootstrap_servers=address)
    dialog = make_dialog(qtbot, config, test_connection=main.connection_test(config))
    watch = TickWatch()
    text = loop.run_until_complete(click_test_and_wait(dialog, watch))
    assert text == f"✗ Cannot reach {address}: no Kafka broker answered there"
    assert "\n" not in text
    assert watch.longest < 0.5


def test_the_button_is_off_without_a_tester_and_errors_show_as_one_line(
    qtbot: QtBot, loop: asyncio.AbstractEventLoop
) -> None:
    assert not make_dialog(qtbot, AppConfig()).test_button.isEnabled()

    async def broken(values: dict[str, Any]) -> str:
        raise OSError("first line\nsecond line")

    dialog = make_dialog(qtbot, AppConfig(), test_connection=broken)
    text = loop.run_until_complete(click_test_and_wait(dialog, TickWatch()))
    assert text == "✗ OSError: first line"


def test_closing_the_dialog_abandons_a_test_under_way(
    qtbot: QtBot, loop: asyncio.AbstractEventLoop
) -> None:
    async def slow(values: dict[str, Any]) -> str:
        await asyncio.sleep(30)
        return "never"

    dialog = make_dialog(qtbot, AppConfig(), test_connection=slow)

    async def scenario() -> None:
        dialog.test_button.click()
        assert dialog.testing()
        dialog.reject()
        await asyncio.sleep(0.01)

    loop.run_until_complete(scenario())
    assert not dialog.testing()
    assert dialog.test_result.text() == "Testing…"  # nothing written after closing


# ---------------------------------------------------------------------- the first run


def test_first_run_dialog_connects_only_with_a_server(qtbot: QtBot) -> None:
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.connect_button.click()
    assert dialog.isVisible()  # nothing to connect to yet: it stays open
    qtbot.keyClicks(dialog.bootstrap, "kafka.gym.example:9092")
    dialog.prefix.setText("acme.")
    dialog.role.setCurrentIndex(dialog.role.findData("wallboard"))
    with qtbot.waitSignal(dialog.accepted):
        dialog.connect_button.click()
    assert dialog.choice() == ConnectionChoice(
        demo=False,
        bootstrap_servers="kafka.gym.example:9092",
        topic_prefix="acme.",
        role="wallboard",
    )


def _click_when_modal(qtbot: QtBot, button_text: str) -> None:
    """Once a modal dialog is up, click its button with this text (as a person would)."""

    def click() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, FirstRunDialog):
            QTimer.singleShot(10, click)
            return
        box = dialog.findChild(QDialogButtonBox)
        assert box is not None
        (button,) = [b for b in box.buttons() if b.text() == button_text]
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


@pytest.mark.timeout(30)
def test_ask_first_run_offers_the_demo(qtbot: QtBot) -> None:
    _click_when_modal(qtbot, "Try the demo")
    choice = ask_first_run()
    assert choice is not None
    assert choice.demo


@pytest.mark.timeout(30)
def test_ask_first_run_cancelled_is_none(qtbot: QtBot) -> None:
    _click_when_modal(qtbot, "Cancel")
    assert ask_first_run() is None


def _args(config: Path) -> argparse.Namespace:
    """Return the flags of a bare ``gymdesk`` start."""
    return argparse.Namespace(config=config, role=None, fullscreen=False, bootstrap_servers=None)


@pytest.fixture
def bare_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: QApplication
) -> dict[str, Any]:
    """A first start in a clean home: no config, no cluster in the environment.

    The session's run and the demo are recorded instead of run, so what the first-run
    choice leads to is seen without a broker or a window.
    """
    monkeypatch.delenv("GYMDESK_BOOTSTRAP_SERVERS", raising=False)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        main,
        "desk_settings",
        lambda demo=False: QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat),
    )

    async def run(self: main.Session) -> int:
        seen["session"] = self
        return 0

    def run_demo(args: argparse.Namespace) -> int:
        seen["demo"] = args
        return 0

    monkeypatch.setattr(main.Session, "run", run)
    monkeypatch.setattr(main, "run_demo", run_demo)
    monkeypatch.setattr(main, "_run_on_loop", lambda app, coroutine: asyncio.run(coroutine))
    return seen


def test_choosing_a_connection_on_the_first_run_saves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bare_start: dict[str, Any]
) -> None:
    path = tmp_path / "config" / "gymdesk.toml"
    assert main._first_run(_args(path), path)
    asked: list[int] = []

    def answer(bootstrap: str = "") -> ConnectionChoice:
        asked.append(1)
        return ConnectionChoice(False, "kafka.gym.example:9092", "acme.", "instructor")

    monkeypatch.setattr(main, "ask_first_run", answer)
    assert main.run_app(_args(path), AppConfig()) == 0
    assert asked == [1]
    saved = load_config(path, environ={})
    assert (saved.bootstrap_servers, saved.topic_prefix, saved.role) == (
        "kafka.gym.example:9092",
        "acme.",
        "instructor",
    )
    session = bare_start["session"]
    assert session.config.bootstrap_servers == "kafka.gym.example:9092"
    assert session.role == "instructor"
    assert "demo" not in bare_start

    # The next start finds the saved connection and asks nothing.
    assert not main._first_run(_args(path), path)
    monkeypatch.setattr(main, "ask_first_run", lambda bootstrap="": pytest.fail("asked again"))
    assert main.run_app(_args(path), saved) == 0


def test_trying_the_demo_on_the_first_run_starts_the_demo_and_saves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bare_start: dict[str, Any]
) -> None:
    path = tmp_path / "gymdesk.toml"
    monkeypatch.setattr(
        main, "ask_first_run", lambda bootstrap="": ConnectionChoice(True, role="wallboard")
    )
    assert main.run_app(_args(path), AppConfig()) == 0
    assert bare_start["demo"].demo_role == "wallboard"
    assert "session" not in bare_start
    assert not path.exists()


def test_cancelling_the_first_run_ends_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bare_start: dict[str, Any]
) -> None:
    path = tmp_path / "gymdesk.toml"
    monkeypatch.setattr(main, "ask_first_run", lambda bootstrap="": None)
    assert main.run_app(_args(path), AppConfig()) == 0
    assert bare_start == {}
    assert not path.exists()
