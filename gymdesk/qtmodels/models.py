"""Keyed table models over the state: touched keys in, row-level signals out, never a reset.

Each model keeps its own ordered keys, a key -> row index and the view object of every
row. On ``changes_applied`` it asks the state about the touched keys only and edits its
rows between ``begin*`` and ``end*``: one ``beginRemoveRows`` per contiguous run, one
``beginInsertRows`` for the block appended at the end, ``dataChanged`` over each run of
neighbouring changed rows. Order is a proxy's job; a reset would lose selection and scroll.
``data()`` reads the cached rows, so a view never sees state the signals did not announce.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import Any, ClassVar, Final, Generic, TypeVar, cast

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor

from gymdesk.domain.changes import Changes, View
from gymdesk.domain.contract import BookingRow, ClassRow, InstructorRow, RepRow, SaleRow, Topic
from gymdesk.domain.rejections import Rejection
from gymdesk.domain.state import GymState
from gymdesk.domain.status import Phase
from gymdesk.domain.views import ClassView, InstructorView, RepView, TeamView
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.format import (
    DEFAULT_CURRENCY,
    NO_VALUE,
    format_datetime,
    format_money,
    format_on_day,
    format_optional_money,
    format_percent,
    format_time,
    format_timestamp,
    local_day,
)

_Index = QModelIndex | QPersistentModelIndex

_USER: Final = int(Qt.ItemDataRole.UserRole)
ClassViewRole: Final = _USER + 1
"""The ``ClassView`` of a board row."""
SortRole: Final = _USER + 2
"""A value that sorts the column (the start time, as Unix seconds, on the time column)."""
FillRole: Final = _USER + 3
"""A float share: a class's fill, an instructor's fill rate, a rep's or team's progress."""
ViewRole: Final = _USER + 4
"""The row's domain view object (``InstructorView``, ``RepView``, ``SaleLine``, ...)."""
OrderRole: Final = _USER + 5
"""A precomputed ``str`` that sorts rows in their reading order (the roster: status, name).

A proxy given ``setSortRole(OrderRole)`` compares these strings in C++: no Python
``lessThan`` runs per comparison (it was 43% of a flush during a catch-up)."""
KeyRole: Final = _USER + 6
"""The row's key (entity id), on the first column.

What names a row through a proxy over a ``PaintMirror``: while a row goes, the mirror
and its model drop it one after the other, so a row number may briefly point at
different rows in each; a key does not."""

_DISPLAY: Final = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP: Final = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT: Final = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND: Final = int(Qt.ItemDataRole.ForegroundRole)
# The roles any model here answers. A view asks each cell for a dozen roles per paint
# (font, decoration, check state, ...); answering the rest before touching the row keeps
# a repaint's Python time down (measured: ~13 calls of data() per board cell a paint).
_ANSWERED: Final = frozenset(
    {
        _DISPLAY,
        _TOOLTIP,
        _ALIGNMENT,
        _FOREGROUND,
        ClassViewRole,
        SortRole,
        FillRole,
        ViewRole,
        OrderRole,
        KeyRole,
    }
)
_NUMBER_ALIGNMENT: Final = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_FLAGS: Final = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)
_ROLE_NAMES: Final = {
    ClassViewRole: QByteArray(b"classView"),
    SortRole: QByteArray(b"sortValue"),
    FillRole: QByteArray(b"fill"),
    ViewRole: QByteArray(b"view"),
    OrderRole: QByteArray(b"order"),
    KeyRole: QByteArray(b"key"),
}

# Qt 6.10 replaced invalidateFilter() with a begin/end pair, and warns about the old one.
_HAS_FILTER_CHANGE: Final = hasattr(QSortFilterProxyModel, "beginFilterChange")

SWEEP_SLICE_S: Final = 0.004
"""How long one slice of a big reconcile (the roster's re-read, the board after a catch-up
flush) may take before the loop gets a turn."""
SWEEP_CHUNK: Final = 64
"""Keys reconciled between two looks at the clock during a big reconcile; a report that
touches no more classes than this is reconciled by the board at once."""
BOARD_SWEEP_CHUNK: Final = 16
"""Classes the board reconciles between two looks at the clock. Fewer than other models:
each new or changed line is also copied into the board's ``PaintMirror`` (8 cells of a
new line: ~60 µs a line in all, so 64 new classes were a 4 ms step in a 3 ms turn)."""
ROSTER_SWEEP_CHUNK: Final = 16
"""Bookings a roster re-read reconciles between two looks at the clock. Fewer than the
board's: each changed booking that moves in the roster's reading order costs its proxy a
re-sort and a layout change (64 took 7-8 ms in a roster of 1,000, overrunning the slice's
share of the loop's turn by as much)."""
MERGE_SPANS_ABOVE: Final = 8
"""Past this many changed rows in one pass, their column spans are merged into one."""

T = TypeVar("T")


def row_runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Return the rows as ascending ``(first, last)`` runs of neighbours."""
    runs: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _fold(text: str | None) -> str:
    """Return text for case-insensitive sorting and matching."""
    return (text or "").casefold()


class KeyedTableModel(QAbstractTableModel, Generic[T]):
    """A flat table of rows keyed by entity id, reconciled against the state by key.

    Subclasses say which keys a report touched (``_touched``), what a key's row is now
    (``_lookup``, None when it should not be shown) and how a cell reads (``_cell``).
    """

    HEADERS: ClassVar[tuple[str, ...]] = ()
    NUMERIC: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, bridge: StateBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._keys: list[str] = []
        self._items: list[T] = []
        self._rows: dict[str, int] = {}
        bridge.changes_applied.connect(self._on_bridge_changes_applied)

    # ------------------------------------------------------------------ subclass hooks

    def _touched(self, changes: Changes) -> Iterable[str] | None:
        """Return the keys a report may have changed, or None for every key."""
        raise NotImplementedError

    def _all_keys(self) -> Iterable[str]:
        """Return every key that may be shown, for a full reconcile."""
        raise NotImplementedError

    def _lookup(self, key: str) -> T | None:
        """Return the row of ``key`` as it is now, or None when it is not to be shown."""
        raise NotImplementedError

    def _cell(self, item: T, column: int, role: int) -> Any:
        """Return what ``role`` of ``column`` reads for a row; None for nothing."""
        raise NotImplementedError

    def _order(self, key: str, item: T) -> Any:
        """Return the sort key of a row within a block appended at once."""
        return key

    def _stored(self, key: str, old: T | None, new: T | None) -> None:
        """Hear that a row was inserted (old None), changed, or removed (new None)."""

    # ------------------------------------------------------------------ reading

    @property
    def bridge(self) -> StateBridge:
        """Return the bridge this model follows."""
        return self._bridge

    @property
    def state(self) -> GymState:
        """Return the state this model reads."""
        return self._bridge.state

    @property
    def zone(self) -> tzinfo:
        """Return the time zone times are shown in."""
        return self._bridge.state.settings.zone

    def keys(self) -> list[str]:
        """Return the keys of every row, in row order."""
        return list(self._keys)

    def items(self) -> tuple[T, ...]:
        """Return the cached view object of every row, in row order (no state is read)."""
        return tuple(self._items)

    def key_at(self, row: int) -> str:
        """Return the key of a row."""
        return self._keys[row]

    def item_at(self, row: int) -> T:
        """Return the cached view object of a row."""
        return self._items[row]

    def row_of(self, key: str) -> int | None:
        """Return the row showing ``key``, or None."""
        return self._rows.get(key)

    def index_of(self, key: str, column: int = 0) -> QModelIndex:
        """Return the index of ``key`` in ``column`` (invalid when not shown)."""
        row = self._rows.get(key)
        return QModelIndex() if row is None else self.index(row, column)

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Return the number of rows (none under a row: this is a flat table)."""
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Return the number of columns."""
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        """Return one role of one cell, from the cached row."""
        role = int(role)
        if role not in _ANSWERED or not index.isValid():
            return None
        return self.cell(index.row(), index.column(), role)

    def row_cells(
        self, row: int, roles: Sequence[int], first: int = 0, last: int | None = None
    ) -> list[dict[int, Any]]:
        """Return ``roles`` of each cell ``first..last`` of a row, as ``cell`` answers them.

        At once, for a copy of the row (``PaintMirror``): one lookup of the row, not one
        per cell and role.
        """
        item, key = self._items[row], self._keys[row]
        numeric, read = self.NUMERIC, self._cell
        stop = len(self.HEADERS) if last is None else last + 1
        cells: list[dict[int, Any]] = []
        for column in range(first, stop):
            values: dict[int, Any] = {}
            for role in roles:
                if role == _ALIGNMENT:
                    values[role] = _NUMBER_ALIGNMENT if column in numeric else None
                elif role == KeyRole:
                    values[role] = key if column == 0 else None
                else:
                    values[role] = read(item, column, role)
            cells.append(values)
        return cells

    def cell(self, row: int, column: int, role: int) -> Any:
        """Return one role of one cell by position (what ``data`` answers; None: nothing)."""
        if not (0 <= row < len(self._items) and 0 <= column < len(self.HEADERS)):
            return None
        if role == _ALIGNMENT:
            return _NUMBER_ALIGNMENT if column in self.NUMERIC else None
        if role == KeyRole:
            return self._keys[row] if column == 0 else None
        return self._cell(self._items[row], column, role)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        """Return the column titles; rows have none."""
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        role = int(role)
        if role == _DISPLAY:
            return self.HEADERS[section]
        if role == _ALIGNMENT and section in self.NUMERIC:
            return _NUMBER_ALIGNMENT
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        """Return that cells are selectable, read-only and childless."""
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def roleNames(self) -> dict[int, QByteArray]:
        """Return the standard role names and the custom ones."""
        names = dict(super().roleNames())
        names.update(_ROLE_NAMES)
        return names

    # ------------------------------------------------------------------ reconciling

    def refresh(self, keys: Iterable[str] | None = None) -> None:
        """Reconcile ``keys`` (None: every key) against the state with row-level signals."""
        candidates = dict.fromkeys([*self._keys, *self._all_keys()]) if keys is None else keys
        changed: dict[tuple[int, int], list[int]] = {}  # column span -> changed rows
        gone: list[int] = []
        added: list[tuple[str, T]] = []
        rows, items = self._rows, self._items
        for key in candidates:
            new = self._lookup(key)
            row = rows.get(key)
            if row is None:
                if new is not None:
                    added.append((key, new))
            elif new is None:
                gone.append(row)
            else:
                old = items[row]
                if new != old:
                    items[row] = new
                    self._stored(key, old, new)
                    changed.setdefault(self._changed_span(old, new), []).append(row)
        if len(changed) > 1 and sum(map(len, changed.values())) > MERGE_SPANS_ABOVE:
            # Many rows with different spans (a catch-up): one range per run of rows over
            # the spans' union costs far fewer signals than a range per row and span.
            first = min(span[0] for span in changed)
            last = max(span[1] for span in changed)
            changed = {(first, last): [row for rows_ in changed.values() for row in rows_]}
        for (first, last), changed_rows in changed.items():
            self._emit_changed(changed_rows, first, last)
        self._remove(gone)
        self._append(added)

    def _slice_deadline(self, budget_s: float | None) -> float:
        """Return when a slice of a big reconcile beginning now must stop.

        ``budget_s`` None: the bridge's pacer's share of this turn of the loop, which the
        reader and the other models' slices share too.
        """
        if budget_s is not None:
            return time.perf_counter() + budget_s
        return self._bridge.pacer.deadline(self, SWEEP_SLICE_S)

    def _on_bridge_changes_applied(self, changes: object) -> None:
        """Reconcile the keys a flush touched."""
        touched = self._touched(cast(Changes, changes))
        if touched is None:
            self.refresh(None)
        elif touched:
            self.refresh(touched)

    def _populate(self) -> None:
        """Fill the model at construction: every row the state has, as one insert."""
        self.refresh(None)

    def _clear_rows(self) -> None:
        """Drop every row in one reset: only for showing something else, never an update."""
        self.beginResetModel()
        for old_key, old_item in zip(self._keys, self._items, strict=True):
            self._stored(old_key, old_item, None)
        self._keys, self._items, self._rows = [], [], {}
        self.endResetModel()

    def _reindex(self, first: int, last: int | None = None) -> None:
        """Rebuild the key -> row index over ``first..last`` (default: to the end)."""
        stop = len(self._keys) if last is None else last + 1
        rows, keys = self._rows, self._keys
        for row in range(first, stop):
            rows[keys[row]] = row

    def _changed_span(self, old: T, new: T) -> tuple[int, int]:
        """Return the first and last column whose cells read differently now (default: all).

        A view repaints the cells a ``dataChanged`` covers: a narrower span is a cheaper
        frame when many rows change at once.
        """
        return (0, max(0, len(self.HEADERS) - 1))

    def _emit_changed(
        self, rows: Iterable[int], first_column: int = 0, last_column: int | None = None
    ) -> None:
        """Emit one ``dataChanged`` per run of neighbouring rows, over the given columns."""
        if last_column is None:
            last_column = max(0, len(self.HEADERS) - 1)
        for first, last in row_runs(rows):
            self.dataChanged.emit(
                self.index(first, first_column), self.index(last, last_column), []
            )

    def _remove(self, rows: Iterable[int]) -> None:
        """Remove rows, one ``beginRemoveRows`` per contiguous run, bottom up."""
        for first, last in reversed(row_runs(rows)):
            self.beginRemoveRows(QModelIndex(), first, last)
            for row in range(first, last + 1):
                key = self._keys[row]
                del self._rows[key]
                self._stored(key, self._items[row], None)
            del self._keys[first : last + 1]
            del self._items[first : last + 1]
            self._reindex(first)
            self.endRemoveRows()

    def _append(self, added: list[tuple[str, T]]) -> None:
        """Append new rows at the end as one block (in ``_order``)."""
        if not added:
            return
        added.sort(key=lambda pair: self._order(*pair))
        first = len(self._keys)
        self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
        for key, item in added:
            self._rows[key] = len(self._keys)
            self._keys.append(key)
            self._items.append(item)
            self._stored(key, None, item)
        self.endInsertRows()

    def _sync_to(self, new: Sequence[tuple[str, T]]) -> None:
        """Make the rows equal ``new`` in order with few edits: remove, move, insert, change.

        For short ordered lists (the newest sales, the latest rejections) where the order
        is the model's own and not a proxy's.
        """
        wanted = {key for key, _ in new}
        self._remove(row for row, key in enumerate(self._keys) if key not in wanted)
        changed: list[int] = []
        i = 0
        while i < len(new):
            key, item = new[i]
            if i < len(self._keys) and self._keys[i] == key:
                if self._items[i] != item:
                    old, self._items[i] = self._items[i], item
                    self._stored(key, old, item)
                    changed.append(i)
                i += 1
                continue
            j = self._rows.get(key)
            if j is not None:  # shown further down: move it up to row i
                self.beginMoveRows(QModelIndex(), j, j, QModelIndex(), i)
                self._keys.insert(i, self._keys.pop(j))
                old = self._items.pop(j)
                self._items.insert(i, item)
                self._reindex(i, j)
                self.endMoveRows()
                if old != item:
                    self._stored(key, old, item)
                    changed.append(i)
                i += 1
                continue
            end = i
            while end < len(new) and new[end][0] not in self._rows:
                end += 1
            self.beginInsertRows(QModelIndex(), i, end - 1)
            block = new[i:end]
            self._keys[i:i] = [k for k, _ in block]
            self._items[i:i] = [it for _, it in block]
            self._reindex(i)
            for k, it in block:
                self._stored(k, None, it)
            self.endInsertRows()
            i = end
        # Later edits only touched rows below each changed row, so its number still holds.
        self._emit_changed(changed)


# ---------------------------------------------------------------------- the class board


class ClassBoardModel(KeyedTableModel[ClassView]):
    """One row per class with a row: time, title, room, instructor, occupancy, badges."""

    TIME, CLASS, ROOM, INSTRUCTOR, BOOKED, WAITLIST, CHECKED_IN, STATUS = range(8)
    HEADERS = ("Time", "Class", "Room", "Instructor", "Booked", "Waitlist", "Checked in", "Status")
    NUMERIC = frozenset({BOOKED, WAITLIST, CHECKED_IN})

    refreshed = Signal()
    """Every class a flush touched is reconciled (maybe over a few turns of the loop);
    ``last_refreshed`` says which."""

    def __init__(self, bridge: StateBridge, parent: QObject | None = None) -> None:
        super().__init__(bridge, parent)
        # instructor id -> shown classes, to follow a renamed instructor.
        self._by_instructor: dict[str, set[str]] = {}
        # Classes still to reconcile after a flush that touched many (a catch-up touches
        # every class each flush: 400 lines, their proxy and view work, 10-40 ms at once).
        self._queue: dict[str, None] = {}
        self._slice_timer = QTimer(self)
        self._slice_timer.setSingleShot(True)
        self._slice_timer.setInterval(0)
        self._slice_timer.timeout.connect(self._on_slice_timer_timeout)
        self._last_refreshed: frozenset[str] | None = None
        self._populate()

    @property
    def last_refreshed(self) -> frozenset[str] | None:
        """Return the classes the last ``refreshed`` reconciled (None: maybe every class).

        Live, a flush touches a few classes: what follows the board (a banner, marks) need
        look at those only, not at every class on each flush.
        """
        return self._last_refreshed

    @property
    def refreshing(self) -> bool:
        """Return whether touched classes still wait to be reconciled, slice by slice."""
        return bool(self._queue)

    def finish_refresh(self) -> None:
        """Reconcile every class still waiting now (tests, shutdown)."""
        while self._queue:
            self._continue_refresh(budget_s=float("inf"))

    def _on_bridge_changes_applied(self, changes: object) -> None:
        """Reconcile the touched classes: a few at once, many in slices of the loop."""
        found = self._touched(cast(Changes, changes))
        touched = [*self._keys, *self._all_keys()] if found is None else list(found)
        if not touched:
            return
        if not self._queue and len(touched) <= SWEEP_CHUNK:
            self.refresh(touched)  # a few classes (live): reconciled now, in one pass
            self._last_refreshed = frozenset(touched)
            self.refreshed.emit()
            return
        # Many: new classes first, in start order (appended block by block, neighbours in
        # time stay neighbouring rows, so later changes coalesce into few ranges), then
        # shown ones in row order (a slice reconciles neighbouring rows: few ranges).
        rows = self._rows
        self._queue.update(
            dict.fromkeys(sorted((k for k in touched if k not in rows), key=self._start_key))
        )
        self._queue.update(dict.fromkeys(key for key in touched if key in rows))
        # Stable: new classes (no row yet) keep their start order ahead of the rest.
        self._queue = dict.fromkeys(sorted(self._queue, key=lambda key: rows.get(key, -1)))
        self._slice_timer.stop()
        self._continue_refresh()

    def _start_key(self, key: str) -> tuple[float, str, str, str]:
        """Return where a class not shown yet goes among new ones: by start, as ``_order``."""
        row = cast(ClassRow | None, self.state.tables[Topic.CLASSES].get(key))
        if row is None:
            return (float("inf"), "", "", key)  # gone again: it will not be shown
        return (row.starts_at.timestamp(), row.location, row.room, key)

    def _continue_refresh(self, budget_s: float | None = None) -> None:
        """Reconcile waiting classes until the slice's time is up; say when all are done.

        The slice's time is the bridge's pacer's share of this turn of the loop, unless
        ``budget_s`` says otherwise.
        """
        deadline = self._slice_deadline(budget_s)
        queue = self._queue
        while queue:
            chunk = list(itertools.islice(queue, BOARD_SWEEP_CHUNK))
            for key in chunk:
                del queue[key]
            self.refresh(chunk)
            if time.perf_counter() >= deadline:
                break
        if queue:
            self._bridge.pacer.ask(self)
            self._slice_timer.start()
        else:
            self._bridge.pacer.withdraw(self)
            self._last_refreshed = None
            self.refreshed.emit()

    def _on_slice_timer_timeout(self) -> None:
        """Go on reconciling on a later turn of the loop (the next, if this one is spent)."""
        if self._bridge.pacer.should_wait(self):
            self._slice_timer.start()
            return
        self._continue_refresh()

    def class_view_at(self, row: int) -> ClassView:
        """Return the cached ``ClassView`` of a row."""
        return self._items[row]

    def locations(self) -> list[str]:
        """Return the locations of the shown classes, sorted (for a location picker)."""
        return sorted({view.location for view in self._items}, key=_fold)

    def _touched(self, changes: Changes) -> Iterable[str] | None:
        """Return touched classes, plus shown classes whose instructor's name changed."""
        keys = changes.keys(View.CLASSES)
        if keys is None:
            return None
        if not changes.touched(View.INSTRUCTORS):
            return keys
        instructor_ids = changes.keys(View.INSTRUCTORS)
        renamed = set(keys)
        for instructor_id in self._by_instructor if instructor_ids is None else instructor_ids:
            shown = self._by_instructor.get(instructor_id)
            if not shown:
                continue
            name = self._instructor_name(instructor_id)
            renamed.update(k for k in shown if self._items[self._rows[k]].instructor_name != name)
        return renamed

    def _instructor_name(self, instructor_id: str) -> str | None:
        """Return an instructor's current name, or None without a row."""
        row = cast(InstructorRow | None, self.state.tables[Topic.INSTRUCTORS].get(instructor_id))
        return None if row is None else row.name

    def _all_keys(self) -> Iterable[str]:
        """Return every class id with a row."""
        return self.state.tables[Topic.CLASSES].keys()

    def _lookup(self, key: str) -> ClassView | None:
        """Return the class's board line now."""
        return self.state.class_view(key)

    def _order(self, key: str, item: ClassView) -> Any:
        """Append new classes in start order, so an unsorted view reads sensibly too."""
        return (item.starts_at, item.location, item.room, key)

    def _changed_span(self, old: ClassView, new: ClassView) -> tuple[int, int]:
        """Return the columns a changed class line repaints: the counts only, when only they moved.

        A booking changes a class's counts, not its time, title, room or instructor: the
        board then repaints four cells of the row, not eight. What the filters and the sort
        read (time, location, instructor, title) changing repaints the whole row, so the
        filter proxy looks at it again.
        """
        if (
            old.starts_at != new.starts_at
            or old.duration_min != new.duration_min
            or old.title != new.title
            or old.location != new.location
            or old.room != new.room
            or old.instructor_id != new.instructor_id
            or old.instructor_name != new.instructor_name
            or old.capacity != new.capacity
        ):
            return (self.TIME, self.STATUS)
        columns = [
            column
            for column, moved in (
                (self.BOOKED, old.booked != new.booked or old.cancelled != new.cancelled),
                (self.WAITLIST, old.waitlisted != new.waitlisted),
                (self.CHECKED_IN, old.checked_in != new.checked_in),
                # The instructor view shows no-shows in this column.
                (
                    self.STATUS,
                    old.busy != new.busy or old.full != new.full or old.no_show != new.no_show,
                ),
            )
            if moved
        ]
        # Only the tooltip's counts left (nothing else differs): the booked cell says it.
        return (min(columns), max(columns)) if columns else (self.BOOKED, self.BOOKED)

    def _stored(self, key: str, old: ClassView | None, new: ClassView | None) -> None:
        """Keep the instructor -> shown classes index."""
        if old is not None and (new is None or new.instructor_id != old.instructor_id):
            shown = self._by_instructor.get(old.instructor_id)
            if shown is not None:
                shown.discard(key)
                if not shown:
                    del self._by_instructor[old.instructor_id]
        if new is not None:
            self._by_instructor.setdefault(new.instructor_id, set()).add(key)

    def _cell(self, item: ClassView, column: int, role: int) -> Any:
        """Return one role of one board cell."""
        if role == _DISPLAY:
            return self._display(item, column)
        if role == ClassViewRole:
            return item
        if role == SortRole:
            return self._sort_value(item, column)
        if role == FillRole:
            # On the booked cell only: what a fill bar paints, and the cell that changes
            # (a painted copy of the row keeps each cell as its own dataChanged left it).
            return item.fill if column == self.BOOKED else None
        if role == _TOOLTIP:
            return self._tooltip(item)
        return None

    def _display(self, view: ClassView, column: int) -> str:
        """Return the text of a board cell."""
        if column == self.TIME:
            return format_time(view.starts_at, self.zone)
        if column == self.CLASS:
            return view.title
        if column == self.ROOM:
            return view.room
        if column == self.INSTRUCTOR:
            return view.instructor_name or view.instructor_id
        if column == self.BOOKED:
            return f"{view.booked} / {view.capacity}"
        if column == self.WAITLIST:
            return str(view.waitlisted)
        if column == self.CHECKED_IN:
            return str(view.checked_in)
        return class_badge(view)

    def _sort_value(self, view: ClassView, column: int) -> Any:
        """Return a value that sorts a board column."""
        if column == self.CLASS:
            return _fold(view.title)
        if column == self.ROOM:
            return _fold(f"{view.location}\t{view.room}")
        if column == self.INSTRUCTOR:
            return _fold(view.instructor_name or view.instructor_id)
        if column == self.BOOKED:
            return view.fill
        if column == self.WAITLIST:
            return view.waitlisted
        if column == self.CHECKED_IN:
            return view.checked_in
        if column == self.STATUS:
            return 2 if view.full else 1 if view.busy else 0
        return view.starts_at.timestamp()

    def _tooltip(self, view: ClassView) -> str:
        """Return every detail of a class, for hovering."""
        zone = self.zone
        instructor = view.instructor_name or f"unknown ({view.instructor_id})"
        lines = [
            f"{view.title} — {format_datetime(view.starts_at, zone)}"
            f" to {format_time(view.ends_at, zone)} ({view.duration_min} min)",
            f"{view.location}, {view.room}",
            f"Instructor: {instructor}",
            f"Booked {view.booked} of {view.capacity} ({format_percent(view.fill)})",
            f"Waitlisted {view.waitlisted}, checked in {view.checked_in}, "
            f"cancelled {view.cancelled}, no-shows {view.no_show}",
        ]
        badge = class_badge(view)
        if badge:
            lines.append(badge.capitalize())
        return "\n".join(lines)


def class_badge(view: ClassView) -> str:
    """Return a class's badge: ``full``, ``busy`` or nothing."""
    if view.full:
        return "full"
    if view.busy:
        return "busy"
    return ""


class ClassFilterProxy(QSortFilterProxyModel):
    """The board as one person needs it: a day, a location, an instructor, a search; by time.

    Give it the board model or a ``PaintMirror`` of it (or set one later with
    ``setSourceModel``); a plain QObject as the first argument is taken as the parent.
    """

    def __init__(self, source: QObject | None = None, parent: QObject | None = None) -> None:
        model = source if isinstance(source, QAbstractItemModel) else None
        if model is None and parent is None:
            parent = source
        super().__init__(parent)
        self._board: ClassBoardModel | None = None
        self._day: date | None = None
        self._location: str | None = None
        self._instructor: str | None = None
        self._range: tuple[date | None, date | None] = (None, None)
        self._search = ""
        self.setSortRole(SortRole)
        self.setDynamicSortFilter(True)
        if model is not None:
            self.setSourceModel(model)
        self.sort(ClassBoardModel.TIME, Qt.SortOrder.AscendingOrder)

    def setSourceModel(self, sourceModel: QAbstractItemModel) -> None:
        """Show ``sourceModel``; a board model also lends its state to the member search."""
        if self._board is not None:
            self._board.bridge.changes_applied.disconnect(self._on_bridge_changes_applied)
        # A board model, or a mirror of one (``PaintMirror.source``: the same rows).
        board = getattr(sourceModel, "source", sourceModel)
        self._board = board if isinstance(board, ClassBoardModel) else None
        if self._board is not None:
            self._board.bridge.changes_applied.connect(self._on_bridge_changes_applied)
        super().setSourceModel(sourceModel)

    # ------------------------------------------------------------------ filters

    def day(self) -> date | None:
        """Return the day shown (in the state's zone), or None for every day."""
        return self._day

    def location(self) -> str | None:
        """Return the location shown, or None for all."""
        return self._location

    def instructor(self) -> str | None:
        """Return the instructor id shown, or None for all."""
        return self._instructor

    def date_range(self) -> tuple[date | None, date | None]:
        """Return the date range shown (None bounds are open)."""
        return self._range

    def search(self) -> str:
        """Return the search text."""
        return self._search

    def set_day(self, day: date | None) -> None:
        """Show only classes starting on ``day`` in the state's zone (None: every day)."""
        if day != self._day:
            self._change_filter(lambda: setattr(self, "_day", day))

    def set_location(self, location: str | None) -> None:
        """Show only classes at ``location`` (None: all)."""
        if location != self._location:
            self._change_filter(lambda: setattr(self, "_location", location))

    def set_instructor(self, instructor_id: str | None) -> None:
        """Show only the classes of one instructor (None: everyone's)."""
        if instructor_id != self._instructor:
            self._change_filter(lambda: setattr(self, "_instructor", instructor_id))

    def set_date_range(self, start: date | None, end: date | None) -> None:
        """Show classes between two bounds; None leaves a side open.

        A ``date`` bound is inclusive and compared with the class's day in the state's
        zone (this week and next: Monday to the Sunday after next); a ``datetime`` bound
        is an instant, and the range is half-open: ``start <= starts_at < end``.
        """
        if (start, end) != self._range:
            self._change_filter(lambda: setattr(self, "_range", (start, end)))

    def set_search(self, text: str) -> None:
        """Show classes whose title, room, instructor or a booked member's name contains text."""
        needle = text.strip().casefold()
        if needle != self._search:
            self._change_filter(lambda: setattr(self, "_search", needle))

    def _change_filter(self, change: Callable[[], None]) -> None:
        """Apply a filter change and re-filter the rows."""
        if _HAS_FILTER_CHANGE:
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # Qt before 6.10, where invalidating is not deprecated yet
            change()
            self.invalidateRowsFilter()

    def _on_bridge_changes_applied(self, changes: object) -> None:
        """Re-filter when a member's name changed under an active search."""
        if self._search and cast(Changes, changes).touched(View.MEMBERS):
            self._change_filter(lambda: None)

    # ------------------------------------------------------------------ filtering

    def _local_day(self, moment: datetime) -> date:
        """Return the day of a start time in the state's zone (without a board: its own)."""
        if self._board is None:
            return moment.date()
        return moment.astimezone(self._board.zone).date()

    def _view_at(self, source_row: int) -> ClassView | None:
        """Return the ClassView of a source row."""
        if self._board is not None:
            return self._board.class_view_at(source_row)
        source = self.sourceModel()  # filtering only runs with a source
        value = source.data(source.index(source_row, 0), ClassViewRole)
        return value if isinstance(value, ClassView) else None

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        """Return whether a class passes every filter."""
        view = self._view_at(source_row)
        if view is None:
            return False
        if self._location is not None and view.location != self._location:
            return False
        if self._instructor is not None and view.instructor_id != self._instructor:
            return False
        start, end = self._range
        if self._day is not None or start is not None or end is not None:
            local_day = self._local_day(view.starts_at)
            if self._day is not None and local_day != self._day:
                return False
            if not _in_range(view.starts_at, local_day, start, end):
                return False
        return not self._search or self._matches(view, self._search)

    def _matches(self, view: ClassView, needle: str) -> bool:
        """Return whether the search text is in the class or a booked member's name."""
        if (
            needle in view.title.casefold()
            or needle in view.room.casefold()
            or needle in _fold(view.instructor_name)
        ):
            return True
        if self._board is None:
            return False
        state = self._board.state
        # Only the member ids: rebuilding each packed booking row would cost a search
        # over a busy week about a microsecond per booking.
        for member_id in state.member_ids_of_class(view.id):
            name = state.member_name(member_id)
            if name is not None and needle in name.casefold():
                return True
        return False


def _in_range(moment: datetime, day: date, start: date | None, end: date | None) -> bool:
    """Return whether a class is within ``start``/``end`` (see ``set_date_range``)."""
    if start is not None:
        if isinstance(start, datetime):
            if moment < start:
                return False
        elif day < start:
            return False
    if end is not None:
        if isinstance(end, datetime):
            if moment >= end:
                return False
        elif day > end:
            return False
    return True


# ---------------------------------------------------------------------- a class's roster


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One booking of a class with its member's name, as the roster shows it."""

    booking_id: str
    member_id: str
    member_name: str | None
    status: str
    channel: str | None
    updated_at: datetime


STATUS_LABELS: Final[dict[str, str]] = {
    "booked": "Booked",
    "waitlisted": "Waitlisted",
    "checked_in": "Checked in",
    "no_show": "No-show",
    "cancelled": "Cancelled",
}
"""How each booking status reads, in roster order."""
_STATUS_ORDER: Final = {status: n for n, status in enumerate(STATUS_LABELS)}
LATE_AFTER_S: Final = 0.05
"""How long after its interval a throttled roster waits for a flush before it updates alone."""
CATCH_UP_ROSTER_INTERVAL_S: Final = 1.0
"""While catching up, the roster re-reads its class at most this often: each re-read is a
repaint of the roster per slice (70 a second in ``benchmarks/desk_catchup.py`` at the
catch-up's flush pace), for a list whose history is still replaying."""


def roster_order(entry: RosterEntry) -> str:
    """Return a roster line's reading-order key: status (coming first), name, booking id.

    One string, so a proxy sorts by it in C++; the separator sorts below every printable
    character, so a name sorts before the longer names it begins.
    """
    status = _STATUS_ORDER.get(entry.status, len(_STATUS_ORDER))
    return f"{status:02d}\x1f{_fold(entry.member_name or entry.member_id)}\x1f{entry.booking_id}"


class RosterModel(KeyedTableModel[RosterEntry]):
    """The bookings of one class: member, status, channel, last update."""

    MEMBER, STATUS, CHANNEL, UPDATED = range(4)
    HEADERS = ("Member", "Status", "Channel", "Updated")

    def __init__(
        self,
        bridge: StateBridge,
        class_id: str | None = None,
        parent: QObject | None = None,
        *,
        cancelled_colour: QColor | None = None,
        interval_ms: int = 0,
    ) -> None:
        super().__init__(bridge, parent)
        self._class_id = class_id
        self._cancelled_colour = cancelled_colour
        # Touched bookings wait here for the roster's own throttle: a detail pane next to
        # the board need not repaint at the board's pace (a full roster repaint took 4-6
        # ms a frame while a busy class took a booking every flush).
        self._pending: set[str] = set()
        self._pending_all = False
        # Reconciled within a flush once the interval has passed, so the roster repaints in
        # the same frame as the board; a timer catches the last change of a burst, late
        # enough that a flush of a steady stream comes first (an own timer would add frames).
        self._interval_s = interval_ms / 1000
        self._last_reconcile = 0.0
        self._late = QTimer(self)
        self._late.setSingleShot(True)
        self._late.timeout.connect(self._on_late_timeout)
        self._order_keys: dict[str, str] = {}  # booking id -> its OrderRole string
        # After an "every booking" report the roster re-reads its class in slices of the
        # loop (a class of 1,000 bookings costs ~15 ms to re-read at once, and a catch-up
        # sends such reports at every flush).
        self._sweep: list[str] = []
        self._sweep_again = False
        self._sweep_timer = QTimer(self)
        self._sweep_timer.setSingleShot(True)
        self._sweep_timer.setInterval(0)
        self._sweep_timer.timeout.connect(self._on_sweep_timer_timeout)
        self._populate()

    @property
    def class_id(self) -> str | None:
        """Return the class shown, or None."""
        return self._class_id

    def set_class(self, class_id: str | None) -> None:
        """Show another class's bookings (a reset: a different list, not an update).

        The rows come in slices of the loop after one reset to none: a class of 1,000
        bookings read at once took ~20 ms, a stall as the desk selects the running class
        at start. A small class is all there after the first slice, at once.
        """
        if class_id == self._class_id:
            return
        self._class_id = class_id
        self._pending.clear()
        self._pending_all = False
        self._late.stop()
        self._stop_sweep()
        self._clear_rows()
        if class_id is not None:
            self._sweep = list(dict.fromkeys(self._all_keys()))
            self._continue_sweep()

    @property
    def sweeping(self) -> bool:
        """Return whether a re-read of every booking is still going on, slice by slice."""
        return bool(self._sweep)

    def finish_sweep(self) -> None:
        """Reconcile whatever waits now: throttled keys and a re-read in slices (tests)."""
        self._late.stop()
        self._reconcile_pending()
        while self._sweep:
            self._continue_sweep(budget_s=float("inf"))

    def _on_bridge_changes_applied(self, changes: object) -> None:
        """Note touched bookings; the throttle reconciles them now or at its interval's end."""
        touched = self._touched(cast(Changes, changes))
        if touched is None:
            self._pending_all = True
            self._pending.clear()
        elif touched:
            if self._pending_all:
                return  # the re-read of every booking covers these
            self._pending.update(touched)
        else:
            return
        interval = self._interval_s
        if self._bridge.status.phase is Phase.CATCHING_UP:
            interval = max(interval, CATCH_UP_ROSTER_INTERVAL_S)
        wait = self._last_reconcile + interval - time.monotonic()
        if wait <= 0:
            self._late.stop()
            self._reconcile_pending()
        elif not self._late.isActive():
            self._late.start(round((wait + LATE_AFTER_S) * 1000))

    def _on_late_timeout(self) -> None:
        """No flush came to carry the last changes: show them now."""
        self._reconcile_pending()

    def _reconcile_pending(self) -> None:
        """Reconcile the bookings touched since the last time; after "every booking", in slices."""
        self._last_reconcile = time.monotonic()
        if self._pending_all:
            self._pending_all = False
            self._pending.clear()
            self._start_sweep()
        elif self._pending:
            keys, self._pending = self._pending, set()
            self.refresh(keys)

    def _start_sweep(self) -> None:
        """Re-read every shown and every current booking of the class, a slice now."""
        if self._sweep:
            # Keys already passed may have changed since: one more pass when this ends.
            self._sweep_again = True
            return
        self._sweep = list(dict.fromkeys([*self._keys, *self._all_keys()]))
        # Not inside the flush: the board's slice runs there already, and the roster is
        # the detail pane; its first slice gets a turn of the loop of its own.
        self._bridge.pacer.ask(self)
        self._sweep_timer.start()

    def _continue_sweep(self, budget_s: float | None = None) -> None:
        """Reconcile keys of the pending re-read until the slice's time is up (as the board's)."""
        deadline = self._slice_deadline(budget_s)
        sweep = self._sweep
        while sweep:
            chunk = sweep[-ROSTER_SWEEP_CHUNK:]
            del sweep[-ROSTER_SWEEP_CHUNK:]
            self.refresh(chunk)
            if time.perf_counter() >= deadline:
                break
        if not sweep and self._sweep_again:
            self._sweep_again = False
            self._sweep = list(dict.fromkeys([*self._keys, *self._all_keys()]))
        if self._sweep:
            self._bridge.pacer.ask(self)
            self._sweep_timer.start()
        else:
            self._bridge.pacer.withdraw(self)

    def _stop_sweep(self) -> None:
        """Drop a pending re-read (the rows are about to be rebuilt anyway)."""
        self._sweep = []
        self._sweep_again = False
        self._sweep_timer.stop()
        self._bridge.pacer.withdraw(self)

    def _on_sweep_timer_timeout(self) -> None:
        """Go on with the re-read on a later turn of the loop (the next, if this one is spent)."""
        if self._bridge.pacer.should_wait(self):
            self._sweep_timer.start()
            return
        self._continue_sweep()

    def _touched(self, changes: Changes) -> Iterable[str] | None:
        """Return touched bookings (any class: one may move here or away) and renamed members."""
        if self._class_id is None:
            return ()
        keys = changes.keys(View.BOOKINGS)
        if keys is None:
            return None
        if not changes.touched(View.MEMBERS):
            return keys
        members = changes.keys(View.MEMBERS)
        touched = set(keys)
        touched.update(
            entry.booking_id
            for entry in self._items
            if members is None or entry.member_id in members
        )
        return touched

    def _all_keys(self) -> Iterable[str]:
        """Return every booking of the class."""
        if self._class_id is None:
            return ()
        return self.state.bookings_of_class(self._class_id)

    def _class_day(self) -> date | None:
        """Return the local day the shown class starts on, or None."""
        if self._class_id is None:
            return None
        row = cast(ClassRow | None, self.state.tables[Topic.CLASSES].get(self._class_id))
        return None if row is None else local_day(row.starts_at, self.zone)

    def _lookup(self, key: str) -> RosterEntry | None:
        """Return the booking's line if it is a booking of this class now."""
        if self._class_id is None:
            return None
        booking = cast(BookingRow | None, self.state.tables[Topic.BOOKINGS].get(key))
        if booking is None or booking.class_id != self._class_id:
            return None
        return RosterEntry(
            key,
            booking.member_id,
            self.state.member_name(booking.member_id),
            booking.status,
            booking.channel,
            booking.updated_at,
        )

    def _order(self, key: str, item: RosterEntry) -> Any:
        """Append new bookings by member name."""
        return (_fold(item.member_name or item.member_id), key)

    def _stored(self, key: str, old: RosterEntry | None, new: RosterEntry | None) -> None:
        """Keep each row's reading-order string (``OrderRole``)."""
        if new is None:
            self._order_keys.pop(key, None)
        else:
            self._order_keys[key] = roster_order(new)

    def _cell(self, item: RosterEntry, column: int, role: int) -> Any:
        """Return one role of one roster cell."""
        if role == OrderRole:
            return self._order_keys.get(item.booking_id) or roster_order(item)
        if role == _FOREGROUND:
            return self._cancelled_colour if item.status == "cancelled" else None
        if role == _DISPLAY:
            if column == self.MEMBER:
                return item.member_name or item.member_id
            if column == self.STATUS:
                return STATUS_LABELS.get(item.status, item.status)
            if column == self.CHANNEL:
                return item.channel or NO_VALUE
            # A change on the class's own day reads as a time: the date would repeat on
            # most lines of a roster.
            return format_on_day(item.updated_at, self.zone, self._class_day())
        if role == ViewRole:
            return item
        if role == SortRole:
            if column == self.MEMBER:
                return _fold(item.member_name or item.member_id)
            if column == self.STATUS:
                return _STATUS_ORDER.get(item.status, len(_STATUS_ORDER))
            if column == self.CHANNEL:
                return _fold(item.channel)
            return item.updated_at.timestamp()
        if role == _TOOLTIP:
            return (
                f"{item.member_name or 'unknown member'} ({item.member_id})\n"
                f"Booking {item.booking_id}: {STATUS_LABELS.get(item.status, item.status)}"
                f" via {item.channel or 'unknown channel'}\n"
                f"Updated {format_timestamp(item.updated_at, self.zone)}"
            )
        return None


# ---------------------------------------------------------------------- people and sales


class InstructorModel(KeyedTableModel[InstructorView]):
    """One row per instructor: classes, places booked, fill, check-in and no-show rates."""

    NAME, CLASSES, BOOKED, FILL, CHECK_IN, NO_SHOW = range(6)
    HEADERS = ("Instructor", "Classes", "Booked", "Fill", "Check-in", "No-show")
    NUMERIC = frozenset({CLASSES, BOOKED, FILL, CHECK_IN, NO_SHOW})

    def __init__(self, bridge: StateBridge, parent: QObject | None = None) -> None:
        super().__init__(bridge, parent)
        self._populate()

    def _touched(self, changes: Changes) -> Iterable[str] | None:
        """Return the touched instructors."""
        return changes.keys(View.INSTRUCTORS)

    def _all_keys(self) -> Iterable[str]:
        """Return every instructor with a row."""
        return self.state.tables[Topic.INSTRUCTORS].keys()

    def _lookup(self, key: str) -> InstructorView | None:
        """Return the instructor's totals now."""
        return self.state.instructor_view(key)

    def _order(self, key: str, item: InstructorView) -> Any:
        """Append new instructors by name."""
        return (_fold(item.name), key)

    def _cell(self, item: InstructorView, column: int, role: int) -> Any:
        """Return one role of one instructor cell."""
        if role == _DISPLAY:
            if column == self.NAME:
                return item.name
            if column == self.CLASSES:
                return str(item.classes)
            if column == self.BOOKED:
                return f"{item.booked} / {item.capacity}"
            if column == self.FILL:
                return format_percent(item.fill_rate)
            if column == self.CHECK_IN:
                return format_percent(item.check_in_rate)
            return format_percent(item.no_show_rate)
        if role == ViewRole:
            return item
        if role == FillRole:
            return item.fill_rate
        if role == SortRole:
            values: tuple[Any, ...] = (
                _fold(item.name),
                item.classes,
                item.booked,
                item.fill_rate,
                item.check_in_rate,
                item.no_show_rate,
            )
            value = values[column]
            return -1.0 if value is None else value
        if role == _TOOLTIP:
            return (
                f"{item.name}: {item.classes} classes, {item.booked} of {item.capacity} "
                f"places booked ({format_percent(item.fill_rate)})\n"
                f"{item.checked_in} checked in ({format_percent(item.check_in_rate)}), "
                f"{item.no_show} no-shows ({format_percent(item.no_show_rate)})"
            )
        return None


def target_progress(total_cents: int, target_cents: int | None) -> float | None:
    """Return sales over target, or None without a (positive) target."""
    return total_cents / target_cents if target_cents else None


class _SalesModel(KeyedTableModel[T]):
    """Shared money formatting of the rep and team models."""

    def __init__(
        self, bridge: StateBridge, currency: str = DEFAULT_CURRENCY, parent: QObject | None = None
    ) -> None:
        super().__init__(bridge, parent)
        self._currency = currency

    @property
    def currency(self) -> str:
        """Return the currency amounts are shown in."""
        return self._currency

    def _money(self, cents: int | None) -> str:
        """Return an amount in the model's currency, or a dash."""
        return format_optional_money(cents, self._currency)


class RepModel(_SalesModel[RepView]):
    """One row per rep: team, sales and total in the period against their target."""

    NAME, TEAM, SALES, TOTAL, TARGET, PROGRESS = range(6)
    HEADERS = ("Rep", "Team", "Sales", "Total", "Target", "Progress")
    NUMERIC = frozenset({SALES, TOTAL, TARGET, PROGRESS})

    def __init__(
        self, bridge: StateBridge, currency: str = DEFAULT_CURRENCY, parent: QObject | None = None
    ) -> None:
        super().__init__(bridge, currency, parent)
        self._populate()

    def _touched(self, changes: Changes) -> Iterable[str] | None:
        """Return the touched reps."""
        return changes.keys(View.REPS)

    def _all_keys(self) -> Iterable[str]:
        """Return every rep with a row."""
        return self.state.tables[Topic.REPS].keys()

    def _lookup(self, key: str) -> RepView | None:
        """Return the rep's sales now."""
        return self.state.rep_view(key)

    def _order(self, key: str, item: RepView) -> Any:
        """Append new reps by name."""
        return (_fold(item.name), key)

    def _cell(self, item: RepView, column: int, role: int) -> Any:
        """Return one role of one rep cell."""
        progress = target_progress(item.total_cents, item.target_cents)
        if role == _DISPLAY:
            texts = (
                item.name,
                item.team,
                str(item.count),
                self._money(item.total_cents),
                self._money(item.target_cents),
                format_percent(progress),
            )
            return texts[column]
        if role == ViewRole:
            return item
        if role == FillRole:
            return progress
        if role == SortRole:
            values: tuple[Any, ...] = (
                _fold(item.name),
                _fold(item.team),
                item.count,
                item.total_cents,
                -1 if item.target_cents is None else item.target_cents,
                -1.0 if progress is None else progress,
            )
            return values[column]
        if role == _TOOLTIP:
            target = (
                "no target"
                if item.target_cents is None
                else f"target {self._money(item.target_cents)} ({format_percent(progress)})"
            )
            return (
                f"{item.name} ({item.team}): {item.count} sales, "
                f"{format_money(item.total_cents, self._currency, with_cents=True)}; {target}"
            )
        return None


class TeamModel(_SalesModel[TeamView]):
    """One row per team: reps, sales and total in the period against the team's target."""

    TEAM, REPS, SALES, TOTAL, TARGET, PROGRESS = range(6)
    HEADERS = ("Team", "Reps", "Sales", "Total", "Target", "Progress")
    NUMERIC = frozenset({REPS, SALES, TOTAL, TARGET, PROGRESS})

    def __init__(
        self, bridge: StateBridge, currency: str = DEFAULT_CURRENCY, parent: QObject | None = None
    ) -> None:
        super().__init__(bridge, currency, parent)
        self._populate()

    def _touched(self, changes: Changes) -> Iterable[str] | None:
        """Return the touched teams."""
        return changes.keys(View.TEAMS)

    def _all_keys(self) -> Iterable[str]:
        """Return every team named by a rep."""
        return [view.id for view in self.state.team_views()]

    def _lookup(self, key: str) -> TeamView | None:
        """Return the team's sales now."""
        return self.state.team_view(key)

    def _order(self, key: str, item: TeamView) -> Any:
        """Append new teams by name."""
        return (_fold(item.id), key)

    def _cell(self, item: TeamView, column: int, role: int) -> Any:
        """Return one role of one team cell."""
        progress = target_progress(item.total_cents, item.target_cents)
        if role == _DISPLAY:
            texts = (
                item.id,
                str(item.reps),
                str(item.count),
                self._money(item.total_cents),
                self._money(item.target_cents),
                format_percent(progress),
            )
            return texts[column]
        if role == ViewRole:
            return item
        if role == FillRole:
            return progress
        if role == SortRole:
            values: tuple[Any, ...] = (
                _fold(item.id),
                item.reps,
                item.count,
                item.total_cents,
                -1 if item.target_cents is None else item.target_cents,
                -1.0 if progress is None else progress,
            )
            return values[column]
        if role == _TOOLTIP:
            target = (
                "no target"
                if item.target_cents is None
                else f"target {self._money(item.target_cents)} ({format_percent(progress)})"
            )
            return (
                f"{item.id}: {item.reps} reps, {item.count} sales, "
                f"{format_money(item.total_cents, self._currency, with_cents=True)}; {target}"
            )
        return None


# ---------------------------------------------------------------------- short lists


@dataclass(frozen=True, slots=True)
class SaleLine:
    """One sale with its rep's name, as the ticker shows it."""

    id: str
    rep_id: str
    rep_name: str | None
    product: str
    currency: str
    amount_cents: int
    sold_at: datetime


class SalesTickerModel(KeyedTableModel[SaleLine]):
    """The newest sales, newest first; a few rows edited in place as sales arrive."""

    TIME, REP, PRODUCT, AMOUNT = range(4)
    HEADERS = ("Time", "Rep", "Product", "Amount")
    NUMERIC = frozenset({AMOUNT})

    def __init__(self, bridge: StateBridge, limit: int = 12, parent: QObject | None = None) -> None:
        super().__init__(bridge, parent)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self._limit = limit
        self._sync_to(self._newest())

    @property
    def limit(self) -> int:
        """Return how many sales are shown at most."""
        return self._limit

    def _line(self, sale_id: str, sale: SaleRow) -> SaleLine:
        """Return a sale's ticker line."""
        rep = cast(RepRow | None, self.state.tables[Topic.REPS].get(sale.rep_id))
        return SaleLine(
            sale_id,
            sale.rep_id,
            None if rep is None else rep.name,
            sale.product,
            sale.currency,
            sale.amount_cents,
            sale.sold_at,
        )

    def _newest(self) -> list[tuple[str, SaleLine]]:
        """Return the newest sales as lines."""
        return [(key, self._line(key, sale)) for key, sale in self.state.latest_sales(self._limit)]

    def _may_change_list(self, keys: frozenset[str] | None) -> bool:
        """Return whether touched sales can change the newest list (else skip the scan)."""
        if keys is None or len(self._items) < self._limit:
            return True
        oldest = self._items[-1].sold_at
        sales = self.state.tables[Topic.SALES]
        for key in keys:
            if key in self._rows:
                return True
            sale = cast(SaleRow | None, sales.get(key))
            if sale is not None and sale.sold_at >= oldest:
                return True
        return False

    def refresh(self, keys: Iterable[str] | None = None) -> None:
        """Recompute the newest sales and edit the rows to match."""
        self._sync_to(self._newest())

    def _on_bridge_changes_applied(self, changes: object) -> None:
        """Recompute the newest sales when sales changed; rename reps in place."""
        report = cast(Changes, changes)
        if report.touched(View.SALES) and self._may_change_list(report.keys(View.SALES)):
            self._sync_to(self._newest())
        elif report.touched(View.REPS):
            rep_ids = report.keys(View.REPS)
            self._sync_to(
                [
                    (
                        line.id,
                        replace(line, rep_name=self._rep_name(line.rep_id))
                        if rep_ids is None or line.rep_id in rep_ids
                        else line,
                    )
                    for line in self._items
                ]
            )

    def _rep_name(self, rep_id: str) -> str | None:
        """Return a rep's current name, or None."""
        rep = cast(RepRow | None, self.state.tables[Topic.REPS].get(rep_id))
        return None if rep is None else rep.name

    def _cell(self, item: SaleLine, column: int, role: int) -> Any:
        """Return one role of one ticker cell."""
        if role == _DISPLAY:
            if column == self.TIME:
                return format_time(item.sold_at, self.zone)
            if column == self.REP:
                return item.rep_name or item.rep_id
            if column == self.PRODUCT:
                return item.product
            return format_money(item.amount_cents, item.currency)
        if role == ViewRole:
            return item
        if role == SortRole:
            values: tuple[Any, ...] = (
                item.sold_at.timestamp(),
                _fold(item.rep_name or item.rep_id),
                _fold(item.product),
                item.amount_cents,
            )
            return values[column]
        if role == _TOOLTIP:
            return (
                f"{item.product} sold by {item.rep_name or item.rep_id} for "
                f"{format_money(item.amount_cents, item.currency, with_cents=True)}\n"
                f"{format_timestamp(item.sold_at, self.zone)} (sale {item.id})"
            )
        return None


class RejectedModel(KeyedTableModel[Rejection]):
    """The latest records that broke the contract, newest first."""

    TOPIC, PARTITION, OFFSET, KEY, REASON, FIRST_BYTES = range(6)
    HEADERS = ("Topic", "Partition", "Offset", "Key", "Reason", "First bytes")
    NUMERIC = frozenset({PARTITION, OFFSET})

    def __init__(self, bridge: StateBridge, parent: QObject | None = None) -> None:
        super().__init__(bridge, parent)
        self._sync_to(self._latest())

    @property
    def total(self) -> int:
        """Return how many records were rejected in all (more than are listed)."""
        return self.state.rejections.total

    def _latest(self) -> list[tuple[str, Rejection]]:
        """Return the kept rejections, newest first, keyed by identity.

        Rejections have no id and equal ones may repeat; every object shown or kept is
        alive, so ``id()`` tells them apart for as long as they are compared.
        """
        return [(str(id(r)), r) for r in reversed(self.state.rejections.latest)]

    def refresh(self, keys: Iterable[str] | None = None) -> None:
        """Re-read the kept rejections and edit the rows to match."""
        self._sync_to(self._latest())

    def _on_bridge_changes_applied(self, changes: object) -> None:
        """Follow new rejections: new rows on top, the oldest drop off the bottom."""
        if cast(Changes, changes).touched(View.REJECTED):
            self._sync_to(self._latest())

    def _cell(self, item: Rejection, column: int, role: int) -> Any:
        """Return one role of one rejection cell."""
        values: tuple[Any, ...] = (
            item.topic,
            item.partition,
            item.offset,
            item.key,
            item.reason,
            item.first_bytes,
        )
        if role == _DISPLAY:
            return str(values[column])
        if role == SortRole:
            return values[column]
        if role == ViewRole:
            return item
        if role == _TOOLTIP:
            return (
                f"{item.topic}[{item.partition}]@{item.offset} key={item.key}\n"
                f"{item.reason}\n{item.first_bytes}"
            )
        return None
