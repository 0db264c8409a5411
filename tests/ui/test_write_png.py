"""The command line's PNG writer (ui.render.write_png, zlib on plain rows: QImage.save
tried every filter on every row, most of a cold `export -o g.png` of a big graph) writes
the very pixels Qt's writer does, with the same resolution, and says where it could not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from ui.export import scene_image
from ui.graph_items import GraphScene
from ui.render import write_png
from ui.themes import THEMES
from viz.engine.engine import trace_code
from viz.errors import StudioError


@pytest.mark.parametrize("theme, scale", [("light", 1.0), ("dark", 2.0)])
def test_the_pixels_are_qts(qapp, tmp_path: Path, theme: str, scale: float) -> None:  # noqa: ANN001
    trace = trace_code("x = torch.tensor([1.0, 2.0], requires_grad=True)\nh = (x * 3).tanh()\nh.sum()\n")
    scene = GraphScene(THEMES[theme].graph)
    scene.set_trace(trace)
    image = scene_image(scene, scale, True)
    assert image.save(str(tmp_path / "qt.png"), "PNG")
    write_png(image, tmp_path / "ours.png")
    qt, ours = Image.open(tmp_path / "qt.png"), Image.open(tmp_path / "ours.png")
    assert ours.mode == qt.mode == "RGBA" and ours.size == qt.size
    assert np.array_equal(np.asarray(ours), np.asarray(qt))
    assert ours.info.get("dpi") == qt.info.get("dpi")


def test_a_folder_that_is_not_there_is_one_clear_error(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    image = QImage(4, 3, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0xFF336699)
    with pytest.raises(StudioError) as info:
        write_png(image, tmp_path / "missing" / "g.png")
    assert info.value.kind == "io" and "could not write" in info.value.what
