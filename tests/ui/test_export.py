from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QGuiApplication, QImage
from pytestqt.qtbot import QtBot

from ui.export import copy_scene_to_clipboard, export_scene, save_window_screenshot, scene_image
from ui.graph_view import GraphView
from ui.render import render_trace
from ui.themes import THEMES
from viz.engine.engine import trace_code
from viz.errors import StudioError

CODE = ("w = torch.randn(3, 2, requires_grad=True)\nb = torch.zeros(2, requires_grad=True)\n"
        "x = torch.ones(4, 3)\nloss = ((x @ w + b).relu() ** 2).mean()\nloss\n")


@pytest.fixture(scope="module")
def trace() -> object:
    return trace_code(CODE)


def distinct_colors(image: QImage, step: int = 3) -> set[int]:
    return {image.pixel(x, y) for x in range(0, image.width(), step)
            for y in range(0, image.height(), step)}


def test_png_scale_factor_multiplies_the_pixels(qtbot: QtBot, trace: object,
                                                tmp_path: Path) -> None:
    render_trace(trace, tmp_path / "one.png", scale=1.0)
    render_trace(trace, tmp_path / "two.png", scale=2.0)
    one, two = QImage(str(tmp_path / "one.png")), QImage(str(tmp_path / "two.png"))
    assert abs(two.width() - 2 * one.width()) <= 1 and abs(two.height() - 2 * one.height()) <= 1
    assert len(distinct_colors(one)) > 10  # boxes, text, edges: not a blank page
    assert QColor(one.pixel(1, 1)) == QColor(THEMES["light"].graph.background)


def test_dark_theme_export_has_a_dark_background(trace: object, tmp_path: Path) -> None:
    render_trace(trace, tmp_path / "dark.png", theme="dark")
    image = QImage(str(tmp_path / "dark.png"))
    assert QColor(image.pixel(1, 1)) == QColor(THEMES["dark"].graph.background)


def test_svg_and_pdf_hold_the_drawing(trace: object, tmp_path: Path) -> None:
    render_trace(trace, tmp_path / "g.svg")
    render_trace(trace, tmp_path / "g.pdf")
    svg = (tmp_path / "g.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "loss" in svg  # the labels are text, searchable in the slide deck
    pdf = (tmp_path / "g.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_unknown_suffix_and_bad_folder_are_clear_errors(trace: object, tmp_path: Path) -> None:
    with pytest.raises(StudioError) as bad_suffix:
        render_trace(trace, tmp_path / "g.bmpx")
    assert bad_suffix.value.kind == "option" and ".png" in bad_suffix.value.hint
    with pytest.raises(StudioError) as bad_folder:
        render_trace(trace, tmp_path / "missing" / "g.png")
    assert bad_folder.value.kind == "io"


def test_window_and_export_draw_the_same_items(qtbot: QtBot, trace: object,
                                               tmp_path: Path) -> None:
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.show_trace(trace)
    export_scene(view.graph_scene, tmp_path / "view.png", legend=True)
    render_trace(trace, tmp_path / "headless.png")  # the legend is on by default
    assert QImage(str(tmp_path / "view.png")) == QImage(str(tmp_path / "headless.png"))


def test_clipboard_and_window_screenshot(qtbot: QtBot, trace: object, tmp_path: Path) -> None:
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show_trace(trace)
    image = copy_scene_to_clipboard(view.graph_scene, scale=1.0)
    assert QGuiApplication.clipboard().image().size() == image.size()
    assert image == scene_image(view.graph_scene, 1.0)
    save_window_screenshot(view, tmp_path / "window.png")
    shot = QImage(str(tmp_path / "window.png"))
    assert shot.width() >= 400 and len(distinct_colors(shot)) > 5


def test_a_huge_square_graph_exports_within_the_pixel_budget() -> None:
    """Each side is capped, and so is the area: a graph 16,384 units both ways would
    otherwise be a 1 GB image in the window's memory."""
    from PySide6.QtCore import QRectF

    from ui.export import MAX_PIXELS, MAX_SIDE, image_size

    size, scale = image_size(QRectF(0, 0, 16384, 16370), 2.0)
    assert size.width() * size.height() <= MAX_PIXELS * 1.001 and scale < 1
    size, scale = image_size(QRectF(0, 0, 40000, 200), 1.0)
    assert size.width() <= MAX_SIDE
    size, scale = image_size(QRectF(0, 0, 800, 600), 2.0)
    assert (size.width(), size.height(), scale) == (1600, 1200, 2.0)


def test_scenes_keep_a_spatial_index_only_where_it_pays(qtbot: QtBot, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A BSP tree files a long edge in every cell it crosses: exports (drawn once) keep
    none, and the window keeps one only up to BSP_EDGES edges."""
    from PySide6.QtWidgets import QGraphicsScene

    from ui import drawing
    from ui.graph_items import GraphScene

    small = trace_code("x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n")
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(small)
    assert scene.itemIndexMethod() == QGraphicsScene.ItemIndexMethod.BspTreeIndex
    monkeypatch.setattr(drawing, "BSP_EDGES", 1)
    scene.set_trace(small)
    assert scene.itemIndexMethod() == QGraphicsScene.ItemIndexMethod.NoIndex
    seen = []
    drawn = GraphScene.set_trace
    monkeypatch.setattr(GraphScene, "set_trace",
                        lambda self, trace: (drawn(self, trace), seen.append(self.itemIndexMethod())))
    monkeypatch.setattr(drawing, "BSP_EDGES", 10**9)
    render_trace(small, tmp_path / "small.png")
    assert seen == [QGraphicsScene.ItemIndexMethod.NoIndex]


def test_an_export_is_the_same_whatever_the_view_is_zoomed_to_or_marks(qtbot: QtBot, trace: object,
                                                                      tmp_path: Path) -> None:
    """Newcomer round 18: Fit, then export, gave a slide of blank boxes (the view hides
    labels below a readable zoom, and the export drew that scene) with the search's
    orange hit in it. The picture is the graph's, whatever the view shows; the view
    is left as it was."""
    from ui.graph_view import LABELS_MIN_SCALE

    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show_trace(trace)
    scene = view.graph_scene
    export_scene(scene, tmp_path / "plain.png", legend=True)
    view.resetTransform()
    view.scale(LABELS_MIN_SCALE / 3, LABELS_MIN_SCALE / 3)
    view._after_zoom()
    labels = [label for lines in scene.labels.values() for label in lines]
    assert labels and not any(label.isVisible() for label in labels)  # the view hid them, zoomed out
    assert view.search("relu")  # the search's hits are marked on screen, the first selected
    node = scene.selected_node()
    assert node is not None
    export_scene(scene, tmp_path / "zoomed_out.png", legend=True)
    assert QImage(str(tmp_path / "zoomed_out.png")) == QImage(str(tmp_path / "plain.png"))
    assert not any(label.isVisible() for label in labels) and scene.selected_node() == node  # as it was
