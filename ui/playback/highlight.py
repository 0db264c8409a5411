"""Draws the current step on a GraphScene: the node, the pulsing edges, the numbers.

Everything is overlay items added to the scene the window already draws (so PNG and
GIF exports, which render the scene, show the same picture). The scene's own items are
never restyled: its selection and search styling stay its own. A step change replaces
a handful of overlay items; an animation frame only moves dots and changes pens on
them, so a frame costs the same at 50 nodes as at 2,000.

With module groups collapsed, a node hidden in a box has the box's rectangle (see
ui.arrangement), so its step, marks and breakpoints show on the box; a pulse follows
the edge as drawn (merged into the box's edge) and skips edges inside a box. When
the groups change, everything is drawn again in the new places.

Labels (the numbers on edges, the badge under the node, a verdict beside it) are
placed so that none covers a node, a module title or another label
(ui.playback.label_place); ``labels_placed`` tells the view where they went, so it
can scroll to them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import QLineF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import (QGraphicsEllipseItem, QGraphicsItem, QGraphicsLineItem,
                               QGraphicsPathItem, QGraphicsRectItem, QGraphicsSimpleTextItem)

from ui.graph_items import GraphScene
from ui.norm_layers import RingLayer, boxes_around
from ui.plain_text import plain_tip
from ui.playback.flow_style import FlowScale, flow_look
from ui.playback.label_place import (FreeSpace, Spot, around, beside_box, box_of, choose, fold_label, near_box,
                                     on_path, scene_space)
from viz.debugger.timeline import Flow, Step, Timeline, fmt

Z_PULSE, Z_CURRENT, Z_MARK, Z_LEADER, Z_LABEL = 1.5, 4.0, 4.5, 5.5, 6.0
LINE_GAP = 6.0  # scene units between a node and the outline of the line under the cursor
MARK_KINDS = ("fail", "ok", "nan")  # each a colour of the theme's GraphColors
# A label's box is opaque: an edge under a badge or a number never runs through its
# words (at 235 the line showed through "grad 1", in the window and in GIF frames alike).
LABEL_ALPHA = 255
DOT_RADIUS = 5.0
MAX_LABEL_CHARS = 34
SUMMED_SHOWN = 3  # a leaf summing more gradients than this shows how many, and the sum
MAX_SUM_CHARS = 46  # a leaf's sum: the total whole, the terms cut first
MAX_MARK_CHARS = 64  # a verdict ("max abs err 6.5, rel 0.5") is read whole; its tooltip has the rest
NODE_CLEARANCE = 4.0  # labels keep this far from any node's box
CURRENT_CLEARANCE = 7.5  # ... and from the current node's, drawn with a thick outline
BADGE_GAP = 8.0  # the badge under the current node clears its outline
LABEL_GAP = 2.0  # between two labels
MARGIN = 24.0  # around the drawing (not under it, where the legend sits): room for labels
# A step draws the flows of at most this many of its edges (each is a line, a dot and a
# label): an op fed by 9,000 parameters made 27,000 items per step and held the window
# for minutes (red team 20); the caption says how many more there are.
MAX_FLOWS_DRAWN = 200
# A gradient check's marks: each ringed up to MAX_MARKS_DRAWN, the first MAX_MARK_LABELS with
# their words (each placed clear of the others: 20,000 forged failures piled on one spot
# held the window 293 s, red team 25); the Debugger's table lists them all.
MAX_MARKS_DRAWN, MAX_MARK_LABELS = 2_000, 200

Spots = Callable[[QSizeF], Iterator[Spot]]


@dataclass(frozen=True)
class Mark:
    """A verdict drawn on a node: ``fail`` (red, with its error), ``ok``, ``nan``."""

    kind: str
    text: str = ""


@dataclass
class _Pulse:
    path: QPainterPath  # the edge's route without its arrowhead, the way the number flows
    line: QGraphicsPathItem
    dot: QGraphicsEllipseItem
    color: QColor
    width: float


def route(points: list, reverse: bool) -> QPainterPath:
    pts = [QPointF(float(x), float(y)) for x, y in points]
    if reverse:
        pts.reverse()
    path = QPainterPath(pts[0])
    for point in pts[1:]:
        path.lineTo(point)
    return path


def _by_edge(flows: list[Flow]) -> dict[Any, list[Flow]]:
    """The flows of a step by the arrow they travel along, in slot order."""
    grouped: dict[Any, list[Flow]] = {}
    for flow in flows:
        grouped.setdefault(flow.edge, []).append(flow)
    return grouped


def _key(item: QGraphicsItem) -> int:
    """An item's C++ address: the same whichever Python wrapper Qt hands back."""
    return shiboken6.getCppPointer(item)[0]


def short(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


class StepHighlighter:
    def __init__(self, scene: GraphScene) -> None:
        self.scene = scene
        self.timeline: Timeline | None = None
        self.flow_scale = FlowScale(0.0, 0.0)
        self.step: Step | None = None
        self.badge: QGraphicsRectItem | None = None  # the step's number under its node
        self.pulses: list[_Pulse] = []
        self._step_items: list[QGraphicsItem] = []
        self._mark_items: list[QGraphicsItem] = []
        self._breakpoint_items: list[QGraphicsItem] = []
        self._line_items: list[QGraphicsItem] = []
        self._leader_items: list[QGraphicsItem] = []
        # The labels to place (each with the spots it may take) and what they must avoid.
        # Each with the edges it may sit on: its own edge, or its node's.
        self._step_labels: list[tuple[QGraphicsRectItem, Spots, frozenset[object]]] = []
        self._mark_labels: list[tuple[QGraphicsRectItem, Spots, frozenset[object]]] = []
        # What each label tells of: ("edge", (u, v)), ("badge", node) or ("mark", node).
        self._owners: dict[int, tuple[str, object]] = {}  # by id()
        self._space: FreeSpace | None = None
        self.label_bounds = QRectF()  # where this step's labels are, in scene units
        self.labels_placed: Callable[[QRectF], None] | None = None  # told label_bounds
        # The room a view shows around a step's node (scene units): its labels go there.
        self.view_room: Callable[[], QSizeF | None] | None = None
        self.view_seen: Callable[[], QRectF] | None = None  # what the view shows now (scene units)
        self.marks: dict[str, Mark] = {}
        self.breakpoints: frozenset[str] = frozenset()
        self.line_nodes: list[str] = []
        self.phase = 1.0
        self.label_font = QFont()
        self.label_font.setPointSizeF(9.5)
        self.label_font.setBold(True)
        scene.layout_changed.connect(self._redraw)
        scene.colors_changed.connect(self._redraw)
        scene.obstacles_changed.connect(self._obstacles_moved)

    # --- content ------------------------------------------------------------------
    def attach(self, timeline: Timeline | None, scale: FlowScale | None = None) -> None:
        """A new timeline on the scene's current trace. The scene cleared its items
        when it loaded the trace, so ours may already be gone: forget them.
        ``scale``: the timeline's FlowScale when already computed (off the GUI thread)."""
        for group in (self._step_items, self._mark_items, self._breakpoint_items,
                      self._line_items, self._leader_items):
            self._remove(group)
        self._step_labels.clear()
        self._mark_labels.clear()
        self._owners.clear()
        self._space = None
        self.label_bounds = QRectF()
        self.pulses.clear()
        self.timeline = timeline
        self.flow_scale = scale if scale is not None else FlowScale.of(timeline)
        self.step = None
        self.marks, self.line_nodes = {}, []
        self._draw_breakpoints()

    def show_step(self, step: Step | None) -> None:
        self._remove(self._step_items)
        self._forget(self._step_labels)
        self.pulses.clear()
        self.step, self.badge = step, None
        if step is None or step.node not in self.scene.nodes:
            self._place_labels()
            return
        backward = step.kind != "forward"
        for edge, flows in _by_edge(step.flows[:MAX_FLOWS_DRAWN]).items():
            self._add_pulse(edge, *self._edge_flow(step, flows, backward), backward)
        for contribution in step.contributions[:MAX_FLOWS_DRAWN]:
            shown = fmt(contribution.value)
            self._add_pulse(contribution.edge, contribution.value,
                            f"+({shown})" if shown.startswith("-") else "+" + shown, True)
        self._add_current(step)
        self._place_labels()
        self.set_phase(self.phase)

    def set_phase(self, phase: float) -> None:
        """One animation frame: dots travel along the edges, line pens breathe.
        ``phase`` in [0, 1]; 1 is the resting picture (dots at their targets)."""
        self.phase = phase
        glow = 0.55 + 0.45 * math.sin(math.pi * phase)
        for pulse in self.pulses:
            color = QColor(pulse.color)
            color.setAlphaF(0.45 + 0.55 * glow)
            pen = QPen(color, pulse.width * (0.8 + 0.35 * glow))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pulse.line.setPen(pen)
            pulse.dot.setPos(pulse.path.pointAtPercent(min(max(phase, 0.0), 1.0)))

    def set_marks(self, marks: dict[str, Mark]) -> None:
        self._remove(self._mark_items)
        self._forget(self._mark_labels)
        self.marks = dict(marks)
        drawn = labelled = 0
        for node_id, mark in self.marks.items():
            item = self.scene.nodes.get(node_id)
            if item is None or drawn >= MAX_MARKS_DRAWN:
                continue
            drawn += 1
            colors = self.scene.colors()
            color = QColor(getattr(colors, mark.kind if mark.kind in MARK_KINDS else "fail"))
            box = QGraphicsRectItem(item.rect().adjusted(-3, -3, 3, 3))
            box.setPen(QPen(color, 4.0 if mark.kind != "ok" else 2.0))
            box.setBrush(Qt.BrushStyle.NoBrush)
            self._add(box, Z_MARK, self._mark_items)
            if mark.text and labelled < MAX_MARK_LABELS:
                labelled += 1
                label = self._label(short(mark.text, MAX_MARK_CHARS), color, QColor(colors.badge_text))
                label.setToolTip(plain_tip(mark.text))
                rect = QRectF(item.rect())
                self._add(label, Z_LABEL, self._mark_items)
                self._mark_labels.append((label, lambda size, r=rect: beside_box(size, r, 6.0),
                                          self._edges_of(node_id)))
                self._owners[id(label)] = ("mark", node_id)
        self._place_labels()

    def set_breakpoints(self, nodes: frozenset[str]) -> None:
        self.breakpoints = frozenset(nodes)
        self._draw_breakpoints()

    def set_line_nodes(self, nodes: list[str]) -> None:
        """The nodes made by the editor line under the cursor, outlined: by one item
        painting those in view (ui.norm_layers), where an item each for a loop's line of
        20,000 nodes held the window 0.4-0.9 s a cursor move (red team 62)."""
        self._remove(self._line_items)
        self.line_nodes = [n for n in nodes if n in self.scene.nodes]
        hidden = self.scene.arrangement.hidden_in  # inside a collapsed box: not drawn
        shown = [n for n in self.line_nodes if n not in hidden]
        if not shown:
            return
        outlines = RingLayer(Z_MARK, self.scene.node_tip)
        outlines.set_rings(shown, boxes_around(self.scene.arrangement.nodes, shown, LINE_GAP), np.zeros(len(shown), dtype=np.int64),
                           [QPen(QColor(self.scene.colors().line), 3.0, Qt.PenStyle.DashLine)])
        self._add(outlines, Z_MARK, self._line_items)

    def clear(self) -> None:
        self.attach(None)

    def _obstacles_moved(self) -> None:
        self._space = None
        self._place_labels()

    def _redraw(self) -> None:
        """The scene's items moved (a group collapsed or expanded): follow them."""
        self._space = None
        if self.step is not None:
            self.show_step(self.step)
        self.set_marks(self.marks)
        self._draw_breakpoints()
        self.set_line_nodes(self.line_nodes)

    def label_owner(self, label: QGraphicsItem) -> tuple[str, object] | None:
        """What a label on show tells of: ("edge", (u, v)) for a number flowing along an
        edge, ("badge", node) for the step's number, ("mark", node) for a verdict."""
        if not shiboken6.isValid(label):
            return None
        for item, _, _ in [*self._mark_labels, *self._step_labels]:
            if shiboken6.isValid(item) and _key(item) == _key(label):
                return self._owners.get(id(item))
        return None

    def overlay_items(self) -> list[QGraphicsItem]:
        return [*self._step_items, *self._mark_items, *self._breakpoint_items, *self._line_items,
                *self._leader_items]

    # --- placing the labels -----------------------------------------------------------
    def _free_space(self) -> FreeSpace:
        """What labels must not cover (kept until the layout or the trace changes)."""
        if self._space is None:
            self._space = scene_space(self.scene, MARGIN, NODE_CLEARANCE)
        return self._space

    def mark_label_rects(self) -> list[tuple[QRectF, QRectF]]:
        """Each labelled mark's node box and label (scene units), in the marks' order."""
        return [(self.scene.nodes[self._owners[id(label)][1]].sceneBoundingRect(), label.sceneBoundingRect())
                for label, _, _ in self._mark_labels
                if shiboken6.isValid(label) and label.scene() is self.scene
                and self._owners.get(id(label), ("", ""))[1] in self.scene.nodes]

    def step_label_rects(self) -> list[QRectF]:
        """Where the step's value labels are (scene units), its badge among them."""
        return [label.sceneBoundingRect() for label, _, _ in self._step_labels
                if shiboken6.isValid(label) and label.scene() is self.scene]

    def _place_labels(self) -> None:
        """Every label of the marks and of the step, each where it covers no text."""
        self._remove(self._leader_items)
        if not self._mark_labels and not self._step_labels:
            self.label_bounds = QRectF()
            if self.labels_placed is not None:
                self.labels_placed(self.label_bounds)
            return
        space = self._free_space()
        space.clear_placed()
        window = None
        room = self.view_room() if self.view_room is not None else None
        shown = self.view_seen() if self.view_seen is not None else None
        if self.step is not None and self.step.node in self.scene.nodes:
            c = CURRENT_CLEARANCE
            node = self.scene.nodes[self.step.node].rect()
            space.take(node.adjusted(-c, -c, c, c))
            window = around(node, room)  # the step's labels where the view can show them with its node
        bounds = QRectF()
        steps = {id(label) for label, _, _ in self._step_labels}
        for label, spots, own in [*self._mark_labels, *self._step_labels]:
            if not shiboken6.isValid(label) or label.scene() is not self.scene:
                continue  # the scene dropped it with its old trace (a redraw before attach)
            owner = self._owners.get(id(label), ("", ""))
            if id(label) in steps:
                space.window = window
            else:  # a verdict's label where the view can show it with its node (newcomer 20: cut at the edge)
                marked = self.scene.nodes.get(owner[1]) if owner[0] == "mark" else None
                if marked is None:
                    space.window = None
                elif shown is not None and shown.contains(marked.rect()):  # where it is seen now
                    space.window = box_of(shown)
                else:
                    space.window = around(marked.rect(), room)
            outline = label.boundingRect()  # the box with its border's width
            spot = choose(space, spots(outline.size()), own)
            if (space.window is not None and not space.in_window(box_of(spot.rect))
                    and outline.width() > (space.window[2] - space.window[0]) / 3 and fold_label(label)):
                outline = label.boundingRect()  # on two lines, narrower: it may fit within the view now
                spot = choose(space, spots(outline.size()), own)
            label.setPos(spot.rect.topLeft() - outline.topLeft())
            space.take(spot.rect.adjusted(-LABEL_GAP, -LABEL_GAP, LABEL_GAP, LABEL_GAP))
            bounds = bounds.united(spot.rect)
            if spot.anchor is not None:
                self._add_leader(label, spot)
        self.label_bounds = bounds
        if self.labels_placed is not None:
            self.labels_placed(bounds)

    def _add_leader(self, label: QGraphicsRectItem, spot: Spot) -> None:
        """A thin line from what a far label belongs to, to the label's nearest point."""
        rect, anchor = spot.rect, spot.anchor
        assert anchor is not None
        near = QPointF(min(max(anchor.x(), rect.left()), rect.right()),
                       min(max(anchor.y(), rect.top()), rect.bottom()))
        line = QGraphicsLineItem(QLineF(anchor, near))
        pen = label.pen()
        color = pen.color() if pen.style() != Qt.PenStyle.NoPen else label.brush().color()
        line.setPen(QPen(color, 1.2))
        self._add(line, Z_LEADER, self._leader_items)

    # --- drawing one step -----------------------------------------------------------
    def _edge_flow(self, step: Step, flows: list[Flow], backward: bool) -> tuple[np.ndarray | None, str]:
        """One arrow's value and label for the flows it carries: an op that uses a tensor
        in two slots (``x * x``) has one arrow from it, so one label: forward the tensor
        once, backward each slot's gradient, "a + b", which x's gradient is the sum of."""
        if self._badge_says_it(step):
            return flows[0].value, ""
        if len(flows) == 1 or not backward:
            return flows[0].value, self._flow_text(step, flows[0].value)
        values = [f.value for f in flows]
        # Summed when of one shape (two outputs of a split may differ): never broadcast a
        # trace's arrays (red team 39: 16384x1 and 1x16384 made a 16384x16384 sum).
        same = all(v is not None and v.shape == values[0].shape for v in values)
        total = np.sum(values, axis=0) if same else None
        return total, short(" + ".join(self._flow_text(step, v) for v in values))

    def _badge_says_it(self, step: Step) -> bool:
        """The seed, and the value an output takes from its op, are the very number the
        step's badge shows ("seed 1", "= 14"): the arrow's own label would say it twice."""
        kind = self.scene.graph.nodes[step.node].get("kind") if step.node in self.scene.graph else None
        return step.kind == "seed" or (step.kind == "forward" and kind == "output")

    def _flow_text(self, step: Step, value: np.ndarray | None) -> str:
        if value is None:
            return "" if step.kind == "forward" else "no grad"
        return short(fmt(value))

    def _add_pulse(self, edge: tuple[str, str], value: np.ndarray | None, text: str,
                   backward: bool) -> None:
        if edge not in self.scene.edges:
            return
        points = self.scene.edge_route(edge)
        if not points or len(points) < 2:  # inside a collapsed box: nothing to see move
            return
        look = flow_look(value, self.flow_scale, backward, self.scene.colors())
        path = route(points, reverse=backward)
        line = QGraphicsPathItem(path)
        line.setBrush(Qt.BrushStyle.NoBrush)
        self._add(line, Z_PULSE, self._step_items)
        radius = DOT_RADIUS + look.width / 3
        dot = QGraphicsEllipseItem(QRectF(-radius, -radius, 2 * radius, 2 * radius))
        dot.setBrush(look.color)
        dot.setPen(QPen(QColor(self.scene.colors().background), 1.5))
        self._add(dot, Z_CURRENT, self._step_items)
        self.pulses.append(_Pulse(path, line, dot, look.color, look.width))
        if text:
            label = self._label(text, QColor(self.scene.colors().background),
                                QColor(self.scene.colors().text), border=look.color)
            self._add(label, Z_LABEL, self._step_items)
            self._step_labels.append((label, lambda size, p=path: on_path(size, p), frozenset([edge])))
            self._owners[id(label)] = ("edge", edge)

    def _add_current(self, step: Step) -> None:
        rect = self.scene.nodes[step.node].rect()
        colors = self.scene.colors()
        color = QColor(colors.forward if step.kind == "forward" else colors.backward)
        box = QGraphicsRectItem(rect.adjusted(-5, -5, 5, 5))
        box.setPen(QPen(color, 4.0))
        fill = QColor(color)
        fill.setAlpha(28)
        box.setBrush(fill)
        self._add(box, Z_CURRENT, self._step_items)
        text = self._badge_text(step)
        if text:
            badge = self._label(text, color, QColor(colors.badge_text))
            self._add(badge, Z_LABEL, self._step_items)
            # The badge is placed first: it is the step's own number.
            self._step_labels.insert(0, (badge, lambda size, r=QRectF(rect): near_box(size, r, BADGE_GAP),
                                         self._edges_of(step.node)))
            self._owners[id(badge)] = ("badge", step.node)
            self.badge = badge

    def _badge_text(self, step: Step) -> str:
        # A leaf's sum is the step's own number: read whole (a verdict's length), the
        # terms before it cut first.
        if step.contributions and len(step.contributions) > SUMMED_SHOWN:  # the sum, not the terms (an RNN's 20)
            return short(f"\u03a3 of {len(step.contributions)} = {fmt(step.value)}", MAX_SUM_CHARS)
        if step.contributions and len(step.contributions) > 1:
            parts = " + ".join(fmt(c.value) for c in step.contributions)
            total = f" = {fmt(step.value)}"
            return short("\u03a3 " + short(parts, max(8, MAX_SUM_CHARS - len(total) - 2)) + total, MAX_SUM_CHARS)
        if step.kind == "forward":
            return short(f"= {fmt(step.value)}") if step.value is not None else ""
        if step.kind == "seed":
            return short(f"seed {fmt(step.value)}")
        return short(f"grad {fmt(step.value)}") if step.value is not None else ""

    def _label(self, text: str, background: QColor, foreground: QColor,
               border: QColor | None = None) -> QGraphicsRectItem:
        """Text on a filled box. The text item is made parentless, then parented: see
        DESIGN.md on PySide text items and their parents."""
        item = QGraphicsSimpleTextItem(text)
        item.setFont(self.label_font)
        item.setBrush(QBrush(foreground))
        bounds = item.boundingRect()
        box = QGraphicsRectItem(QRectF(0, 0, bounds.width() + 8, bounds.height() + 2))
        back = QColor(background)
        back.setAlpha(LABEL_ALPHA)
        box.setBrush(back)
        box.setPen(QPen(border, 2.0) if border is not None else QPen(Qt.PenStyle.NoPen))
        item.setParentItem(box)
        item.setPos(4, 1)
        return box

    def _draw_breakpoints(self) -> None:
        self._remove(self._breakpoint_items)
        for node_id in sorted(self.breakpoints):
            item = self.scene.nodes.get(node_id)
            if item is None:
                continue
            rect = item.rect()
            dot = QGraphicsEllipseItem(QRectF(rect.left() - 7, rect.top() - 7, 14, 14))
            dot.setBrush(QColor(self.scene.colors().breakpoint))
            dot.setPen(QPen(QColor(self.scene.colors().background), 1.5))
            dot.setToolTip("breakpoint (F9 toggles)")
            self._add(dot, Z_LABEL, self._breakpoint_items)

    # --- bookkeeping ------------------------------------------------------------------
    def _add(self, item: QGraphicsItem, z: float, group: list[QGraphicsItem]) -> None:
        item.setZValue(z)
        item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks reach the node below
        self.scene.addItem(item)
        group.append(item)

    def _edges_of(self, node_id: str) -> frozenset[object]:
        """The edges into and out of a node: its labels may sit on them."""
        graph = self.scene.graph
        if not hasattr(graph, "in_edges") or node_id not in graph:
            return frozenset()
        return frozenset((str(u), str(v)) for u, v in [*graph.in_edges(node_id), *graph.out_edges(node_id)])

    def _forget(self, labels: list[tuple[QGraphicsRectItem, Spots, frozenset[object]]]) -> None:
        for label, _, _ in labels:
            self._owners.pop(id(label), None)
        labels.clear()

    def _remove(self, group: list[QGraphicsItem]) -> None:
        self.scene.remove_items(group)  # the scene deletes every item when it loads a new trace
        group.clear()
