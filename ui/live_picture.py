"""A picture of the window's own scene, made without holding the window: File > Export PNG, SVG, PDF.

The scene lives on the GUI thread, so it is painted there, but a band at a time
(ui.export.painting: a PNG a band of area at a time, an SVG or PDF a part of the items),
each a step of the export's runner with the window's events between two (a 20,000-node
graph was seconds of one render, red team 40); the picture is the one a single render
gives. Encoding and writing the file (a 16,384-pixel PNG: seconds) happen on the
export's thread (ui.export_jobs), which QImage.save leaves the GUI thread free during. The runner's dialog is modal while the
scene is painted; a graph replaced meanwhile (a run coming back) stops the export.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene

from ui.export import (image_painter, image_size, painting, pdf_painter, pdf_writer, picture_rect, png_said,
                       svg_generator)
from ui.export_task import ExportOutcome, ExportTask
from viz.errors import StudioError


class LivePicture:
    """One picture of ``scene`` as it is now, as ``suffix`` (.png, .svg or .pdf) says
    (``scale``: a PNG's pixels per scene unit asked, shrunk as ui.export.image_size does;
    ``legend``: the keys under it). SVG and PDF are written into memory while painted."""

    def __init__(self, scene: QGraphicsScene, suffix: str, scale: float, legend: bool) -> None:
        self._scene = scene
        self._trace = getattr(scene, "trace", None)
        self._legend = legend
        self._suffix = suffix
        self._rect = picture_rect(scene, legend)
        self._written = b""
        self.scale = 1.0
        self.image = QImage()
        self._buffer = QBuffer()
        self._device: Any = None
        if suffix == ".png":
            size, self.scale = image_size(self._rect, scale)
            self.image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
            self.image.fill(scene.backgroundBrush().color())
        else:
            self._buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            self._device = (svg_generator if suffix == ".svg" else pdf_writer)(self._rect, self._buffer)

    def painting(self) -> Generator[tuple[int, int, str], None, None]:
        """Paint it, a step per item (done, total, what) for ExportRunner.start's slices."""
        if self._suffix == ".png":
            painter = image_painter(self.image, self.scale)
        else:
            painter = pdf_painter(self._device, self._rect) if self._suffix == ".pdf" else QPainter(self._device)
        try:
            for done, total in painting(painter, self._scene, self._legend,
                                        pixel_scale=self.scale if self._suffix == ".png" else None):
                yield done, total, "part"
                if getattr(self._scene, "trace", None) is not self._trace:
                    raise StudioError("option", "the graph changed while it was being exported",
                                      hint="export again once the new graph is shown")
        finally:
            painter.end()
        self._written = bytes(self._buffer.data())

    def write(self, path: Path, asked: float, task: ExportTask, write_to: Path) -> ExportOutcome:
        """Save it as ``path`` (to ``write_to``, the file that becomes it), on any thread."""
        task.step(0, 1, "")
        if self._suffix != ".png":
            try:
                write_to.write_bytes(self._written)
            except OSError as err:
                raise StudioError("io", f"could not write {path}: {err.strerror or err}", where=str(path),
                                  hint="check the folder exists and is writable") from None
            return ExportOutcome(f"Exported {path}")
        if not self.image.save(str(write_to), "PNG"):
            raise StudioError("io", f"could not write {path}", where=str(path),
                              hint="check the folder exists and is writable")
        return ExportOutcome(png_said(path, self.image.width(), self.image.height(), asked, self.scale))
