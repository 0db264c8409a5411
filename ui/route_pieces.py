"""The pieces of line each route draws when shared stretches are drawn once, in numpy.

ui.edge_paths says who draws what: a straight line shared by routes (collinear
axis-parallel runs, or the very same slanted segment) is cut at every route's end
points, and each piece goes to the first route (in the order given) that covers it.
Worked out a segment at a time in Python, that was most of making a big drawing's edges
(a 20,000-node RNN's 90,000 segments, 0.3 s of the thread making it, issue 19); here it
is array arithmetic over all the routes' points at once, with the same answer, piece for
piece and in the same order (tests/ui/test_route_pieces.py holds the Python rules).

Who owns a piece of a line is the least route index over the intervals covering it: each
interval is written into the two power-of-two blocks that cover it (a sparse table), and
the blocks are pushed down to single pieces, so a trunk shared by thousands of routes
costs its cuts times their logarithm, not routes times cuts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

ARROW = 7.0  # an arrowhead's length along the route (scene units)
BARB = ARROW * 0.55  # and each barb's distance from the route's line


@dataclass
class RoutePieces:
    """Each route's pieces (``lines[starts[r]:starts[r + 1]]``, rows of x0, y0, x1, y1,
    in the route's direction), whether it shares nothing (``alone``: its pieces are its
    own segments), the longer side of the rectangle around its points (``reach``), and
    its arrowhead (``arrows``: left barb, tip, right barb as six numbers a row); the
    rectangles' corners (``low``, ``high``: x, y a row)."""

    lines: np.ndarray
    starts: np.ndarray
    alone: np.ndarray
    reach: np.ndarray
    arrows: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def far_lines(self, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The chosen routes' pieces with their arrowheads' two strokes after each
        route's, and each row's place among the chosen (as ui.long_edges keeps them)."""
        chosen = np.asarray(chosen, dtype=np.int64)
        counts = self.starts[chosen + 1] - self.starts[chosen]
        block = np.concatenate([[0], np.cumsum(counts + 2)])  # each route's rows, its arrow's two last
        owner = np.repeat(np.arange(len(chosen)), counts + 2)
        offset = np.arange(block[-1]) - block[owner]
        piece = offset < counts[owner]
        lines = np.empty((int(block[-1]), 4))
        lines[piece] = self.lines[self.starts[chosen][owner[piece]] + offset[piece]]
        left, tip, right = self.arrows[chosen, 0:2], self.arrows[chosen, 2:4], self.arrows[chosen, 4:6]
        lines[block[1:] - 2] = np.hstack([left, tip])
        lines[block[1:] - 1] = np.hstack([tip, right])
        return lines, owner


def route_pieces(routes: Sequence[Sequence[Sequence[float]]]) -> RoutePieces:
    """The pieces of ``routes`` (each of at least two points) with shared stretches drawn
    by the first route that covers them."""
    n = len(routes)
    counts = np.fromiter((len(points) for points in routes), dtype=np.int64, count=n)
    points = np.fromiter(chain.from_iterable(chain.from_iterable(routes)), dtype=float,
                         count=2 * int(counts.sum())).reshape(-1, 2)
    first = np.concatenate([[0], np.cumsum(counts)])
    route_of_point = np.repeat(np.arange(n), counts)
    low = np.minimum.reduceat(points, first[:-1]) if n else np.empty((0, 2))
    high = np.maximum.reduceat(points, first[:-1]) if n else np.empty((0, 2))
    reach = (high - low).max(axis=1) if n else np.empty(0)

    # Segments: each point but a route's last, to the next.
    last = np.zeros(len(points), dtype=bool)
    last[first[1:] - 1] = True
    at = np.flatnonzero(~last)
    a, b = points[at], points[at + 1]
    route = route_of_point[at]
    vertical = (a[:, 0] == b[:, 0]) & (a[:, 1] != b[:, 1])
    horizontal = ~vertical & (a[:, 1] == b[:, 1]) & (a[:, 0] != b[:, 0])
    slanted = ~(vertical | horizontal)

    # A slanted segment (or a single point) drawn already, either way round, is not again.
    kept = np.ones(len(at), dtype=bool)
    kept[slanted] = _first_of_each(_either_way(a[slanted], b[slanted]))

    # Axis-parallel segments, by the line they lie on: lines holding several are cut.
    axis = np.where(vertical, 1, 0)  # the coordinate along the line
    flat = np.flatnonzero(~slanted)
    on = np.column_stack([vertical[flat].astype(float), np.where(vertical[flat], a[flat, 0], a[flat, 1])])
    line, line_count = _groups(on)
    shared = flat[line_count[line] > 1]
    shared_line = line[line_count[line] > 1]
    along_a = a[shared, axis[shared]]
    along_b = b[shared, axis[shared]]
    pieces_of, piece_lo, piece_hi = _owned_pieces(shared_line, np.minimum(along_a, along_b),
                                                  np.maximum(along_a, along_b), route[shared], n)

    # Every segment's count of pieces, then the pieces in order.
    per_segment = kept.astype(np.int64)
    per_segment[shared] = pieces_of[1:] - pieces_of[:-1]
    seg_start = np.concatenate([[0], np.cumsum(per_segment)])
    lines = np.empty((int(seg_start[-1]), 4))
    whole = np.flatnonzero(kept)
    whole = whole[~np.isin(whole, shared)]
    lines[seg_start[whole]] = np.hstack([a[whole], b[whole]])
    if len(shared):
        counts_shared = per_segment[shared]
        which = np.repeat(np.arange(len(shared)), counts_shared)
        k = np.arange(len(which)) - np.repeat(pieces_of[:-1], counts_shared)
        backwards = (along_a > along_b)[which]
        place = seg_start[shared][which] + np.where(backwards, counts_shared[which] - 1 - k, k)
        start = np.where(backwards, piece_hi, piece_lo)
        end = np.where(backwards, piece_lo, piece_hi)
        across = np.where(vertical[shared], a[shared, 0], a[shared, 1])[which]
        is_vertical = vertical[shared][which]
        lines[place] = np.column_stack([np.where(is_vertical, across, start), np.where(is_vertical, start, across),
                                        np.where(is_vertical, across, end), np.where(is_vertical, end, across)])

    # Alone: every segment drawn whole, by this route, as one piece.
    own = np.ones(len(at), dtype=bool)
    own[~kept] = False
    if len(shared):
        exact = per_segment[shared] == 1
        one = pieces_of[:-1][exact]
        exact[exact] = (piece_lo[one] == np.minimum(along_a, along_b)[exact]) & \
            (piece_hi[one] == np.maximum(along_a, along_b)[exact])
        own[shared] = exact
    alone = np.ones(n, dtype=bool)
    alone[route[~own]] = False
    starts = np.concatenate([[0], np.cumsum(np.bincount(route, weights=per_segment, minlength=n).astype(np.int64))])
    return RoutePieces(lines, starts, alone, reach, arrowheads(points, first[1:] - 1), low, high)


def _either_way(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each segment with the lesser end (by x, then y) first; -0.0 taken as 0.0, as
    Python's comparisons do."""
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    return np.where(swap[:, None], np.hstack([b, a]), np.hstack([a, b])) + 0.0


def _first_of_each(rows: np.ndarray) -> np.ndarray:
    """Whether each row is the first of the rows equal to it."""
    if not len(rows):
        return np.empty(0, dtype=bool)
    order = np.lexsort(rows.T[::-1])  # stable: equal rows stay in their order
    ordered = rows[order]
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    first = np.zeros(len(rows), dtype=bool)
    first[order[new]] = True
    return first


def _groups(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's group of equal rows (a number) and each group's size."""
    if not len(rows):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    rows = rows + 0.0
    order = np.lexsort(rows.T[::-1])
    ordered = rows[order]
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    group = np.empty(len(rows), dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    return group, np.bincount(group)


def _owned_pieces(line: np.ndarray, lo: np.ndarray, hi: np.ndarray, route: np.ndarray,
                  routes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For intervals lo-hi on lines (each of a route), the parts of each its route owns:
    interval i's are ``piece_lo/hi[offsets[i]:offsets[i + 1]]``, in increasing order, a
    route's consecutive pieces merged into one."""
    if not len(line):
        return np.zeros(1, dtype=np.int64), np.empty(0), np.empty(0)
    # The cuts: every end on each line, sorted by line then value, each once.
    ends = np.concatenate([np.column_stack([line, lo + 0.0]), np.column_stack([line, hi + 0.0])])
    order = np.lexsort((ends[:, 1], ends[:, 0]))
    ordered = ends[order]
    new = np.ones(len(ends), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    cut_of = np.empty(len(ends), dtype=np.int64)
    cut_of[order] = np.cumsum(new) - 1
    cuts = ordered[new, 1]
    start, stop = cut_of[:len(line)], cut_of[len(line):]  # piece j lies between cuts j and j + 1
    owner = _least_covering(start, stop, route, len(cuts), routes)
    # Runs: consecutive pieces of one owner (a line's last cut starts no piece: unowned).
    j = np.arange(len(cuts))
    owned = owner < routes
    begins = owned & np.concatenate([[True], owner[1:] != owner[:-1]])
    run_start = np.flatnonzero(begins)
    run_owner = owner[run_start]
    run_stop = np.empty(len(run_start), dtype=np.int64)  # one past each run's last piece
    finishes = owned & np.concatenate([owner[1:] != owner[:-1], [True]])
    run_stop[:] = j[finishes] + 1
    # By owner then place: an interval's runs are those of its route that meet it.
    span = len(cuts) + 1
    order = np.lexsort((run_start, run_owner))
    start_key, stop_key = run_owner[order] * span + run_start[order], run_owner[order] * span + run_stop[order]
    first = np.searchsorted(stop_key, route * span + start, side="right")
    last = np.searchsorted(start_key, route * span + stop, side="left")
    count = np.maximum(last - first, 0)
    offsets = np.concatenate([[0], np.cumsum(count)])
    which = np.repeat(np.arange(len(line)), count)
    run = order[first[which] + np.arange(len(which)) - np.repeat(offsets[:-1], count)]
    piece_lo = cuts[np.maximum(run_start[run], start[which])]
    piece_hi = cuts[np.minimum(run_stop[run], stop[which])]
    return offsets, piece_lo, piece_hi


def _least_covering(start: np.ndarray, stop: np.ndarray, value: np.ndarray, size: int, none: int) -> np.ndarray:
    """For each of ``size`` places, the least value of the ranges start-stop (stop
    excluded) covering it; ``none`` where none does. Each range goes into the two blocks
    of a power-of-two length that cover it; blocks are then pushed down level by level."""
    length = stop - start
    level = np.zeros(len(length), dtype=np.int64)
    nonempty = length > 0
    level[nonempty] = np.frexp(length[nonempty].astype(float))[1] - 1  # floor(log2): exact for integers
    levels = int(level.max()) + 1 if len(level) else 1
    table = np.full((levels, size), none, dtype=np.int64)
    np.minimum.at(table, (level[nonempty], start[nonempty]), value[nonempty])
    np.minimum.at(table, (level[nonempty], stop[nonempty] - np.left_shift(1, level[nonempty])), value[nonempty])
    for k in range(levels - 1, 0, -1):
        half = 1 << (k - 1)
        below = table[k - 1]
        np.minimum(below, table[k], out=below)
        np.minimum(below[half:], table[k][:size - half], out=below[half:])
    return table[0]


def arrowheads(points: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Each route's open arrowhead at its last point (ui.edge_paths.arrow_points)."""
    x0, y0 = points[ends - 1, 0], points[ends - 1, 1]
    x1, y1 = points[ends, 0], points[ends, 1]
    dx, dy = x1 - x0, y1 - y0
    length = np.sqrt(dx * dx + dy * dy)
    length[length == 0] = 1.0
    ux, uy = dx / length, dy / length
    return np.column_stack([x1 - ARROW * ux - BARB * uy, y1 - ARROW * uy + BARB * ux, x1, y1,
                            x1 - ARROW * ux + BARB * uy, y1 - ARROW * uy - BARB * ux])
