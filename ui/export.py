"""Pictures of the graph (PNG with a scale factor, SVG, PDF, clipboard) and of the window.

The window and `main.py export` draw through the same GraphScene items.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF, QObject, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import (QGuiApplication, QImage, QPageLayout, QPageSize, QPainter,
                           QPdfWriter)
from PySide6.QtWidgets import QFileDialog, QGraphicsScene, QInputDialog, QWidget

from viz.errors import StudioError

FORMATS = (".png", ".svg", ".pdf")
MARGIN = 20.0
MAX_SIDE = 16384  # QImage and most viewers cope; a 2,000-node graph at 2x still fits


def scene_source(scene: QGraphicsScene) -> QRectF:
    return scene.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def image_size(source: QRectF, scale: float) -> QSize:
    """Pixel size for a scale factor, shrunk to fit MAX_SIDE so huge graphs still export."""
    scale = min(scale, MAX_SIDE / max(source.width(), 1.0), MAX_SIDE / max(source.height(), 1.0))
    return QSize(max(1, round(source.width() * scale)), max(1, round(source.height() * scale)))


def scene_image(scene: QGraphicsScene, scale: float = 1.0) -> QImage:
    source = scene_source(scene)
    image = QImage(image_size(source, scale), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(scene.backgroundBrush().color())
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing
                           | QPainter.RenderHint.TextAntialiasing
                           | QPainter.RenderHint.SmoothPixmapTransform)
    scene.render(painter, QRectF(image.rect()), source, Qt.AspectRatioMode.KeepAspectRatio)
    painter.end()
    return image


def _write_svg(scene: QGraphicsScene, path: Path) -> None:
    from PySide6.QtSvg import QSvgGenerator  # QtSvg loads only for SVG export

    source = scene_source(scene)
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(source.size().toSize())
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    generator.setTitle("Autograd Studio graph")
    painter = QPainter(generator)
    painter.fillRect(QRectF(0, 0, source.width(), source.height()), scene.backgroundBrush())
    scene.render(painter, QRectF(0, 0, source.width(), source.height()), source)
    painter.end()


def _write_pdf(scene: QGraphicsScene, path: Path) -> None:
    source = scene_source(scene)
    writer = QPdfWriter(str(path))
    writer.setTitle("Autograd Studio graph")
    writer.setResolution(72)  # one scene unit = one point: the page is the graph's size
    writer.setPageLayout(QPageLayout(QPageSize(QSizeF(source.width(), source.height()),
                                               QPageSize.Unit.Point, "graph"),
                                     QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    painter = QPainter(writer)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing
                           | QPainter.RenderHint.TextAntialiasing)
    target = QRectF(0, 0, writer.width(), writer.height())
    painter.fillRect(target, scene.backgroundBrush())
    scene.render(painter, target, source)
    painter.end()


def export_scene(scene: QGraphicsScene, path: Path, scale: float = 1.0) -> None:
    """Write the graph; the suffix picks PNG, SVG or PDF. Raises StudioError(kind 'io')."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise StudioError("option", f"cannot export a graph picture as '{suffix or path.name}'",
                          where=str(path), hint="use .png, .svg or .pdf")
    if scale <= 0:
        raise StudioError("option", f"scale must be positive, not {scale}", where=str(path))
    if suffix == ".png":
        ok = scene_image(scene, scale).save(str(path), "PNG")
    elif suffix == ".svg":
        _write_svg(scene, path)
        ok = path.exists()
    else:
        _write_pdf(scene, path)
        ok = path.exists()
    if not ok:
        raise StudioError("io", f"could not write {path}", where=str(path),
                          hint="check the folder exists and is writable")


def copy_scene_to_clipboard(scene: QGraphicsScene, scale: float = 2.0) -> QImage:
    image = scene_image(scene, scale)
    QGuiApplication.clipboard().setImage(image)
    return image


def save_window_screenshot(window: QWidget, path: Path) -> None:
    """The whole window as it looks now, at the screen's pixel ratio (sharp on high DPI)."""
    if not window.grab().save(str(path)):
        raise StudioError("io", f"could not write {path}", where=str(path),
                          hint="use a .png path in a writable folder")


class Exporter(QObject):
    """File -> Export: asks where (and the PNG scale), writes, reports through signals."""

    done = Signal(str)
    failed = Signal(object)  # StudioError

    def __init__(self, scene: QGraphicsScene, window: QWidget) -> None:
        super().__init__(window)
        self._scene = scene
        self._window = window

    def export_dialog(self, suffix: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self._window, f"Export graph as {suffix[1:].upper()}",
                                              f"graph{suffix}", f"*{suffix}")
        if not path:
            return
        scale = 1.0
        if suffix == ".png":
            scale, ok = QInputDialog.getDouble(self._window, "PNG scale",
                                               "Scale factor (2 or 3 for slides):", 2.0, 0.25,
                                               8.0, 2)
            if not ok:
                return
        self.export_to(Path(path), scale)

    def export_to(self, path: Path, scale: float = 1.0) -> None:
        try:
            export_scene(self._scene, path, scale)
        except StudioError as err:
            self.failed.emit(err)
            return
        self.done.emit(f"Exported {path}")

    def copy_image(self) -> None:
        image = copy_scene_to_clipboard(self._scene)
        self.done.emit(f"Copied a {image.width()}\u00d7{image.height()} image of the graph")

    def window_screenshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self._window, "Save window screenshot",
                                              "autograd-studio.png", "*.png")
        if path:
            self.window_screenshot_to(Path(path))

    def window_screenshot_to(self, path: Path) -> None:
        try:
            save_window_screenshot(self._window, path)
        except StudioError as err:
            self.failed.emit(err)
            return
        self.done.emit(f"Saved window screenshot {path}")
