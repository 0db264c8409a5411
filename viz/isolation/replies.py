"""What the parent accepts from a worker: each status from its own sender, a trace with
every attribute the window reads (progress: ``viz.isolation.progress``).

``viz.isolation.worker.Worker`` reads every message through ``viz.wire`` (plain data only) and
then through these checks; whatever fails them is a malformed reply.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from viz.isolation.event_shapes import event_shapes_differ
from viz.isolation.routes import ROUTE_ALONE, ROUTE_DETOUR, drawing_span, on_box, route_length
from viz.wire.build import (MAX_NONE_INPUTS, MAX_POLYLINE_POINTS, POLYLINE_POINTS_PER_ROW, SPARE_POLYLINE_POINTS,
                             edge_limit)
from viz.wire.format import MAX_DEPTH as WIRE_DEPTH

# Which statuses each sender may send (viz.isolation.worker_process: b"W" the worker itself,
# b"P" a run's progress, b"R" a run's reply).
TAGGED = {b"W": ("ready", "crashed", "bug", "retired"), b"P": ("progress",), b"R": ("ok", "error", "bug")}


def last_line(text: str) -> str:
    """The last line of a traceback (the exception), short and printable: read from the
    text's tail (a forged 90 MB one was split whole: red team 24)."""
    lines = [line.strip() for line in text[-4096:].strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "(no details)"
    return "".join(c if c.isprintable() else "?" for c in last)[:200]


def check_chunks(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Output chunks as ``viz.engine.output`` makes them (at most its cap in all), or
    MalformedMessage."""
    from viz.engine.output import MAX_OUTPUT_CHARS, MAX_OUTPUT_CHUNKS
    from viz.wire import MalformedMessage

    if len(chunks) > MAX_OUTPUT_CHUNKS + 1:  # the cap, and the note that says the rest was cut
        raise MalformedMessage(f"output: {len(chunks):,} pieces, over the cap of {MAX_OUTPUT_CHUNKS:,}")
    total = 0
    for chunk in chunks:
        if (type(chunk) is not dict or set(chunk) != {"stream", "line", "text"}
                or type(chunk["stream"]) is not str or chunk["stream"] not in ("stdout", "stderr")
                or type(chunk["text"]) is not str
                or not (chunk["line"] is None or type(chunk["line"]) is int and 0 <= chunk["line"] < 1 << 31)):
            raise MalformedMessage("output: a chunk of the wrong form")
        total += len(chunk["text"])
    if total > MAX_OUTPUT_CHARS + 4096:  # the cap, and the note that says the rest was cut
        raise MalformedMessage(f"output: {total:,} characters, over the cap of {MAX_OUTPUT_CHARS:,}")
    return chunks


# What every node and edge of a trace carries (viz.engine.build; the layout adds positions):
# the window reads them without looking first.
NODE_KEYS = frozenset({"kind", "grad_fn", "label", "name", "shape", "dtype", "device", "value", "grad",
                       "stats", "grad_stats", "forward_index", "backward_index", "source_line", "module",
                       "card", "inputs"})
EDGE_KEYS = frozenset({"slots", "output_nrs", "grad"})


# The worker keeps a tensor's values up to viz.engine.capture.MAX_VALUE_ELEMENTS; names,
# labels and module paths are a user's identifiers, never pages long.
MAX_ARRAY_ELEMENTS = 1 << 22
MAX_NAME_CHARS = 1000
# An op's card: {title, forward, backward, intuition} (viz.teaching.cards), each a sentence
# or two (the longest, a torch docstring's first sentence: 328 characters; a custom
# Function's names its class, MAX_NAME_CHARS, in some 100 more). User code gave every op
# one shared card of 2,000 keys and the command line's export took 7.7 GB (red team 49);
# a forged trace's cards of 5,000 mixed Latin/Arabic characters a field made a node's
# hover card 17,000 characters of rich text, 0.6 s to show (red team 50).
MAX_CARD_FIELDS = 8
MAX_CARD_CHARS = MAX_NAME_CHARS + 200
MAX_MODULE_DEPTH = 64
# Module boxes a graph may draw (every module path and its ancestors: "model",
# "model.0", ...): a 48-layer transformer has about 600; each costs the window a box
# and a title on its thread (3,000 paths 63 deep froze it 41 s: red team 13).
MAX_MODULE_GROUPS = 2000


def module_paths(modules: Any) -> set[str]:
    """Every module path among ``modules`` and their ancestors (the boxes drawn)."""
    paths: set[str] = set()
    for module in modules:
        if isinstance(module, str):
            parts = module.split(".")
            paths.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return paths


def plain_module_path(module: str) -> bool:
    """A module path as torch names them: dotted, no empty part, nothing unprintable
    (a NUL or an escape would end up in an exported SVG or a title)."""
    return module.isprintable() and "" not in module.split(".")


# What an op saved for backward (viz.engine.saved; node attribute ``saved``): a list of records
# of these keys, at most MAX_SAVED per op, names of torch's attributes, never long.
SAVED_KEYS = frozenset({"name", "node", "shape", "dtype", "saved_version", "version", "known_as"})
MAX_SAVED = 64
MAX_SAVED_NAME = 100
# What torch calls a saved tensor (_saved_self -> "self", a list's "tensors[0]") and a
# dtype ("float32"): one word, no line breaks a forged name could write lines of its own with.
SAVED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?")
# The code's name for a saved tensor outside the graph: "x", "model.0.weight", "data[3]".
SAVED_AS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+|\[\d+\])*")
MAX_DTYPE_CHARS = 32
MAX_DIMS = 64


def check_saved(saved: Any, graph: Any) -> None:
    """A node's ``saved`` list as viz.engine.saved makes it, naming nodes of ``graph``; or
    MalformedMessage."""
    from viz.wire import MalformedMessage

    if type(saved) is not list or len(saved) > MAX_SAVED:
        raise MalformedMessage(f"a node's saved tensors are not a list of at most {MAX_SAVED}")
    for entry in saved:
        if type(entry) is not dict or set(entry) != SAVED_KEYS:
            raise MalformedMessage("a saved tensor's record has the wrong fields")
        name, node, shape, dtype = entry["name"], entry["node"], entry["shape"], entry["dtype"]
        if type(name) is not str or not 0 < len(name) <= MAX_SAVED_NAME or not SAVED_NAME.fullmatch(name):
            raise MalformedMessage("a saved tensor's name is not an attribute name as torch gives it")
        if node is not None and (type(node) is not str or node not in graph):
            raise MalformedMessage("a saved tensor names a node the graph lacks")
        known = entry["known_as"]
        if known is not None and (type(known) is not str or not 0 < len(known) <= MAX_SAVED_NAME
                                  or not SAVED_AS.fullmatch(known)):
            raise MalformedMessage("a saved tensor's name in the code is not a variable's name")
        if shape is not None and (type(shape) is not list or len(shape) > MAX_DIMS
                                  or any(type(s) is not int or not 0 <= s < 1 << 62 for s in shape)
                                  or not strided(shape)):
            raise MalformedMessage("a saved tensor's shape is not a list of sizes")
        if dtype is not None and (type(dtype) is not str or len(dtype) > MAX_DTYPE_CHARS
                                  or not SAVED_NAME.fullmatch(dtype)):
            raise MalformedMessage("a saved tensor's dtype is not a dtype's name")
        for key in ("saved_version", "version"):
            version = entry[key]
            if version is not None and (type(version) is not int or not 0 <= version < 1 << 62):
                raise MalformedMessage(f"a saved tensor's {key} is not a version number")


STATS_KEYS = frozenset({"min", "max", "mean", "norm"})  # viz.engine.capture.batch_stats
MAX_NUMEL = 1 << 62  # elements in a tensor (a product of sizes past it wraps in int64 sums)
MAX_INDEX = 1 << 40  # a forward or backward position, a source line


def strided(shape: list[int] | None) -> bool:
    """Whether a tensor of ``shape`` can be laid out (its sizes but zeros multiply to under
    2**63, as torch's int64 strides need): a zero hid 63 sizes of 2**62 from the count of
    elements, a saved tensor's box 1,300 characters wide (red team 87)."""
    return math.prod(max(size, 1) for size in shape or ()) < 1 << 63


def plain_stats(stats: Any) -> bool:
    """None, or a tensor's min, max, mean and norm: numbers (NaN and inf are a tensor's
    own), the norm never negative."""
    return stats is None or (
        type(stats) is dict and stats.keys() == STATS_KEYS
        and all(type(v) in (float, int) for v in stats.values()) and not stats["norm"] < 0)


def check_numbers(data: dict[str, Any]) -> None:
    """A node's numbers readers compute with as they are (red team 26: a stats record
    without its norm, a None min or a shape of 2**63 elements raised in Findings, the
    Inspector and ``health``): its stats, its positions, its size."""
    from viz.wire import MalformedMessage

    if not (plain_stats(data["stats"]) and plain_stats(data["grad_stats"])):
        raise MalformedMessage("a node's stats are not its min, max, mean and norm")
    if type(data["forward_index"]) is not int or not 0 <= data["forward_index"] < MAX_INDEX or any(
            data[key] is not None and (type(data[key]) is not int or not 0 <= data[key] < MAX_INDEX)
            for key in ("backward_index", "source_line")):
        raise MalformedMessage("a node's forward or backward position or line is not a count")
    if math.prod(data["shape"] or ()) > MAX_NUMEL or not strided(data["shape"]):
        raise MalformedMessage("a node's shape holds more elements than a tensor can")


def check_graph(graph: Any) -> None:
    """A trace's graph has every attribute the window reads, within the sizes the
    worker makes, or MalformedMessage."""
    from viz.isolation.graph_level import check_graph_attributes, modules_apart
    from viz.wire import MalformedMessage

    if graph is None:
        return
    saved_total = input_total = none_total = 0
    for node, data in graph.nodes(data=True):
        if not NODE_KEYS <= data.keys():
            raise MalformedMessage(f"node {node[:40]!r} lacks {sorted(NODE_KEYS - data.keys())[:3]}")
        if len(node) > MAX_NAME_CHARS or any(
                isinstance(data[key], str) and len(data[key]) > MAX_NAME_CHARS for key in ("label", "name", "grad_fn")):
            raise MalformedMessage("a node's id, name or label is over its length")
        # One line each: the window draws a line of text per line break (red team 34: labels
        # of 200 line breaks made 201 text items a node, 4.5 GB and 3.7 s paints).
        if any(isinstance(data[key], str) and not data[key].isprintable() for key in ("label", "name", "grad_fn")):
            raise MalformedMessage("a node's name or label is not one printable line")
        card = data["card"]
        if card is not None and (type(card) is not dict or len(card) > MAX_CARD_FIELDS or any(
                type(key) is not str or len(key) > MAX_SHORT_CHARS or type(text) is not str
                or len(text) > MAX_CARD_CHARS for key, text in card.items())):
            raise MalformedMessage("a node's card is not a few short texts")
        var = data.get("var")  # the variable an op's result went to (viz.engine.value_names)
        if var is not None and (type(var) is not str or len(var) > MAX_NAME_CHARS or not var.isprintable()):
            raise MalformedMessage("a node's variable name is not a short printable name")
        module = data["module"]
        if isinstance(module, str) and (len(module) > MAX_NAME_CHARS or module.count(".") >= MAX_MODULE_DEPTH):
            raise MalformedMessage("a node's module path is over its length")
        if isinstance(module, str) and not plain_module_path(module):
            raise MalformedMessage("a node's module path is not a dotted name")
        if any(getattr(data.get(key), "size", 0) > MAX_ARRAY_ELEMENTS for key in ("value", "grad", "final_grad")):
            raise MalformedMessage("a node's value is larger than the worker keeps")
        shape = data["shape"]
        if shape is not None and (type(shape) is not list or len(shape) > MAX_DIMS
                                  or any(type(d) is not int or not 0 <= d < 1 << 62 for d in shape)):
            raise MalformedMessage("a node's shape is not a list of at most 64 sizes")
        # A kept value or gradient is the node's whole tensor: its shape is the node's
        # (a 1-value leaf said to be 20000x20000 made What-if fill 400 million floats).
        if shape is not None and any(getattr(data.get(key), "shape", None) not in (None, tuple(shape))
                                     for key in ("value", "grad", "final_grad")):
            raise MalformedMessage("a node's value or gradient is not of the node's shape")
        check_numbers(data)
        if any(data[key] is not None and (type(data[key]) is not str or len(data[key]) > MAX_NAME_CHARS
                                          or not data[key].isprintable()) for key in ("dtype", "device", "kind")):
            raise MalformedMessage("a node's dtype, device or kind is not a short name")
        inputs = data["inputs"]
        if type(inputs) is not list or any(i is not None and (type(i) is not str or not graph.has_edge(i, node))
                                           for i in inputs):
            raise MalformedMessage("a node's inputs are not nodes with an edge into it")
        none_total += inputs.count(None)
        input_total += len(inputs)
        if data.get("saved") is not None:
            check_saved(data["saved"], graph)
            saved_total += len(data["saved"])
        if not _within_drawing(data):
            raise MalformedMessage("a node's box is not where a layout puts one")
    if saved_total > MAX_SAVED_TOTAL:
        raise MalformedMessage("more saved tensors than the worker records for a graph")
    # Inputs that need a gradient as the engine bounds them (a repeated one counts each
    # time: 100,000 of one tensor on one node cost the window 0.1-0.2 s a step, red team
    # 99); inputs that need none apart.
    if input_total - none_total > edge_limit(graph.number_of_nodes()) or none_total > MAX_NONE_INPUTS:
        raise MalformedMessage("more inputs than the graph has edges for")
    if len(module_paths({data["module"] for _, data in graph.nodes(data=True)})) > MAX_MODULE_GROUPS:
        raise MalformedMessage(f"more module boxes than the {MAX_MODULE_GROUPS:,} a trace draws")
    why = _boxes_apart(graph)
    if why is not None:
        raise MalformedMessage(f"{why} (a layout puts every node's box apart)")
    why = modules_apart(graph) or check_graph_attributes(graph, MAX_MODULE_GROUPS, MAX_COORDINATE, MAX_TIMINGS)
    if why is not None:
        raise MalformedMessage(why)
    route_points, route_budget = 0, POLYLINE_POINTS_PER_ROW * graph.number_of_edges() + SPARE_POLYLINE_POINTS
    routes_length = routes_allowed = 0.0
    around = 2.0 * drawing_span(graph)  # once around the drawing: a layout's longest honest detour
    for u, v, data in graph.edges(data=True):
        if not EDGE_KEYS <= data.keys():
            raise MalformedMessage(f"an edge lacks {sorted(EDGE_KEYS - data.keys())[:3]}")
        points = data.get("points") or ()
        route_points += len(points)
        # The wire's polyline column holds the routes to this budget; sent as plain values
        # they skipped it (red team 34: 64 points on every edge).
        if route_points > route_budget:  # counted once: networkx counts edges by walking them
            raise MalformedMessage("more route points than a layout draws for so many edges")
        # Whatever the wire's column for them (one int among floats sends them as plain
        # values, past the polyline column's own cap: red team 24, 1.2M points drawn for minutes).
        if len(points) > MAX_ROUTE_POINTS:
            raise MalformedMessage(f"an edge's route has more than the {MAX_ROUTE_POINTS} points a route has")
        for point in points:  # a route: points of two finite numbers on the drawing
            if len(point) != 2 or not all(math.isfinite(c) and abs(c) <= MAX_COORDINATE for c in point):
                raise MalformedMessage("an edge's route has a point that is not (x, y) on the drawing")
        if len(points) >= 2 and not (on_box(points[0], graph.nodes[u]) and on_box(points[-1], graph.nodes[v])):
            raise MalformedMessage("an edge's route does not run from its source's box to its target's")
        if len(points) >= 2:
            length, allowed = route_length(points, graph.nodes[u], graph.nodes[v])
            # Far edges' allowance paid for zigzags elsewhere (red team 81); but a short edge
            # routed around a tall drawing's side is as long as the drawing (red team 125).
            if length > max(ROUTE_ALONE * allowed, around + allowed):
                raise MalformedMessage("an edge's route runs far past its ends (a layout's bends are short)")
            routes_length, routes_allowed = routes_length + length, routes_allowed + allowed
    if routes_length > ROUTE_DETOUR * routes_allowed:
        raise MalformedMessage("the edges' routes run far past their ends (a layout's bends are short)")


# Outputs of one op no later op uses (a split or unbind of which a few parts are used).
MAX_UNUSED_OUTPUTS = 4096


MAX_NOTES = 200  # a trace's notes: a few sentences the engine adds (what was cut, what ran)
MAX_NOTE_CHARS = 2000
MAX_WHERE_CHARS = 4096  # a path, at most PATH_MAX
MAX_SHORT_CHARS = 64  # a device, a torch version
MAX_TIMINGS = 32


def _check_texts(trace: Any) -> None:
    """The trace's words beside its graph, as the engine writes them: a forged 90-million
    character ``where`` cost the parent 650 MB, 2,000 forged notes became 2,000 lines."""
    from viz.wire import MalformedMessage

    notes, timings = getattr(trace, "notes", []), getattr(trace, "timings", {})
    if len(notes) > MAX_NOTES or any(type(n) is not str or len(n) > MAX_NOTE_CHARS for n in notes):
        raise MalformedMessage("more notes, or longer ones, than the engine writes")
    # One line each, as the engine writes them (red team 35: 4,000 line breaks in the status
    # bar made the window 55,000 px tall and each of its paints 0.2 s).
    if not all(n.isprintable() for n in notes):
        raise MalformedMessage("a note that is not one printable line")
    if len(str(getattr(trace, "where", ""))) > MAX_WHERE_CHARS:
        raise MalformedMessage("a file name longer than a path can be")
    shorts = [str(getattr(trace, name, "")) for name in ("device", "torch_version")]
    if any(len(text) > MAX_SHORT_CHARS or not text.isprintable() for text in shorts):
        raise MalformedMessage("a device or torch version longer than any, or not one printable line")
    if len(timings) > MAX_TIMINGS:
        raise MalformedMessage("more timings than the engine takes")


def check_trace(trace: Any) -> None:
    """A Trace as the engine makes one: its graph (``check_graph``); its outputs, forward
    and backward events naming nodes, each node at most once forward and once backward,
    each event's gradient lists no longer than its node's inputs and outputs; or
    MalformedMessage. (The timeline builds an object per
    input per event: one op repeated in 2,000 events with 2 million inputs took the
    window's memory.)"""
    from viz.wire import MalformedMessage

    graph = getattr(trace, "graph", None)
    check_graph(graph)
    if graph is None:
        return
    _check_texts(trace)
    if len(trace.outputs) > graph.number_of_nodes():
        raise MalformedMessage("more outputs than the graph has nodes")
    if any(type(o) is not str or o not in graph for o in trace.outputs):
        raise MalformedMessage("an output is not a node of the graph")
    # Each output once: the timeline starts backward at each it lists (one output listed
    # 1,330,000 times made as many playback steps, 2.4 GB in the window: red team 64).
    if len(set(trace.outputs)) != len(trace.outputs):
        raise MalformedMessage("an output is listed twice")
    # The engine's outputs are output nodes, each reading the one tensor it shows; the
    # timeline starts backward there (a leaf named an output: "internal error", red team 42).
    if any(graph.nodes[o].get("kind") != "output" or len(graph.nodes[o].get("inputs") or ()) != 1
           for o in trace.outputs):
        raise MalformedMessage("an output is not an output node of one input")
    # An event's index is its position in its list, as the engine numbers them; the
    # debugger finds an event by it (a forged index past the list: "internal error",
    # red team 51).
    for events in (trace.forward, trace.backward):
        if any(type(getattr(e, "index", None)) is not int or e.index != pos for pos, e in enumerate(events)):
            raise MalformedMessage("an event's index is not its position in the run")
    forward = [getattr(e, "node", None) for e in trace.forward]
    if len(set(forward)) != len(forward) or any(type(n) is not str or n not in graph for n in forward):
        raise MalformedMessage("the forward events do not name each node at most once")
    # One backward pass runs each node once (its hook fires once: viz.engine.walk). A leaf
    # named again and again cost the timeline its gradients' sums each time, quadratic:
    # 3,500 repeats of one took the window to 2.5 GB (red team 66).
    backward = [getattr(e, "node", None) for e in trace.backward]
    if any(type(n) is not str or n not in graph for n in backward):
        raise MalformedMessage("a backward event names a node the graph lacks")
    if len(set(backward)) != len(backward):
        raise MalformedMessage("the backward events do not name each node at most once")
    for event, node in zip(trace.backward, backward):
        if (len(event.grad_inputs) > len(graph.nodes[node]["inputs"])
                or len(event.grad_outputs) > max(1, graph.out_degree(node)) + MAX_UNUSED_OUTPUTS):
            raise MalformedMessage("a backward event carries more gradients than its node has slots")
        if any(getattr(g, "size", 0) > MAX_ARRAY_ELEMENTS for g in (*event.grad_inputs, *event.grad_outputs)):
            raise MalformedMessage("a backward event's gradient is larger than the worker keeps")
    why = event_shapes_differ(trace, graph)
    if why is not None:
        raise MalformedMessage(why)
    from viz.engine.array_budget import MAX_TRACE_ARRAY_BYTES, array_bytes

    # The engine's budget, held here too: code that lifted its own doubled the window's memory (red team 72).
    if array_bytes(graph, trace.backward) > MAX_TRACE_ARRAY_BYTES:
        raise MalformedMessage("more array bytes than a trace keeps")


# A route's points: viz.wire.build's polyline cap (viz.layout routes with a few bends).
MAX_ROUTE_POINTS = MAX_POLYLINE_POINTS
# A layout of the largest graph the worker sends spans a few million units; a node's box
# is at most MAX_WIDTH (viz.layout.sizing) wide. Past these, a reply is forged, and drawing
# it (labels filed by grid cell, routes followed) would cost the window minutes.
MAX_COORDINATE = 1e8
MAX_BOX = 1e4
# What a graph's ops saved, together (viz.engine.saved stops recording there): each may become
# a node of its own (export --saved) and a box on the graph.
MAX_SAVED_TOTAL = 20_000


def _boxes_apart(graph: Any) -> str | None:
    """Why the laid-out nodes' boxes are not as a layout puts them (viz.isolation.boxes):
    overlapping, larger than a node's, or some nodes placed and others not (a node
    without a place is drawn at the origin: red team 33 left one x out, and the overlap
    check with it, to stack 20,000 boxes). None when they are, or none is placed (a
    trace made without a layout: ``health``, ``diff``)."""
    import numpy as np

    from viz.isolation.boxes import boxes_overlap

    keys = ("x", "y", "width", "height")
    rows = [[data.get(key) for key in keys] for _, data in graph.nodes(data=True)]
    if all(value is None for row in rows for value in row):
        return None
    if any(value is None for row in rows for value in row):
        return "some of its nodes are laid out and others not"
    x, y, w, h = np.array(rows, dtype=float).T
    return boxes_overlap(np.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], axis=1))


def check_laid_out(graph: Any) -> None:
    """A trace to draw (a trace file) has every node placed; or MalformedMessage."""
    from viz.wire import MalformedMessage

    if any(data.get(key) is None for _, data in graph.nodes(data=True) for key in ("x", "y", "width", "height")):
        raise MalformedMessage("its graph is not laid out")


def _within_drawing(data: dict) -> bool:
    """A node's x, y, width and height, where present: finite, on the drawing, box-sized."""
    for key, limit in (("x", MAX_COORDINATE), ("y", MAX_COORDINATE), ("width", MAX_BOX), ("height", MAX_BOX)):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or abs(value) > limit or (key in ("width", "height") and value < 0):
            return False
    return True


def check_report(report: Any, node_limit: int) -> None:
    """A gradient check's report: a row per node of a graph within the limit, names as
    a graph's, notes a sentence long; or MalformedMessage."""
    from viz.wire import MalformedMessage

    rows = list(getattr(report, "nodes", ())) + list(getattr(report, "leaves", ()))
    if len(rows) > node_limit:
        raise MalformedMessage(f"a report of {len(rows):,} rows, over the graph's limit")
    texts = [getattr(report, "precision", "")] + list(getattr(report, "notes", ()))
    texts += [str(getattr(row, key, "") or "") for row in rows
              for key in ("node", "grad_fn", "label", "name", "note")]
    if len(texts) > 6 * node_limit + 64 or any(len(text) > MAX_NAME_CHARS for text in texts):
        raise MalformedMessage("a report's names or notes are over their length")


def check_reply_texts(result: Any, depth: int = 0) -> None:
    """Every text a reply other than a trace holds (an explanation, a gradient check's
    notes, a what-if's words) is a few sentences at most, MAX_PART_CHARS characters; or
    MalformedMessage. (A forged why-None answer of 90 MB, five times over, reached the
    parent and its output whole: red team 24.)"""
    from viz.errors import MAX_PART_CHARS
    from viz.wire import MalformedMessage

    if isinstance(result, str):
        if len(result) > MAX_PART_CHARS:
            raise MalformedMessage(f"a reply's text of {len(result):,} characters, over {MAX_PART_CHARS:,}")
    elif depth < MAX_TEXT_DEPTH and isinstance(result, (list, tuple)):
        for item in result:
            check_reply_texts(item, depth + 1)
    elif depth < MAX_TEXT_DEPTH and isinstance(result, dict):
        for key, value in result.items():
            check_reply_texts(key, depth + 1)
            check_reply_texts(value, depth + 1)
    elif depth < MAX_TEXT_DEPTH and dataclasses.is_dataclass(result) and not isinstance(result, type):
        for item in dataclasses.fields(result):
            check_reply_texts(getattr(result, item.name, None), depth + 1)


MAX_TEXT_DEPTH = WIRE_DEPTH  # as deep as the wire nests anything (a text deeper is no reply)
