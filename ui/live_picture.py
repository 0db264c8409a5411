"""A PNG of the window's own scene, made without holding the window: File > Export PNG.

The scene lives on the GUI thread, so it is painted there, but a band at a time
(ui.export.painting), each a step of the export's runner with the window's events
between two (a 20,000-node graph was seconds of one render, red team 40); the
picture's pixels are those a single render gives. Encoding and writing the file (a
16,384-pixel picture: seconds) happen on the export's thread (ui.export_jobs), which
QImage.save leaves the GUI thread free during. The runner's dialog is modal while the
scene is painted; a graph replaced meanwhile (a run coming back) stops the export.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsScene

from ui.export import image_painter, image_size, painting, picture_rect
from ui.export_task import ExportOutcome, ExportTask
from viz.errors import StudioError


class LivePicture:
    """One picture of ``scene`` as it is now (``scale``: pixels per scene unit asked,
    shrunk as ui.export.image_size does; ``legend``: the keys under it)."""

    def __init__(self, scene: QGraphicsScene, scale: float, legend: bool) -> None:
        self._scene = scene
        self._trace = getattr(scene, "trace", None)
        self._legend = legend
        size, self.scale = image_size(picture_rect(scene, legend), scale)
        self.image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
        self.image.fill(scene.backgroundBrush().color())

    def painting(self) -> Generator[tuple[int, int, str], None, None]:
        """Paint it, a step per item (done, total, what) for ExportRunner.start's slices."""
        painter = image_painter(self.image, self.scale)
        try:
            for done, total in painting(painter, self._scene, self._legend, pixel_scale=self.scale):
                yield done, total, "band"
                if getattr(self._scene, "trace", None) is not self._trace:
                    raise StudioError("option", "the graph changed while it was being exported",
                                      hint="export again once the new graph is shown")
        finally:
            painter.end()

    def write_png(self, path: Path, asked: float, task: ExportTask, write_to: Path) -> ExportOutcome:
        """Save it as ``path`` (to ``write_to``, the file that becomes it), on any thread."""
        task.step(0, 1, "")
        if not self.image.save(str(write_to), "PNG"):
            raise StudioError("io", f"could not write {path}", where=str(path),
                              hint="check the folder exists and is writable")
        return ExportOutcome(f"Exported {path} ({self.image.width()}\u00d7{self.image.height()} px at "
                             f"{asked:g}\u00d7; the scale is in Preferences)")
