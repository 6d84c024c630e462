"""The settings dialog, the first-run connection dialog and the role question."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gymdesk.ui.resources import app_icon

ROLE_CHOICES: Final = (
    ("receptionist", "Front desk (receptionist board)"),
    ("instructor", "Instructor (my classes)"),
    ("wallboard", "Sales wallboard (office TV)"),
)
SECURITY_PROTOCOLS: Final = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS: Final = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# A keyring that is there may still be locked (its unlock prompt dismissed) or refuse:
# before Save nothing is saved yet, so the note promises no more than an attempt.
KEYRING_NOTE: Final = (
    "Saved in the system keyring on Save; you are told if it is locked or refuses."
)
NO_KEYRING_NOTE: Final = (
    "No system keyring on this machine: the password is kept for this session only."
)
KEYRING_REFUSED_NOTE: Final = (
    "The system keyring is locked or refused: the password is kept for this session only."
)

TestConnection = Callable[[dict[str, Any]], Awaitable[str]]


def _role_combo(current: str | None) -> QComboBox:
    """Return a combo of the roles with ``current`` selected."""
    combo = QComboBox()
    for role, label in ROLE_CHOICES:
        combo.addItem(label, role)
    index = combo.findData(current) if current else 0
    combo.setCurrentIndex(max(0, index))
    return combo


class _FileField(QWidget):
    """A path field with a Browse… button."""

    def __init__(self, value: str | None, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(value or "")
        self.edit.setPlaceholderText("none")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)
        self._caption = caption

    def _on_browse_clicked(self) -> None:
        """Pick a file."""
        path, _ = QFileDialog.getOpenFileName(self, self._caption, self.edit.text())
        if path:
            self.edit.setText(path)

    def value(self) -> str | None:
        """Return the path, or None when empty."""
        return self.edit.text().strip() or None


class SettingsDialog(QDialog):
    """Connection, gym and desk settings; the password goes to the keyring, never a file."""

    def __init__(
        self,
        values: Mapping[str, Any],
        role: str,
        *,
        test_connection: TestConnection | None = None,
        keyring_available: bool = True,
        locations: list[str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("gymdesk settings")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(560)
        self._values = dict(values)
        self._test_connection = test_connection
        self._test_task: asyncio.Future[str] | None = None

        form = QFormLayout()
        form.setVerticalSpacing(10)
        form.setHorizontalSpacing(16)
        self.bootstrap = QLineEdit(str(values.get("bootstrap_servers") or ""))
        self.bootstrap.setPlaceholderText("host:9092,host2:9092")
        self.protocol = QComboBox()
        self.protocol.addItems(SECURITY_PROTOCOLS)
        self.protocol.setCurrentText(str(values.get("security_protocol") or "PLAINTEXT"))
        self.mechanism = QComboBox()
        self.mechanism.addItems(SASL_MECHANISMS)
        self.mechanism.setCurrentText(str(values.get("sasl_mechanism") or "PLAIN"))
        self.username = QLineEdit(str(values.get("username") or ""))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("unchanged" if values.get("username") else "")
        self.keyring_note = QLabel(KEYRING_NOTE if keyring_available else NO_KEYRING_NOTE)
        self.keyring_note.setObjectName("muted")
        self.keyring_note.setWordWrap(True)
        # A wrapped label in a form gets one line's height: reserve two, or it is cut.
        self.keyring_note.setMinimumHeight(self.keyring_note.fontMetrics().lineSpacing() * 2 + 4)
        self.ca_file = _FileField(values.get("ca_file"), "CA certificate")
        self.cert_file = _FileField(values.get("cert_file"), "Client certificate")
        self.key_file = _FileField(values.get("key_file"), "Client key")
        self.prefix = QLineEdit(str(values.get("topic_prefix") or "gym."))
        self.timezone = QLineEdit(str(values.get("timezone") or ""))
        self.timezone.setPlaceholderText("this machine's zone, e.g. Europe/Berlin")
        self.busy = QDoubleSpinBox()
        self.busy.setRange(10, 100)
        self.busy.setSuffix(" % full")
        self.busy.setDecimals(0)
        self.busy.setValue(float(values.get("busy_threshold") or 0.8) * 100)
        self.currency = QLineEdit(str(values.get("currency") or "EUR"))
        self.currency.setMaxLength(3)
        self.currency.setValidator(
            QRegularExpressionValidator(QRegularExpression("[A-Za-z]{0,3}"), self.currency)
        )
        self.currency.setToolTip(
            "What sales and targets are in (EUR, GBP, USD...). Sales in another currency are"
            " listed but not added to the totals."
        )
        self.alert_window = QDoubleSpinBox()
        self.alert_window.setRange(0.25, 24)
        self.alert_window.setSingleStep(0.5)
        self.alert_window.setSuffix(" h ahead")
        self.alert_window.setValue(float(values.get("alert_window_h") or 3.0))
        self.location = QComboBox()
        self.location.setEditable(True)
        self.location.addItem("All locations", "")
        for name in locations or []:
            self.location.addItem(name, name)
        current_location = values.get("location") or ""
        found = self.location.findData(current_location)
        if found >= 0:
            self.location.setCurrentIndex(found)
        else:
            self.location.setEditText(str(current_location))
        self.role = _role_combo(role)

        form.addRow(_section("Connection"))
        form.addRow("Bootstrap servers", self.bootstrap)
        form.addRow("Security protocol", self.protocol)
        form.addRow("SASL mechanism", self.mechanism)
        form.addRow("User", self.username)
        form.addRow("Password", self.password)
        form.addRow("", self.keyring_note)
        form.addRow("CA file", self.ca_file)
        form.addRow("Client certificate", self.cert_file)
        form.addRow("Client key", self.key_file)
        form.addRow("Topic prefix", self.prefix)
        form.addRow(_section("Gym"))
        form.addRow("Time zone", self.timezone)
        form.addRow("Busy from", self.busy)
        form.addRow("Currency", self.currency)
        form.addRow("Alert about classes", self.alert_window)
        form.addRow(_section("This desk"))
        form.addRow("Location", self.location)
        form.addRow("Role", self.role)

        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self._on_test_button_clicked)
        self.test_button.setEnabled(test_connection is not None)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addLayout(form)
        layout.addLayout(test_row)
        layout.addWidget(buttons)
        self.protocol.currentTextChanged.connect(self._on_protocol_current_text_changed)
        self._on_protocol_current_text_changed(self.protocol.currentText())

    def _on_protocol_current_text_changed(self, protocol: str) -> None:
        """Enable the SASL and TLS fields only where the protocol uses them."""
        sasl = protocol.startswith("SASL")
        tls = protocol in ("SSL", "SASL_SSL")
        for widget in (self.mechanism, self.username, self.password):
            widget.setEnabled(sasl)
        for field in (self.ca_file, self.cert_file, self.key_file):
            field.setEnabled(tls)

    def values(self) -> dict[str, Any]:
        """Return the settings as entered (without the password)."""
        location = self.location.currentData()
        if self.location.currentText() != self.location.itemText(self.location.currentIndex()):
            location = self.location.currentText()
        return {
            "bootstrap_servers": self.bootstrap.text().strip(),
            "security_protocol": self.protocol.currentText(),
            "sasl_mechanism": self.mechanism.currentText(),
            "username": self.username.text().strip() or None,
            "ca_file": self.ca_file.value(),
            "cert_file": self.cert_file.value(),
            "key_file": self.key_file.value(),
            "topic_prefix": self.prefix.text().strip() or "gym.",
            "timezone": self.timezone.text().strip() or None,
            "busy_threshold": round(self.busy.value() / 100, 2),
            "currency": self.currency.text().strip().upper() or "EUR",
            "alert_window_h": self.alert_window.value(),
            "location": (location or None) if isinstance(location, str) else None,
            "role": self.role.currentData(),
        }

    def entered_password(self) -> str | None:
        """Return the password typed in, or None when left unchanged."""
        return self.password.text() or None

    def _on_test_button_clicked(self) -> None:
        """Try the connection on the loop; the answer lands in the label."""
        if self._test_connection is None:
            return
        values = self.values()
        if self.entered_password():
            values["password"] = self.entered_password()
        self.test_button.setEnabled(False)
        self.test_result.setText("Testing…")
        self._test_task = asyncio.ensure_future(self._test_connection(values))
        self._test_task.add_done_callback(self._on_test_task_done)

    def _on_test_task_done(self, task: asyncio.Future[str]) -> None:
        """Show the one-line result."""
        if task.cancelled():
            return  # the dialog closed while testing: nothing left to show it on
        self.test_button.setEnabled(True)
        error = task.exception()
        text = f"✗ {type(error).__name__}: {error}" if error else task.result()
        lines = text.strip().splitlines() or [""]
        self.test_result.setText(lines[0])

    def testing(self) -> bool:
        """Return whether a connection test is under way."""
        return self._test_task is not None and not self._test_task.done()

    def done(self, result: int) -> None:
        """Closing the dialog abandons a test still under way."""
        if self._test_task is not None and not self._test_task.done():
            self._test_task.cancel()
        super().done(result)


def _section(title: str) -> QLabel:
    """Return a bold section heading for a form."""
    label = QLabel(title)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.1)
    label.setFont(font)
    return label


@dataclass(frozen=True, slots=True)
class ConnectionChoice:
    """What the first-run dialog decided: a cluster to connect to, or the demo."""

    demo: bool
    bootstrap_servers: str = ""
    topic_prefix: str = ""
    role: str | None = None


class FirstRunDialog(QDialog):
    """Welcome: connect to the gym's cluster, or try the demo."""

    def __init__(self, bootstrap: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to gymdesk")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(520)
        self.demo = False
        intro = QLabel(
            "<h2>Welcome to gymdesk</h2>"
            "<p>Connect to your gym's Kafka cluster, or try the demo with a simulated gym.</p>"
        )
        intro.setWordWrap(True)
        self.bootstrap = QLineEdit(bootstrap)
        self.bootstrap.setPlaceholderText("host:9092")
        self.prefix = QLineEdit("gym.")
        self.role = _role_combo(None)
        form = QFormLayout()
        form.addRow("Bootstrap servers", self.bootstrap)
        form.addRow("Topic prefix", self.prefix)
        form.addRow("This computer is", self.role)
        buttons = QDialogButtonBox()
        self.connect_button = buttons.addButton("Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.demo_button = buttons.addButton("Try the demo", QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        self.demo_button.clicked.connect(self._on_demo_button_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _on_buttons_accepted(self) -> None:
        """Connect, if a server was given."""
        if self.bootstrap.text().strip():
            self.accept()
        else:
            self.bootstrap.setFocus()

    def _on_demo_button_clicked(self) -> None:
        """Choose the demo."""
        self.demo = True
        self.accept()

    def choice(self) -> ConnectionChoice:
        """Return what was chosen."""
        return ConnectionChoice(
            demo=self.demo,
            bootstrap_servers=self.bootstrap.text().strip(),
            topic_prefix=self.prefix.text().strip(),
            role=self.role.currentData(),
        )


def ask_first_run(bootstrap: str = "") -> ConnectionChoice | None:
    """Ask how to start on the first run; None when cancelled."""
    dialog = FirstRunDialog(bootstrap)
    if not dialog.exec():
        return None
    return dialog.choice()


def ask_role() -> str | None:
    """Ask once which role this computer has; None when cancelled."""
    dialog = QDialog()
    dialog.setWindowTitle("gymdesk")
    dialog.setWindowIcon(app_icon())
    combo = _role_combo(None)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(QLabel("What is this computer used for? (You can change it later.)"))
    layout.addWidget(combo)
    layout.addWidget(buttons)
    if not dialog.exec():
        return None
    data = combo.currentData()
    return data if isinstance(data, str) else None
