"""Pictures of the graph (PNG with a scale factor, SVG, PDF, clipboard) and of the window.

The window and `main.py export` draw through the same GraphScene items; the window's
File > Export is ui.exporter.
"""

from __future__ import annotations

import bisect
import math
import tempfile
from pathlib import Path
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QIODevice, QMarginsF, QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (QGuiApplication, QImage, QPageLayout, QPageSize,
                           QPainter, QPdfWriter)
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene, QWidget

from ui.collector import collections_held
from ui.export_task import ExportCancelled, ExportOutcome, ExportTask, take_apart
from ui.graph_items import NODE_ID, GraphScene
from ui.legend import legend_entries, legend_font, legend_size, paint_legend
from ui.long_edges import band_of
from ui.plain_text import proposable
from ui.themes import THEMES, GraphColors
from ui.vector_parts import node_weight, painting_parts
from viz.errors import StudioError
from viz.io.files import written_whole

if TYPE_CHECKING:
    from PySide6.QtSvg import QSvgGenerator

    from viz.engine.trace import Trace

FORMATS = (".png", ".svg", ".pdf")
MARGIN = 20.0
MAX_SIDE = 16384  # QImage and most viewers cope; a 2,000-node graph at 2x still fits
MAX_PIXELS = 64 * 2**20  # 256 MB of image memory: a square graph at MAX_SIDE would take 1 GB
BAND_NODES = 400  # a band of a picture: about a tenth of a second of painting on this machine
CROWD_ITEMS = 10 * BAND_NODES  # items a step where a forged trace packs a band's pixels (_paint_crowd)
READABLE_PNG_SCALE = 0.5  # pixels a scene unit below which a PNG's text does not read (7 px letters)


def scene_source(scene: QGraphicsScene) -> QRectF:
    """What a picture of ``scene`` shows, in scene units: every item, those of a big
    drawing still arriving (ui.scene_arrival) added first, with a margin."""
    arrival = getattr(scene, "arrival", None)
    if arrival is not None:
        arrival.finish()
    return scene.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


class PictureKey(Protocol):
    """A box drawn in the strip under a picture: the kinds' legend, an overlay's scale."""

    def size(self) -> QSize: ...

    def paint(self, painter: QPainter, top_left: QPointF) -> None: ...


@dataclass(frozen=True)
class KindsKey:
    """The legend of the node kinds the graph has."""

    entries: list[tuple[str, str]]
    colors: GraphColors

    def size(self) -> QSize:
        return legend_size(self.entries, legend_font())

    def paint(self, painter: QPainter, top_left: QPointF) -> None:
        paint_legend(painter, top_left, self.entries, self.colors, legend_font())


def picture_keys(scene: QGraphicsScene, legend: bool) -> list[PictureKey]:
    """The keys under the picture: the kinds the graph has when a legend is wanted (and
    the scene knows its colours), then those the overlays on show add."""
    if not isinstance(scene, GraphScene) or not scene.nodes:
        return []
    kinds: list[PictureKey] = [KindsKey(legend_entries(scene.colors(), scene.kinds()), scene.colors())] \
        if legend else []
    return kinds + list(scene.picture_keys)


def picture_rect(scene: QGraphicsScene, legend: bool = False, source: QRectF | None = None) -> QRectF:
    """The picture in scene units: the graph with its margin, and a strip under it for
    the keys (a picture for a slide never has the legend over a node). ``source``: the
    scene_source already found (it walks every item)."""
    source = scene_source(scene) if source is None else source
    sizes = [key.size() for key in picture_keys(scene, legend)]
    if not sizes:
        return QRectF(0, 0, source.width(), source.height())
    return QRectF(0, 0, max(source.width(), *(size.width() + 2 * MARGIN for size in sizes)),
                  source.height() + sum(size.height() + MARGIN / 2 for size in sizes))


def painting(painter: QPainter, scene: QGraphicsScene, legend: bool = False,
             pixel_scale: float | None = None) -> Iterator[tuple[int, int]]:
    """Paint the picture (see ``paint_picture``), saying after each part how many of how
    many are painted. A big graph's picture is seconds of painting that holds Python's
    lock throughout one render; a raster picture (``pixel_scale``: the painter's pixels
    per scene unit) is painted a band of the graph at a time, so the window's events get
    their turn between two. Its bands meet on whole pixels, and every pixel is the one a
    single render gives, but where no layout draws: a band whole pixels cannot split
    below two bands' nodes gets their boxes filled (``_paint_crowd``). A big vector
    picture is painted a part of its items at a time (ui.vector_parts)."""
    source = scene_source(scene)
    painter.fillRect(picture_rect(scene, legend, source), scene.backgroundBrush())
    nodes = len(getattr(scene, "nodes", ()) or ())
    if nodes > BAND_NODES:
        yield 0, 1  # the bounds (every item's) and a big picture's background: a step of their own
    if not pixel_scale and nodes > BAND_NODES:  # a vector picture: in parts of its items
        yield from painting_parts(painter, scene, source.translated(-source.left(), -source.top()), source)
        parts: list[tuple[QRectF, float]] = []
    else:
        parts = pieces(source, nodes, pixel_scale, band_spots(scene, source)) if pixel_scale else [(source, 0.0)]
    for done, (band, weight) in enumerate(parts, 1):
        if pixel_scale and weight > 2 * BAND_NODES:
            for _ in _paint_crowd(painter, scene, source, band, pixel_scale):
                yield done - 1, len(parts)
        elif pixel_scale:
            _render_pixels(painter, scene, source, band, pixel_scale)
        else:
            scene.render(painter, band.translated(-source.left(), -source.top()), band)
        yield done, len(parts)
    top = source.height() - MARGIN / 2
    for key in picture_keys(scene, legend):
        key.paint(painter, QPointF(MARGIN, top))
        top += key.size().height() + MARGIN / 2


def paint_picture(painter: QPainter, scene: QGraphicsScene, legend: bool = False,
                  pixel_scale: float | None = None) -> None:
    """Background, graph and keys (the legend, when asked), in scene units from (0, 0); the painter's
    transform scales it. PNG, SVG, PDF and the clipboard all draw through this."""
    for _ in painting(painter, scene, legend, pixel_scale):
        pass


def _render_pixels(painter: QPainter, scene: QGraphicsScene, source: QRectF, band: QRectF, scale: float) -> None:
    """One band of a raster picture (the painter scales scene units by ``scale`` into
    pixels from the picture's corner), its pixels exactly those a single render gives:
    clipped on whole pixels, and rendered from a little around the band (the render's
    own clip, in scene units, would split the pixels of a seam between two bands)."""
    pixels = _pixels(source, band, scale)
    around = band.adjusted(-4 / scale, -4 / scale, 4 / scale, 4 / scale)
    transform = painter.transform()
    painter.save()
    painter.resetTransform()
    painter.setClipRect(pixels)  # in the device's pixels
    painter.setTransform(transform)
    with band_of(QRect(0, 0, round(source.width() * scale), round(source.height() * scale))):
        scene.render(painter, around.translated(-source.left(), -source.top()), around)
    painter.restore()


def _pixels(source: QRectF, band: QRectF, scale: float) -> QRect:
    """The device pixels of ``band`` (whole pixels, as bands are cut) in a picture of
    ``source`` at ``scale`` pixels a unit."""
    corner = (band.topLeft() - source.topLeft()) * scale
    far = (band.bottomRight() - source.topLeft()) * scale
    return QRect(QPoint(round(corner.x()), round(corner.y())), QPoint(round(far.x()) - 1, round(far.y()) - 1))


def _paint_crowd(painter: QPainter, scene: QGraphicsScene, source: QRectF, band: QRectF,
                 scale: float) -> Iterator[None]:
    """A piece that whole-pixel cuts left holding more than two bands' weight of nodes: a
    forged trace's thousands of tiny boxes packed into a pixel or two (red team 81: one
    render laid out 19,802 nodes' text, 2.4 s of the window), which no layout draws.
    Its few pixels get the nodes' boxes, filled, a few thousand items at a time; no
    text, no lines (they would not show in those pixels)."""
    met = scene.items(band, Qt.ItemSelectionMode.IntersectsItemBoundingRect)  # text and lines too
    for first in range(0, len(met), CROWD_ITEMS):
        transform = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setClipRect(_pixels(source, band, scale))
        painter.setTransform(transform)
        for item in met[first:first + CROWD_ITEMS]:
            if isinstance(item, QGraphicsRectItem) and item.data(NODE_ID) is not None:
                painter.fillRect(item.mapRectToScene(item.rect()).translated(-source.left(), -source.top()),
                                 item.brush())
        painter.restore()
        yield


def pieces(source: QRectF, nodes: int, pixel_scale: float | None = None,
           spots: list[tuple[float, float, float]] | None = None) -> list[tuple[QRectF, float]]:
    """``source`` cut across its longer side into bands of about BAND_NODES nodes each
    (one band up to that many); with ``pixel_scale`` (pixels per unit), on whole pixels.
    ``spots``: each node's place along the longer side, across it, and its weight
    (``band_spots``): the cuts fall where each band has its share of the weight, not at
    equal lengths, and a band that still holds more (nodes in one row across it) is cut
    across too (forged graphs with one node far away put 19,963 nodes in one band, then
    one row of them in one pixel's band: 15-23 s of labels; red teams 54 and 55). Each
    with the weight of the nodes in it (0 where ``spots`` are not known)."""
    total = sum(weight for _, _, weight in spots) if spots else nodes
    count = max(1, math.ceil(total / BAND_NODES))
    if count == 1:
        return [(QRectF(source), 0.0)]
    tall = source.height() >= source.width()
    start, length = (source.top(), source.height()) if tall else (source.left(), source.width())
    unit = 1.0 / pixel_scale if pixel_scale else length / count  # a cut falls on a multiple of it
    if not spots:
        steps = max(1, round(length / unit))
        cuts = sorted({start + round(k * steps / count) * unit for k in range(count)} | {start + length})
        return [(_band(source, low, high, tall), 0.0) for low, high in zip(cuts, cuts[1:]) if high > low]
    ordered = sorted(spots)
    across_start, across_length = (source.left(), source.width()) if tall else (source.top(), source.height())
    parts = []
    cuts = _weighted_cuts(start, length, unit, [(along, weight) for along, _, weight in ordered], count)
    places = [along for along, _, _ in ordered]
    for low, high in zip(cuts, cuts[1:]):
        if high <= low:
            continue
        band = _band(source, low, high, tall)
        first = bisect.bisect_left(places, low)
        last = len(places) if high >= cuts[-1] else bisect.bisect_left(places, high)
        inside = sorted((across, weight) for _, across, weight in ordered[first:last])
        weight = sum(w for _, w in inside)
        if weight <= 2 * BAND_NODES:
            parts.append((band, weight))
            continue
        # Across the band too, on the same whole pixels.
        crossing = _weighted_cuts(across_start, across_length, unit, inside, math.ceil(weight / BAND_NODES))
        at = [across for across, _ in inside]
        for left, right in zip(crossing, crossing[1:]):
            if right > left:
                held = inside[bisect.bisect_left(at, left):
                              len(at) if right >= crossing[-1] else bisect.bisect_left(at, right)]
                parts.append((QRectF(left, band.top(), right - left, band.height()) if tall
                              else QRectF(band.left(), left, band.width(), right - left), sum(w for _, w in held)))
    return parts


def bands(source: QRectF, nodes: int, pixel_scale: float | None = None,
          spots: list[tuple[float, float, float]] | None = None) -> list[QRectF]:
    """The rectangles of ``pieces``."""
    return [band for band, _ in pieces(source, nodes, pixel_scale, spots)]


def _band(source: QRectF, low: float, high: float, tall: bool) -> QRectF:
    return (QRectF(source.left(), low, source.width(), high - low) if tall
            else QRectF(low, source.top(), high - low, source.height()))


def _weighted_cuts(start: float, length: float, unit: float, weighed: list[tuple[float, float]],
                   count: int) -> list[float]:
    """``start``, ``start + length`` and, between, the places (on multiples of ``unit``
    from ``start``) where the weight of ``weighed`` (sorted places and weights) so far
    reaches each of ``count`` shares."""
    steps = max(1, round(length / unit))
    total = sum(weight for _, weight in weighed)
    places = [place for place, _ in weighed]
    marks, done, share = [], 0.0, total / max(1, count)
    for place, weight in weighed:
        done += weight
        while len(marks) < count - 1 and done >= share * (len(marks) + 1):
            # Halfway to the next place: a cut between rows of nodes, not through their
            # marks (Qt flattens a ring's curve by where the clip cuts it).
            following = bisect.bisect_right(places, place)
            marks.append((place + places[following]) / 2 if following < len(places) else place)
    picks = {start + min(steps, max(0, round((place - start) / unit))) * unit for place in marks}
    return sorted(picks | {start, start + length})


def band_spots(scene: QGraphicsScene, source: QRectF) -> list[tuple[float, float, float]] | None:
    """Each node's centre along ``source``'s longer side and across it, weighed by what
    laying out its label costs (ui.vector_parts.node_weight: one, and one more for each
    40 characters of it; a label of 200 characters of many scripts took a millisecond)."""
    items = getattr(scene, "nodes", None)
    if not items or len(items) <= BAND_NODES:
        return None
    graph = getattr(scene, "graph", None)
    tall = source.height() >= source.width()
    spots = []
    for node, item in items.items():
        centre = item.sceneBoundingRect().center()
        data = graph.nodes[node] if graph is not None and node in graph else {}
        along, across = (centre.y(), centre.x()) if tall else (centre.x(), centre.y())
        spots.append((along, across, node_weight(data)))
    return spots


def image_size(source: QRectF, scale: float) -> tuple[QSize, float]:
    """Pixel size for a scale factor, shrunk to fit MAX_SIDE so huge graphs still export;
    and the scale used."""
    scale = min(scale, MAX_SIDE / max(source.width(), 1.0), MAX_SIDE / max(source.height(), 1.0),
                (MAX_PIXELS / max(source.width() * source.height(), 1.0)) ** 0.5)
    size = QSize(max(1, round(source.width() * scale)), max(1, round(source.height() * scale)))
    return size, scale


def png_said(path: Path, width: int, height: int, asked: float, used: float) -> str:
    """What the status line says of a PNG written: its size, and when the graph was too
    big for its scale, that it was shrunk and what keeps it readable (a 20,000-node RNN
    came out 3 px wide and 16,384 tall, said as written "at 2x": newcomer, session 17)."""
    said = f"Exported {path} ({width}\u00d7{height} px"
    if used < asked * 0.999:
        note = " too small to read;" if used < READABLE_PNG_SCALE else ""
        return (f"{said}: shrunk to {used:.2g}\u00d7 to fit {MAX_SIDE:,} px a side;{note} "
                "SVG or PDF keep it sharp at any size)")
    return f"{said} at {asked:g}\u00d7; the scale is in Preferences)"


def scene_image(scene: QGraphicsScene, scale: float = 1.0, legend: bool = False) -> QImage:
    size, scale = image_size(picture_rect(scene, legend), scale)
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(scene.backgroundBrush().color())
    painter = image_painter(image, scale)
    paint_picture(painter, scene, legend, pixel_scale=scale)
    painter.end()
    return image


def image_painter(image: QImage, scale: float) -> QPainter:
    """A painter on a picture's image, ``scale`` pixels to a scene unit."""
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing
                           | QPainter.RenderHint.TextAntialiasing
                           | QPainter.RenderHint.SmoothPixmapTransform)
    painter.scale(scale, scale)
    return painter


def svg_generator(rect: QRectF, to: str | QIODevice) -> QSvgGenerator:
    """An SVG of the picture ``rect`` (picture_rect), written to a file's path or a device."""
    from PySide6.QtSvg import QSvgGenerator  # QtSvg loads only for SVG export

    generator = QSvgGenerator()
    if isinstance(to, str):
        generator.setFileName(to)
    else:
        generator.setOutputDevice(to)
    generator.setSize(rect.size().toSize())
    generator.setViewBox(rect)
    generator.setTitle("Autograd Studio graph")
    return generator


def pdf_writer(rect: QRectF, to: str | QIODevice) -> QPdfWriter:
    """A one-page PDF of the picture ``rect``, one scene unit a point, to a path or a device."""
    writer = QPdfWriter(to)
    writer.setTitle("Autograd Studio graph")
    writer.setResolution(72)  # one scene unit = one point: the page is the graph's size
    writer.setPageLayout(QPageLayout(QPageSize(rect.size(), QPageSize.Unit.Point, "graph"),
                                     QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    return writer


def pdf_painter(writer: QPdfWriter, rect: QRectF) -> QPainter:
    painter = QPainter(writer)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing
                           | QPainter.RenderHint.TextAntialiasing)
    painter.scale(writer.width() / rect.width(), writer.height() / rect.height())
    return painter


def _write_svg(scene: QGraphicsScene, path: Path, legend: bool, task: ExportTask | None = None) -> None:
    """``task`` hears of each part of a big picture painted, and may stop it between two.
    Painted into memory, then written by Python: Qt's own writing fails silently (an SVG
    onto a full disk was "wrote ...", exit status 0), Python's raises OSError."""
    from PySide6.QtCore import QBuffer

    memory = QBuffer()
    memory.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = svg_generator(picture_rect(scene, legend), memory)  # held while painted
    painter = QPainter(generator)
    try:
        for done, total in painting(painter, scene, legend):
            if task is not None:
                task.step(done, total, "part of the picture")
    finally:
        painter.end()
    path.write_bytes(bytes(memory.data()))


def _write_pdf(scene: QGraphicsScene, path: Path, legend: bool) -> None:
    """As ``_write_svg``: into memory, then to ``path`` by Python, an OSError when it cannot."""
    from PySide6.QtCore import QBuffer

    rect = picture_rect(scene, legend)
    memory = QBuffer()
    memory.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = pdf_writer(rect, memory)
    painter = pdf_painter(writer, rect)
    paint_picture(painter, scene, legend)
    painter.end()
    path.write_bytes(bytes(memory.data()))


def export_scene(scene: QGraphicsScene, path: Path, scale: float = 1.0,
                 legend: bool = False) -> None:
    """Write the graph (with a legend strip under it when asked); the suffix picks PNG,
    SVG or PDF. Raises StudioError (kind 'option' or 'io')."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise StudioError("option", f"cannot export a graph picture as '{suffix or path.name}'",
                          where=str(path), hint="use .png, .svg or .pdf")
    if scale <= 0:
        raise StudioError("option", f"scale must be positive, not {scale}", where=str(path))
    hint = "check the folder exists and is writable, and the free space"
    if suffix == ".png":
        if not scene_image(scene, scale, legend).save(str(path), "PNG"):
            raise StudioError("io", f"could not write {path}", where=str(path), hint=hint)
        return
    try:
        (_write_svg if suffix == ".svg" else _write_pdf)(scene, path, legend)
    except OSError as err:
        raise StudioError("io", f"could not write {path}: {err.strerror or err}", where=str(path),
                          hint=hint) from None


def export_lesson(trace: Trace, path: Path, colors: GraphColors | None = None,
                  title: str | None = None, task: ExportTask | None = None) -> None:
    """One self-contained HTML lesson (viz.teaching.html_export) drawn by a fresh scene as the SVG
    export draws it: no playback outline, no collapsed group. Needs a QApplication; may run on
    any thread (the scene is made, drawn and deleted where it runs). ``task`` hears how far it
    got and stops it between two parts."""
    from dataclasses import asdict

    from viz.debugger.timeline import TimelineStopped
    from viz.teaching.html_export import svg_picture, write_lesson

    if QGuiApplication.instance() is None:  # a scene without one crashes the process
        raise RuntimeError("export_lesson needs a QApplication: call ui.render.ensure_application()")
    task = task or ExportTask()
    task.step(0, 3, "part")
    colors = colors or THEMES["light"].graph
    scene = GraphScene(colors)
    scene.auto_index = False  # drawn once, whole (as ui.render does)
    scene.setItemIndexMethod(GraphScene.ItemIndexMethod.NoIndex)
    with collections_held():  # on an export's thread: the GUI thread's passes would walk it
        scene.set_trace(trace)
    try:
        task.step(1, 3, "part")
        picture = None
        if scene.nodes:
            origin = scene_source(scene).topLeft()
            with tempfile.TemporaryDirectory(prefix="autograd-studio-") as folder:
                _write_svg(scene, Path(folder) / "graph.svg", legend=True, task=task)
                svg = (Path(folder) / "graph.svg").read_text(encoding="utf-8")
            picture = svg_picture(svg, origin.x(), origin.y())
    finally:
        take_apart(scene)
    task.step(2, 3, "part")
    try:
        write_lesson(trace, Path(path), picture, asdict(colors), title, task.stop)
    except TimelineStopped:  # the steps' narration heard the stop between two steps
        raise ExportCancelled() from None


def copy_scene_to_clipboard(scene: QGraphicsScene, scale: float = 2.0,
                            legend: bool = False) -> QImage:
    image = scene_image(scene, scale, legend)
    QGuiApplication.clipboard().setImage(image)
    return image


def save_window_screenshot(window: QWidget, path: Path) -> None:
    """The whole window as it looks now, at the screen's pixel ratio (sharp on high DPI);
    in place of whatever is at ``path`` (``written_whole``)."""
    with written_whole(path, keep_suffix=True) as temp:
        if not window.grab().save(str(temp)):
            raise StudioError("io", f"could not write {temp}", where=str(temp),
                              hint="use a .png path in a writable folder")


def export_name(trace: Trace, suffix: str, fallback: str) -> str:
    """The file name an export dialog proposes: the lesson's own name (``06_mlp.png``),
    or ``fallback`` for typed code; a name that is not a plain file name is not used (nor
    one with a character of markup: a sent trace names its own file)."""
    where = getattr(trace, "where", None)
    stem = Path(where).stem if isinstance(where, str) and where and not where.startswith("<") else ""
    return f"{stem if proposable(stem) else fallback}{suffix}"


def lesson_job(trace: Trace, path: Path, colors: GraphColors | None, title: str | None,
               task: ExportTask, write_to: Path) -> ExportOutcome:
    """The HTML lesson of ``trace`` written to ``write_to`` (``path``, or the file that
    becomes it: ui.export_task), on whichever thread calls it; errors as StudioError."""
    from viz.io.export import ExportRefused

    try:
        export_lesson(trace, write_to, colors, title, task)
    except ExportRefused as err:
        raise StudioError("limit", f"cannot write {path.name}: {err}", where=str(path),
                          hint="export the graph alone as .svg or .png") from None
    except OSError as err:
        raise StudioError("io", f"could not write {path}: {err.strerror or err}", where=str(path),
                          hint="check the folder exists and is writable") from None
    return ExportOutcome(f"Exported {path}")
