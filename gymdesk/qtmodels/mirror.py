"""A C++-held copy of what a keyed model's view paints, so a repaint calls no Python.

Why a copy: a view paints a cell by asking its model for seven or more roles (text,
font, alignment, colours...) through the proxy, and the proxy asks the source for its
row and column counts on every mapping. With a Python model each of those ~20 questions
per cell is a call into Python: 70 µs a cell, 7.4 ms for a board of 104 visible cells,
measured (docs/performance.md, "Board cells"). A ``QStandardItemModel`` answers them in
C++. ``PaintMirror`` keeps one in step with a ``KeyedTableModel``: it follows the
model's row signals one by one (rows inserted, removed, moved, cells changed, reset) and
copies the listed roles of exactly the cells they name, so its own signals are row-level
ones over the same ranges (never a reset for an update; a block of new rows is one insert,
then one change once its cells are copied) and a proxy over it sorts and filters as over
the model. The copy costs 4-5 µs a cell when the cell changes (60 µs a new row of eight),
which happens far less often than it is painted.

Rows keep the model's order, so a proxy over the mirror can read the model's cached row
(``ClassFilterProxy`` filters on the ``ClassView`` of the same row). Code that names a
row through the proxy uses its ``KeyRole``: while a row goes, the model and the mirror
drop it one after the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from gymdesk.qtmodels.models import KeyedTableModel, KeyRole

_Index = QModelIndex | QPersistentModelIndex
_HORIZONTAL = Qt.Orientation.Horizontal
_HEADER_ROLES = (int(Qt.ItemDataRole.DisplayRole), int(Qt.ItemDataRole.TextAlignmentRole))


class PaintMirror(QStandardItemModel):
    """Follows a ``KeyedTableModel`` cell by cell and serves the roles a view paints in C++.

    ``roles`` are copied from the model's cells. ``column_roles`` are fixed values of
    every cell of a column (an emphasised font). ``set_row_roles`` lays values over every
    cell of one key's row, kept as that row moves (the view's now/next tint).
    """

    def __init__(
        self,
        source: KeyedTableModel[Any],
        roles: Sequence[int],
        *,
        column_roles: Mapping[int, Mapping[int, Any]] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(0, source.columnCount(), parent)
        self._source = source
        # The key is always copied: rows are found by it (``_row_of``).
        self._roles = tuple(dict.fromkeys((KeyRole, *(int(role) for role in roles))))
        self._column_roles = {c: dict(values) for c, values in (column_roles or {}).items()}
        self._row_roles: dict[str, dict[int, Any]] = {}
        # Cells are made on demand from this prototype as values are first copied in:
        # selectable, read-only, like the model's.
        prototype = QStandardItem()
        prototype.setEditable(False)
        self.setItemPrototype(prototype)
        for column in range(source.columnCount()):
            for role in _HEADER_ROLES:
                value = source.headerData(column, _HORIZONTAL, role)
                if value is not None:
                    self.setHeaderData(column, _HORIZONTAL, value, role)
        source.rowsInserted.connect(self._on_source_rows_inserted)
        source.rowsRemoved.connect(self._on_source_rows_removed)
        source.rowsMoved.connect(self._on_source_rows_moved)
        source.dataChanged.connect(self._on_source_data_changed)
        source.modelReset.connect(self._on_source_model_reset)
        source.layoutChanged.connect(self._on_source_model_reset)
        self._insert(0, source.rowCount() - 1)

    @property
    def source(self) -> KeyedTableModel[Any]:
        """Return the model this one mirrors."""
        return self._source

    # ------------------------------------------------------------------ what a cell holds

    def _row_values(
        self, row: int, first: int, last: int, clear: Iterable[int] = ()
    ) -> list[dict[int, Any]]:
        """Return every mirrored role of a model row's cells ``first..last`` (None: unset)."""
        source = self._source
        cells = source.row_cells(row, self._roles, first, last)
        cleared = dict.fromkeys(clear)
        laid = self._row_roles.get(source.key_at(row))
        fixed = self._column_roles
        for column, values in enumerate(cells, start=first):
            if cleared:
                values.update({k: None for k in cleared if k not in values})
            if column in fixed:
                values.update(fixed[column])
            if laid:
                values.update(laid)
        return cells

    def _write(
        self, rows: Iterable[int], first_column: int, last_column: int, clear: Iterable[int] = ()
    ) -> None:
        """Copy cells into existing rows without a signal per cell (the caller emits).

        Roles in ``clear`` are taken off (set values merge with those already held).
        """
        gone = tuple(clear)
        index, store = self.index, self.setItemData
        self.blockSignals(True)
        try:
            for row in rows:
                # None removes a role that no longer applies.
                cells = self._row_values(row, first_column, last_column, gone)
                for column, values in enumerate(cells, start=first_column):
                    store(index(row, column), values)
        finally:
            self.blockSignals(False)

    # ------------------------------------------------------------------ following the model

    def _insert(self, first: int, last: int) -> None:
        """Insert the model's rows ``first..last`` as one block, then fill them.

        One ``rowsInserted`` for the block (a row at a time cost a proxy and its view
        ~190 µs a row: 12 ms for 64 classes), then one ``dataChanged`` over it once its
        cells are copied: a sorting proxy places the rows by their values then, as for
        any change of a sort value (a layout change, selection kept).
        """
        if last < first:
            return
        self.insertRows(first, last - first + 1)
        right = self.columnCount() - 1
        self._write(range(first, last + 1), 0, right)
        self.dataChanged.emit(self.index(first, 0), self.index(last, right), [])

    def _on_source_rows_inserted(self, parent: _Index, first: int, last: int) -> None:
        """Rows came into the model: the same rows come here."""
        self._insert(first, last)

    def _on_source_rows_removed(self, parent: _Index, first: int, last: int) -> None:
        """Rows left the model: the same rows leave here."""
        self.removeRows(first, last - first + 1)

    def _on_source_rows_moved(
        self, parent: _Index, start: int, end: int, destination: _Index, row: int
    ) -> None:
        """Rows moved in the model: take them out and put them where they went."""
        count = end - start + 1
        taken = [self.takeRow(start) for _ in range(count)]
        to = row if row <= start else row - count
        for offset, items in enumerate(taken):
            self.insertRow(to + offset, items)

    def _on_source_data_changed(
        self, top_left: _Index, bottom_right: _Index, roles: Sequence[int] = ()
    ) -> None:
        """Cells changed in the model: copy them and say so over the same range."""
        first, last = top_left.row(), bottom_right.row()
        left, right = top_left.column(), bottom_right.column()
        self._write(range(first, last + 1), left, right)
        self.dataChanged.emit(self.index(first, left), self.index(last, right), list(roles))

    def _on_source_model_reset(self) -> None:
        """The model started over (it shows something else): so does the mirror."""
        self.removeRows(0, self.rowCount())
        self._insert(0, self._source.rowCount() - 1)

    # ------------------------------------------------------------------ the view's own roles

    def set_row_roles(self, key: str, values: Mapping[int, Any]) -> None:
        """Lay ``values`` over every cell of ``key``'s row, now and as it changes or moves.

        Roles laid before and not in ``values`` are taken off again.
        """
        before = self._row_roles.pop(key, {})
        if values:
            self._row_roles[key] = dict(values)
        if before == dict(values):
            return
        row = self._row_of(key)
        if row is None:
            return
        # Only the laid roles change (None takes one off): the model's own are as copied.
        laid: dict[int, Any] = dict.fromkeys(before.keys() - values.keys())
        laid.update(values)
        last = self.columnCount() - 1
        self.blockSignals(True)
        try:
            for column in range(last + 1):
                self.setItemData(self.index(row, column), laid)
        finally:
            self.blockSignals(False)
        # Naming the roles lets a proxy skip re-sorting and re-filtering the row.
        roles = sorted(int(role) for role in laid)
        self.dataChanged.emit(self.index(row, 0), self.index(row, last), roles)

    def _row_of(self, key: str) -> int | None:
        """Return the mirror's row of ``key``, by the key it holds.

        Usually the model's row; but while a row goes, the model drops it before the
        mirror does, and code that hears of it from a proxy in between (the view's marks)
        must not lay a role on the neighbouring row.
        """
        row = self._source.row_of(key)
        if row is not None and row < self.rowCount() and self._key_at(row) == key:
            return row
        return next((r for r in range(self.rowCount()) if self._key_at(r) == key), None)

    def _key_at(self, row: int) -> object:
        """Return the key a mirror row holds."""
        return self.data(self.index(row, 0), KeyRole)

    def row_roles(self) -> dict[str, dict[int, Any]]:
        """Return the roles laid over rows, by key."""
        return {key: dict(values) for key, values in self._row_roles.items()}
