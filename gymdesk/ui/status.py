"""The connection state in the status bar, and the stale banner shown whenever not live."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from gymdesk.domain.changes import Changes, View
from gymdesk.domain.status import Phase, ReaderStatus
from gymdesk.qtmodels.bridge import StateBridge

_DOT: Final = {
    Phase.RESTORING: "#2f80ed",
    Phase.CONNECTING: "#d98a00",
    Phase.CATCHING_UP: "#2f80ed",
    Phase.LIVE: "#2e9d5b",
    Phase.RECONNECTING: "#d98a00",
    Phase.FAILED: "#d64545",
    Phase.STOPPED: "#8c99a8",
}


def status_text(status: ReaderStatus | None) -> str:
    """Return the one-line connection state for people."""
    if status is None:
        return "Starting…"
    phase = status.phase
    if phase is Phase.RESTORING:
        return "Loading the saved state…" + (f" {status.reason}" if status.reason else "")
    if phase is Phase.CONNECTING:
        return "Connecting…" + (f" ({status.reason})" if status.reason else "")
    if phase is Phase.CATCHING_UP:
        return f"Catching up {status.fraction * 100:.0f}%"
    if phase is Phase.LIVE:
        return "Live"
    if phase is Phase.RECONNECTING:
        return "Reconnecting…" + (f" ({status.reason})" if status.reason else "")
    if phase is Phase.FAILED:
        return f"Failed: {status.reason or 'unknown reason'}"
    return "Stopped"


def progress_tooltip(status: ReaderStatus) -> str:
    """Return catch-up progress per topic, one line each."""
    lines = [
        f"{topic}: {p.done:,} / {p.total:,} ({p.fraction * 100:.0f}%)"
        for topic, p in sorted(status.progress.items())
    ]
    return "\n".join(lines) or "No progress reported yet"


def ago(seconds: float) -> str:
    """Return a short, counting-up age: ``12 s``, ``3 min 5 s``, ``2 h 4 min``."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


class ConnectionIndicator(QWidget):
    """The status bar's permanent part: state dot, text, catch-up bar and rejected count."""

    rejected_clicked = Signal()

    def __init__(self, bridge: StateBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(8)
        self.dot = QLabel()
        self.dot.setFixedSize(12, 12)
        self._colour = _DOT[Phase.CONNECTING]
        self.label = QLabel("Starting…")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(140)
        self.progress.hide()
        self.rejected = QPushButton()
        self.rejected.setFlat(True)
        self.rejected.setCursor(Qt.CursorShape.PointingHandCursor)
        self.rejected.setToolTip("Records that broke the topic contract: click to see them")
        self.rejected.clicked.connect(self.rejected_clicked)
        self.rejected.hide()
        self._show_rejected = True
        layout.addWidget(self.rejected)
        layout.addWidget(self.dot)
        layout.addWidget(self.label)
        layout.addWidget(self.progress)
        bridge.status_changed.connect(self._on_bridge_status_changed)
        bridge.changes_applied.connect(self._on_bridge_changes_applied)
        self._on_bridge_status_changed(bridge.status)
        self._update_rejected()

    def _on_bridge_status_changed(self, status: ReaderStatus | None) -> None:
        """Show the new connection state."""
        text = status_text(status)
        self.label.setText(text)
        colour = _DOT[status.phase] if status is not None else _DOT[Phase.CONNECTING]
        self._colour = colour
        self._paint_dot()
        catching_up = status is not None and status.phase is Phase.CATCHING_UP
        self.progress.setVisible(catching_up)
        tip = text
        if status is not None:
            if status.progress:
                tip += "\n" + progress_tooltip(status)
            if status.warnings:
                tip += "\n\nWarnings:\n" + "\n".join(status.warnings[-5:])
        if catching_up and status is not None:
            self.progress.setValue(round(status.fraction * 1000))
            self.progress.setToolTip(progress_tooltip(status))
        self.label.setToolTip(tip)
        self.dot.setToolTip(tip)

    def set_show_rejected(self, show: bool) -> None:
        """Show the rejected count or not (not on a TV nobody can click; the menu has it)."""
        self._show_rejected = show
        self._update_rejected()

    def set_dot_size(self, px: int) -> None:
        """Size the state dot (larger on the wallboard, to go with its larger text)."""
        self.dot.setFixedSize(px, px)
        self._paint_dot()

    def _paint_dot(self) -> None:
        """Colour the dot with the state's colour, round at its size."""
        radius = self.dot.width() // 2
        style = f"background: {self._colour}; border-radius: {radius}px;"
        # A new style sheet re-polishes and repaints the dot; every status (each connection
        # probe) used to set one, though the colour only changes with the phase.
        if style != self.dot.styleSheet():
            self.dot.setStyleSheet(style)

    def _on_bridge_changes_applied(self, changes: Changes) -> None:
        """Update the rejected count when records were rejected."""
        if changes.touched(View.REJECTED):
            self._update_rejected()

    def _update_rejected(self) -> None:
        """Show how many records were rejected, if any."""
        total = self._bridge.state.rejections.total
        self.rejected.setVisible(self._show_rejected and total > 0)
        self.rejected.setText(f"⚠ {total:,} rejected")


class StaleBanner(QFrame):
    """A banner over the views whenever the reader is not live, counting the seconds."""

    def __init__(
        self,
        bridge: StateBridge,
        parent: QWidget | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("staleBanner")
        self._bridge = bridge
        self._clock = clock
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        self.detail = QLabel()
        layout.addWidget(self.label, 1)
        layout.addWidget(self.detail)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._on_timer_timeout)
        bridge.status_changed.connect(self._on_bridge_status_changed)
        self._on_bridge_status_changed(bridge.status)

    @property
    def stale(self) -> bool:
        """Return whether the banner says the screen is not live."""
        status = self._bridge.status
        return status is None or not status.live

    def _last_confirmed(self) -> float | None:
        """Return when the broker last answered (Unix seconds), if ever."""
        last = self._bridge.last_confirmed
        status = self._bridge.status
        if last is None and status is not None:
            last = status.confirmed_at
        return last

    def text(self) -> str:
        """Return the banner's main line."""
        last = self._last_confirmed()
        head = "Not live — showing the last known state."
        if last is None:
            return f"{head} No answer from the broker yet"
        return f"{head} Last update {ago(self._clock() - last)} ago"

    def _refresh(self) -> None:
        """Rewrite the text (the counter) and the detail."""
        self.label.setText(self.text())
        self.detail.setText(status_text(self._bridge.status))

    def _on_bridge_status_changed(self, status: ReaderStatus | None) -> None:
        """Show or hide the banner with the reader's phase (never by record age)."""
        stale = status is None or not status.live
        self.setVisible(stale)
        if stale:
            self._refresh()
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()

    def _on_timer_timeout(self) -> None:
        """Count the seconds up."""
        self._refresh()
