"""The sales wallboard: teams and reps against the month's target, the pace, the latest sales.

Read from across the room on an office TV, with nobody touching it: dark, large, and
scaled with the window (font pixel sizes follow the window height).
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Final

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, QRectF, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gymdesk.domain.alerts import NO_CLASS, AlertScope
from gymdesk.domain.changes import Changes, View
from gymdesk.domain.views import PeriodSummary, RepView, TeamView
from gymdesk.qtmodels.bridge import StateBridge
from gymdesk.qtmodels.format import DEFAULT_CURRENCY, currency_symbol, format_money
from gymdesk.qtmodels.models import RepModel, SalesTickerModel, TeamModel, ViewRole
from gymdesk.qtmodels.throttle import Throttle
from gymdesk.ui.charts import make_plot, set_axis_font
from gymdesk.ui.theme import DARK, Theme, palette

REFERENCE_HEIGHT: Final = 1080
FIGURE_PX_AT_1080: Final = 52
TICKER_LENGTH: Final = 7
CHART_INTERVAL_MS: Final = 1000
# What moves the month's total and the pace line; teams and reps come through their models.
_WATCHED: Final = frozenset({View.PERIOD, View.TARGETS, View.SALES})


def figure_px_for_height(height: int) -> int:
    """Return the pixel size of the big figures for a window height (52 px at 1080)."""
    return max(18, round(FIGURE_PX_AT_1080 * height / REFERENCE_HEIGHT))


def _pixel_font(px: int, weight: QFont.Weight = QFont.Weight.Normal) -> QFont:
    """Return the app font at a pixel size and weight."""
    font = QFont()
    font.setPixelSize(max(6, px))
    font.setWeight(weight)
    return font


class TargetBar(QWidget):
    """A name, an amount against a target (``€12,340 / €20,000``) and a thick bar."""

    def __init__(
        self,
        name: str,
        theme: Theme = DARK,
        parent: QWidget | None = None,
        *,
        currency: str = DEFAULT_CURRENCY,
    ) -> None:
        super().__init__(parent)
        self.theme = theme
        self.name = name
        self.currency = currency
        self.total_cents = 0
        self.target_cents: int | None = None
        self.pace = 0.0  # the share of the month gone: where the bar should be by now
        self.figure_px = FIGURE_PX_AT_1080
        self.name_px = round(FIGURE_PX_AT_1080 * 0.7)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    def set_values(self, total_cents: int, target_cents: int | None, pace: float) -> None:
        """Show new figures."""
        if (total_cents, target_cents, pace) == (self.total_cents, self.target_cents, self.pace):
            return
        self.total_cents, self.target_cents, self.pace = total_cents, target_cents, pace
        self.update()

    def set_scale(self, figure_px: int, name_px: int) -> None:
        """Set the pixel sizes of the amount and the name."""
        self.figure_px, self.name_px = figure_px, name_px
        self.updateGeometry()
        self.update()

    def amount_text(self) -> str:
        """Return ``€12,340 / €20,000`` (or just the amount without a target)."""
        money = self.currency
        if self.target_cents is None:
            return format_money(self.total_cents, money)
        return f"{format_money(self.total_cents, money)} / {format_money(self.target_cents, money)}"

    def fraction(self) -> float | None:
        """Return sales over target, None without a target."""
        if not self.target_cents:
            return None
        return self.total_cents / self.target_cents

    def figure_font(self) -> QFont:
        """Return the font of the amount."""
        return _pixel_font(self.figure_px, QFont.Weight.Bold)

    def _bar_height(self) -> int:
        """Return the bar's thickness."""
        return max(8, round(self.figure_px * 0.42))

    def sizeHint(self) -> QSize:
        """Tall enough for the figure and the bar."""
        line = QFontMetrics(self.figure_font()).height()
        return QSize(400, line + self._bar_height() + 8)  # 6 between text and bar, 2 under

    def minimumSizeHint(self) -> QSize:
        """Never squash the figures."""
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint name, amount, percentage and the bar with a pace tick."""
        theme = self.theme
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.rect()
        bar_h = self._bar_height()
        text_h = rect.height() - bar_h - 6
        fraction = self.fraction()
        figure = self.figure_font()
        amount = self.amount_text()
        percent = "" if fraction is None else f"  {fraction * 100:.0f}%"
        small = _pixel_font(round(self.figure_px * 0.6), QFont.Weight.DemiBold)
        # Room for "100%" on every bar, so that the amounts line up down the board.
        pct_w = (
            max(QFontMetrics(small).horizontalAdvance(t) for t in (percent, "  100%"))
            if percent
            else 0
        )
        amount_w = QFontMetrics(figure).horizontalAdvance(amount)
        # The name, left, shortened rather than run under the amount.
        name_font = _pixel_font(self.name_px, QFont.Weight.DemiBold)
        painter.setFont(name_font)
        painter.setPen(QColor(theme.text))
        room = max(0, rect.width() - amount_w - pct_w - self.figure_px // 2)
        name = QFontMetrics(name_font).elidedText(self.name, Qt.TextElideMode.ElideRight, room)
        text_rect = QRectF(0, 0, rect.width(), text_h)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, name)
        # The amount, right, with the percentage in a softer colour.
        painter.setFont(figure)
        amount_rect = QRectF(0, 0, rect.width() - pct_w, text_h)
        painter.drawText(
            amount_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, amount
        )
        if percent:
            painter.setFont(small)
            painter.setPen(QColor(theme.muted))
            baseline_rect = QRectF(rect.width() - pct_w, 0, pct_w, text_h - self.figure_px * 0.06)
            painter.drawText(
                baseline_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, percent
            )
        # The bar.
        track = QRectF(0, rect.height() - bar_h - 2, rect.width(), bar_h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.bar_track))
        painter.drawRoundedRect(track, bar_h / 2, bar_h / 2)
        if fraction is not None and fraction > 0:
            ahead = fraction >= self.pace - 0.02
            colour = theme.good if ahead else theme.warn
            filled = QRectF(track)
            filled.setWidth(max(bar_h, track.width() * min(1.0, fraction)))
            painter.setBrush(QColor(colour))
            painter.drawRoundedRect(filled, bar_h / 2, bar_h / 2)
        if fraction is not None and 0 < self.pace < 1:
            x = track.left() + track.width() * self.pace
            painter.setPen(QColor(theme.text))
            painter.drawLine(round(x), round(track.top() - 4), round(x), round(track.bottom() + 4))
        painter.end()


def fit_sale_line(metrics: QFontMetrics, rep: str, product: str, room: float) -> tuple[str, str]:
    """Return a ticker line's rep and `` · product`` texts fitted into ``room`` pixels.

    Who sold it reads whole (cut only when it alone is too long); the product, muted, is
    the part cut short, or left out when not even its first letters fit.
    """
    rep_text = metrics.elidedText(rep, Qt.TextElideMode.ElideRight, round(room))
    left = room - metrics.horizontalAdvance(rep_text)
    if not product or left < metrics.horizontalAdvance(" · Ab…"):
        return rep_text, ""
    return rep_text, metrics.elidedText(f" · {product}", Qt.TextElideMode.ElideRight, round(left))


class SalesTicker(QWidget):
    """The latest sales, newest first: time, rep, product, amount."""

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.rows: list[tuple[str, str, str, str]] = []
        self.px = 28
        self._fresh_until = 0.0

    def set_rows(self, rows: list[tuple[str, str, str, str]]) -> None:
        """Show these rows (time, rep, product, amount)."""
        if rows == self.rows:
            return
        if rows and (not self.rows or rows[0] != self.rows[0]):
            self._fresh_until = time.monotonic() + 10
        self.rows = rows
        self.update()

    def set_scale(self, px: int) -> None:
        """Set the text pixel size."""
        self.px = px
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint one sale per line; the newest is highlighted for a few seconds."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        line_h = round(self.px * 1.7)
        width = self.width()
        amount_font = _pixel_font(self.px, QFont.Weight.Bold)
        text_font = _pixel_font(self.px)
        muted = QColor(self.theme.muted)
        for i, (when, rep, product, amount) in enumerate(self.rows):
            top = i * line_h
            if top + line_h > self.height():
                break
            if i == 0 and time.monotonic() < self._fresh_until:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(self.theme.now_row))
                painter.drawRoundedRect(QRectF(-6, top, width + 12, line_h), 8, 8)
            row = QRectF(0, top, width, line_h)
            flags = Qt.AlignmentFlag.AlignVCenter
            painter.setFont(text_font)
            painter.setPen(muted)
            time_w = QFontMetrics(text_font).horizontalAdvance("00:00  ")
            painter.drawText(row, flags | Qt.AlignmentFlag.AlignLeft, when)
            metrics = QFontMetrics(text_font)
            amount_w = QFontMetrics(amount_font).horizontalAdvance(amount) + 8
            rep_text, product_text = fit_sale_line(metrics, rep, product, width - time_w - amount_w)
            rep_w = metrics.horizontalAdvance(rep_text)
            painter.setPen(QColor(self.theme.text))
            painter.drawText(
                QRectF(time_w, top, rep_w + 1, line_h), flags | Qt.AlignmentFlag.AlignLeft, rep_text
            )
            if product_text:
                painter.setPen(muted)
                painter.drawText(
                    QRectF(time_w + rep_w, top, width - time_w - amount_w - rep_w, line_h),
                    flags | Qt.AlignmentFlag.AlignLeft,
                    product_text,
                )
            painter.setFont(amount_font)
            painter.setPen(QColor(self.theme.good))
            painter.drawText(row, flags | Qt.AlignmentFlag.AlignRight, amount)
        if not self.rows:
            painter.setFont(text_font)
            painter.setPen(muted)
            painter.drawText(
                QRectF(0, 0, width, line_h), Qt.AlignmentFlag.AlignLeft, "No sales yet"
            )
        painter.end()


def month_bounds(period: str, zone: object) -> tuple[datetime, datetime, int]:
    """Return the start of a ``YYYY-MM`` period, the start of the next, and its days."""
    year, month = (int(part) for part in period.split("-"))
    days = calendar.monthrange(year, month)[1]
    start = datetime(year, month, 1, tzinfo=zone)  # type: ignore[arg-type]
    return start, start + timedelta(days=days), days


class Wallboard(QWidget):
    """The office TV: the month's total, teams, reps, pace line and ticker."""

    def __init__(
        self,
        bridge: StateBridge,
        parent: QWidget | None = None,
        *,
        clock: object = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.theme = DARK
        # Dark whatever the app's theme: the wallboard is read from across the room.
        self.setAutoFillBackground(True)
        self.setPalette(palette(DARK))
        self.setStyleSheet(
            f"QLabel {{ color: {DARK.text}; background: transparent; }}"
            f" QLabel#muted {{ color: {DARK.muted}; }}"
        )
        self.figure_px = FIGURE_PX_AT_1080
        self._clock = clock
        # Teams, reps and the ticker follow the same throttled, row-level models as the desks.
        self.currency = bridge.state.settings.currency
        self.teams = TeamModel(bridge, self.currency, parent=self)
        self.reps = RepModel(bridge, self.currency, parent=self)
        self._other_currency = 0  # sales of the month in another currency: not in the totals
        self.sales = SalesTickerModel(bridge, TICKER_LENGTH, self)
        self._placed: dict[int, list[str]] = {}
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_reps)
        self.title = QLabel("Sales")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("muted")
        self.clock_label = QLabel()
        self.clock_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.total_bar = TargetBar("Month total", self.theme, currency=self.currency)
        self.team_bars: dict[str, TargetBar] = {}
        self.rep_bars: dict[str, TargetBar] = {}
        self.teams_heading = QLabel("Teams")
        self.reps_heading = QLabel("Reps")
        symbol = currency_symbol(self.currency)
        self.pace_heading = QLabel(f"Pace this month, k{symbol}  (dashed: on target)")
        self.ticker_heading = QLabel("Latest sales")
        for heading in (
            self.teams_heading,
            self.reps_heading,
            self.pace_heading,
            self.ticker_heading,
        ):
            heading.setObjectName("muted")
        self.teams_box = QVBoxLayout()
        self.reps_grid = QGridLayout()
        self.reps_grid.setHorizontalSpacing(48)
        self.plot, self.axis = make_plot(self.theme, interactive=False)
        self.plot.setBackground(self.theme.window)
        self.actual_curve: pg.PlotDataItem = self.plot.plot(
            pen=pg.mkPen(QColor(self.theme.good), width=4), name="Sales"
        )
        self.target_curve: pg.PlotDataItem = self.plot.plot(
            pen=pg.mkPen(QColor(self.theme.muted), width=2, style=Qt.PenStyle.DashLine),
            name="Target pace",
        )

        self.ticker = SalesTicker(self.theme)

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addSpacing(24)
        header.addWidget(self.subtitle, 1, Qt.AlignmentFlag.AlignBottom)
        header.addWidget(self.clock_label)
        left = QVBoxLayout()
        left.addWidget(self.teams_heading)
        left.addLayout(self.teams_box)
        left.addSpacing(8)
        left.addWidget(self.reps_heading)
        left.addLayout(self.reps_grid)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.pace_heading)
        right.addWidget(self.plot, 3)
        right.addSpacing(12)
        right.addWidget(self.ticker_heading)
        right.addWidget(self.ticker, 2)
        body = QHBoxLayout()
        body.addLayout(left, 11)
        body.addSpacing(56)
        body.addLayout(right, 9)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(36, 16, 36, 12)
        outer.setSpacing(14)
        outer.addLayout(header)
        outer.addWidget(self.total_bar)
        outer.addSpacing(4)
        outer.addLayout(body, 1)

        self._chart_throttle = Throttle(self._update_chart, CHART_INTERVAL_MS, self)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick_timeout)
        self._tick.start()
        bridge.changes_applied.connect(self._on_bridge_changes_applied)
        for model in (self.teams, self.reps):
            model.rowsInserted.connect(self._on_model_rows_inserted)
            model.rowsRemoved.connect(self._on_model_rows_removed)
            model.dataChanged.connect(self._on_model_data_changed)
            model.modelReset.connect(self._on_model_reset)
        for signal in (
            self.sales.rowsInserted,
            self.sales.rowsRemoved,
            self.sales.rowsMoved,
            self.sales.dataChanged,
            self.sales.modelReset,
        ):
            signal.connect(self._on_sales_changed)
        self.apply_scale(REFERENCE_HEIGHT)
        self.refresh()
        self._update_chart()

    # ------------------------------------------------------------------ scaling

    def apply_scale(self, height: int) -> None:
        """Size every font from the window height (figures 52 px at 1080)."""
        px = figure_px_for_height(height)
        self.figure_px = px
        name_px = round(px * 0.62)
        heading_px = round(px * 0.5)
        self.title.setFont(_pixel_font(round(px * 1.05), QFont.Weight.Bold))
        self.subtitle.setFont(_pixel_font(round(px * 0.55)))
        self.clock_label.setFont(_pixel_font(round(px * 0.9), QFont.Weight.DemiBold))
        for heading in (
            self.teams_heading,
            self.reps_heading,
            self.pace_heading,
            self.ticker_heading,
        ):
            heading.setFont(_pixel_font(heading_px, QFont.Weight.DemiBold))
        self.total_bar.set_scale(round(px * 1.25), round(px * 0.8))
        for bar in self.team_bars.values():
            bar.set_scale(px, name_px)
        for bar in self.rep_bars.values():
            bar.set_scale(px, name_px)
        # Rows of bars sit close: the room goes to the figures, not the gaps between them.
        gap = max(2, round(px * 0.08))
        self.teams_box.setSpacing(gap)
        self.reps_grid.setVerticalSpacing(gap)
        self.ticker.set_scale(round(px * 0.55))
        set_axis_font(self.plot, round(px * 0.48))

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Scale with the window: the figures stay legible at five metres."""
        super().resizeEvent(event)
        window = self.window()
        height = window.height() if window is not None else event.size().height()
        if figure_px_for_height(height) != self.figure_px:
            self.apply_scale(height)
        self._fit_timer.start()

    def _fit_reps(self) -> None:
        """Show as many reps, best first, as fit the screen; say so when some are left out.

        A bar never shrinks below its figures (they must read from across the room), so a
        long list is cut rather than squashed or run off the bottom of the screen.
        """
        order = self._placed.get(id(self.rep_bars), [])
        if not order or not self.isVisible():
            return
        bars = self.rep_bars
        visible = [key for key in order if bars[key].isVisibleTo(self)]
        fits = len(visible)
        if any(bars[key].height() < bars[key].minimumSizeHint().height() for key in visible):
            fits -= 1  # the layout had to squash them: one fewer
        elif fits < len(order):
            # Room under the last bar for one more?
            layout = self.layout()
            bottom = self.height() - (layout.contentsMargins().bottom() if layout else 0)
            above = bars[visible[-1]].geometry().bottom() if visible else 0
            step = bars[order[0]].sizeHint().height() + max(0, self.reps_grid.verticalSpacing())
            if visible and bottom - above >= step:
                fits += 1
            elif not visible:
                fits = 1
        fits = max(1, fits)
        changed = False
        for i, key in enumerate(order):
            if bars[key].isVisibleTo(self) != (i < fits):
                bars[key].setVisible(i < fits)
                changed = True
        if changed:
            # Judge again once the layout has placed what is shown now.
            self._fit_timer.start()
        shown = min(fits, len(order))
        self.reps_heading.setText(
            "Reps" if shown == len(order) else f"Reps · top {shown} of {len(order)}"
        )

    # ------------------------------------------------------------------ data

    def _now(self) -> datetime:
        """Return the current time in the gym's zone."""
        zone = self.bridge.state.settings.zone
        if callable(self._clock):
            moment = self._clock()
            if isinstance(moment, datetime):
                return moment.astimezone(zone)
        return datetime.now(zone)

    def _pace(self, summary: PeriodSummary) -> float:
        """Return the share of the period gone by now (0 before it, 1 after it)."""
        start, end, _days = month_bounds(summary.period, self.bridge.state.settings.zone)
        now = self._now()
        span = (end - start).total_seconds()
        return min(1.0, max(0.0, (now - start).total_seconds() / span))

    def _bar(self, bars: dict[str, TargetBar], key: str, name: str) -> TargetBar:
        """Return the bar of a team or rep, creating it once."""
        bar = bars.get(key)
        if bar is None:
            bar = bars[key] = TargetBar(name, self.theme, self, currency=self.currency)
            px = self.figure_px
            bar.set_scale(px, round(px * 0.62))
        elif bar.name != name:
            bar.name = name
            bar.update()
        return bar

    def refresh(self) -> None:
        """Show every figure again: the total from the state, bars and ticker from models."""
        self._update_total()
        self._sync_bars(self.teams, self.team_bars, range(self.teams.rowCount()))
        self._sync_bars(self.reps, self.rep_bars, range(self.reps.rowCount()))
        self._update_ticker()
        self._update_clock()

    def _update_total(self) -> None:
        """Show the month's total against its target (the period has no item model)."""
        summary = self.bridge.state.period_summary()
        pace = self._pace(summary)
        year, month = (int(part) for part in summary.period.split("-"))
        self.title.setText(f"Sales · {calendar.month_name[month]} {year}")
        self.total_bar.set_values(summary.total_cents, summary.target_cents, pace)
        if summary.other_currency_count != self._other_currency:
            self._other_currency = summary.other_currency_count
            self._update_clock()

    def _sync_bars(
        self, model: RepModel | TeamModel, bars: dict[str, TargetBar], rows: Iterable[int]
    ) -> None:
        """Bring the bars of some model rows up to date, then fix their order if it moved."""
        pace = self._pace(self.bridge.state.period_summary())
        for row in rows:
            view = model.index(row, 0).data(ViewRole)
            if isinstance(view, RepView):
                name = view.name
            elif isinstance(view, TeamView):
                name = view.id
            else:
                continue
            bar = self._bar(bars, model.key_at(row), name)
            bar.set_values(view.total_cents, view.target_cents, pace)
        self._relayout(model, bars)

    def _order(self, model: RepModel | TeamModel) -> list[str]:
        """Return the keys in display order: teams by name, reps by sales (best first)."""
        keys = model.keys()
        if isinstance(model, TeamModel):
            return sorted(keys)
        views = {key: model.item_at(row) for row, key in enumerate(keys)}
        return sorted(keys, key=lambda k: (-views[k].total_cents, views[k].name, k))

    def _relayout(self, model: RepModel | TeamModel, bars: dict[str, TargetBar]) -> None:
        """Place the bars in order, only when the order changed; drop bars of gone rows."""
        order = self._order(model)
        for key in [k for k in bars if k not in order]:
            bar = bars.pop(key)
            bar.hide()
            bar.deleteLater()
        placed = self._placed.get(id(bars))
        if placed == order:
            return
        self._placed[id(bars)] = order
        for i, key in enumerate(order):
            bar = bars[key]
            if bars is self.team_bars:
                self.teams_box.removeWidget(bar)
                self.teams_box.insertWidget(i, bar)
                bar.show()
            else:
                self.reps_grid.removeWidget(bar)
                self.reps_grid.addWidget(bar, i, 0)
        if bars is self.rep_bars:
            self._fit_timer.start()  # once laid out: how many reps fit

    def _update_ticker(self) -> None:
        """Show the ticker model's rows (time, rep, product, amount), newest first."""
        model = self.sales
        self.ticker.set_rows(
            [
                (
                    str(model.index(row, SalesTickerModel.TIME).data()),
                    str(model.index(row, SalesTickerModel.REP).data()),
                    str(model.index(row, SalesTickerModel.PRODUCT).data()),
                    str(model.index(row, SalesTickerModel.AMOUNT).data()),
                )
                for row in range(model.rowCount())
            ]
        )

    def _update_chart(self) -> None:
        """Feed the two curves (created once) new numpy arrays."""
        state = self.bridge.state
        summary = state.period_summary()
        zone = state.settings.zone
        start, end, days = month_bounds(summary.period, zone)
        now = self._now()
        # Cumulative sales at the end of each day, up to today only.
        cumulative = summary.cumulative(days)
        ends = np.array(
            [(start + timedelta(days=d)).timestamp() for d in range(days + 1)], dtype=float
        )
        if now < start:
            shown = 0
        elif now >= end:
            shown = days
        else:
            shown = (now.date() - date(start.year, start.month, 1)).days + 1
        xs = np.concatenate(([ends[0]], ends[1 : shown + 1]))
        ys = np.concatenate(([0.0], np.array(cumulative[:shown], dtype=float)))
        if shown and now < end:
            xs[-1] = now.timestamp()
        self.actual_curve.setData(xs, ys / 100_000)
        if summary.target_cents:
            self.target_curve.setData(
                np.array([ends[0], ends[-1]]), np.array([0.0, summary.target_cents / 100_000])
            )
        else:
            self.target_curve.setData(np.array([], dtype=float), np.array([], dtype=float))
        item = self.plot.getPlotItem()
        item.setXRange(ends[0], ends[-1], padding=0.01)
        top = max(float(ys.max()) if ys.size else 0.0, float(summary.target_cents or 0))
        item.setYRange(0, max(1.0, top / 100_000) * 1.05, padding=0)

    def _update_clock(self) -> None:
        """Show the time and the day of the month."""
        now = self._now()
        days = calendar.monthrange(now.year, now.month)[1]
        self.clock_label.setText(f"{now:%H:%M}")
        text = f"Day {now.day} of {days}"
        other = self._other_currency
        if other:
            # Cents of two currencies do not add up: say what the totals leave out.
            sales = "sale" if other == 1 else "sales"
            text += f"  ·  {other} {sales} in other currencies not in the totals"
        self.subtitle.setText(text)

    # ------------------------------------------------------------------ slots

    def _on_bridge_changes_applied(self, changes: Changes) -> None:
        """The month's total and the pace line follow the period; bars follow their models."""
        if not (changes.views() & _WATCHED):
            return
        self._update_total()
        self._chart_throttle()

    def _on_model_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        """New teams or reps: a bar each, in place."""
        model = self.sender()
        if isinstance(model, RepModel | TeamModel):
            self._sync_bars(model, self._bars_of(model), range(first, last + 1))

    def _on_model_rows_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        """Teams or reps went away: their bars go too."""
        model = self.sender()
        if isinstance(model, RepModel | TeamModel):
            self._relayout(model, self._bars_of(model))

    def _on_model_data_changed(
        self, top: QModelIndex, bottom: QModelIndex, roles: object = None
    ) -> None:
        """Only the changed rows' bars are repainted (and reordered if the ranking moved)."""
        model = self.sender()
        if isinstance(model, RepModel | TeamModel):
            self._sync_bars(model, self._bars_of(model), range(top.row(), bottom.row() + 1))

    def _on_model_reset(self) -> None:
        """A model showed something else entirely: rebuild its bars."""
        model = self.sender()
        if isinstance(model, RepModel | TeamModel):
            self._sync_bars(model, self._bars_of(model), range(model.rowCount()))

    def _on_sales_changed(self, *args: object) -> None:
        """The newest sales changed: the ticker follows its model."""
        self._update_ticker()

    def _bars_of(self, model: RepModel | TeamModel) -> dict[str, TargetBar]:
        """Return the bars shown for a model's rows."""
        return self.team_bars if model is self.teams else self.rep_bars

    def _on_tick_timeout(self) -> None:
        """Move the clock and the pace tick along."""
        self._update_clock()
        summary = self.bridge.state.period_summary()
        pace = self._pace(summary)
        for bar in (self.total_bar, *self.team_bars.values(), *self.rep_bars.values()):
            bar.set_values(bar.total_cents, bar.target_cents, pace)
        self.ticker.update()

    def alert_scope(self) -> AlertScope:
        """Return no class: a toast would cover the ticker on a screen nobody can touch."""
        return NO_CLASS

    def save_state(self, settings: QSettings) -> None:
        """Nothing to keep: nobody touches the wallboard."""

    def restore_state(self, settings: QSettings) -> None:
        """Nothing to restore."""
