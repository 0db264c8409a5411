"""File > Export and Copy Graph Image in the window: asks where, writes, reports.

The pictures are ui.export's; one of the window's own scene is painted between the
window's events and written on the export's thread (ui.live_picture, ui.export_jobs).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QImageReader
from PySide6.QtWidgets import QGraphicsScene, QWidget

from ui import export as pictures
from ui.export import (FORMATS, copy_scene_to_clipboard, export_name, export_scene, lesson_job,
                       save_window_screenshot)
from ui.export_task import ExportOutcome, ExportTask
from ui.file_dialogs import EXPORTS, save_file_name
from ui.graph_items import GraphScene
from ui.live_picture import LivePicture
from ui.settings import PNG_SCALE, Settings
from viz.errors import StudioError

if TYPE_CHECKING:
    from ui.export_jobs import ExportRunner
    from viz.engine.trace import Trace


class Exporter(QObject):
    """File -> Export: asks where, writes, reports through signals.

    One dialog: a PNG takes its scale from Preferences (2x by default), and the status
    line says which size it came out. Pictures carry the legend when the view shows it
    (``with_legend`` asks). With ``runner`` an HTML lesson, which draws a scene of its
    own, is written off the GUI thread (ui.export_jobs); the report comes when it is done.
    """

    done = Signal(str)
    failed = Signal(object)  # StudioError

    def __init__(self, scene: QGraphicsScene, window: QWidget,
                 with_legend: Callable[[], bool] = lambda: False,
                 settings: Settings | None = None,
                 title: Callable[[Trace], str | None] = lambda _trace: None,
                 runner: ExportRunner | None = None) -> None:
        """title: the page title of an HTML export of this trace (the window's name for
        its code, "edited" and all), or None for the file the code ran as."""
        super().__init__(window)
        self._runner = runner
        self._scene = scene
        self._title = title
        self._window = window
        self._with_legend = with_legend
        self._settings = settings if settings is not None else Settings()

    def export_dialog(self, suffix: str) -> None:
        name = export_name(getattr(self._scene, "trace", None), suffix, "graph")
        path = save_file_name(self._window, EXPORTS, f"Export graph as {suffix[1:].upper()}",
                              name, f"*{suffix}", self._settings)
        if not path:
            return
        # The dialog's range, for a value edited into the settings file by hand.
        scale = min(max(self._settings.get(PNG_SCALE), 0.25), 8.0) if suffix == ".png" else 1.0
        self.export_to(Path(path), scale)

    def export_to(self, path: Path, scale: float = 1.0) -> None:
        """Write ``path``; ``done`` or ``failed`` says how it went (an HTML lesson with a
        runner: later, once written)."""
        try:
            if path.suffix.lower() == ".html":
                self._export_lesson(path)
                return
            if path.suffix.lower() in FORMATS and self._runner is not None and scale > 0:
                picture = LivePicture(self._scene, path.suffix.lower(), scale, self._with_legend())
                self._runner.start(path, partial(picture.write, path, scale), self.done.emit,
                                   self.failed.emit, slices=picture.painting())
                return
            export_scene(self._scene, path, scale, self._with_legend())
        except StudioError as err:
            self.failed.emit(err)
            return
        if path.suffix.lower() == ".png":  # the header only: the picture may be 16k wide
            pixels = QImageReader(str(path)).size()
            used = pictures.image_size(pictures.picture_rect(self._scene, self._with_legend()), scale)[1]
            self.done.emit(pictures.png_said(path, pixels.width(), pixels.height(), scale, used))
            return
        self.done.emit(f"Exported {path}")

    def _export_lesson(self, path: Path) -> None:
        """File > Export Interactive HTML: the shown trace as one self-contained page.
        What it needs of the window is taken now; the page is written by ``lesson_job``."""
        trace = getattr(self._scene, "trace", None)
        if trace is None or not trace.graph.number_of_nodes():
            raise StudioError("option", "there is no graph to export yet", where=str(path),
                              hint="run the code first (Ctrl+Enter)")
        colors = self._scene.colors() if isinstance(self._scene, GraphScene) else None
        job = partial(lesson_job, trace, path, colors, self._title(trace))
        if self._runner is None:
            self.done.emit(job(ExportTask(), path).message)
        else:
            self._runner.start(path, job, self.done.emit, self.failed.emit)

    def copy_image(self, scale: float = 2.0) -> None:
        """Edit > Copy Graph Image. A big graph's is painted between the window's events,
        as its PNG export is, and reaches the clipboard once whole."""
        if self._runner is None or len(getattr(self._scene, "nodes", ()) or ()) <= pictures.BAND_NODES:
            image = copy_scene_to_clipboard(self._scene, scale, legend=self._with_legend())
            self.done.emit(f"Copied a {image.width()}\u00d7{image.height()} image of the graph")
            return
        picture = LivePicture(self._scene, ".png", scale, self._with_legend())
        said = f"Copied a {picture.image.width()}\u00d7{picture.image.height()} image of the graph"

        def copied(message: str) -> None:
            QGuiApplication.clipboard().setImage(picture.image)
            self.done.emit(message)

        self._runner.start(None, lambda _task, _to: ExportOutcome(said), copied, self.failed.emit,
                           slices=picture.painting())

    def window_screenshot_dialog(self) -> None:
        path = save_file_name(self._window, EXPORTS, "Save window screenshot",
                              "autograd-studio.png", "*.png", self._settings)
        if path:
            self.window_screenshot_to(Path(path))

    def window_screenshot_to(self, path: Path) -> None:
        try:
            save_window_screenshot(self._window, path)
        except StudioError as err:
            self.failed.emit(err)
            return
        self.done.emit(f"Saved window screenshot {path}")
