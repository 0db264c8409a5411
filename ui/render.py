"""Headless rendering for `main.py export ... -o out.png|.svg|.pdf`: the window's own items."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from ui.export import export_scene, scene_image
from ui.export_task import take_apart
from ui.graph_items import GraphScene
from ui.themes import THEMES
from viz.errors import StudioError

if TYPE_CHECKING:
    from viz.engine.trace import Trace


def ensure_application() -> QApplication:
    """The running QApplication, or an offscreen one (no display needed)."""
    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["autograd-studio"])
    return app  # type: ignore[return-value]


def render_trace(trace: Trace, path: Path, scale: float = 1.0, theme: str = "light",
                 legend: bool = True) -> None:
    """Render the trace's graph to .png/.svg/.pdf; theme is light, dark or high-contrast.

    The legend goes in a strip under the graph, as the window shows it by default.
    """
    ensure_application()
    colors = THEMES.get(theme, THEMES["light"]).graph
    scene = GraphScene(colors)
    # Drawn once, whole: a spatial index would only cost (long edges of a node with
    # thousands of inputs filled the BSP tree with gigabytes).
    scene.auto_index = False
    scene.setItemIndexMethod(GraphScene.ItemIndexMethod.NoIndex)
    scene.set_trace(trace)
    path = Path(path)
    try:
        if path.suffix.lower() == ".png" and scale > 0:
            write_png(scene_image(scene, scale, legend), path)
        else:
            export_scene(scene, path, scale, legend)
    finally:
        take_apart(scene)


# zlib's level 3 on unfiltered rows: a third of QImage.save's time or less (it tries every
# PNG filter on every row: a second for a 300-node graph's 1000x16000 picture, then the
# largest part of a cold `export -o g.png`), for a file at most about a quarter larger.
PNG_LEVEL = 3
ROWS_PER_STEP = 256  # rows handed to zlib at a time: the picture is never copied whole


def write_png(image: QImage, path: Path) -> None:
    """``image`` as the PNG ``QImage.save`` writes (8-bit RGBA, not interlaced, its
    pHYs), the same pixels, written sooner. Raises StudioError (kind 'io') as
    ``export_scene`` does."""
    if image.textKeys():  # text chunks: Qt's writer has them
        if not image.save(str(path), "PNG"):
            raise StudioError("io", f"could not write {path}", where=str(path),
                              hint="check the folder exists and is writable")
        return
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)  # straight alpha, bytes R G B A
    width, height, stride = rgba.width(), rgba.height(), rgba.bytesPerLine()
    bits, row = memoryview(rgba.constBits()), 4 * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    try:
        with open(path, "wb") as file:
            file.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)))
            x_dpm, y_dpm = rgba.dotsPerMeterX(), rgba.dotsPerMeterY()
            if x_dpm > 0 and y_dpm > 0:
                file.write(chunk(b"pHYs", struct.pack(">IIB", x_dpm, y_dpm, 1)))
            deflate = zlib.compressobj(PNG_LEVEL)
            for top in range(0, height, ROWS_PER_STEP):
                rows: list[bytes | memoryview] = []
                for y in range(top, min(top + ROWS_PER_STEP, height)):
                    rows += (b"\0", bits[y * stride:y * stride + row])  # filter type 0: the row as it is
                data = deflate.compress(b"".join(rows))
                if data:
                    file.write(chunk(b"IDAT", data))
            file.write(chunk(b"IDAT", deflate.flush()) + chunk(b"IEND", b""))
    except OSError:
        raise StudioError("io", f"could not write {path}", where=str(path),
                          hint="check the folder exists and is writable") from None
