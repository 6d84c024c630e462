"""Column widths that follow the font and the window until the person sets them by hand."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHeaderView, QTableView

# Room for the cell's padding on both sides (the style sheet pads cells by 8 px a side).
CELL_PADDING: Final = 22
# A text column may shrink to this share of its need (eliding) before the table scrolls:
# at 0.7 the receptionist board scrolled sideways on a 1366 x 768 screen (its badges out
# of sight); at 0.55 "Reformer Studio" still reads "Reformer St…".
SHRINK_FLOOR: Final = 0.55
# A text column grows to at most this many times its need; the rest goes to every column.
MAX_GROWTH: Final = 1.8


@dataclass(frozen=True, slots=True)
class Column:
    """How one column sizes: the widest text it usually shows, and its share of spare room.

    ``sample`` is measured in the cell's font (``bold``/``scale`` for emphasised columns);
    ``extra`` adds fixed pixels (a fill bar, a badge); ``grow`` is the column's weight
    when the window has more room than the columns need (0: never wider than needed);
    ``shrink`` its weight when there is less (``None``: as ``grow``), so that the column
    read most (a class's title) elides last.
    """

    sample: str
    grow: float = 0.0
    bold: bool = False
    scale: float = 1.0
    extra: int = 0
    shrink: float | None = None


class ColumnFitter(QObject):
    """Sizes a table's columns from font metrics and shares spare width by weight.

    Every column is ``Interactive`` so a person can drag it; none gets narrower than its
    floor (its measured need, or a little less for text that may elide). Until someone
    drags a column the fitter refits on every resize of the table; after that, and after
    widths saved by hand are restored, it leaves them be.
    """

    def __init__(self, table: QTableView, columns: Mapping[int, Column]) -> None:
        super().__init__(table)
        self._table = table
        self._columns = dict(columns)
        self._fitting = False
        self.custom = False
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The last column takes what rounding leaves, so no ragged gap on the right.
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(24)
        # Titles sit like their cells: text to the left; numbers to the right (the model's
        # header data says which columns are numbers).
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.sectionResized.connect(self._on_header_section_resized)
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self.fit)
        table.viewport().installEventFilter(self)
        table.installEventFilter(self)
        self.fit()

    # ------------------------------------------------------------------ measuring

    def minimum_width(self, column: int) -> int:
        """Return the width a column needs: its sample and its title must fit."""
        spec = self._columns.get(column)
        width = self.minimum_width_of_title(column)
        if spec is not None:
            font = QFont(self._table.font())
            if spec.scale != 1.0:
                font.setPointSizeF(font.pointSizeF() * spec.scale)
            if spec.bold:
                font.setWeight(QFont.Weight.DemiBold)
            sample = QFontMetrics(font).horizontalAdvance(spec.sample) + CELL_PADDING + spec.extra
            width = max(width, sample)
        return width

    def floor_width(self, column: int) -> int:
        """Return the narrowest a column gets: growing (text) columns may elide a little."""
        minimum = self.minimum_width(column)
        spec = self._columns.get(column)
        if spec is None or spec.grow <= 0:
            return minimum
        return max(self.minimum_width_of_title(column), round(minimum * SHRINK_FLOOR))

    def floor_total(self) -> int:
        """Return the width the table needs before it scrolls sideways (frame included)."""
        table = self._table
        # The frame, and room for a vertical scroll bar whether it shows now or later.
        frame = 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width()
        return sum(self.floor_width(c) for c in self._visible()) + frame

    def minimum_width_of_title(self, column: int) -> int:
        """Return the width of a column's title in the header's font."""
        header_font = QFont(self._table.horizontalHeader().font())
        header_font.setWeight(QFont.Weight.DemiBold)
        title = str(self._table.model().headerData(column, Qt.Orientation.Horizontal) or "")
        return QFontMetrics(header_font).horizontalAdvance(title) + CELL_PADDING

    def _visible(self) -> list[int]:
        """Return the shown columns in order."""
        header = self._table.horizontalHeader()
        return [
            header.logicalIndex(visual)
            for visual in range(header.count())
            if not header.isSectionHidden(header.logicalIndex(visual))
        ]

    def widths(self, available: int) -> dict[int, int]:
        """Return each shown column's width for a table ``available`` pixels wide.

        Narrow: the text columns give up room by weight (down to their floor) before the
        table scrolls sideways. Wide: they take room by weight up to ``MAX_GROWTH`` times
        their need, and whatever is left is spread over every column, so no one column
        turns into a field of white.
        """
        shown = self._visible()
        minimum = {column: self.minimum_width(column) for column in shown}
        weights = {c: self._columns[c].grow for c in shown if c in self._columns}
        weights = {c: w for c, w in weights.items() if w > 0}
        spare = available - sum(minimum.values())
        if spare < 0:
            give = {c: minimum[c] - self.floor_width(c) for c in weights}
            shrink = {c: _shrink_weight(self._columns[c]) for c in weights}
            cut = _share(-spare, give, shrink)
            return {c: width - cut.get(c, 0) for c, width in minimum.items()}
        caps = {c: math.floor(minimum[c] * (MAX_GROWTH - 1)) for c in weights}
        grown = _share(spare, caps, weights)
        widths = {c: width + grown.get(c, 0) for c, width in minimum.items()}
        rest = spare - sum(grown.values())
        if rest > 0:  # every text column at its cap: spread the rest over all columns
            extra = _share(rest, {c: rest for c in shown}, {c: float(minimum[c]) for c in shown})
            widths = {c: width + extra.get(c, 0) for c, width in widths.items()}
        return widths

    # ------------------------------------------------------------------ fitting

    def fit(self) -> None:
        """Size the columns to the table's width now (unless a person sized them)."""
        if self.custom:
            return
        header = self._table.horizontalHeader()
        self._fitting = True
        try:
            for column, width in self.widths(self._table.viewport().width()).items():
                if header.sectionSize(column) != width:
                    header.resizeSection(column, width)
        finally:
            self._fitting = False

    def set_hidden(self, column: int, hidden: bool) -> None:
        """Hide or show a column (not a person's sizing), then fit again."""
        self._fitting = True
        try:
            self._table.setColumnHidden(column, hidden)
        finally:
            self._fitting = False
        self.fit()

    def reset(self) -> None:
        """Forget hand-set widths and fit again."""
        self.custom = False
        self.fit()

    def save(self, settings: QSettings, key: str) -> None:
        """Write the header's state, and whether a person chose the widths."""
        settings.setValue(key, self._table.horizontalHeader().saveState())
        settings.setValue(f"{key}_custom", self.custom)

    def restore(self, settings: QSettings, key: str) -> None:
        """Read back widths a person chose; fitted widths are fitted again instead."""
        state = settings.value(key)
        custom = settings.value(f"{key}_custom")
        if not isinstance(state, QByteArray | bytes) or str(custom).lower() != "true":
            self.reset()
            return
        header = self._table.horizontalHeader()
        self._fitting = True
        try:
            header.restoreState(QByteArray(state))
            # A state from an older layout may carry other modes: every column stays draggable.
            header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            header.setStretchLastSection(True)
        finally:
            self._fitting = False
        self.custom = True

    # ------------------------------------------------------------------ events

    def _on_header_section_resized(self, column: int, old: int, new: int) -> None:
        """A person dragged a column: keep it above its floor, and stop refitting."""
        if self._fitting:
            return
        header = self._table.horizontalHeader()
        last = self._visible()[-1:] == [column]
        if last and header.stretchLastSection():
            return  # the last column follows the others; that is not a choice
        self.custom = True
        minimum = self.floor_width(column)
        if new < minimum:
            self._fitting = True
            try:
                header.resizeSection(column, minimum)
            finally:
                self._fitting = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Refit when the table's width or font changes (a theme sets the font later)."""
        kind = event.type()
        if kind == QEvent.Type.Resize and watched is self._table.viewport():
            self.fit()
        elif kind == QEvent.Type.FontChange and watched is self._table:
            # Arrives amid an application-wide re-polish: measure once that is over.
            self._refit.start()
        return False


def _shrink_weight(column: Column) -> float:
    """Return a column's weight when the table is short of room."""
    return column.grow if column.shrink is None else column.shrink


def _share(amount: int, caps: Mapping[int, int], weights: Mapping[int, float]) -> dict[int, int]:
    """Hand out ``amount`` pixels by weight, none beyond its cap; return each one's share.

    Whoever reaches their cap drops out and the rest is shared again among the others,
    so the whole amount is handed out whenever the caps allow it.
    """
    shares = dict.fromkeys(caps, 0)
    open_ = {c: w for c, w in weights.items() if c in caps and caps[c] > 0 and w > 0}
    left = amount
    while left > 0 and open_:
        total = sum(open_.values())
        handed = 0
        for column, weight in list(open_.items()):
            share = min(caps[column] - shares[column], int(left * weight / total))
            shares[column] += share
            handed += share
            if shares[column] >= caps[column]:
                del open_[column]
        if handed == 0:  # rounding left a few pixels: one each, heaviest first
            for column in sorted(open_, key=lambda c: -open_[c])[:left]:
                shares[column] += 1
                handed += 1
                if shares[column] >= caps[column]:
                    del open_[column]
        left -= handed
    return shares
