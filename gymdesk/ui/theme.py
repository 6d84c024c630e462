"""Colours and fonts: a calm light theme for the desks, a dark one for the wallboard."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PySide6.QtCore import QDir, QPointF, QStandardPaths, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPolygonF
from PySide6.QtWidgets import QApplication

BASE_POINT_SIZE: Final = 11.5


@dataclass(frozen=True, slots=True)
class Theme:
    """The colours a view paints with."""

    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    accent: str
    good: str
    warn: str
    bad: str
    bar_track: str
    now_row: str
    next_row: str
    scroll_handle: str


LIGHT: Final = Theme(
    name="light",
    window="#f4f6f9",
    base="#ffffff",
    alt_base="#f8fafc",
    text="#1f2933",
    muted="#6b7785",
    accent="#2f80ed",
    good="#2e9d5b",
    warn="#d98a00",
    bad="#d64545",
    bar_track="#e6ebf1",
    now_row="#e3f0ff",
    next_row="#f1f7ff",
    scroll_handle="#c3ccd6",
)

DARK: Final = Theme(
    name="dark",
    window="#0f141a",
    base="#161d26",
    alt_base="#1b2430",
    text="#eef2f6",
    muted="#8c99a8",
    accent="#4f9dff",
    good="#3ddc84",
    warn="#ffb020",
    bad="#ff5c5c",
    bar_track="#263241",
    now_row="#1d3350",
    next_row="#1a2738",
    scroll_handle="#3a4a5e",
)


def palette(theme: Theme) -> QPalette:
    """Return a QPalette for a theme."""
    pal = QPalette()
    role = QPalette.ColorRole
    pal.setColor(role.Window, QColor(theme.window))
    pal.setColor(role.WindowText, QColor(theme.text))
    pal.setColor(role.Base, QColor(theme.base))
    pal.setColor(role.AlternateBase, QColor(theme.alt_base))
    pal.setColor(role.Text, QColor(theme.text))
    pal.setColor(role.Button, QColor(theme.base))
    pal.setColor(role.ButtonText, QColor(theme.text))
    pal.setColor(role.Highlight, QColor(theme.accent))
    pal.setColor(role.HighlightedText, QColor("#ffffff"))
    pal.setColor(role.ToolTipBase, QColor(theme.base))
    pal.setColor(role.ToolTipText, QColor(theme.text))
    pal.setColor(role.PlaceholderText, QColor(theme.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(theme.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(theme.muted))
    return pal


def arrow_image(colour: str, up: bool = False) -> str:
    """Return the path of a small arrow PNG in ``colour`` (drawn once, then cached).

    A styled combo or spin box draws its arrow buttons with a hard dark frame; styling the
    buttons away also drops the arrows, which a style sheet can only bring back as images.
    """
    folder = Path(
        QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
        or QDir.tempPath()
    )
    path = folder / f"arrow-{'up' if up else 'down'}-{colour.lstrip('#')}.png"
    if not path.exists():
        image = QImage(20, 14, QImage.Format.Format_ARGB32_Premultiplied)  # 2x for HiDPI
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        points = [QPointF(2, 3), QPointF(18, 3), QPointF(10, 12)]
        if up:
            points = [QPointF(p.x(), 14 - p.y()) for p in points]
        painter.drawPolygon(QPolygonF(points))
        painter.end()
        folder.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: another gymdesk starting at the same moment must
        # never read a half-written image.
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.png")
        if not image.save(str(partial)):
            raise OSError(f"cannot write {partial}")
        os.replace(partial, path)
    return path.as_posix()


def stylesheet(theme: Theme) -> str:
    """Return the application style sheet of a theme: spacing and quiet borders.

    Scroll bars are flat here, a rounded handle on no track: Fusion's own, drawn through
    the style sheet, took 2-10 ms a paint at the board's height (its handle changes size
    as rows come, so no cached pixmap serves), a flat one takes under 0.2 ms.
    """
    try:
        down = arrow_image(theme.muted)
        up = arrow_image(theme.muted, up=True)
    except OSError:  # no writable cache: keep the style's own arrow buttons
        arrows = ""
    else:
        arrows = f"""
QComboBox::drop-down {{
    subcontrol-origin: padding; subcontrol-position: center right;
    width: 24px; border: none; background: transparent;
}}
QComboBox::down-arrow {{ image: url({down}); width: 10px; height: 7px; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{
    subcontrol-origin: border; width: 22px; border: none; background: transparent;
}}
QAbstractSpinBox::up-button {{ subcontrol-position: top right; }}
QAbstractSpinBox::down-button {{ subcontrol-position: bottom right; }}
QAbstractSpinBox::up-arrow {{ image: url({up}); width: 9px; height: 6px; }}
QAbstractSpinBox::down-arrow {{ image: url({down}); width: 9px; height: 6px; }}
"""
    return (
        arrows
        + f"""
QMainWindow, QDialog {{ background: {theme.window}; }}
QTableView, QTreeView, QListView {{
    background: {theme.base}; alternate-background-color: {theme.alt_base};
    border: 1px solid {theme.bar_track}; border-radius: 6px;
    gridline-color: transparent; selection-background-color: {theme.accent};
}}
QHeaderView::section {{
    background: {theme.window}; color: {theme.muted}; border: none;
    border-bottom: 1px solid {theme.bar_track}; padding: 6px 8px; font-weight: 600;
}}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox {{
    padding: 5px 8px; border: 1px solid {theme.bar_track}; border-radius: 5px;
    background: {theme.base}; color: {theme.text};
}}
QPushButton, QToolButton {{
    padding: 5px 12px; border: 1px solid {theme.bar_track}; border-radius: 5px;
    background: {theme.base}; color: {theme.text};
}}
QPushButton:hover, QToolButton:hover {{ border-color: {theme.accent}; }}
QPushButton:checked, QToolButton:checked {{
    background: {theme.accent}; color: #ffffff; border-color: {theme.accent};
}}
QStatusBar {{ background: {theme.base}; border-top: 1px solid {theme.bar_track}; }}
QStatusBar QLabel {{ padding: 0 6px; }}
QSplitter::handle {{ background: {theme.window}; }}
QScrollBar:vertical {{ background: transparent; width: 12px; margin: 0; border: none; }}
QScrollBar:horizontal {{ background: transparent; height: 12px; margin: 0; border: none; }}
QScrollBar::handle {{ background: {theme.scroll_handle}; border-radius: 4px; margin: 2px; }}
QScrollBar::handle:hover {{ background: {theme.muted}; }}
QScrollBar::handle:vertical {{ min-height: 32px; }}
QScrollBar::handle:horizontal {{ min-width: 32px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; border: none; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QProgressBar {{
    border: 1px solid {theme.bar_track}; border-radius: 4px; background: {theme.bar_track};
    text-align: center; color: {theme.text}; max-height: 14px;
}}
QProgressBar::chunk {{ background: {theme.accent}; border-radius: 3px; }}
QFrame#staleBanner {{
    background: #fff4d6; border: 1px solid {theme.warn}; border-radius: 6px;
}}
QFrame#staleBanner QLabel {{ color: #6b4500; }}
QFrame#busyBanner {{
    background: {theme.base}; border: 1px solid {theme.bar_track}; border-radius: 6px;
}}
QFrame#busyBanner QLabel {{ color: {theme.muted}; }}
QFrame#busyBanner[busy="true"] {{
    background: #fdecec; border: 1px solid {theme.bad}; border-radius: 6px;
}}
QFrame#busyBanner[busy="true"] QLabel {{ color: #8a1f1f; }}
QLabel#muted {{ color: {theme.muted}; }}
"""
    )


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Apply a theme to the whole application (Fusion style, palette, style sheet, font)."""
    app.setStyle("Fusion")
    app.setPalette(palette(theme))
    font = QFont(app.font())
    font.setPointSizeF(BASE_POINT_SIZE)
    app.setFont(font)
    app.setStyleSheet(stylesheet(theme))


def theme_for_role(role: str) -> Theme:
    """Return the theme of a role: dark for the wallboard, light for the desks."""
    return DARK if role == "wallboard" else LIGHT


def euros(cents: int) -> str:
    """Format cents as whole euros with thousands separators: ``€12,340``."""
    return f"€{round(cents / 100):,}"


def percent(value: float | None) -> str:
    """Format a share as a whole percentage, an en dash when unknown."""
    return "-" if value is None else f"{value * 100:.0f}%"
