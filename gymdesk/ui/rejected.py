"""The rejected-records dialog: what broke the topic contract, with a Copy button."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gymdesk.domain.changes import Changes, View
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.models import RejectedModel


class RejectedDialog(QDialog):
    """Lists the latest rejected records (topic, partition, offset, key, reason, bytes)."""

    def __init__(self, bridge: StateBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rejected records")
        self.resize(1000, 480)
        self.model = RejectedModel(bridge, self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(RejectedModel.REASON, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the list (tab-separated) to the clipboard")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        bridge.changes_applied.connect(self._on_bridge_changes_applied)
        self._bridge = bridge
        self._update_summary()

    def _update_summary(self) -> None:
        """Say how many were rejected, by topic."""
        log = self._bridge.state.rejections
        by_topic = ", ".join(f"{topic}: {n:,}" for topic, n in sorted(log.by_topic.items()))
        shown = self.model.rowCount()
        self.summary.setText(
            f"{log.total:,} records broke the topic contract and were skipped"
            + (f" ({by_topic})" if by_topic else "")
            + (f". The latest {shown:,} are listed." if shown else ".")
        )

    def _on_bridge_changes_applied(self, changes: Changes) -> None:
        """Follow new rejections."""
        if changes.touched(View.REJECTED):
            self._update_summary()

    def as_tsv(self) -> str:
        """Return the listed rows as tab-separated text, with a header line."""
        model = self.model
        columns = range(model.columnCount())
        lines = [
            "\t".join(str(model.headerData(c, Qt.Orientation.Horizontal) or "") for c in columns)
        ]
        for row in range(model.rowCount()):
            cells = (
                str(model.index(row, c).data() or "").replace("\t", " ").replace("\n", " ")
                for c in columns
            )
            lines.append("\t".join(cells))
        return "\n".join(lines) + "\n"

    def _on_copy_button_clicked(self) -> None:
        """Copy the list to the clipboard."""
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.as_tsv())
