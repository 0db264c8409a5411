"""The routes of a reply's edges, as a layout draws them: how long one may be and where it
must start and end (``viz.isolation.replies.check_graph`` checks each against these)."""

from __future__ import annotations

import math
from typing import Any

ROUTE_END_SLACK = 1.0  # how far from its node's box a route's end may lie (scene units)

# The routes' total length, at most this many times the sum over edges of their ends'
# distance, their boxes' sizes and ROUTE_SLACK: honest layouts are at most 1.0 times
# it (the gallery, 79 tutorials, RNNs of 6,005 nodes), one route up to 19 times its own
# (a long edge around the drawing's side). Routes zigzagging across the whole drawing
# between honest boxes, within the points' budget, cost a PNG export seconds a band on
# the GUI thread, 10 times an honest file's (red team 77).
ROUTE_DETOUR, ROUTE_SLACK = 4.0, 200.0
# ...and one route at most this many times its own (honest: 19 at most, above), or once
# around the drawing (a short edge around a 1,000-step chain's side: 131 times its own).
ROUTE_ALONE = 40.0


def drawing_span(graph: Any) -> float:
    """The laid-out drawing's width plus height (0 for a graph without a place)."""
    xs, ys = [], []
    for _, data in graph.nodes(data=True):
        x, y, w, h = (data.get(key) for key in ("x", "y", "width", "height"))
        if None not in (x, y, w, h):
            xs += [x - w / 2, x + w / 2]
            ys += [y - h / 2, y + h / 2]
    return (max(xs) - min(xs)) + (max(ys) - min(ys)) if xs else 0.0


def route_length(points: Any, source: dict, target: dict) -> tuple[float, float]:
    """A route's length, and what the total check allows for it."""
    length = sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:]))
    ends = abs(points[-1][0] - points[0][0]) + abs(points[-1][1] - points[0][1])
    boxes = sum(float(data.get(key) or 0.0) for data in (source, target) for key in ("width", "height"))
    return length, ends + boxes + ROUTE_SLACK


def on_box(point: Any, data: dict) -> bool:
    """Whether a route's end lies on a node's box (its border, where a layout puts the
    ports), give or take a unit; True for a node without a place (a trace made without
    a layout). Red teams 34 and 36 sent routes that ran anywhere (across the drawing,
    through one point) between honest boxes."""
    x, y, w, h = (data.get(key) for key in ("x", "y", "width", "height"))
    if x is None or y is None or w is None or h is None:
        return True
    return abs(point[0] - x) <= w / 2 + ROUTE_END_SLACK and abs(point[1] - y) <= h / 2 + ROUTE_END_SLACK
