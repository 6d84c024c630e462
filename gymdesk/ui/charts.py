"""pyqtgraph set-up shared by the charts: PySide6 first, one curve per series, fed by setData."""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
import PySide6.QtWidgets  # noqa: F401  (pyqtgraph must find PySide6 already loaded)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QWidget

from gymdesk.ui.theme import Theme


def make_plot(
    theme: Theme, parent: QWidget | None = None, *, interactive: bool = True
) -> tuple[pg.PlotWidget, pg.DateAxisItem]:
    """Return a themed plot with a date axis at the bottom (fed Unix seconds)."""
    axis = pg.DateAxisItem(orientation="bottom")
    plot = pg.PlotWidget(parent=parent, axisItems={"bottom": axis}, background=theme.base)
    item = plot.getPlotItem()
    item.showGrid(x=False, y=True, alpha=0.15)
    item.setClipToView(True)
    item.setDownsampling(mode="peak")
    item.hideButtons()
    for name in ("left", "bottom"):
        ax = item.getAxis(name)
        ax.setPen(pg.mkPen(QColor(theme.muted)))
        ax.setTextPen(pg.mkPen(QColor(theme.muted)))
    if not interactive:
        item.setMouseEnabled(x=False, y=False)
        item.setMenuEnabled(False)
        plot.setInteractive(False)
    return plot, axis


def set_axis_font(plot: pg.PlotWidget, pixel_size: int) -> None:
    """Set the tick font of both axes to a pixel size (the wallboard scales it)."""
    font = QFont()
    font.setPixelSize(max(8, pixel_size))
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setStyle(tickFont=font, tickTextOffset=max(4, pixel_size // 3))
        if name == "left":
            axis.setWidth(int(pixel_size * 4))
        else:
            axis.setHeight(int(pixel_size * 2))
