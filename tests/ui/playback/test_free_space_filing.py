"""The label placer's grid is filled in numpy for a big graph (the first step of a
20,000-node RNN's playback spent 0.7 s filing its boxes and routes one by one): every
box and route is filed in exactly the cells the one-by-one filing used."""

from __future__ import annotations

import math
import random

import numpy as np
from PySide6.QtCore import QRectF

from ui.playback.label_place import CELL, FreeSpace, _clip


def _one_by_one_lines(space: FreeSpace, points: list[tuple[float, float]]) -> set[tuple[int, int]]:
    """The cells the filing of a route took before numpy (sampled every quarter cell)."""
    cells = set()
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        clipped = _clip(x0, y0, x1, y1, space._bounds)
        if clipped is None:
            continue
        a0, b0, a1, b1 = clipped
        steps = max(1, math.ceil(math.hypot(a1 - a0, b1 - b0) / (CELL / 4)))
        cells |= {(math.floor((a0 + (a1 - a0) * i / steps) / CELL), math.floor((b0 + (b1 - b0) * i / steps) / CELL))
                  for i in range(steps + 1)}
    return cells


def test_many_boxes_are_filed_as_each_one_would_be() -> None:
    rng = random.Random(7)
    bounds = QRectF(-500, -300, 6000, 4000)
    boxes = [(x, y, x + rng.uniform(1, 300), y + rng.uniform(1, 120))
             for x, y in ((rng.uniform(-2000, 8000), rng.uniform(-2000, 6000)) for _ in range(400))]
    boxes.append((-1e7, -1e7, 1e7, 1e7))  # larger than the drawing: the bounds' cells only
    one, many = FreeSpace(bounds), FreeSpace(bounds)
    for box in boxes:
        one.block(QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]))
    many.block_boxes(np.array(boxes))
    assert {k: sorted(v) for k, v in many._fixed.items()} == {k: sorted(v) for k, v in one._fixed.items()}


def test_a_route_is_filed_in_the_cells_it_crosses() -> None:
    rng = random.Random(3)
    space = FreeSpace(QRectF(-500, -300, 60_000, 40_000))
    for k in range(200):
        points = [(rng.uniform(-1000, 61_000), rng.uniform(-1000, 41_000)) for _ in range(rng.randint(2, 5))]
        filed = FreeSpace(space.bounds)
        assert filed.add_line(points, k)
        assert set(filed._lines) == _one_by_one_lines(filed, points), points
