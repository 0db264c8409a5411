"""Every number the window shows for a gallery example is torch's, on the node it is drawn on.

Each example is traced (``viz.engine.engine.trace_code``, in this process) and shown in the
real MainWindow; its backward playback is stepped from the plain graph to the last
step. At every step each text item of the graph scene (node labels, the numbers on
edges, the badge under the current node) and the window's status lines are read back,
every number in them is parsed (lists, ``tensor[2×3] (norm …)`` summaries, ``…``
elisions, ``.4g`` rounding) and compared with what plain torch computes for the traced
backward call (``tests.ui.gallery_oracle``): a badge with the value or gradient of its
node, an edge's number with the value flowing in or the gradient sent back along it.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
import shiboken6
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsSimpleTextItem, QGraphicsTextItem
from pytestqt.qtbot import QtBot

from tests.ui.gallery_oracle import Truth, run_example, truth_for
from tests.ui.inprocess import in_process_window
from ui.main_window import MainWindow
from viz.debugger.timeline import CAPTION_SUM_TERMS
from viz.teaching.examples import Example, list_examples

EXAMPLES = [e for e in list_examples() if not e.expects_error]
NUMBER = r"-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|nan|inf)"
# A number on its own: not the digit of a name (w1, model.0.weight, Conv2d).
LONE_NUMBER = re.compile(rf"(?<![\w.\[]){NUMBER}(?![\w\]])")
ELLIPSIS = "\u2026"


def spoken_shape(shape: list[int] | None) -> str:
    """A box's second line: never a bare number, which reads as the tensor's value."""
    if shape is None:
        return "?"
    if len(shape) == 1:
        return f"{shape[0]} value" + ("s" if shape[0] != 1 else "")
    return "\u00d7".join(str(d) for d in shape) or "scalar"


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    return in_process_window(qtbot)


# --- numbers as the app writes them (viz.debugger.timeline.fmt, cut by the highlighter's short) ----
def close(shown: float, expected: float, scale: float) -> bool:
    """Equal at the four significant digits shown (float32 noise aside)."""
    if math.isnan(expected) or math.isinf(expected):
        return math.isnan(shown) if math.isnan(expected) else shown == expected
    if math.isnan(shown) or math.isinf(shown):
        return False
    magnitude = max(abs(expected), abs(shown))
    rounding = 0.5 * 10 ** (math.floor(math.log10(magnitude)) - 3) if magnitude else 0.0
    return abs(shown - expected) <= rounding * 1.001 + 1e-6 * scale + 1e-12


def starts(partial: str, expected: float) -> bool:
    """A number cut short by the ellipsis is the start of the expected one as written."""
    if not partial or partial == "-":
        return True
    return any(f"{v:.4g}".startswith(partial) for v in (expected, expected * (1 + 1e-6),
                                                          expected * (1 - 1e-6)))


def matches(text: str, array: np.ndarray | None) -> bool:
    """``text`` (one value as fmt writes it, maybe ending in an ellipsis) shows ``array``."""
    cut = text.endswith(ELLIPSIS)
    body = text[:-1] if cut else text
    if body in ("?", ""):  # unknown: no number claimed
        return True
    if body == "no grad" or "no grad".startswith(body) and cut:
        return array is None
    if array is None:
        return False
    flat = np.asarray(array, dtype=np.float64).reshape(-1)
    scale = float(np.nanmax(np.abs(flat[np.isfinite(flat)]))) if np.isfinite(flat).any() else 1.0
    if cut and "tensor[".startswith(body) and body:
        return flat.size > 4  # fmt lists up to four entries, summarises the rest
    if body.startswith("tensor["):
        summary = re.fullmatch(r"tensor\[([^\]]*)(\]? ?\(?n?o?r?m? ?)(.*?)\)?", body)
        assert summary is not None, f"unreadable summary {text!r}"
        dims, after, norm_text = summary.groups()
        shape = "\u00d7".join(str(s) for s in np.shape(array))
        if not (shape.startswith(dims) if cut and not after else dims == shape):
            return False
        norm = float(np.sqrt(np.sum(flat * flat)))
        if not norm_text:
            return cut
        return starts(norm_text, norm) if cut and not body.endswith(")") else \
            close(float(norm_text), norm, norm)
    if body.startswith("["):
        complete = body.endswith("]")
        items = body[1:-1 if complete else None].split(", ")
        if complete and len(items) != flat.size or len(items) > flat.size:
            return False
        whole, last = (items, None) if complete else (items[:-1], items[-1])
        if not all(re.fullmatch(NUMBER, v) and close(float(v), e, scale) for v, e in zip(whole, flat)):
            return False
        return last is None or starts(last, flat[len(whole)])
    if flat.size != 1:
        return False
    if cut:
        return starts(body, flat[0])
    return bool(re.fullmatch(NUMBER, body)) and close(float(body), flat[0], scale)


def check(text: str, candidates: list[np.ndarray | None], where: str) -> None:
    assert any(matches(text, c) for c in candidates), \
        f"{where}: shows {text!r}, torch has {[None if c is None else np.round(c, 5).tolist() for c in candidates]}"


# --- where each text is drawn -------------------------------------------------------------
def place_of(box: QGraphicsRectItem, highlighter: Any) -> tuple[str, Any]:
    """("edge", (u, v)) for a number flowing along an edge, ("badge", node) for the
    step's own number, ("mark", node) for a verdict: as the highlighter placed it
    (beside its edge or node, or further off with a leader line back to it)."""
    owner = highlighter.label_owner(box)
    assert owner is not None, f"cannot tell what {box.childItems()[0].text()!r} is about"
    return owner


def scene_texts(window: MainWindow) -> list[tuple[Any, str]]:
    """Every text item of the graph scene, with the item it belongs to."""
    scene = window.graph_view.graph_scene
    owners = {shiboken6.getCppPointer(item)[0]: node for node, item in scene.nodes.items()}
    titles = {shiboken6.getCppPointer(g.title)[0] for g in scene.groups.values()}
    texts = []
    for item in scene.items():
        if isinstance(item, QGraphicsTextItem):
            texts.append((("other", None), item.toPlainText()))
        if not isinstance(item, QGraphicsSimpleTextItem):
            continue
        pointer = shiboken6.getCppPointer(item)[0]
        parent = item.parentItem()
        parent_pointer = shiboken6.getCppPointer(parent)[0] if parent is not None else None
        if pointer in titles:
            texts.append((("group", None), item.text()))
        elif parent_pointer in owners:
            lines = window.graph_view.graph_scene.labels[owners[parent_pointer]]
            line = next(k for k, l in enumerate(lines) if shiboken6.getCppPointer(l)[0] == pointer)
            texts.append((("node", (owners[parent_pointer], line)), item.text()))
        elif isinstance(parent, QGraphicsRectItem):  # a label folded onto two lines at a space reads as one
            texts.append((place_of(parent, window.debugger.highlighter), item.text().replace("\n", " ")))
        else:
            texts.append((("other", None), item.text()))
    return texts


# --- the checks ------------------------------------------------------------------------------
def sent_into(truth: Truth, node: str) -> list[np.ndarray | None]:
    """Every gradient sent back to ``node`` by its consumers."""
    return [g for (u, v) in truth.edges if u == node for g in truth.sent_along(u, v)]


def check_scene(window: MainWindow, truth: Truth, step: Any) -> int:
    checked = 0
    for (kind, at), text in scene_texts(window):
        where = f"step {step.index if step else -1}: {kind} {at}"
        if kind == "node":
            node, line = at
            if line == 0:
                assert not LONE_NUMBER.search(text), f"{where}: a number in the title {text!r}"
            else:
                assert text == spoken_shape(truth.nodes[node].shape), f"{where}: shape {text!r}"
            checked += 1
        elif kind == "group":
            assert not LONE_NUMBER.search(text), f"{where}: a number in a module's title {text!r}"
        elif kind == "edge":
            source, target = at
            assert step is not None, f"{where}: a number on an edge with no step shown"
            shown = text[1:] if text.startswith("+") else text
            if text.startswith("+(") and text.endswith(")"):  # a negative term: +(-50.49), not +-50.49
                shown = text[2:-1]
            if step.kind == "forward" and not text.startswith("+"):
                check(shown, [truth.nodes[source].value], f"{where} (value into {target})")
            elif " + " in shown:  # one arrow, several slots (x * x): each slot's gradient, in order
                sent = truth.sent_along(source, target)
                terms = shown.split(" + ")
                assert len(terms) == len(sent) > 1, f"{where}: {len(terms)} terms for {len(sent)} slots"
                for term, gradient in zip(terms, sent):
                    check(term, [gradient], f"{where} (gradient sent back, one slot)")
            else:
                check(shown, truth.sent_along(source, target), f"{where} (gradient sent back)")
            checked += 1
        elif kind == "badge":
            node = truth.nodes[at]
            if text.startswith("= "):
                check(text[2:], [node.value], f"{where} (its value)")
            elif text.startswith(("grad ", "seed ")):
                check(text[5:], [node.grad], f"{where} (its gradient)")
            elif text.startswith("\u03a3 of "):  # many gradients summed: their count and the sum
                count, total = text[len("\u03a3 of "):].split(" = ", 1)
                assert int(count) == len(sent_into(truth, at)) > 3, f"{where}: {text!r}"
                check(total, [node.grad], f"{where} (the sum: its gradient from this call)")
            elif text.startswith("\u03a3 "):
                pieces = re.split(r"( \+ | = )", text[2:])
                parts, seps = pieces[0::2], [None, *pieces[1::2]]
                for part, sep in zip(parts, seps):
                    if part in ("", ELLIPSIS):
                        continue
                    if sep == " = ":
                        check(part, [node.grad], f"{where} (the sum: its gradient from this call)")
                    else:
                        check(part, sent_into(truth, at), f"{where} (one gradient summed)")
            else:
                raise AssertionError(f"{where}: unknown badge {text!r}")
            checked += 1
        else:
            assert not LONE_NUMBER.search(text), f"{where}: a number no node accounts for: {text!r}"
    return checked


def tokens(text: str) -> list[str]:
    """The numbers in a sentence, each as fmt wrote it (a list or summary is one)."""
    found = []
    pattern = re.compile(rf"tensor\[[^\]]*\] \(norm [^)]*\)|(?<!\w)\[[^\[\]]*\]|{LONE_NUMBER.pattern}")
    for match in pattern.finditer(text):
        found.append(match.group(0))
    return found


def step_arrays(truth: Truth, step: Any) -> list[np.ndarray | None]:
    """What a step's sentence may speak of: its node's value and gradient, the values of
    its inputs, the gradients it sends, those sent to it, and their running sums."""
    node = truth.nodes[step.node]
    arrays = [node.value, node.grad, *node.sent]
    arrays += [truth.nodes[i].value for i in node.inputs if i is not None]
    into = [g for g in sent_into(truth, step.node) if g is not None]
    arrays += into + [sum(into[:k]) for k in range(2, len(into) + 1)]
    return arrays


def check_status(window: MainWindow, truth: Truth, step: Any) -> int:
    where = f"step {step.index if step else -1}"
    status = window.status.message.text()
    summary = re.match(r"(\d+) nodes, (\d+) edges(?: in \d+ ms)?(?: \u2014 (.*))?$", status)
    assert summary is not None, f"{where}: status bar {status!r}"
    assert int(summary.group(1)) == len(truth.nodes), f"{where}: {status!r}"
    assert int(summary.group(2)) == len(truth.edges), f"{where}: {status!r}"
    for note in (summary.group(3) or "").split("; "):
        called = re.search(r"called backward (\d+) times", note)
        if called:
            assert int(called.group(1)) == truth.backward_calls, f"{where}: {note!r}"
        else:
            assert not LONE_NUMBER.search(re.sub(r"shape \[[\d, ]*\]", "", note)), f"{where}: {note!r}"
    checked = 1
    line = window.debugger.bar.narration.text().removeprefix("\u26a0 non-finite: ")
    summed = re.search(r", the sum of (\d+) gradients: (.*?)(?: and ([\d,]+) more)?$", line)
    if summed:  # a leaf's accumulation: the count is of the terms listed after it, and those not
        listed, more = len(summed.group(2).split(" + ")), int((summed.group(3) or "0").replace(",", ""))
        assert int(summed.group(1)) == listed + more and listed >= 2, f"{where}: {line!r}"
        assert listed <= CAPTION_SUM_TERMS, f"{where}: {line!r}"
        line = line[:summed.start()] + ": " + summed.group(2)
    if step is not None:
        for token in tokens(line):
            check(token, step_arrays(truth, step), f"{where}: narration line {line!r}")
            checked += 1
    return checked


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_every_number_shown_is_torchs(qtbot: QtBot, window: MainWindow, example: Example) -> None:
    debugger = window.debugger
    with qtbot.waitSignal(debugger.timeline_ready, timeout=60_000) as ready:
        window.open_example(example)
    timeline = ready.args[0]
    truth = truth_for(debugger.trace, run_example(debugger.trace.code))
    checked = check_scene(window, truth, None) + check_status(window, truth, None)
    for index in range(len(timeline)):
        debugger.player.seek(index)
        step = debugger.player.current_step()
        assert step is timeline.steps[index]
        checked += check_scene(window, truth, step) + check_status(window, truth, step)
    assert checked > 3 * len(timeline)
