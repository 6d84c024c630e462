"""Item delegates of the class board: fill bars, badges, and the now/next row marks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QHelpEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from gymdesk.ui.theme import LIGHT, Theme

Index = QModelIndex | QPersistentModelIndex

NOW: Final = "now"
NEXT: Final = "next"


class TooltipDelegate(QStyledItemDelegate):
    """Paints a cell as the model says; hovering asks ``tooltip_of`` for the tooltip.

    It overrides no painting: a cell whose model answers in C++ (a ``PaintMirror``) is
    painted without a call into Python. A mirror does not copy tooltips (a row's tooltip
    is the whole row: every column would need it again on each change), so ``tooltip_of``
    answers instead; without it the model's tooltip role does.
    """

    def __init__(
        self,
        tooltip_of: Callable[[Index], str | None] | None = None,
        *,
        theme: Theme = LIGHT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.theme = theme
        self._tooltip_of = tooltip_of

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: Index,
    ) -> bool:
        """Show the row's tooltip from ``tooltip_of`` (else as the model says)."""
        if self._tooltip_of is None or event.type() != QEvent.Type.ToolTip:
            return super().helpEvent(event, view, option, index)
        text = self._tooltip_of(index)
        if not text:
            QToolTip.hideText()
            event.ignore()
            return False
        QToolTip.showText(event.globalPos(), text, view.viewport(), view.visualRect(index))
        return True


class BoardDelegate(TooltipDelegate):
    """Paints a board cell as the model says (text, font, tint), in rows with air."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Give rows air: at least 40 px high."""
        hint = super().sizeHint(option, index)
        return QSize(hint.width() + 16, max(hint.height() + 14, 40))


def row_tints(theme: Theme) -> dict[str, QBrush]:
    """Return the background of the running (now) and the next class's rows."""
    return {NOW: QBrush(QColor(theme.now_row)), NEXT: QBrush(QColor(theme.next_row))}


def emphasised_font(base: QFont) -> QFont:
    """Return the larger, bolder font of a board's key columns (time, title)."""
    font = QFont(base)
    font.setPointSizeF(font.pointSizeF() * 1.18)
    font.setWeight(QFont.Weight.DemiBold)
    return font


def _pill(painter: QPainter, rect: QRectF, text: str, colour: QColor, font: QFont) -> float:
    """Paint a rounded badge with white text; return its width."""
    metrics_font = QFont(font)
    metrics_font.setPointSizeF(max(7.0, font.pointSizeF() * 0.78))
    metrics_font.setWeight(QFont.Weight.Bold)
    painter.setFont(metrics_font)
    width = painter.fontMetrics().horizontalAdvance(text) + 14
    height = painter.fontMetrics().height() + 4
    box = QRectF(rect.left(), rect.center().y() - height / 2, width, height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawRoundedRect(box, height / 2, height / 2)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    return width


class TimeDelegate(BoardDelegate):
    """The time column: the start time, then a NOW or NEXT badge on the marked rows.

    ``row_marks`` maps a view row to ``"now"`` or ``"next"``; the view keeps it right
    whenever rows move, so a cell's mark is a dict lookup, not a model call per paint.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row_marks: dict[int, str] = {}

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """Paint the time and the badge."""
        super().paint(painter, option, index)
        mark = self.row_marks.get(index.row())
        if mark is None:
            return
        rect: QRect = option.rect
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(option.font)
        colour = QColor(self.theme.good if mark == NOW else self.theme.accent)
        text = "NOW" if mark == NOW else "NEXT"
        area = QRectF(rect.right() - 58, rect.top(), 54, rect.height())
        _pill(painter, area, text, colour, font)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Leave room for the badge."""
        hint = super().sizeHint(option, index)
        return QSize(hint.width() + 60, hint.height())


class FillBarDelegate(BoardDelegate):
    """The booked column: "12 / 20" above a bar filled to the class's fill."""

    def __init__(
        self,
        fill_role: int,
        tooltip_of: Callable[[Index], str | None] | None = None,
        *,
        busy_threshold: float = 0.8,
        theme: Theme = LIGHT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tooltip_of, theme=theme, parent=parent)
        self.fill_role = fill_role
        self.busy_threshold = busy_threshold

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """Paint the background, the count and the bar."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        fill = index.data(self.fill_role)
        fraction = float(fill) if isinstance(fill, int | float) else 0.0
        rect: QRect = opt.rect
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        pad = 10
        bar_h = 7
        text_rect = QRect(rect.left() + pad, rect.top() + 3, rect.width() - 2 * pad, rect.height())
        text_rect.setHeight(rect.height() - bar_h - 8)
        painter.setFont(opt.font)
        painter.setPen(QColor("#ffffff" if selected else self.theme.text))
        # The count lines up with its column title (right for a number column).
        horizontal = (
            Qt.AlignmentFlag.AlignRight
            if opt.displayAlignment & Qt.AlignmentFlag.AlignRight
            else Qt.AlignmentFlag.AlignLeft
        )
        painter.drawText(text_rect, horizontal | Qt.AlignmentFlag.AlignVCenter, text)
        track = QRectF(rect.left() + pad, rect.bottom() - bar_h - 6, rect.width() - 2 * pad, bar_h)
        painter.setPen(Qt.PenStyle.NoPen)
        # On the selection colour the accent bar would vanish: white on a pale track there.
        painter.setBrush(QColor(255, 255, 255, 90) if selected else QColor(self.theme.bar_track))
        painter.drawRoundedRect(track, bar_h / 2, bar_h / 2)
        if fraction > 0:
            if selected:
                colour = "#ffffff"
            elif fraction >= 1.0:
                colour = self.theme.bad
            elif fraction >= self.busy_threshold:
                colour = self.theme.warn
            else:
                colour = self.theme.accent
            filled = QRectF(track)
            filled.setWidth(max(bar_h, track.width() * min(1.0, fraction)))
            painter.setBrush(QColor(colour))
            painter.drawRoundedRect(filled, bar_h / 2, bar_h / 2)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Leave room for a bar of a useful width."""
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 150), hint.height() + 6)


class BadgeDelegate(BoardDelegate):
    """The status column: each word ("busy", "full") as a coloured badge."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """Paint the background, then the badges."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        words = str(opt.text or "").replace(",", " ").split()
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect: QRect = opt.rect
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = rect.left() + 8.0
        for word in words:
            colour = QColor(self.theme.bad if word.lower() == "full" else self.theme.warn)
            area = QRectF(x, rect.top(), rect.width(), rect.height())
            x += _pill(painter, area, word.upper(), colour, opt.font) + 6
        painter.restore()
