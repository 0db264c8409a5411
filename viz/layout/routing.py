"""Edge routes: the polylines the view draws, exactly.

A route leaves the source through a port on the bottom of its box, drops straight
down to the bottom of the source's row, crosses the gap to the next row, runs
straight down through the row at each virtual node's x, and enters the target
through a port on the top of its box. Rows hold boxes only inside their band and
boxes of one row never share an x, so a route can only meet other routes in the
gaps between rows (where the crossing count of the order applies) and never passes
through a box it does not connect.

Ports spread the edges of one box along its border in the order of the far ends,
so the fan of a node with several inputs does not pile up in one point.
"""

from __future__ import annotations

import bisect

from viz.layout.layering import Layered

PORT_STEP = 10.0
PORT_MARGIN = 10.0
SELF_LOOP = 14.0


def _ports(centre: float, width: float, ends: list[int], x: list[float]) -> dict[int, float]:
    """x of the port towards each far end, spread along a box border in their order."""
    if len(ends) == 1:
        return {ends[0]: centre}
    ordered = sorted(ends, key=lambda e: (x[e], e))
    usable = max(0.0, width - 2 * PORT_MARGIN)
    step = min(PORT_STEP, usable / (len(ordered) - 1))
    middle = (len(ordered) - 1) / 2
    return {e: centre + (i - middle) * step for i, e in enumerate(ordered)}


def _simplify(points: list[list[float]]) -> list[list[float]]:
    """Drop repeated points and middle points of straight runs."""
    kept: list[list[float]] = []
    ax = ay = bx = by = 0.0  # the last two points kept (a before b)
    for p in points:
        px, py = p
        if kept:
            if abs(bx - px) < 1e-9 and abs(by - py) < 1e-9:
                continue
            if len(kept) >= 2:
                cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
                if abs(cross) < 1e-6 and (px - bx) * (bx - ax) + (py - by) * (by - ay) >= 0:
                    kept[-1] = p
                    bx, by = px, py
                    continue
            ax, ay = bx, by
        kept.append(p)
        bx, by = px, py
    if len(kept) == 1:
        kept.append(list(kept[0]))
    return kept


def route_edges(
    lg: Layered,
    x: list[float],
    tops: list[float],
    row_heights: list[float],
    widths: list[float],
    heights: list[float],
) -> list[list[list[float]]]:
    """Points of every layered edge (``lg.edges`` order), from its layered source down.

    A route through a chain is built from the chain's straight runs, not node by
    node, so a trunk's many edges cost their bends, not their length.
    """
    n_real = lg.n_real
    out_port: dict[tuple[int, int], float] = {}
    in_port: dict[tuple[int, int], float] = {}
    for v in range(n_real):
        ends = lg.down[v]
        if len(ends) == 1:
            out_port[(v, ends[0])] = x[v]
        elif ends:
            for b, px in _ports(x[v], widths[v], ends, x).items():
                out_port[(v, b)] = px
        ends = lg.up[v]
        if len(ends) == 1:
            in_port[(ends[0], v)] = x[v]
        elif ends:
            for a, px in _ports(x[v], widths[v], ends, x).items():
                in_port[(a, v)] = px

    layer = lg.layer
    centre = [top + height / 2 for top, height in zip(tops, row_heights)]
    bottoms = [top + height for top, height in zip(tops, row_heights)]
    chains = lg.chains
    runs = [_runs(nodes, x) for nodes in chains]
    run_starts = [[r[0] for r in chain_runs] for chain_runs in runs]  # once per chain, not per edge
    routes: list[list[list[float]]] = []
    for (source, target), (chain, start, stop) in zip(lg.edges, lg.routes):
        ls, lt = layer[source], layer[target]
        if chain < 0:
            sx = out_port[(source, target)]
            tx = in_port[(source, target)]
            routes.append(_simplify([[sx, centre[ls] + heights[source] / 2], [sx, bottoms[ls]],
                                     [tx, tops[lt]], [tx, centre[lt] - heights[target] / 2]]))
            continue
        nodes = chains[chain]
        sx = out_port[(source, nodes[start])]
        points = [[sx, centre[ls] + heights[source] / 2], [sx, bottoms[ls]]]
        chain_runs = runs[chain]
        r = bisect.bisect_right(run_starts[chain], start) - 1
        while r < len(chain_runs) and chain_runs[r][0] < stop:
            k0, k1, px = chain_runs[r]
            points.append([px, tops[layer[nodes[max(k0, start)]]]])
            points.append([px, bottoms[layer[nodes[min(k1, stop - 1)]]]])
            r += 1
        tx = in_port[(nodes[stop - 1], target)]
        points.append([tx, tops[lt]])
        points.append([tx, centre[lt] - heights[target] / 2])
        routes.append(_simplify(points))
    return routes


def _runs(nodes: list[int], x: list[float]) -> list[tuple[int, int, float]]:
    """Maximal straight stretches of a chain: (first index, last index, x)."""
    result: list[tuple[int, int, float]] = []
    for k, v in enumerate(nodes):
        if result and abs(result[-1][2] - x[v]) < 1e-9:
            result[-1] = (result[-1][0], k, result[-1][2])
        else:
            result.append((k, k, x[v]))
    return result


def self_loop(x: float, y: float, width: float) -> list[list[float]]:
    """A small loop on the right side of a box, for an edge from a node to itself."""
    right = x + width / 2
    return [[right, y - 6.0], [right + SELF_LOOP, y - 6.0], [right + SELF_LOOP, y + 6.0], [right, y + 6.0]]
