"""A PNG of the window's own scene is painted a band at a time, between the window's
events, and written off the GUI thread (ui.live_picture, ui.export.painting): a 20,000-node
graph's PNG held the window for seconds (red team 40). The bands meet on whole pixels,
so the picture is the one a single render gives, pixel for pixel: the far edges' lines
are stroked as unclipped (ui.long_edges.band_of), and but for a rare pixel where a near
edge crosses a seam, one level in 255 apart, nothing differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

import ui.export
import ui.vector_parts
from ui.drawing import NODE_ID
from ui.export import bands, scene_image
from ui.exporter import Exporter
from ui.export_jobs import ExportRunner
from ui.graph_items import GraphScene
from ui.themes import THEMES
from viz.engine.engine import trace_code

# Wide and tall: 40 leaves summed into one chain, each read by two ops.
WIDE = "xs = [torch.randn(3, requires_grad=True) for _ in range(40)]\nsum((x * x + x).sum() for x in xs)\n"


@pytest.fixture(scope="module")
def wide() -> Any:
    return trace_code(WIDE)


def scene_of(qtbot: QtBot, trace: Any) -> GraphScene:
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace)
    return scene


SEAM_PIXELS = 4  # of millions, a level apart: a near edge's stroke cut at a seam


def same_pixels(a: QImage, b: QImage) -> bool:
    """The same size, and every pixel the same but a few a level apart."""
    if a.size() != b.size():
        return False
    kept = [image.convertToFormat(QImage.Format.Format_ARGB32) for image in (a, b)]  # alive while read
    first, second = (np.frombuffer(image.constBits(), np.uint8).reshape(-1, 4) for image in kept)
    apart = np.abs(first.astype(np.int16) - second).max(axis=1)
    return int(apart.max()) <= 1 and int(np.count_nonzero(apart)) <= SEAM_PIXELS


@pytest.mark.parametrize("scale", [1.0, 1.37, 2.0])
def test_a_picture_painted_in_bands_has_the_pixels_of_one_render(
        qtbot: QtBot, wide: Any, scale: float, monkeypatch: pytest.MonkeyPatch) -> None:
    scene = scene_of(qtbot, wide)
    whole = scene_image(scene, scale, legend=True)
    monkeypatch.setattr(ui.export, "BAND_NODES", 12)
    parts = bands(ui.export.scene_source(scene), len(scene.nodes), scale)
    assert len(parts) > 10
    assert same_pixels(scene_image(scene, scale, legend=True), whole)


def test_bands_cover_the_picture_once_on_whole_pixels() -> None:
    from PySide6.QtCore import QRectF

    source, scale = QRectF(-20.5, 7.25, 300.0, 1234.5), 1.37
    parts = bands(source, 4000, scale)
    assert len(parts) == 10 and parts[0].top() == source.top() and parts[-1].bottom() == pytest.approx(source.bottom())
    for above, below in zip(parts, parts[1:]):
        assert below.top() == above.bottom()
        assert (below.top() - source.top()) * scale == pytest.approx(round((below.top() - source.top()) * scale))
    assert bands(source, 400, scale) == [source]


@pytest.fixture
def exporter(qtbot: QtBot, wide: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    window = QWidget()
    qtbot.addWidget(window)
    runner = ExportRunner(window)
    scene = scene_of(qtbot, wide)
    monkeypatch.setattr(ui.export, "BAND_NODES", 12)
    yield Exporter(scene, window, runner=runner), runner, scene
    runner.close()


def test_the_windows_png_is_painted_between_events_and_written_whole(
        qtbot: QtBot, exporter: Any, tmp_path: Path) -> None:
    made, runner, scene = exporter
    path, ticks, seen = tmp_path / "graph.png", [], []
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: ticks.append(runner.progress()))
    timer.start()
    with qtbot.waitSignal(made.done, timeout=30_000) as done:
        made.export_to(path, 1.5)
        seen.append(runner.is_busy())  # the export is under way, not done, when export_to returns
    timer.stop()
    bands_seen = {tick[0] for tick in ticks if tick is not None and "part" in tick[2]}
    assert seen == [True] and len(bands_seen) > 5  # the window's events ran between the bands
    written = QImage(str(path))
    assert same_pixels(written, scene_image(scene, 1.5))
    assert done.args[0] == f"Exported {path} ({written.width()}\u00d7{written.height()} px at 1.5\u00d7; " \
                           "the scale is in Preferences)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.png"]  # no temporary left


def test_a_graph_replaced_while_it_is_painted_stops_the_export(
        qtbot: QtBot, exporter: Any, tmp_path: Path) -> None:
    made, runner, scene = exporter
    path = tmp_path / "graph.png"
    with qtbot.waitSignal(made.failed, timeout=30_000) as failed:
        made.export_to(path, 1.0)
        QTimer.singleShot(0, lambda: scene.set_trace(trace_code("x = torch.ones(2, requires_grad=True)\n(x * 3).sum()\n")))
    assert "the graph changed while it was being exported" in failed.args[0].what
    assert not runner.is_busy() and list(tmp_path.iterdir()) == []


def test_cancel_while_the_scene_is_painted_writes_nothing(qtbot: QtBot, exporter: Any, tmp_path: Path) -> None:
    made, runner, scene = exporter
    path, news = tmp_path / "graph.png", []
    runner.news.connect(news.append)
    made.export_to(path, 1.0)
    assert runner.is_busy()
    qtbot.waitUntil(lambda: (runner.progress() or (0, 0, ""))[0] >= 2, timeout=10_000)  # bands under way
    runner.cancel()
    assert not runner.is_busy() and news == [f"Export cancelled: nothing was written to {path}"]
    assert list(tmp_path.iterdir()) == []
    assert same_pixels(scene_image(scene, 1.0), scene_image(scene, 1.0))  # its painter was ended: the scene paints


def test_a_picture_leaves_the_view_as_it_was(qtbot: QtBot, wide: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Labels hidden and cached (a zoomed-out view), a node selected: the picture shows
    every label and no mark, and the view's items are as they were after every band."""
    scene = scene_of(qtbot, wide)
    plain = scene_image(scene, 1.0)
    middle = scene.itemsBoundingRect().center()  # its thicker border leaves the picture's size as it is
    node = min(scene.nodes, key=lambda n: (scene.nodes[n].sceneBoundingRect().center() - middle).manhattanLength())
    scene.select_node(node)
    scene.set_labels_visible(False)
    scene.set_label_cache(True)
    pen = scene.nodes[node].pen()
    monkeypatch.setattr(ui.export, "BAND_NODES", 12)
    assert same_pixels(scene_image(scene, 1.0), plain)
    labels = [label for items in scene.labels.values() for label in items]
    assert labels and not any(label.isVisible() for label in labels)
    assert all(label.cacheMode() == label.CacheMode.DeviceCoordinateCache for label in labels)
    assert scene.selected_node() == node and scene.nodes[node].pen() == pen


def svg_pixels(path: Path) -> QImage:
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(path))
    image = QImage(renderer.defaultSize(), QImage.Format.Format_ARGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def test_the_windows_svg_is_painted_a_part_of_its_items_at_a_time_as_one_render_draws_it(
        qtbot: QtBot, exporter: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made, runner, scene = exporter
    monkeypatch.setattr(ui.vector_parts, "FIRST_PART", 40)
    monkeypatch.setattr(ui.vector_parts, "MOST_PART", 40)
    monkeypatch.setattr(ui.vector_parts, "HIDE_STEP", 100)
    top = [item for item in scene.items() if item.parentItem() is None]
    ticks: list[Any] = []
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: ticks.append(runner.progress()))
    timer.start()
    with qtbot.waitSignal(made.done, timeout=30_000) as done:
        made.export_to(tmp_path / "graph.svg")
    timer.stop()
    assert done.args[0] == f"Exported {tmp_path / 'graph.svg'}"
    assert len({tick[0] for tick in ticks if tick is not None and "part" in tick[2]}) > len(top) // 40
    assert all(item.isVisible() for item in top)  # every item shown again
    monkeypatch.setattr(ui.export, "BAND_NODES", 10**9)
    ui.export.export_scene(scene, tmp_path / "whole.svg")  # one render
    assert svg_pixels(tmp_path / "graph.svg") == svg_pixels(tmp_path / "whole.svg")


def test_the_windows_pdf_is_written_whole_in_parts(qtbot: QtBot, exporter: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    made, runner, scene = exporter
    monkeypatch.setattr(ui.vector_parts, "FIRST_PART", 40)
    monkeypatch.setattr(ui.vector_parts, "MOST_PART", 40)
    with qtbot.waitSignal(made.done, timeout=30_000):
        made.export_to(tmp_path / "graph.pdf")
    data = (tmp_path / "graph.pdf").read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF") and len(data) > 10_000
    assert all(item.isVisible() for item in scene.items() if item.parentItem() is None)


def test_parts_stopped_half_way_show_every_item_again(qtbot: QtBot, wide: Any, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    scene = scene_of(qtbot, wide)
    monkeypatch.setattr(ui.vector_parts, "FIRST_PART", 40)
    monkeypatch.setattr(ui.vector_parts, "MOST_PART", 40)
    background = scene.backgroundBrush().color()
    generator = QSvgGenerator()
    generator.setFileName(str(tmp_path / "stopped.svg"))
    painter = QPainter(generator)
    source = ui.export.scene_source(scene)
    steps = ui.vector_parts.painting_parts(painter, scene, source, source)
    for _ in range(3):
        next(steps)
    assert any(not item.isVisible() for item in scene.items() if item.parentItem() is None)
    steps.close()  # Cancel, a graph replaced, the window closing
    painter.end()
    assert all(item.isVisible() for item in scene.items() if item.parentItem() is None)
    assert scene.backgroundBrush().color() == background


def test_a_big_graphs_image_is_copied_once_painted_between_events(qtbot: QtBot, exporter: Any) -> None:
    from PySide6.QtGui import QGuiApplication

    made, runner, scene = exporter
    QGuiApplication.clipboard().clear()
    refused: list[Any] = []
    with qtbot.waitSignal(made.done, timeout=30_000) as done:
        made.copy_image()
        assert runner.is_busy() and QGuiApplication.clipboard().image().isNull()  # not yet: being painted
        made.failed.connect(refused.append)
        made.export_to(Path("/nonexistent/other.png"))  # one at a time
    copied = QGuiApplication.clipboard().image()
    assert same_pixels(copied, scene_image(scene, 2.0))
    assert done.args[0] == f"Copied a {copied.width()}\u00d7{copied.height()} image of the graph"
    assert len(refused) == 1 and "running already (the graph image)" in refused[0].what


def test_a_graph_still_arriving_is_painted_whole_in_parts(qtbot: QtBot, wide: Any, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A big graph joins the scene in slices (ui.scene_arrival); exported meanwhile, its
    items still to come are in the picture, each painted once."""
    import ui.graph_items
    import ui.scene_arrival

    monkeypatch.setattr(ui.graph_items, "SLICED_FROM", 50)
    monkeypatch.setattr(ui.scene_arrival, "SLICE_ITEMS", 30)
    monkeypatch.setattr(ui.graph_items, "LAZY_LABELS_FROM", 10)
    monkeypatch.setattr(ui.vector_parts, "FIRST_PART", 40)
    monkeypatch.setattr(ui.vector_parts, "MOST_PART", 40)
    scene = GraphScene(THEMES["light"].graph, lazy_labels=True)
    scene.set_trace(wide)
    assert scene.arrival.pending() > 0  # still arriving
    ui.export.export_scene(scene, tmp_path / "parts.svg")
    whole = GraphScene(THEMES["light"].graph)
    whole.set_trace(wide)
    monkeypatch.setattr(ui.export, "BAND_NODES", 10**9)
    ui.export.export_scene(whole, tmp_path / "whole.svg")
    assert svg_pixels(tmp_path / "parts.svg") == svg_pixels(tmp_path / "whole.svg")


def test_a_graph_replaced_during_a_vector_export_leaves_the_view_painting(
        qtbot: QtBot, exporter: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 43: a run finishing while an SVG was painted made its clean-up raise on the
    old graph's deleted items, before the view was switched back on: the graph view never
    painted again. The view comes first now, and the new graph's items are all shown."""
    from PySide6.QtWidgets import QGraphicsView

    made, runner, scene = exporter
    monkeypatch.setattr(ui.vector_parts, "FIRST_PART", 20)
    monkeypatch.setattr(ui.vector_parts, "MOST_PART", 20)
    view = QGraphicsView(scene)
    qtbot.addWidget(view)
    view.show()
    replaced = trace_code("a = torch.ones(3, requires_grad=True)\n(a * 2).sum()\n")
    with qtbot.waitSignal(made.failed, timeout=30_000) as failed:
        made.export_to(tmp_path / "graph.svg")
        qtbot.waitUntil(lambda: (runner.progress() or (0, 0, ""))[0] > len(scene.nodes), timeout=10_000)
        scene.set_trace(replaced)  # the run's graph arrives between two parts
    assert "the graph changed" in failed.args[0].what and not (tmp_path / "graph.svg").exists()
    assert view.viewport().updatesEnabled()
    assert all(item.isVisible() for item in scene.items() if item.parentItem() is None)



def test_a_png_shrunk_to_fit_says_so_and_what_keeps_it_readable(
        qtbot: QtBot, exporter: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Newcomer, session 17: a 20,000-node RNN's PNG came out 3 px wide and 16,384 tall,
    said as written "at 2x; the scale is in Preferences" (no scale could help)."""
    made, _runner, _scene = exporter
    monkeypatch.setattr(ui.export, "MAX_SIDE", 300)
    path = tmp_path / "graph.png"
    with qtbot.waitSignal(made.done, timeout=30_000) as done:
        made.export_to(path, 2.0)
    written = QImage(str(path))
    assert max(written.width(), written.height()) <= 300
    said = done.args[0]
    assert said.startswith(f"Exported {path} ({written.width()}\u00d7{written.height()} px: shrunk to 0.")
    assert "too small to read" in said and "SVG or PDF keep it sharp" in said and "Preferences" not in said


def test_bands_hold_their_share_of_the_nodes_wherever_the_nodes_stand() -> None:
    """Red teams 54 and 55: a forged trace with one node a million units away: bands of
    equal length put 19,963 nodes in the first, whose labels were laid out in one go
    (20 s); then every node in one row across the picture, all in one pixel's band
    (15-18 s). Cut by the nodes' places, along and across, each piece holds about its
    share; a long label weighs more."""
    from PySide6.QtCore import QRectF

    from ui.export import BAND_NODES

    def held(parts: list, spots: list) -> list[int]:
        return [sum(1 for along, across, _ in spots if part.top() <= along < part.bottom()
                    and part.left() <= across < part.right()) for part in parts]

    source = QRectF(0, 0, 100_000, 2_000_000)
    column = [(10.0 + i * 0.1, 50.0, 1.0) for i in range(4000)] + [(1_999_990.0, 50.0, 1.0)]
    row = [(10.0, 10.0 + i * 20.0, 1.0) for i in range(4000)] + [(1_999_990.0, 50.0, 1.0)]
    heavy = [(along, across, 6.0) for along, across, _ in row[:600]]  # 200-character labels
    for spots, most in ((column, BAND_NODES), (row, BAND_NODES), (heavy, BAND_NODES / 6)):
        parts = bands(source, len(spots), 1.0, spots)
        counts = held(parts, spots)
        # a cut falls on a whole pixel: a piece may hold one pixel's row more (10 nodes here)
        assert sum(counts) == len(spots) and max(counts) <= 2 * most + 10, (len(parts), max(counts))
        covered = sum(part.width() * part.height() for part in parts)
        assert covered == pytest.approx(source.width() * source.height())


def test_a_vector_parts_nodes_weigh_at_most_its_share_whatever_came_before(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 85: parts grew on items that cost nothing (tens of thousands of edges come
    first), then a part of 4,000 nodes of long labels of many scripts was 0.8 s of the
    window. A part's nodes weigh at most PART_WEIGHT, by their labels."""
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    import ui.picture_mode

    wide = trace_code(WIDE)  # its own: the labels change
    for k, node in enumerate(wide.graph.nodes):
        wide.graph.nodes[node]["label"] = f"{k:03d}" + "\u0915\u0b95\u0d15" * 40  # 123 characters: weight 4
    scene = scene_of(qtbot, wide)
    monkeypatch.setattr(ui.vector_parts, "PART_WEIGHT", 20)
    monkeypatch.setattr(ui.vector_parts, "PART_SECONDS", 10.0)  # parts grow as fast as they may
    weights: list[float] = []
    real = ui.picture_mode.as_picture

    def as_picture(graph: Any, area: Any, items: Any = None) -> Any:
        weights.append(sum(ui.vector_parts.node_weight(graph.graph.nodes[str(item.data(NODE_ID))])
                           for item in items or () if item.data(NODE_ID) is not None))
        return real(graph, area, items)

    monkeypatch.setattr(ui.picture_mode, "as_picture", as_picture)
    generator = QSvgGenerator()
    generator.setFileName(str(tmp_path / "parts.svg"))
    painter = QPainter(generator)
    source = ui.export.scene_source(scene)
    for _ in ui.vector_parts.painting_parts(painter, scene, source, source):
        pass
    painter.end()
    assert sum(weights) == pytest.approx(sum(ui.vector_parts.node_weight(data)
                                             for _, data in wide.graph.nodes(data=True)))
    assert max(weights) <= 20 + 4.1  # a part stops at the node that brings it to its share
