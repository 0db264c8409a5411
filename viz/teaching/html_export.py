"""A lesson as one file: the graph, its hover cards and the narrated playback in one HTML page.

No server, no network, nothing fetched: the picture is inline SVG, the data one JSON
block, the script and style inline (viz.teaching.html_page). A teacher mails it; a student
double-clicks it. The picture is the app's own drawing when ``ui`` hands one over
(``ui.export.export_lesson``: the SVG export of the same scene, see ``svg_picture``), else boxes and routes drawn from
the layout here. Over it lies one transparent box per node, found by the script for
hover cards and the playback's highlight.

Everything shown comes from the user's code (a label, a module path, a source line) or
a forged trace: the SVG is written escaped, the JSON has ``<``, ``>``, ``&`` and ``/``
escaped (no ``</script>``, no ``http://`` in the file), and the script writes text with
``textContent`` only.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from viz.layout.sizing import box_title, shape_text
from viz.io.export import ExportRefused
from viz.teaching.narration import conclusion, introduction, narrate_each
from viz.debugger.timeline import Timeline, TimelineStopped
from viz.engine.trace import Trace
from viz.teaching.html_page import PAGE_SCRIPT, PAGE_STYLE

MAX_LABEL = 200  # characters of a label drawn or carried (a forged one may be megabytes)
MAX_CARD = 2000  # characters of one card field, narration sentence or source line
MAX_NUMBERS = 8  # a value's first numbers listed in its hover card
# A page's text in all: a 20,000-node graph's narration is ~12 million characters; a
# lesson repeating a 9,000-character name in every step made a 195 MB page (2 GB to
# write, red team 16).
MAX_PAGE_CHARS = 40_000_000
MARGIN = 20.0
# The light theme's graph colours (ui.themes); the window hands its own theme's over.
LIGHT = {"background": "#ffffff", "text": "#1e1e1e", "edge": "#6b6b6b", "border": "#505050",
         "leaf": "#cdeccd", "parameter": "#cfe0fb", "op": "#eeeeee", "output": "#ffd9a8",
         "forward": "#1565c0", "backward": "#c62828", "selection": "#2a64c8"}
_SLASH = re.compile("/")


@dataclass(frozen=True)
class Picture:
    """The app's drawing as SVG markup (the root ``<svg>`` stripped) whose origin is the
    scene point (``left``, ``top``), ``width`` × ``height`` scene units."""

    markup: str
    left: float
    top: float
    width: float
    height: float


_ROOT = re.compile(r"<svg\b[^>]*>(.*)</svg>", re.S)
_SIZE = re.compile(r'viewBox="0 0 ([\d.]+) ([\d.]+)"')
_EMPTY_GROUP = re.compile(r"<g\b[^>]*>\s*</g>")
_META = re.compile(r"<(title|desc)>.*?</\1>", re.S)
_FAMILY = re.compile(r'font-family="([^"]*)"')
# Tags that run, fetch or link, and attributes that do (inside a tag: text may say "href").
_ACTIVE = re.compile(r"<\s*/?\s*(script|foreignObject|iframe|a|image|use|style)\b"
                     r"|<[^>]*(\bon\w+\s*=|href|url\(|javascript:)", re.I)


def svg_picture(svg: str, left: float, top: float) -> Picture | None:
    """An SVG file (Qt's SVG export of the scene, whose origin is the scene point
    ``left``, ``top``) as markup to inline: root element, title and empty groups dropped,
    ``//`` written as references; None if it holds anything active or linked."""
    match, size = _ROOT.search(svg), _SIZE.search(svg)
    if match is None or size is None:
        return None
    markup = _META.sub("", match.group(1))
    while (slimmer := _EMPTY_GROUP.sub("", markup)) != markup:
        markup = slimmer
    if _ACTIVE.search(markup):
        return None
    markup = re.sub(r"\n\s*\n", "\n", markup).replace("//", "&#47;&#47;")
    # Qt names its own default family ("Sans Serif"), which a browser may not know.
    markup = _FAMILY.sub(r'font-family="\1, sans-serif"', markup)
    return Picture(markup, left, top, float(size.group(1)), float(size.group(2)))


def _cut(text: Any, limit: int = MAX_CARD) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + "\u2026"


def _finite(value: Any, default: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _number(x: Any) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "?"
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.4g}"


def style_kind(data: dict[str, Any]) -> str:
    """leaf | parameter | op | output, as the app colours them (a parameter is a dotted leaf)."""
    kind = data.get("kind")
    if kind == "leaf" and "." in str(data.get("name") or ""):
        return "parameter"
    return kind if kind in ("leaf", "op", "output") else "op"


def summary(array: Any, stats: Any, shape: Any) -> dict[str, Any] | None:
    """What a hover card says of a value or gradient: shape, its first numbers, stats."""
    if array is None and not isinstance(stats, dict):
        return None
    out: dict[str, Any] = {"shape": shape_text(shape if isinstance(shape, list) else None) or "?"}
    if array is not None:
        flat = np.asarray(array).reshape(-1)
        if np.iscomplexobj(flat):
            flat = np.abs(flat)
        out["numbers"] = [_number(v) for v in flat[:MAX_NUMBERS].tolist()]
        out["more"] = max(0, int(flat.size) - MAX_NUMBERS)
    if isinstance(stats, dict):
        out["stats"] = {k: _number(stats.get(k)) for k in ("min", "max", "mean", "norm") if k in stats}
    return out


def _var(data: dict[str, Any]) -> str | None:
    """The variable an op's result went to (viz.engine.value_names), if any."""
    var = data.get("var")
    return var if isinstance(var, str) and var else None


def _node(node_id: str, data: dict[str, Any], index: int) -> dict[str, Any]:
    card = data.get("card") if isinstance(data.get("card"), dict) else {}
    return {
        "id": node_id, "index": index,
        "label": _cut(data.get("label") or data.get("name") or data.get("grad_fn") or "?", MAX_LABEL),
        "kind": style_kind(data), "grad_fn": _cut(data.get("grad_fn"), MAX_LABEL) or None,
        "name": _cut(data.get("name"), MAX_LABEL) or None, "var": _cut(_var(data), MAX_LABEL) or None,
        "dtype": _cut(data.get("dtype"), 40) or None,
        "shape": shape_text(data.get("shape") if isinstance(data.get("shape"), list) else None) or "?",
        "line": data.get("source_line") if isinstance(data.get("source_line"), int) else None,
        "module": _cut(data.get("module"), MAX_LABEL) or None,
        "card": {k: _cut(card.get(k)) for k in ("title", "forward", "backward", "intuition") if card.get(k)},
        "value": summary(data.get("value"), data.get("stats"), data.get("shape")),
        "grad": summary(data.get("grad"), data.get("grad_stats"), data.get("shape")),
    }


def _told(narration: Any) -> dict[str, Any]:
    return {"heading": _cut(narration.heading), "text": _cut(narration.text, 4 * MAX_CARD),
            "rule": _cut(narration.rule) or None, "source": _cut(narration.source) or None}


def lesson_data(trace: Trace, title: str | None = None, stop: threading.Event | None = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data: nodes, the playback steps (the
    timeline's forward, seed and backward steps, each with the app's narration), the
    introduction and the conclusion. ``title``: what the page is called (the window's
    name for the code, "edited" and all), else the file the code ran as. ``stop``: once
    set, TimelineStopped between two steps (a window's close waited 37 s: red team 68)."""
    ids = [str(n) for n in trace.graph.nodes]
    nodes = [_node(str(n), d, k) for k, (n, d) in enumerate(trace.graph.nodes(data=True))]
    timeline = Timeline.from_trace(trace, stop)
    size = sum(len(str(node)) for node in nodes)  # a page's text, counted as it is made
    steps = []
    for step, narration in zip(timeline.steps, narrate_each(trace, timeline)):
        if stop is not None and stop.is_set():
            raise TimelineStopped("stopped")
        told = _told(narration)
        size += sum(len(text) for text in told.values() if text)
        if size > MAX_PAGE_CHARS:
            raise ExportRefused(f"the lesson page would hold over {MAX_PAGE_CHARS // 1_000_000} million characters "
                                f"(at step {len(steps) + 1:,} of {len(timeline.steps):,}); export a smaller graph, "
                                "or the graph alone as .svg")
        steps.append({"kind": step.kind, "node": str(step.node), **told})
    where = _cut(title if title else trace.where, MAX_LABEL)
    return {"format": "autograd-studio.lesson", "version": 1, "title": where,
            "nodes": nodes, "steps": steps, "outputs": [str(o) for o in trace.outputs if str(o) in ids],
            "intro": _told(introduction(trace, timeline)) if steps else None,
            "end": _told(conclusion(trace, timeline)) if steps else None}


def script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` block: no ``</``, ``<!--``, ``]]>`` or ``//``."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, code in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return _SLASH.sub("\\/", text)


def _text(text: str) -> str:
    """Escaped for HTML/SVG text and attributes; ``/`` as a reference (no ``http://``)."""
    return escape(text, quote=True).replace("/", "&#47;")


def _box(data: dict[str, Any]) -> tuple[float, float, float, float]:
    w, h = _finite(data.get("width"), 80.0) or 80.0, _finite(data.get("height"), 36.0) or 36.0
    return _finite(data.get("x")) - w / 2, _finite(data.get("y")) - h / 2, w, h


def _bounds(trace: Trace) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for _, data in trace.graph.nodes(data=True):
        x, y, w, h = _box(data)
        xs += [x, x + w]
        ys += [y, y + h]
    if not xs:
        return 0.0, 0.0, 200.0, 100.0
    left, top = min(xs) - MARGIN, min(ys) - MARGIN
    return left, top, max(xs) + MARGIN - left, max(ys) + MARGIN - top


def _edges_svg(trace: Trace, left: float, top: float) -> str:
    """The routes, drawn here only when the app's picture is not at hand."""
    lines = []
    for _, _, points in trace.graph.edges(data="points"):
        if not isinstance(points, list) or len(points) < 2:
            continue
        try:
            text = " ".join(f"{_finite(p[0]) - left:.1f},{_finite(p[1]) - top:.1f}" for p in points)
        except (TypeError, IndexError, KeyError):
            continue
        lines.append(f'<polyline points="{text}" marker-end="url(#arrow)"/>')
    return '<g class="edges">' + "".join(lines) + "</g>"


def _nodes_svg(trace: Trace, left: float, top: float) -> str:
    parts = []
    for k, (node, data) in enumerate(trace.graph.nodes(data=True)):
        x, y, w, h = _box(data)
        x, y = x - left, y - top
        label = _text(_cut(box_title(data.get("label") or data.get("name") or data.get("grad_fn") or "?",
                                     _var(data)), MAX_LABEL))
        shape = _text(shape_text(data.get("shape") if isinstance(data.get("shape"), list) else None))
        parts.append(
            f'<g class="node {style_kind(data)}" id="n{k}" data-node="{_text(str(node))}" data-i="{k}">'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"/>'
            f'<text x="{x + w / 2:.1f}" y="{y + h / 2 - (6 if shape else 0):.1f}">{label}</text>'
            + (f'<text class="shape" x="{x + w / 2:.1f}" y="{y + h / 2 + 8:.1f}">{shape}</text>'
               if shape else "") + "</g>")
    return "".join(parts)


def lesson_html(trace: Trace, picture: Picture | None = None,
                colors: dict[str, str] | None = None, title: str | None = None,
                stop: threading.Event | None = None) -> str:
    """The whole page as text. ``picture``: the app's drawing (else one is drawn here);
    ``colors``: the graph colours of a theme (``ui.themes.GraphColors`` as a dict);
    ``stop``: see ``lesson_data``."""
    palette = {**LIGHT, **{k: v for k, v in (colors or {}).items() if re.fullmatch(r"#[0-9a-fA-F]{3,8}", str(v))}}
    data = lesson_data(trace, title, stop)
    if picture is not None:
        left, top, width, height = picture.left, picture.top, picture.width, picture.height
        drawing = f'<g id="picture">{picture.markup}</g>'
    else:
        left, top, width, height = _bounds(trace)
        drawing = _edges_svg(trace, left, top)
    data["view"] = [0, 0, round(width, 1), round(height, 1)]
    style = PAGE_STYLE + "".join(f"--{k}:{v};" for k, v in palette.items()).join((":root{", "}"))
    title = _text(f"{data['title']} \u2014 Autograd Studio lesson")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{style}</style></head>"
        f'<body class="{"pictured" if picture is not None else "drawn"}" data-step="-1">'
        '<header><b>Autograd Studio</b> <span id="where"></span>'
        '<nav><button id="first" title="Back to the start (Home)">|\u25c0</button>'
        '<button id="prev" title="Previous step (\u2190)">\u25c0</button>'
        '<button id="play" title="Play / pause (space)">\u25b6 Play</button>'
        '<button id="next" title="Next step (\u2192)">\u25b6</button>'
        '<button id="last" title="To the end (End)">\u25b6|</button>'
        '<span id="counter"></span><button id="fit" title="Fit the graph (F)">Fit</button></nav></header>'
        f'<main><svg id="graph" viewBox="0 0 {width:.1f} {height:.1f}" preserveAspectRatio="xMidYMid meet">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
        f'<rect class="paper" width="{width:.1f}" height="{height:.1f}"/>{drawing}'
        f'<g id="overlay">{_nodes_svg(trace, left, top)}</g></svg>'
        '<aside id="story"><h2 id="heading"></h2><p id="text"></p><p id="rule"></p>'
        '<pre id="source"></pre></aside></main><div id="card" hidden></div>'
        f'<script type="application/json" id="lesson-data">{script_json(data)}</script>'
        f"<script>{PAGE_SCRIPT}</script></body></html>\n")


def write_lesson(trace: Trace, path: Path, picture: Picture | None = None,
                 colors: dict[str, str] | None = None, title: str | None = None,
                 stop: threading.Event | None = None) -> None:
    # A lone surrogate in a name (the code's own) is written as its escape, not refused.
    Path(path).write_text(lesson_html(trace, picture, colors, title, stop), encoding="utf-8",
                          errors="backslashreplace")
