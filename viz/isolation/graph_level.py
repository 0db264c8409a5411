"""A trace's graph-level attributes and its module boxes, as the engine and the layout
make them (red team 37).

The graph's own dictionary was taken as any data: a lesson that forged its reply put
229 MB of arrays there, and the CLI's JSON export then took 2.5 GB and 21 s (40x and
12x its control). Only the keys the engine and the layout write are accepted, each
of its type and size.

A module's box is drawn around its members' boxes. The layout puts sibling modules
apart (a module reused is given a column of its own), so two boxes overlap only when
one module holds the other. 1,990 modules forged to have a member at the top and one
at the bottom of the drawing stacked 1,990 translucent boxes over every view: 1.8 s a
page at 1920x1080. Boxes of modules neither of which holds the other must not overlap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from viz.io.code_file import MAX_CODE_BYTES
from viz.isolation.boxes import TOUCH

MAX_TEXT = 64  # a format name, a torch version


def check_graph_attributes(graph: Any, max_groups: int, max_coordinate: float, max_timings: int) -> str | None:
    """Why the graph's own attributes are not the engine's and the layout's, or None."""
    attributes = graph.graph
    if len(attributes) > len(CHECKS):  # before a set of them is made or any is named (red team 69)
        return "more graph attributes than this app writes"
    unknown = [key for key in attributes if key not in CHECKS]
    if unknown:
        return f"a graph attribute this app never writes ({str(unknown[0])[:40]!r})"
    for key, value in attributes.items():
        why = _check(key, value, graph, max_groups, max_coordinate, max_timings)
        if why:
            return f"its graph's {key} {why}"
    return None


def _short_text(value: Any) -> bool:
    return type(value) is str and len(value) <= MAX_TEXT and value.isprintable()


def _number(value: Any, limit: float) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and abs(value) <= limit


def _check(key: str, value: Any, graph: Any, max_groups: int, limit: float, max_timings: int) -> str | None:

    if key in ("format", "torch"):
        return None if _short_text(value) else "is not a short name"
    if key == "version":
        return None if type(value) is int and 0 <= value < 1 << 16 else "is not a version number"
    if key == "direction":
        return None if type(value) is str and value in ("TB", "LR") else "is not a direction"
    if key == "code":
        return None if type(value) is str and len(value) <= MAX_CODE_BYTES else "is larger than a lesson may be"
    if key == "outputs":
        ok = type(value) is list and len(value) <= graph.number_of_nodes() and all(
            type(node) is str and node in graph for node in value)
        return None if ok else "are not nodes of the graph"
    if key == "timings":
        ok = type(value) is dict and len(value) <= max_timings and all(
            _short_text(name) and _number(ms, 1e9) for name, ms in value.items())
        return None if ok else "are not a few named figures"
    if key == "layout_size":
        ok = type(value) is list and len(value) == 2 and all(_number(v, limit) for v in value)
        return None if ok else "is not a width and a height"
    if key == "collapsed":
        ok = type(value) is list and len(value) <= max_groups and all(type(m) is str and len(m) <= 1000 for m in value)
        return None if ok else "is not a list of modules"
    ok = type(value) is list and len(value) <= max_groups and all(_group(g, limit) for g in value)  # groups
    return None if ok else "are not the layout's module boxes"


def _group(group: Any, limit: float) -> bool:
    return (type(group) is dict and set(group) == GROUP_KEYS
            and type(group["module"]) is str and len(group["module"]) <= 1000
            and (group["parent"] is None or (type(group["parent"]) is str and len(group["parent"]) <= 1000))
            and all(_number(group[k], limit) for k in ("x", "y", "width", "height")))


CHECKS = {"format", "version", "torch", "direction", "code", "outputs", "timings", "layout_size", "collapsed",
          "groups"}
GROUP_KEYS = {"module", "parent", "x", "y", "width", "height"}


def modules_apart(graph: Any) -> str | None:
    """Why two module boxes (each around its members' boxes, as the window draws them)
    overlap though neither module holds the other, or None."""
    members: dict[str, list[float]] = {}
    for _, data in graph.nodes(data=True):
        module = data.get("module")
        x, y, w, h = (data.get(k) for k in ("x", "y", "width", "height"))
        if not isinstance(module, str) or not module or x is None or y is None or w is None or h is None:
            continue
        box = members.get(module)
        left, top, right, bottom = x - w / 2, y - h / 2, x + w / 2, y + h / 2
        if box is None:
            members[module] = [left, top, right, bottom]
        else:
            box[0], box[1] = min(box[0], left), min(box[1], top)
            box[2], box[3] = max(box[2], right), max(box[3], bottom)
    boxes: dict[str, list[float]] = {}
    for module, (left, top, right, bottom) in members.items():
        prefix = ""
        for part in module.split("."):  # the module and every module holding it
            prefix = f"{prefix}.{part}" if prefix else part
            box = boxes.get(prefix)
            if box is None:
                boxes[prefix] = [left, top, right, bottom]
            else:
                box[0], box[1] = min(box[0], left), min(box[1], top)
                box[2], box[3] = max(box[2], right), max(box[3], bottom)
    if len(boxes) < 2:
        return None
    names = list(boxes)
    rect = np.array([boxes[n] for n in names])
    wide = np.minimum(rect[:, None, 2], rect[None, :, 2]) - np.maximum(rect[:, None, 0], rect[None, :, 0])
    tall = np.minimum(rect[:, None, 3], rect[None, :, 3]) - np.maximum(rect[:, None, 1], rect[None, :, 1])
    for i, j in zip(*np.nonzero(np.triu((wide > TOUCH) & (tall > TOUCH), k=1))):
        a, b = names[i], names[j]
        if not (b.startswith(a + ".") or a.startswith(b + ".")):
            return f"the boxes of modules {a[:40]!r} and {b[:40]!r} overlap, though neither holds the other"
    return None
