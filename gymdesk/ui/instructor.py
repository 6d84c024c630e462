"""The instructor view: my classes this week and next, my totals, my fill over time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, Final

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QByteArray,
    QIdentityProxyModel,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gymdesk.domain.alerts import NO_CLASS, AlertScope
from gymdesk.domain.changes import Changes, View
from gymdesk.domain.views import ClassView, InstructorView
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.format import format_datetime, format_percent
from gymdesk.qtmodels.models import (
    ClassBoardModel,
    ClassFilterProxy,
    ClassViewRole,
    FillRole,
    InstructorModel,
    ViewRole,
)
from gymdesk.qtmodels.throttle import Throttle
from gymdesk.ui.charts import make_plot
from gymdesk.ui.columns import Column, ColumnFitter
from gymdesk.ui.delegates import BoardDelegate, FillBarDelegate
from gymdesk.ui.theme import LIGHT

SETTINGS_GROUP: Final = "instructor"
CHART_INTERVAL_MS: Final = 1000
DAY_CHECK_INTERVAL_MS: Final = 1000
_HIDDEN_COLUMNS: Final = (ClassBoardModel.INSTRUCTOR,)
_NUMBER_ALIGNMENT: Final = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class MyClassesProxy(QIdentityProxyModel):
    """The board for one instructor over two weeks: the day with the time, no-shows."""

    def __init__(self, zone: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zone = zone

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        """Show the day in the time column and no-shows in the status column."""
        if role == int(Qt.ItemDataRole.DisplayRole) and index.isValid():
            column = index.column()
            if column in (ClassBoardModel.TIME, ClassBoardModel.STATUS):
                view = super().data(index, ClassViewRole)
                if isinstance(view, ClassView):
                    if column == ClassBoardModel.TIME:
                        return format_datetime(view.starts_at, self._zone)
                    return str(view.no_show)
        if (
            role == int(Qt.ItemDataRole.TextAlignmentRole)
            and index.isValid()
            and index.column() == ClassBoardModel.STATUS
        ):
            return _NUMBER_ALIGNMENT  # a count now, not a badge: aligned with the others
        return super().data(index, role)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        """Name the repurposed columns."""
        if (
            orientation is Qt.Orientation.Horizontal
            and role == int(Qt.ItemDataRole.DisplayRole)
            and section == ClassBoardModel.STATUS
        ):
            return "No-shows"
        if (
            orientation is Qt.Orientation.Horizontal
            and role == int(Qt.ItemDataRole.DisplayRole)
            and section == ClassBoardModel.TIME
        ):
            return "When"
        if (
            orientation is Qt.Orientation.Horizontal
            and role == int(Qt.ItemDataRole.TextAlignmentRole)
            and section == ClassBoardModel.STATUS
        ):
            return _NUMBER_ALIGNMENT
        return super().headerData(section, orientation, role)


class FigureCard(QFrame):
    """A labelled figure: ``Fill rate`` over ``83%``."""

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("figureCard")
        self.setStyleSheet(
            "QFrame#figureCard { background: #ffffff; border: 1px solid #e6ebf1;"
            " border-radius: 8px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(2)
        self.caption = QLabel(label)
        self.caption.setObjectName("muted")
        self.value = QLabel("—")
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setWeight(QFont.Weight.Bold)
        self.value.setFont(font)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)

    def set_value(self, text: str) -> None:
        """Show a new figure."""
        self.value.setText(text)


class InstructorPage(QWidget):
    """Choose yourself once; see your classes, your totals and your fill over time."""

    alert_scope_changed = Signal(object)  # AlertScope: the chosen instructor's classes

    def __init__(
        self,
        bridge: StateBridge,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.zone = bridge.state.settings.zone
        self._clock = clock or (lambda: datetime.now(self.zone))
        self.instructors = InstructorModel(bridge, self)
        self.board = ClassBoardModel(bridge, self)
        self.filter = ClassFilterProxy(self.board, self)
        self.proxy = MyClassesProxy(self.zone, self)
        self.proxy.setSourceModel(self.filter)
        self.instructor_id: str | None = None
        self._range_today: date | None = None

        self.who = QComboBox()
        self.who.setMinimumWidth(240)
        self.who.setModel(self.instructors)
        self.who.setModelColumn(InstructorModel.NAME)
        self.who.setPlaceholderText("Choose yourself…")
        self.who.setCurrentIndex(-1)
        self.who.currentIndexChanged.connect(self._on_who_current_index_changed)
        who_label = QLabel("I am")
        title = QLabel("My classes")
        title_font = QFont(title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.5)
        title_font.setWeight(QFont.Weight.DemiBold)
        title.setFont(title_font)
        self.range_label = QLabel()
        self.range_label.setObjectName("muted")
        self.cards = {
            "classes": FigureCard("Classes"),
            "fill": FigureCard("Fill rate"),
            "check_in": FigureCard("Check-in rate"),
            "no_show": FigureCard("No-show rate"),
        }
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(self.range_label, 0, Qt.AlignmentFlag.AlignBottom)
        top.addStretch(1)
        top.addWidget(who_label)
        top.addWidget(self.who)
        cards = QHBoxLayout()
        cards.setSpacing(12)
        for card in self.cards.values():
            cards.addWidget(card)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(44)
        self.table.setWordWrap(False)
        for column in _HIDDEN_COLUMNS:
            self.table.hideColumn(column)
        self.row_delegate = BoardDelegate(parent=self)
        self.fill_delegate = FillBarDelegate(
            FillRole, busy_threshold=bridge.state.settings.busy_threshold, parent=self
        )
        self.table.setItemDelegate(self.row_delegate)
        self.table.setItemDelegateForColumn(ClassBoardModel.BOOKED, self.fill_delegate)
        # Widths from the font, spare room to the text columns; a person may drag them.
        self.columns = ColumnFitter(
            self.table,
            {
                ClassBoardModel.TIME: Column("Wed 25 Nov 19:00"),
                ClassBoardModel.CLASS: Column("Spin Express", grow=3),
                ClassBoardModel.ROOM: Column("Reformer Studio", grow=2),
                ClassBoardModel.BOOKED: Column("00 / 00", grow=1, extra=56),
                ClassBoardModel.WAITLIST: Column("00"),
                ClassBoardModel.CHECKED_IN: Column("00"),
                ClassBoardModel.STATUS: Column("00"),
            },
        )

        self.plot, self.axis = make_plot(LIGHT)
        self.plot.setLabel("left", "Fill", units="%")
        self.plot.setYRange(0, 115, padding=0)  # room above 100% for the "now" label
        self.plot.getAxis("left").setTicks([[(v, str(v)) for v in range(0, 101, 20)]])
        self.fill_curve: pg.PlotDataItem = self.plot.plot(
            pen=pg.mkPen(QColor(LIGHT.accent), width=2),
            symbol="o",
            symbolSize=7,
            symbolBrush=QColor(LIGHT.accent),
            symbolPen=None,
            name="Fill",
        )
        self.plot.getPlotItem().addLine(
            y=bridge.state.settings.busy_threshold * 100,
            pen=pg.mkPen(QColor(LIGHT.warn), width=1, style=Qt.PenStyle.DashLine),
        )
        # Where "now" is: classes to its right are still filling up, not emptier.
        self.now_line = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=pg.mkPen(QColor(LIGHT.muted), width=1, style=Qt.PenStyle.DotLine),
            label="now",
            labelOpts={"position": 0.99, "color": QColor(LIGHT.muted), "anchors": [(0, 0), (0, 0)]},
        )
        self.plot.addItem(self.now_line, ignoreBounds=True)
        chart_pane = QWidget()
        chart_layout = QVBoxLayout(chart_pane)
        chart_layout.setContentsMargins(0, 8, 0, 0)
        chart_title = QLabel("Fill per class over time")
        chart_title.setObjectName("muted")
        chart_layout.addWidget(chart_title)
        chart_layout.addWidget(self.plot, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(chart_pane)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([520, 300])
        self.hint = QLabel("Choose yourself above to see your classes.")
        self.hint.setObjectName("muted")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addLayout(cards)
        layout.addWidget(self.hint)
        layout.addWidget(self.splitter, 1)

        self._chart_throttle = Throttle(self._update_chart, CHART_INTERVAL_MS, self)
        bridge.changes_applied.connect(self._on_bridge_changes_applied)
        self.instructors.rowsInserted.connect(self._on_instructors_rows_inserted)
        # Bring the next class to the top once the rows are in, until someone scrolls.
        self._scrolled = False
        self._follow_timer = QTimer(self)
        self._follow_timer.setSingleShot(True)
        self._follow_timer.setInterval(0)
        self._follow_timer.timeout.connect(self._scroll_to_upcoming)
        self.table.verticalScrollBar().actionTriggered.connect(self._on_table_scrolled_by_hand)
        self.proxy.rowsInserted.connect(self._on_proxy_rows_inserted)
        # Past midnight (or once the demo's gym clock catches up) the two weeks move on.
        self._day_timer = QTimer(self)
        self._day_timer.setInterval(DAY_CHECK_INTERVAL_MS)
        self._day_timer.timeout.connect(self._on_day_timer_timeout)
        self._day_timer.start()
        self._set_range()
        self.set_instructor(None)

    # ------------------------------------------------------------------ choosing

    def _set_range(self) -> None:
        """Show this week and next: Monday to the Sunday after next."""
        today = self._clock().astimezone(self.zone).date()
        self._range_today = today
        monday = today - timedelta(days=today.weekday())
        sunday = monday + timedelta(days=13)
        self.filter.set_date_range(monday, sunday)
        self.range_label.setText(f"this week and next ({_short(monday)} to {_short(sunday)})")

    def _on_day_timer_timeout(self) -> None:
        """Move the chart's "now"; on a new day show its two weeks and the next class."""
        self.now_line.setPos(self._clock().timestamp())
        if self._clock().astimezone(self.zone).date() != self._range_today:
            self._set_range()
            self._scrolled = False
            self._follow_timer.start()
        elif not self.table.selectionModel().hasSelection():
            # A class ended: the next one moves up (until someone scrolls or picks a row).
            self._scroll_to_upcoming()

    def set_instructor(self, instructor_id: str | None) -> None:
        """Show one instructor's classes and totals."""
        self.instructor_id = instructor_id
        # No instructor yet: show nobody's classes rather than everyone's.
        self.filter.set_instructor(instructor_id or "\0none")
        row = self._row_of(instructor_id)
        if row != self.who.currentIndex():
            self.who.blockSignals(True)
            self.who.setCurrentIndex(row)
            self.who.blockSignals(False)
        chosen = instructor_id is not None
        self._scrolled = False
        self._follow_timer.start()
        self.hint.setVisible(not chosen)
        self._update_totals()
        self._update_chart()
        self.alert_scope_changed.emit(self.alert_scope())

    def alert_scope(self) -> AlertScope:
        """Return the classes to alert about: the chosen instructor's own (none before)."""
        if self.instructor_id is None:
            return NO_CLASS
        return AlertScope(instructor_id=self.instructor_id)

    def _row_of(self, instructor_id: str | None) -> int:
        """Return the combo row of an instructor, -1 when not (yet) known."""
        if instructor_id is None:
            return -1
        for row in range(self.instructors.rowCount()):
            view = self.instructors.index(row, 0).data(ViewRole)
            if isinstance(view, InstructorView) and view.id == instructor_id:
                return row
        return -1

    def _on_who_current_index_changed(self, row: int) -> None:
        """Someone chose themselves."""
        view = self.instructors.index(row, 0).data(ViewRole) if row >= 0 else None
        self.set_instructor(view.id if isinstance(view, InstructorView) else None)

    def _on_instructors_rows_inserted(self, *args: object) -> None:
        """The remembered instructor arrived (from the snapshot or the topics)."""
        row = self._row_of(self.instructor_id)
        if row >= 0 and row != self.who.currentIndex():
            self.who.blockSignals(True)
            self.who.setCurrentIndex(row)
            self.who.blockSignals(False)
            self._update_totals()

    # ------------------------------------------------------------------ figures

    def _update_totals(self) -> None:
        """Show the instructor's totals."""
        view = self.bridge.state.instructor_view(self.instructor_id) if self.instructor_id else None
        if view is None:
            for card in self.cards.values():
                card.set_value("—")
            return
        self.cards["classes"].set_value(f"{view.classes:,}")
        self.cards["fill"].set_value(format_percent(view.fill_rate))
        self.cards["check_in"].set_value(format_percent(view.check_in_rate))
        self.cards["no_show"].set_value(format_percent(view.no_show_rate))

    def totals(self) -> dict[str, str]:
        """Return the shown totals by name."""
        return {name: card.value.text() for name, card in self.cards.items()}

    def _update_chart(self) -> None:
        """Feed the one curve the fill of each of the instructor's classes by start time."""
        if self.instructor_id is None:
            self.fill_curve.setData(np.array([], dtype=float), np.array([], dtype=float))
            self._show_fortnight()
            return
        views = sorted(
            (v for v in self.bridge.state.class_views() if v.instructor_id == self.instructor_id),
            key=lambda v: v.starts_at,
        )
        xs = np.fromiter((v.starts_at.timestamp() for v in views), dtype=float, count=len(views))
        ys = np.fromiter((v.fill * 100 for v in views), dtype=float, count=len(views))
        self.fill_curve.setData(xs, ys)
        self.now_line.setPos(self._clock().timestamp())
        if xs.size:
            self.plot.setXRange(float(xs.min()), float(xs.max()), padding=0.03)
        else:
            self._show_fortnight()

    def _show_fortnight(self) -> None:
        """Show the table's two weeks on the time axis (with no class, it would read 00.100)."""
        today = self._clock().astimezone(self.zone).date()
        monday = today - timedelta(days=today.weekday())
        start = datetime.combine(monday, time.min, tzinfo=self.zone)
        self.plot.setXRange(
            start.timestamp(), (start + timedelta(days=14)).timestamp(), padding=0.0
        )

    def _scroll_to_upcoming(self) -> None:
        """Show the next class (or the running one) at the top, the week's past above it."""
        if self._scrolled or not self.table.isVisible():
            return
        now = self._clock()
        for row in range(self.proxy.rowCount()):
            view = self.proxy.index(row, 0).data(ClassViewRole)
            if isinstance(view, ClassView) and view.ends_at > now:
                self.table.scrollTo(
                    self.proxy.index(row, ClassBoardModel.TIME),
                    QAbstractItemView.ScrollHint.PositionAtTop,
                )
                return

    def _on_table_scrolled_by_hand(self, action: int) -> None:
        """Someone scrolled: leave the list where they put it."""
        self._scrolled = True

    def _on_proxy_rows_inserted(self, *args: object) -> None:
        """Classes arrived (catch-up): keep the next one in view."""
        if not self._scrolled:
            self._follow_timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        """Once on screen, bring the next class into view."""
        super().showEvent(event)
        self._follow_timer.start()

    def _on_bridge_changes_applied(self, changes: Changes) -> None:
        """Totals now, the chart at most once a second."""
        if changes.touched(View.INSTRUCTORS):
            self._update_totals()
        if changes.touched(View.CLASSES):
            self._chart_throttle()

    # ------------------------------------------------------------------ state

    def save_state(self, settings: QSettings) -> None:
        """Remember who this is, the splitter and the columns."""
        settings.beginGroup(SETTINGS_GROUP)
        settings.setValue("id", self.instructor_id or "")
        settings.setValue("splitter", self.splitter.saveState())
        self.columns.save(settings, "columns")
        settings.endGroup()

    def restore_state(self, settings: QSettings) -> None:
        """Read back who this is, the splitter and the columns."""
        settings.beginGroup(SETTINGS_GROUP)
        instructor_id = settings.value("id")
        splitter = settings.value("splitter")
        self.columns.restore(settings, "columns")
        settings.endGroup()
        # A saved header state carries hidden flags of its own: this view hides these.
        for column in _HIDDEN_COLUMNS:
            self.table.hideColumn(column)
        self.columns.fit()
        if isinstance(splitter, QByteArray | bytes):
            self.splitter.restoreState(QByteArray(splitter))
        if isinstance(instructor_id, str) and instructor_id:
            self.set_instructor(instructor_id)


def _short(day: date) -> str:
    """Return ``10 May``."""
    return f"{day.day} {day:%b}"
