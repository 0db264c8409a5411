"""Every edge ends in an open arrowhead: two barbs of equal length, one on each side of
the last stretch of the route, mirror images of each other across it, for a vertical
(top to bottom), a horizontal (left to right) and a slanted last stretch alike, and in
the paths of bundled routes too."""

from __future__ import annotations

import math

import pytest
from PySide6.QtGui import QPainterPath

from ui.edge_paths import edge_path, edge_paths

Point = tuple[float, float]


def _head(path: QPainterPath) -> tuple[Point, Point, Point]:
    """The last three points of the path: left barb's end, the tip, right barb's end."""
    points = [(path.elementAt(i).x, path.elementAt(i).y) for i in range(path.elementCount())]
    return points[-3], points[-2], points[-1]


def _check(route: list[Point], path: QPainterPath) -> None:
    (x0, y0), (x1, y1) = route[-2], route[-1]
    left, tip, right = _head(path)
    assert tip == pytest.approx((x1, y1))
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length

    def along_across(p: Point) -> tuple[float, float]:
        px, py = p[0] - x1, p[1] - y1
        return px * ux + py * uy, px * uy - py * ux  # back along the line, and to one side

    back_l, side_l = along_across(left)
    back_r, side_r = along_across(right)
    assert back_l < 0 and back_r < 0  # both behind the tip
    assert back_l == pytest.approx(back_r)  # equally far back
    assert side_l == pytest.approx(-side_r)  # mirror images across the line
    assert abs(side_l) > 1.0  # an open head, not a line along the edge
    assert math.hypot(back_l, side_l) == pytest.approx(math.hypot(back_r, side_r))


ROUTES = {
    "down": [(10.0, 0.0), (10.0, 100.0)],
    "bent then down": [(0.0, 0.0), (40.0, 30.0), (40.0, 120.0)],
    "right": [(0.0, 50.0), (80.0, 50.0)],
    "slanted": [(0.0, 0.0), (30.0, 40.0)],
}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_a_routes_arrowhead_has_a_barb_each_side(name: str) -> None:
    route = ROUTES[name]
    _check(route, edge_path(route))


def test_bundled_routes_keep_whole_arrowheads() -> None:
    # Two routes down one trunk: the shared stretch is drawn once, each head still whole.
    routes = [("a", [(50.0, 0.0), (50.0, 100.0), (20.0, 140.0)]),
              ("b", [(50.0, 0.0), (50.0, 200.0)])]
    paths = edge_paths(routes, far=False)[0]
    for key, route in routes:
        _check(route, paths[key])
