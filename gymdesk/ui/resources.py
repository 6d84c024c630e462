"""Find gymdesk's resources (icons) beside the package or inside a frozen build."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap

ICON_SIZES: Final = (16, 24, 32, 48, 64, 128, 256)


def resources_dir() -> Path:
    """Return the ``resources/`` directory: in a frozen bundle, else beside the package."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen:
        candidates.append(Path(frozen) / "resources")
    package = Path(__file__).resolve().parent.parent  # gymdesk/
    candidates += [package / "resources", package.parent / "resources"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]


def resource_path(*parts: str) -> Path:
    """Return the path of a resource file (which may not exist)."""
    return resources_dir().joinpath(*parts)


def _draw_fallback(size: int) -> QImage:
    """Draw the mark with QPainter when neither PNGs nor an SVG renderer are there."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 256
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#2f80ed"))
    painter.drawRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 52 * s, 52 * s)
    painter.setBrush(QColor("#ffffff"))
    for x, y, w, h in ((60, 120, 136, 16), (66, 84, 26, 88), (164, 84, 26, 88)):
        painter.drawRoundedRect(QRectF(x * s, y * s, w * s, h * s), 8 * s, 8 * s)
    for x, y, w, h in ((40, 100, 20, 56), (196, 100, 20, 56)):
        painter.drawRoundedRect(QRectF(x * s, y * s, w * s, h * s), 8 * s, 8 * s)
    painter.setBrush(QColor("#3ddc84"))
    painter.drawEllipse(QRectF(182 * s, 38 * s, 36 * s, 36 * s))
    painter.end()
    return image


def render_icon(size: int) -> QImage:
    """Render the app mark at ``size`` pixels from the SVG (or draw it)."""
    svg = resource_path("icons", "gymdesk.svg")
    try:
        from PySide6.QtSvg import QSvgRenderer
    except ImportError:  # a build without QtSvg
        return _draw_fallback(size)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        return _draw_fallback(size)
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def write_icon_pngs(directory: Path | None = None) -> list[Path]:
    """Render ``gymdesk-<size>.png`` for every icon size; return the files written."""
    target = directory or resource_path("icons")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for size in ICON_SIZES:
        path = target / f"gymdesk-{size}.png"
        render_icon(size).save(str(path))
        written.append(path)
    return written


def app_icon() -> QIcon:
    """Return the app icon with every size it ships (PNGs first, else rendered)."""
    icon = QIcon()
    for size in ICON_SIZES:
        png = resource_path("icons", f"gymdesk-{size}.png")
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
        else:
            icon.addPixmap(QPixmap.fromImage(render_icon(size)))
    return icon
