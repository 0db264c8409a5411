"""The numpy pieces of shared routes (ui.route_pieces) are those the Python rules gave,
piece for piece and in order (issue 19: that Python was most of making a big drawing's
edges). The rules are kept here, as they were in ui.edge_paths, as the oracle."""

from __future__ import annotations

import random
from bisect import bisect_left
from collections import defaultdict

import numpy as np
import pytest

from ui.edge_paths import arrow_points
from ui.route_pieces import _least_covering, route_pieces
from viz.engine.engine import trace_code

Point = tuple[float, float]


def _line_of(a: Point, b: Point) -> tuple[str, float] | None:
    if a[0] == b[0] and a[1] != b[1]:
        return ("v", a[0])
    if a[1] == b[1] and a[0] != b[0]:
        return ("h", a[1])
    return None


def _owned_runs(intervals: list[tuple[float, float, int]]) -> dict[int, list[tuple[float, float]]]:
    cuts = sorted({v for lo, hi, _ in intervals for v in (lo, hi)})
    owner = [-1] * len(cuts)
    for lo, hi, index in intervals:  # the first interval covering a piece owns it
        for i in range(bisect_left(cuts, lo), bisect_left(cuts, hi)):
            if owner[i] < 0:
                owner[i] = index
    runs: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for i in range(len(cuts) - 1):
        if owner[i] < 0:
            continue
        mine = runs[owner[i]]
        if mine and mine[-1][1] == cuts[i]:
            mine[-1] = (mine[-1][0], cuts[i + 1])
        else:
            mine.append((cuts[i], cuts[i + 1]))
    return runs


def _pieces(a: Point, b: Point, line: tuple[str, float], runs: list[tuple[float, float]]) -> list[tuple[Point, Point]]:
    axis = 1 if line[0] == "v" else 0
    lo, hi = sorted((a[axis], b[axis]))
    parts = [(max(r0, lo), min(r1, hi)) for r0, r1 in runs if r0 < hi and r1 > lo]
    if a[axis] > b[axis]:
        parts = [(r1, r0) for r0, r1 in reversed(parts)]

    def at(v: float) -> Point:
        return (line[1], v) if axis == 1 else (v, line[1])

    return [(at(s), at(e)) for s, e in parts]


def python_pieces(routes: list[list[Point]]) -> tuple[list[list[tuple[Point, Point]]], list[bool]]:
    """Each route's pieces and whether it shares nothing, by the Python rules."""
    on_line: dict[tuple[str, float], list[tuple[float, float, int]]] = defaultdict(list)
    for index, points in enumerate(routes):
        for a, b in zip(points, points[1:]):
            line = _line_of(a, b)
            if line is not None:
                axis = 1 if line[0] == "v" else 0
                on_line[line].append((min(a[axis], b[axis]), max(a[axis], b[axis]), index))
    shared = {line: _owned_runs(intervals) for line, intervals in on_line.items() if len(intervals) > 1}
    slanted: set[tuple[Point, Point]] = set()
    every, alone_all = [], []
    for index, points in enumerate(routes):
        pieces: list[tuple[Point, Point]] = []
        alone = True
        for a, b in zip(points, points[1:]):
            line = _line_of(a, b)
            if line is None:
                same = (a, b) if a <= b else (b, a)
                if same in slanted:
                    alone = False
                    continue
                slanted.add(same)
                pieces.append((a, b))
            elif line in shared:
                mine = _pieces(a, b, line, shared[line].get(index, []))
                alone = alone and mine == [(a, b)]
                pieces += mine
            else:
                pieces.append((a, b))
        every.append(pieces)
        alone_all.append(alone)
    return every, alone_all


def _random_routes(seed: int, count: int, grid: int) -> list[list[Point]]:
    """Routes on a small grid: collinear runs overlapping, doubling back, the same slanted
    segment either way round, repeated points."""
    rng = random.Random(seed)
    routes = []
    for _ in range(count):
        points = [(float(rng.randrange(grid)), float(rng.randrange(grid)))]
        for _ in range(rng.randrange(1, 6)):
            x, y = points[-1]
            move = rng.random()
            if move < 0.4:
                points.append((x, float(rng.randrange(grid))))
            elif move < 0.8:
                points.append((float(rng.randrange(grid)), y))
            elif move < 0.9:
                points.append((x, y))
            else:
                points.append((float(rng.randrange(grid)), float(rng.randrange(grid))))
        routes.append(points)
    return routes


def _trunk(steps: int) -> list[list[Point]]:
    return [[(58.5, 68.0), (63.5, 112.0), (63.5, 112.0 + 276 * k), (116.0, 156.0 + 276 * k)]
            for k in range(1, steps + 1)]


def _traced(code: str) -> list[list[Point]]:
    graph = trace_code(code, layout=True).graph
    return [[(float(x), float(y)) for x, y in points] for _, _, points in graph.edges(data="points")
            if points and len(points) >= 2]


RNN = "h = torch.zeros(3)\nW = torch.randn(3, 3, requires_grad=True)\nfor t in range(40):\n" \
      "    h = torch.tanh(W @ h + 1)\nh.sum()\n"
FAN_IN = "x = torch.ones(1, requires_grad=True)\nparts = [x * k for k in range(40)]\ntorch.stack(parts).sum()\n"


@pytest.mark.parametrize("routes", [
    _trunk(1), _trunk(40), *[_random_routes(seed, 60, 5) for seed in range(12)], _random_routes(99, 400, 9),
    [[(0.0, 0.0), (0.0, 10.0), (0.0, 5.0), (0.0, 20.0)], [(0.0, 3.0), (0.0, 30.0)]],  # a route over itself
    [[(-0.0, 1.0), (0.0, 4.0)], [(0.0, 2.0), (0.0, 3.0)]],  # -0.0 is 0.0
], ids=lambda routes: f"{len(routes)}-routes")
def test_the_pieces_are_the_python_rules(routes: list[list[Point]]) -> None:
    check(routes)


def test_the_pieces_of_traced_graphs_are_the_python_rules() -> None:
    check(_traced(RNN))
    check(_traced(FAN_IN))


def check(routes: list[list[Point]]) -> None:
    expected, alone = python_pieces(routes)
    got = route_pieces(routes)
    assert got.starts[-1] == len(got.lines)
    for r, pieces in enumerate(expected):
        mine = got.lines[got.starts[r]:got.starts[r + 1]]
        assert mine.tolist() == [[*a, *b] for a, b in pieces], r
    assert got.alone.tolist() == alone
    arrows = [[c for point in arrow_points(points) for c in point] for points in routes]
    assert got.arrows.tolist() == arrows  # bit for bit
    assert got.reach.tolist() == [max(max(x for x, _ in p) - min(x for x, _ in p),
                                      max(y for _, y in p) - min(y for _, y in p)) for p in routes]
    # The far lines of every other route: its pieces, then its arrowhead's two strokes.
    chosen = np.arange(0, len(routes), 2)
    lines, owner = got.far_lines(chosen)
    flat = [[*a, *b] for r in chosen for a, b in
            (*expected[r], (arrow_points(routes[r])[0], routes[r][-1]), (routes[r][-1], arrow_points(routes[r])[2]))]
    assert lines.tolist() == flat
    assert owner.tolist() == [k for k, r in enumerate(chosen) for _ in range(len(expected[r]) + 2)]


def test_the_least_covering_value_over_ranges() -> None:
    rng = np.random.default_rng(5)
    size = 300
    start = rng.integers(0, size, 500)
    stop = np.minimum(start + rng.integers(1, 120, 500), size)
    value = rng.integers(0, 50, 500)
    expected = np.full(size, 99)
    for s, e, v in zip(start, stop, value):
        expected[s:e] = np.minimum(expected[s:e], v)
    assert _least_covering(start, stop, value, size, 99).tolist() == expected.tolist()
