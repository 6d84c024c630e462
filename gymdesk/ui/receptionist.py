"""The receptionist board: today's classes at the desk's location, a roster, busy warnings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QResizeEvent,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gymdesk.domain.alerts import AlertScope, alert_line, in_window, upcoming_busy
from gymdesk.domain.views import ClassView
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.format import format_day, format_time
from gymdesk.qtmodels.mirror import PaintMirror
from gymdesk.qtmodels.models import (
    ClassBoardModel,
    ClassFilterProxy,
    FillRole,
    KeyedTableModel,
    KeyRole,
    OrderRole,
    RosterModel,
    SortRole,
)
from gymdesk.ui.columns import Column, ColumnFitter
from gymdesk.ui.delegates import (
    NEXT,
    NOW,
    BadgeDelegate,
    BoardDelegate,
    FillBarDelegate,
    TimeDelegate,
    TooltipDelegate,
    emphasised_font,
    row_tints,
)
from gymdesk.ui.theme import LIGHT

MARK_INTERVAL_MS: Final = 30_000
ROSTER_INTERVAL_MS: Final = 200
"""The roster follows at most five times a second: the first change at once, then one
trailing update (the board keeps the bridge's pace; measured in live_latency.py)."""
SETTINGS_GROUP: Final = "receptionist"
# Space between the board and the roster (the roster pane's left margin), px.
ROSTER_GAP: Final = 12
# The board's share of the width (%) when the board and the roster both fit.
BOARD_SHARE: Final = 64


def model_row(
    proxy: QAbstractItemModel,
    model: KeyedTableModel[Any],
    index: QModelIndex | QPersistentModelIndex,
) -> int | None:
    """Return the keyed model's row behind a row of a proxy over its ``PaintMirror``.

    By the row's key: while a row goes, the mirror and the model drop it one after the
    other, and their row numbers differ for that moment.
    """
    key = proxy.index(index.row(), 0).data(KeyRole) if index.isValid() else None
    return model.row_of(key) if isinstance(key, str) else None


def tooltip_of(model: KeyedTableModel[Any], row: int | None) -> str | None:
    """Return the tooltip of a model row (a mirror copies none: the model answers)."""
    tip = None if row is None else model.cell(row, 0, Qt.ItemDataRole.ToolTipRole)
    return tip if isinstance(tip, str) else None


class RosterOrderProxy(QSortFilterProxyModel):
    """The roster as the desk reads it: who is coming first, cancellations last, by name.

    The order is the model's precomputed ``OrderRole`` string, compared in C++: a Python
    ``lessThan`` here cost 43% of a flush while a catch-up filled a class's roster.
    """

    def __init__(self, source: QAbstractItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setSortRole(OrderRole)
        self.setDynamicSortFilter(True)
        self.sort(RosterModel.MEMBER, Qt.SortOrder.AscendingOrder)


class ReceptionistBoard(QWidget):
    """The front desk's screen: the day's classes in start order and the selected roster."""

    alert_scope_changed = Signal(object)  # AlertScope: the desk's location, when one is set

    def __init__(
        self,
        bridge: StateBridge,
        *,
        location: str | None = None,
        alert_window_h: float = 3.0,
        clock: Callable[[], datetime] | None = None,
        roster_interval_ms: int = ROSTER_INTERVAL_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.zone = bridge.state.settings.zone
        self._clock = clock or (lambda: datetime.now(self.zone))
        self.alert_window = timedelta(hours=alert_window_h)
        self.board = ClassBoardModel(bridge, self)
        # The board is painted from a C++ copy of its cells (qtmodels/mirror.py says why):
        # what the delegates would otherwise work out per cell and paint is in it too.
        key_font = emphasised_font(self.font())
        self.mirror = PaintMirror(
            self.board,
            roles=(
                Qt.ItemDataRole.DisplayRole,
                Qt.ItemDataRole.TextAlignmentRole,
                SortRole,
                FillRole,
            ),
            column_roles={
                ClassBoardModel.TIME: {Qt.ItemDataRole.FontRole: key_font},
                ClassBoardModel.CLASS: {Qt.ItemDataRole.FontRole: key_font},
            },
            parent=self,
        )
        self.proxy = ClassFilterProxy(self.mirror, self)
        self._tints = row_tints(LIGHT)
        self._marks: dict[str, str] = {}
        self._mark_times: dict[str, tuple[datetime, datetime]] = {}  # as the marks saw them
        self._known_locations: set[str] = set()
        # Cancelled bookings stay listed, greyed: still booked once, but not coming.
        self.roster = RosterModel(
            bridge,
            parent=self,
            cancelled_colour=QColor(LIGHT.muted),
            interval_ms=roster_interval_ms,
        )
        self.day = self._today()
        self._known_today = self.day  # the day "today" meant when last looked at

        # --- toolbar: days, location, search
        self.yesterday_button = QPushButton("Yesterday")
        self.today_button = QPushButton("Today")
        self.tomorrow_button = QPushButton("Tomorrow")
        self.day_buttons = QButtonGroup(self)
        for offset, button in zip(
            (-1, 0, 1),
            (self.yesterday_button, self.today_button, self.tomorrow_button),
            strict=True,
        ):
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            self.day_buttons.addButton(button, offset)
        self.day_buttons.idClicked.connect(self._on_day_buttons_id_clicked)
        self.day_label = QLabel()
        day_font = QFont(self.day_label.font())
        day_font.setPointSizeF(day_font.pointSizeF() * 1.5)
        day_font.setWeight(QFont.Weight.DemiBold)
        self.day_label.setFont(day_font)
        self.location_combo = QComboBox()
        self.location_combo.setMinimumWidth(180)
        self.location_combo.addItem("All locations", None)
        self._wanted_location = location
        self.location_combo.currentIndexChanged.connect(self._on_location_combo_index_changed)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a class or a member  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(280)
        self.search.textChanged.connect(self._on_search_text_changed)

        toolbar = QHBoxLayout()
        toolbar.setSpacing(8)
        toolbar.addWidget(self.day_label)
        toolbar.addSpacing(16)
        toolbar.addWidget(self.yesterday_button)
        toolbar.addWidget(self.today_button)
        toolbar.addWidget(self.tomorrow_button)
        toolbar.addStretch(1)
        toolbar.addWidget(self.location_combo)
        toolbar.addWidget(self.search)

        # --- busy banner
        self.busy_banner = QFrame()
        self.busy_banner.setObjectName("busyBanner")
        busy_layout = QHBoxLayout(self.busy_banner)
        busy_layout.setContentsMargins(14, 8, 14, 8)
        self.busy_label = QLabel()
        self.busy_label.setWordWrap(True)
        busy_font = QFont(self.busy_label.font())
        busy_font.setWeight(QFont.Weight.DemiBold)
        self.busy_label.setFont(busy_font)
        busy_layout.addWidget(self.busy_label)
        # The strip stays in place, calm when no class is busy: a banner that came and
        # went moved the whole board under a receptionist's pointer several times a day.
        self._set_banner_busy(False)

        # --- the board
        self.table = QTableView()
        self.table.setObjectName("board")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(False)
        self.table.setShowGrid(False)
        self.table.setSortingEnabled(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(46)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        threshold = bridge.state.settings.busy_threshold
        # Only the time (its NOW/NEXT badge), the fill bar and the status badges are
        # painted in Python; every other cell is the plain delegate's, all in C++.
        tooltip = self._tooltip_of
        self.row_delegate = BoardDelegate(tooltip, parent=self)
        self.time_delegate = TimeDelegate(tooltip, parent=self)
        self.fill_delegate = FillBarDelegate(
            FillRole, tooltip, busy_threshold=threshold, parent=self
        )
        self.badge_delegate = BadgeDelegate(tooltip, parent=self)
        self.table.setItemDelegate(self.row_delegate)
        self.table.setItemDelegateForColumn(ClassBoardModel.TIME, self.time_delegate)
        self.table.setItemDelegateForColumn(ClassBoardModel.BOOKED, self.fill_delegate)
        self.table.setItemDelegateForColumn(ClassBoardModel.STATUS, self.badge_delegate)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        # Widths from the font, spare room to the text columns; a person may drag them.
        self.columns = ColumnFitter(
            self.table,
            {
                # The time, then the NOW/NEXT badge painted at the cell's right.
                ClassBoardModel.TIME: Column("00:00", bold=True, scale=1.18, extra=62),
                # On a narrow screen the room elides first, the class's title last.
                ClassBoardModel.CLASS: Column(
                    "Spin Express", grow=3, bold=True, scale=1.18, shrink=1
                ),
                ClassBoardModel.ROOM: Column("Reformer Studio", grow=2, shrink=4),
                ClassBoardModel.INSTRUCTOR: Column("Sophie Laurent", grow=2, shrink=3),
                # The count above a fill bar of a readable length.
                ClassBoardModel.BOOKED: Column("00 / 00", grow=1, extra=56),
                ClassBoardModel.WAITLIST: Column("00"),
                ClassBoardModel.CHECKED_IN: Column("00"),
                ClassBoardModel.STATUS: Column("", extra=64),  # a BUSY or FULL badge
            },
        )
        self.empty_label = QLabel()
        self.empty_label.setObjectName("muted")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        # --- the roster
        self.roster_title = QLabel("Select a class to see who is coming")
        title_font = QFont(self.roster_title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.25)
        title_font.setWeight(QFont.Weight.DemiBold)
        self.roster_title.setFont(title_font)
        self.roster_title.setWordWrap(True)
        self.roster_detail = QLabel()
        self.roster_detail.setObjectName("muted")
        self.roster_detail.setWordWrap(True)
        self.roster_table = QTableView()
        self.roster_table.setObjectName("roster")
        # Painted from a C++ copy too, like the board; tooltips from the model.
        self.roster_mirror = PaintMirror(
            self.roster,
            roles=(
                Qt.ItemDataRole.DisplayRole,
                Qt.ItemDataRole.ForegroundRole,
                OrderRole,
            ),
            parent=self,
        )
        self.roster_order = RosterOrderProxy(self.roster_mirror, self)
        self.roster_table.setModel(self.roster_order)
        self.roster_table.setItemDelegate(TooltipDelegate(self._roster_tooltip_of, parent=self))
        self.roster_table.setShowGrid(False)
        self.roster_table.setAlternatingRowColors(True)
        self.roster_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.roster_table.verticalHeader().hide()
        self.roster_table.verticalHeader().setDefaultSectionSize(34)
        self.roster_table.setSortingEnabled(False)
        self.roster_columns = ColumnFitter(
            self.roster_table,
            {
                RosterModel.MEMBER: Column("Deniz Köhler", grow=3),
                RosterModel.STATUS: Column("Checked in"),
                RosterModel.CHANNEL: Column("phone"),
                RosterModel.UPDATED: Column("Wed 25 Nov"),  # or "Wed 12:03", "12:03"
            },
        )

        board_pane = QWidget()
        board_layout = QVBoxLayout(board_pane)
        board_layout.setContentsMargins(0, 0, 0, 0)
        board_layout.addWidget(self.table, 1)
        board_layout.addWidget(self.empty_label)
        roster_pane = QWidget()
        roster_layout = QVBoxLayout(roster_pane)
        roster_layout.setContentsMargins(ROSTER_GAP, 0, 0, 0)
        roster_layout.setSpacing(6)
        roster_layout.addWidget(self.roster_title)
        roster_layout.addWidget(self.roster_detail)
        roster_layout.addWidget(self.roster_table, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(board_pane)
        self.splitter.addWidget(roster_pane)
        # The roster needs room for a name, a status, a channel and a day with its time.
        self.splitter.setStretchFactor(0, BOARD_SHARE)
        self.splitter.setStretchFactor(1, 100 - BOARD_SHARE)
        self.splitter.setSizes([980, 550])
        self.splitter.setChildrenCollapsible(False)
        # Until a person drags it, the split follows the window so that neither table
        # scrolls sideways while both can fit (a 1280 or 1366 px wide front-desk screen).
        self.splitter_custom = False
        self.splitter.splitterMoved.connect(self._on_splitter_moved)
        # Fitted once the splitter has its new width (it gets it after this widget).
        self._split_timer = QTimer(self)
        self._split_timer.setSingleShot(True)
        self._split_timer.setInterval(0)
        self._split_timer.timeout.connect(self.fit_splitter)
        self._roster_pane = roster_pane

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(toolbar)
        layout.addWidget(self.busy_banner)
        layout.addWidget(self.splitter, 1)

        # --- keyboard
        self._shortcuts = []
        for keys, slot in (
            ("Ctrl+F", self._on_find_shortcut_activated),
            ("Alt+Left", self._on_previous_day_shortcut_activated),
            ("PgUp", self._on_previous_day_shortcut_activated),
            ("Alt+Right", self._on_next_day_shortcut_activated),
            ("PgDown", self._on_next_day_shortcut_activated),
            ("Alt+Home", self._on_today_shortcut_activated),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)
        self.search.returnPressed.connect(self._on_search_return_pressed)

        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.proxy.rowsInserted.connect(self._on_proxy_rows_changed)
        self.proxy.rowsRemoved.connect(self._on_proxy_rows_changed)
        self.proxy.modelReset.connect(self._on_proxy_rows_changed)
        self.proxy.layoutChanged.connect(self._on_proxy_rows_changed)
        self.board.refreshed.connect(self._on_board_refreshed)
        self._mark_timer = QTimer(self)
        self._mark_timer.setInterval(MARK_INTERVAL_MS)
        self._mark_timer.timeout.connect(self._on_mark_timer_timeout)
        self._mark_timer.start()

        self._scrolled = False
        self._busy_lines: list[str] = []
        self._banner_views: dict[str, ClassView] = {}  # the classes on the banner
        self._auto_selected = False
        self._selecting = False
        self._follow_timer = QTimer(self)
        self._follow_timer.setSingleShot(True)
        self._follow_timer.setInterval(0)
        self._follow_timer.timeout.connect(self._scroll_to_now)
        self.table.verticalScrollBar().actionTriggered.connect(self._on_table_scrolled_by_hand)
        self._refresh_locations()
        self.set_day(self.day)

    # ------------------------------------------------------------------ days

    def _today(self) -> date:
        """Return today in the gym's zone."""
        return self._clock().astimezone(self.zone).date()

    def set_day(self, day: date) -> None:
        """Show the classes of ``day``."""
        self.day = day
        self._scrolled = False
        self.proxy.set_day(day)
        offset = (day - self._today()).days
        button: QAbstractButton | None = self.day_buttons.button(offset)
        if button is not None:
            button.setChecked(True)
        else:
            self.day_buttons.setExclusive(False)
            for b in self.day_buttons.buttons():
                b.setChecked(False)
            self.day_buttons.setExclusive(True)
        prefix = {0: "Today", -1: "Yesterday", 1: "Tomorrow"}.get(offset)
        self.day_label.setText(f"{prefix} · {format_day(day)}" if prefix else format_day(day))
        self._update_marks(follow=True)
        self._update_empty()

    def _on_day_buttons_id_clicked(self, offset: int) -> None:
        """Yesterday, today or tomorrow was clicked."""
        self.set_day(self._today() + timedelta(days=offset))

    def _on_previous_day_shortcut_activated(self) -> None:
        """Go back a day."""
        self.set_day(self.day - timedelta(days=1))

    def _on_next_day_shortcut_activated(self) -> None:
        """Go forward a day."""
        self.set_day(self.day + timedelta(days=1))

    def _on_today_shortcut_activated(self) -> None:
        """Back to today."""
        self.set_day(self._today())

    # ------------------------------------------------------------------ location, search

    def set_location(self, location: str | None) -> None:
        """Show one location's classes (None: all)."""
        self._wanted_location = location
        index = self.location_combo.findData(location) if location else 0
        if index < 0:
            # Not known yet (the snapshot or catch-up will bring it): filter anyway.
            self.location_combo.addItem(location or "", location)
            index = self.location_combo.count() - 1
        self.location_combo.setCurrentIndex(index)
        self.proxy.set_location(location)
        self.alert_scope_changed.emit(self.alert_scope())

    def location(self) -> str | None:
        """Return the location shown, None for all."""
        return self.proxy.location()

    def alert_scope(self) -> AlertScope:
        """Return the classes this desk alerts about: its location's, or every class."""
        return AlertScope(location=self.location())

    def _refresh_locations(self) -> None:
        """Offer every location the board knows, keeping the choice."""
        known = self.board.locations()
        self._known_locations = set(known)
        present = [self.location_combo.itemData(i) for i in range(1, self.location_combo.count())]
        if present == known or (self._wanted_location and set(known) < set(present)):
            return
        self.location_combo.blockSignals(True)
        self.location_combo.clear()
        self.location_combo.addItem("All locations", None)
        for name in known:
            self.location_combo.addItem(name, name)
        wanted = self._wanted_location
        if wanted and wanted not in known:
            self.location_combo.addItem(wanted, wanted)
        index = self.location_combo.findData(wanted) if wanted else 0
        self.location_combo.setCurrentIndex(max(0, index))
        self.location_combo.blockSignals(False)

    def _on_location_combo_index_changed(self, index: int) -> None:
        """A location was picked."""
        data = self.location_combo.itemData(index)
        location = data if isinstance(data, str) else None
        self._wanted_location = location
        self.proxy.set_location(location)
        self._update_banner()
        self._update_marks()
        self.alert_scope_changed.emit(self.alert_scope())

    def _on_search_text_changed(self, text: str) -> None:
        """Filter the board by class, room, instructor or member."""
        self.proxy.set_search(text)
        self._update_empty()

    def _on_find_shortcut_activated(self) -> None:
        """Ctrl+F: to the search box."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _on_search_return_pressed(self) -> None:
        """Enter in the search box selects the first match and moves to the board."""
        if self.proxy.rowCount() > 0:
            self.table.selectRow(0)
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    # ------------------------------------------------------------------ selection, roster

    def selected_class(self) -> ClassView | None:
        """Return the selected class, if any."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.class_at(rows[0])

    def _board_row(self, index: QModelIndex | QPersistentModelIndex) -> int | None:
        """Return the board model's row of a board row (an index of the board's proxy)."""
        return model_row(self.proxy, self.board, index)

    def class_at(self, index: QModelIndex | QPersistentModelIndex) -> ClassView | None:
        """Return the class of a board row (an index of the board's proxy)."""
        row = self._board_row(index)
        return None if row is None else self.board.class_view_at(row)

    def _roster_tooltip_of(self, index: QModelIndex | QPersistentModelIndex) -> str | None:
        """Return a roster row's tooltip: the member, the booking and its last change."""
        return tooltip_of(self.roster, model_row(self.roster_order, self.roster, index))

    def _tooltip_of(self, index: QModelIndex | QPersistentModelIndex) -> str | None:
        """Return a board row's tooltip: every detail of its class."""
        return tooltip_of(self.board, self._board_row(index))

    def select_class(self, class_id: str) -> bool:
        """Select a class on the board; return whether it is shown."""
        row = self.board.row_of(class_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.mirror.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    def _on_table_selection_changed(
        self, selected: QItemSelection, deselected: QItemSelection
    ) -> None:
        """Show the roster of the selected class; a person's choice stops the following."""
        view = self.selected_class()
        if (view.id if view else None) == self.roster.class_id:
            return  # the same class, only moved (rows came or went above it)
        if not self._selecting:
            self._auto_selected = False
            if view is not None:
                self._scrolled = True
        self.roster.set_class(view.id if view else None)
        self._update_roster_title()

    def _update_roster_title(self) -> None:
        """Say which class the roster is of, with its counts."""
        class_id = self.roster.class_id
        row = self.board.row_of(class_id) if class_id else None
        view = None if row is None else self.board.class_view_at(row)
        if view is None:
            self.roster_title.setText("Select a class to see who is coming")
            self.roster_detail.setText("")
            return
        self.roster_title.setText(f"{format_time(view.starts_at, self.zone)}  {view.title}")
        parts = [
            f"{view.room}, {view.location}",
            view.instructor_name or view.instructor_id,
            f"{view.booked}/{view.capacity} booked",
        ]
        if view.waitlisted:
            parts.append(f"{view.waitlisted} waitlisted")
        parts.append(f"{view.checked_in} checked in")
        self.roster_detail.setText(" · ".join(parts))

    # ------------------------------------------------------------------ marks, banner

    def _update_marks(self, follow: bool = False) -> None:
        """Mark the running class(es) and the next one to start, today only.

        It runs whenever the board's rows come, go or move, so the delegates can look a
        mark up by view row as they paint. The board scrolls to the marks again when they
        moved or ``follow`` says rows came or went (each scroll repaints a cell: not on
        every flush).
        """
        now = self._clock()
        marks: dict[str, str] = {}
        row_marks: dict[int, str] = {}
        times: dict[str, tuple[datetime, datetime]] = {}
        if self.day == now.astimezone(self.zone).date():
            next_start: datetime | None = None
            upcoming: list[tuple[int, str]] = []
            proxy = self.proxy
            for row in range(proxy.rowCount()):
                # The board's cached line, without a model call per row.
                view = self.class_at(proxy.index(row, 0))
                if view is None:
                    continue  # going: its row is about to leave the proxy too
                times[view.id] = (view.starts_at, view.ends_at)
                if view.starts_at <= now < view.ends_at:
                    marks[view.id] = row_marks[row] = NOW
                elif view.starts_at > now:
                    if next_start is None or view.starts_at < next_start:
                        next_start, upcoming = view.starts_at, [(row, view.id)]
                    elif view.starts_at == next_start:
                        upcoming.append((row, view.id))
            for row, class_id in upcoming:
                marks[class_id] = row_marks[row] = NEXT
        self._mark_times = times
        changed = marks != self._marks or row_marks != self.time_delegate.row_marks
        if changed:
            # The tint is a background laid over the marked rows' cells in the mirror
            # (repainted through its signals); the badge is the time delegate's.
            for class_id in self._marks.keys() - marks.keys():
                self.mirror.set_row_roles(class_id, {})
            for class_id, mark in marks.items():
                self.mirror.set_row_roles(
                    class_id, {Qt.ItemDataRole.BackgroundRole: self._tints[mark]}
                )
            self._marks = marks
            self.time_delegate.row_marks = row_marks
            self.table.viewport().update()
        if not self._scrolled and marks and (changed or follow):
            self._follow_timer.start()

    def _scroll_to_now(self) -> None:
        """Keep the running (or next) class near the top until someone scrolls or picks one.

        Rows keep arriving during catch-up and time moves the marks along, so this runs
        again after each; a person's own scroll or click ends it for the day shown.
        """
        marked = self.time_delegate.row_marks
        if self._scrolled or not self.table.isVisible():
            return
        for row in sorted(marked):
            index = self.proxy.index(row, 0)
            if index.isValid():
                self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
                selection = self.table.selectionModel()
                if not selection.hasSelection() or self._auto_selected:
                    self._auto_selected = True
                    self._selecting = True
                    try:
                        self.table.selectRow(row)  # its roster shows at once
                    finally:
                        self._selecting = False
                return

    def _on_table_scrolled_by_hand(self, action: int) -> None:
        """Someone scrolled the board: stop bringing the running class back into view."""
        self._scrolled = True

    def showEvent(self, event: QShowEvent) -> None:
        """Once on screen, bring the running class into view."""
        super().showEvent(event)
        self._follow_timer.start()

    def marks(self) -> dict[str, str]:
        """Return the now/next marks (class id -> "now" or "next")."""
        return dict(self._marks)

    def _update_banner(self, touched: dict[str, ClassView | None] | None = None) -> None:
        """Warn about busy classes starting within the alert window at this location.

        It reads the board model's lines, refreshed just before (the model follows the
        bridge first): no class line is rebuilt from the state here, and the banner's text
        is only laid out again when its lines changed. Given the ``touched`` classes'
        lines (live), only those are looked at; the others are as they were.
        """
        now = self._clock()
        location = self.location()
        if touched is None:
            views: Iterable[ClassView] = (
                v for v in self.board.items() if location is None or v.location == location
            )
        else:
            shown = dict(self._banner_views)
            for key, view in touched.items():
                shown.pop(key, None)
                if view is not None and (location is None or view.location == location):
                    shown[key] = view
            views = shown.values()
        busy = upcoming_busy(views, now, self.alert_window)
        self._banner_views = {v.id: v for v in busy}
        lines = [alert_line(v, self.zone) for v in busy]
        if not lines:
            if self._busy_lines or self.banner_busy:
                self._busy_lines = []
                self._set_banner_busy(False)
            return
        if lines != self._busy_lines or not self.banner_busy:
            self._busy_lines = lines
            self._set_banner_busy(True)
            self._render_banner()

    @property
    def banner_busy(self) -> bool:
        """Return whether the banner warns of a busy class (else it is calm)."""
        return bool(self.busy_banner.property("busy"))

    def _set_banner_busy(self, busy: bool) -> None:
        """Switch the banner between its warning and its calm line (same place, same size)."""
        if self.busy_banner.property("busy") != busy:
            self.busy_banner.setProperty("busy", busy)
            for widget in (self.busy_banner, self.busy_label):
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        if not busy:
            hours = self.alert_window.total_seconds() / 3600
            self.busy_label.setText(f"No busy class in the next {hours:g} h")
            self.busy_label.setToolTip("")

    def _render_banner(self) -> None:
        """Put as many busy classes on the banner's one line as fit, then "+N more".

        One calm line reads at a glance; a wrapped paragraph pushes the board down. Every
        class is in the tooltip.
        """
        lines = self._busy_lines
        if not lines:
            return
        title = "Expect a busy class" if len(lines) == 1 else "Expect busy classes"
        metrics = QFontMetrics(self.busy_label.font())
        margins = self.busy_banner.contentsMargins()
        layout = self.busy_banner.layout()
        inner = layout.contentsMargins() if layout is not None else margins
        room = self.width() - margins.left() - margins.right() - inner.left() - inner.right()
        head, separator = f"{title}:  ", "   ·   "

        def text_of(shown: int) -> str:
            """Return the banner with the first ``shown`` classes and a count of the rest."""
            more = f"   (+{len(lines) - shown} more)" if shown < len(lines) else ""
            return head + separator.join(lines[:shown]) + more

        # Estimate from each part's width (one measure per line, not per attempt: the
        # lines change with every booking into a busy class), then check the real text.
        advance = metrics.horizontalAdvance
        used = advance(head) - advance(separator)
        step = advance(separator)
        shown = 0
        for line in lines:
            used += step + advance(line)
            more = advance(f"   (+{len(lines) - shown - 1} more)") if shown + 1 < len(lines) else 0
            if shown >= 1 and used + more > room:
                break
            shown += 1
        text = text_of(shown)
        while shown > 1 and advance(text) > room:
            shown -= 1
            text = text_of(shown)
        self.busy_label.setText(text)
        self.busy_label.setToolTip("\n".join(lines))

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The banner fits its line to the new width; the split follows the window."""
        super().resizeEvent(event)
        if self.banner_busy:
            self._render_banner()
        self._split_timer.start()

    def fit_splitter(self) -> None:
        """Split the width so that the board and the roster fit, the board first.

        The board keeps its BOARD_SHARE % when both fit at that split. Narrower, the board gets what
        it needs before it would scroll and the roster the rest; when that is less than the
        roster needs, the roster drops its channel column (each row's tooltip still says
        it); narrower still, both give up room in proportion.
        """
        if self.splitter_custom:
            return
        total = sum(self.splitter.sizes())
        if total <= 0:
            return
        extra = self._roster_pane.width() - self.roster_table.width()
        extra = extra if extra > 0 else ROSTER_GAP
        board_need = self.columns.floor_total()
        channel = RosterModel.CHANNEL
        shown = not self.roster_table.isColumnHidden(channel)
        full = self.roster_columns.floor_total() + extra
        full += 0 if shown else self.roster_columns.floor_width(channel)
        short = full - self.roster_columns.floor_width(channel)
        hide = board_need + full > total
        if hide == shown:
            self.roster_columns.set_hidden(channel, hide)
        roster_need = short if hide else full
        board = round(total * BOARD_SHARE / 100)
        if board < board_need or total - board < roster_need:
            if board_need + roster_need <= total:
                board = max(board_need, min(board, total - roster_need))
            else:
                board = round(total * board_need / (board_need + roster_need))
        if self.splitter.sizes() != [board, total - board]:
            self.splitter.setSizes([board, total - board])

    @property
    def split_pending(self) -> bool:
        """Return whether a fit of the split waits for the loop's next turn."""
        return self._split_timer.isActive()

    def _on_splitter_moved(self, _position: int, _index: int) -> None:
        """A person dragged the split: keep it where they put it."""
        self.splitter_custom = True

    def banner_text(self) -> str:
        """Return the busy banner's text ('' when hidden)."""
        return self.busy_label.text() if self.banner_busy else ""

    def _update_empty(self) -> None:
        """Say why the board is empty, when it is."""
        empty = self.proxy.rowCount() == 0
        if empty:
            if self.search.text().strip():
                text = f"No class or member matches “{self.search.text().strip()}” on this day."
            elif self.board.rowCount() == 0:
                text = "No classes yet."
            else:
                text = "No classes on this day."
            self.empty_label.setText(text)
        self.empty_label.setVisible(empty)

    def _on_proxy_rows_changed(self, *args: object) -> None:
        """Rows came or went: marks and the empty message follow."""
        self._update_marks(follow=True)
        self._update_empty()

    def _on_board_refreshed(self) -> None:
        """The board's classes are reconciled: locations, banner, marks and the roster title follow.

        They read the board's lines, so they wait for its last slice after a big flush.
        Live, a flush touches a few classes and the models hear of every one (a booking a
        turn at 500 a second): the locations, the banner and the marks, each a pass over
        every class, are redone only when a touched class can change them. Rows that come,
        go or move redo the marks anyway, and the mark timer redoes all with the time.
        """
        keys = self.board.last_refreshed
        views = None if keys is None else {key: self._board_view(key) for key in keys}
        if views is None or any(
            v is None or v.location not in self._known_locations for v in views.values()
        ):
            self._refresh_locations()
        if views is None:
            self._update_banner()
        elif self._banner_may_change(views):
            self._update_banner(views)
        if views is None or any(
            key in self._mark_times
            and (v is None or (v.starts_at, v.ends_at) != self._mark_times[key])
            for key, v in views.items()
        ):
            self._update_marks()
        self._update_roster_title()
        self._update_empty()

    def _board_view(self, key: str) -> ClassView | None:
        """Return the board's cached line of a class, or None when it has no row."""
        row = self.board.row_of(key)
        return None if row is None else self.board.class_view_at(row)

    def _banner_may_change(self, views: dict[str, ClassView | None]) -> bool:
        """Return whether a touched class is on the banner or belongs on it now."""
        now, location = self._clock(), self.location()
        return any(
            key in self._banner_views
            or (
                view is not None
                and view.busy
                and in_window(view, now, self.alert_window)
                and (location is None or view.location == location)
            )
            for key, view in views.items()
        )

    def _on_mark_timer_timeout(self) -> None:
        """Time moves the now/next marks, the banner, and (past midnight) the day."""
        today = self._today()
        if today != self._known_today:
            # Past midnight (or the demo's gym clock caught up): a board on today follows;
            # another day keeps its date but its label (Yesterday, Tomorrow) is redone.
            was_today = self.day == self._known_today
            self._known_today = today
            self.set_day(today if was_today else self.day)
        self._refresh_locations()  # a class that moved away may have left a location empty
        self._update_marks()
        self._update_banner()

    # ------------------------------------------------------------------ state

    def save_state(self, settings: QSettings) -> None:
        """Write the splitter, column widths (and whether chosen by hand) and the location."""
        settings.beginGroup(SETTINGS_GROUP)
        settings.setValue("splitter", self.splitter.saveState())
        settings.setValue("splitter_custom", self.splitter_custom)
        self.columns.save(settings, "columns")
        self.roster_columns.save(settings, "roster_columns")
        settings.setValue("location", self.location() or "")
        settings.endGroup()

    def restore_state(self, settings: QSettings) -> None:
        """Read back the splitter, column widths and the location."""
        settings.beginGroup(SETTINGS_GROUP)
        splitter = settings.value("splitter")
        splitter_custom = str(settings.value("splitter_custom")).lower() == "true"
        location = settings.value("location")
        self.columns.restore(settings, "columns")
        self.roster_columns.restore(settings, "roster_columns")
        settings.endGroup()
        if isinstance(splitter, QByteArray | bytes) and splitter_custom:
            # Only a split a person chose; a fitted one is fitted again to this window.
            self.splitter.restoreState(QByteArray(splitter))
            self.splitter_custom = True
        else:
            self.fit_splitter()
        # The desk's last choice wins over the configured default.
        if isinstance(location, str):
            self.set_location(location or None)
        elif self._wanted_location:
            self.set_location(self._wanted_location)
