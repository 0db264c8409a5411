"""Every checkable sentence of a gallery example's text is true of the window that shows it.

Each example is opened in the real MainWindow (its code run in this process) and its
docstring paragraph is read against what the window then shows: the traced graph,
the Loss dock's curve, the status bar, the editor's error mark, the debugger's
gradient check and NaN search. torch is the oracle for every number.

Two kinds of check, both driven by the text itself:

- generic: every ``SomethingBackward0`` / ``AccumulateGrad``, every ``X node`` (a
  node's label), every ``name.grad`` and dotted parameter (``model.0.weight``) the
  text names exists in the traced graph; a text that mentions the loss plot has a
  plot with one point per backward call the code makes in plain torch;
- claims: ``CLAIMS`` maps pieces of each text, with ``{}`` where a number (or a
  list, or a number word like ``twenty``) stands, to a function that computes from
  the window and torch what each ``{}`` must say. Every number written in digits in
  a text must sit inside a claim, so a changed or added number fails the test.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import in_process_window
from tests.viz.test_examples import PlainRun, run_plain
from ui.main_window import MainWindow
from viz.engine.engine import trace_code
from viz.teaching.examples import Example, list_examples
from viz.engine.trace import Trace

EXAMPLES = list_examples()
BY_NAME = {e.name: e for e in EXAMPLES}

NUMBER = r"[-\u2212]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
# A number on its own, not part of a name (w1, net.18.weight, y2) or of 2x, 3x².
LONE = re.compile(rf"(?<![\w.]){NUMBER}(?!\w|\.\d)")
WORDS = {"two thousand": 2000.0, "thousand": 1000.0, "twenty": 20.0, "nineteen": 19.0,
         "ten": 10.0, "seven": 7.0, "four": 4.0, "three": 3.0, "two": 2.0, "one": 1.0, "both": 2.0,
         "half": 0.5}
SLOT = (rf"\[[^\[\]]*\]|{NUMBER}|" + "|".join(sorted(WORDS, key=len, reverse=True)))


# --- what a slot may be compared with ---------------------------------------------------------
@dataclass
class About:
    """Roughly this value (the text says "about")."""
    value: Any
    rel: float


@dataclass
class Over:
    """The text says "over N": the value exceeds N, by less than tenfold."""
    value: float


def _tolerance(token: str) -> float:
    """Half a unit in the last digit written: 0.2988 -> 5e-5, 1.357e-07 -> 5e-11."""
    mantissa, _, exponent = token.partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals) * 10.0 ** int(exponent or 0)


def _parse(token: str) -> tuple[np.ndarray, float]:
    """A slot's text as numbers, with the rounding its writing allows."""
    token = token.replace("\u2212", "-")
    if token.lower() in WORDS:
        return np.array([WORDS[token.lower()]]), 1e-9
    if token.startswith("["):
        items = [t.strip() for t in token[1:-1].split(",")]
        return np.array([float(t) for t in items]), max(_tolerance(t) for t in items)
    return np.array([float(token)]), _tolerance(token)


def agrees(token: str, expected: Any) -> bool:
    shown, tolerance = _parse(token)
    if isinstance(expected, Over):
        return shown.size == 1 and shown[0] < expected.value < 10 * shown[0]
    if isinstance(expected, About):
        values = np.asarray(expected.value, dtype=float).reshape(-1)
        return bool(np.all(np.abs(values - shown[0]) <= expected.rel * abs(shown[0])))
    values = np.asarray(expected, dtype=float).reshape(-1)
    if token.startswith("["):
        if values.size != shown.size:
            return False
    elif shown.size != 1:
        return False
    slack = tolerance + 1e-6 * np.abs(values)
    return bool(np.all(np.abs(values - shown) <= slack))


# --- what the window shows, and what torch says ----------------------------------------------
@dataclass
class Seen:
    """One example open in the window, after its run (or its failure)."""

    example: Example
    window: MainWindow
    qtbot: QtBot
    trace: Trace | None
    error: Any = None
    _plain: dict[str, PlainRun] = field(default_factory=dict)

    # the graph the window draws
    @property
    def t(self) -> Trace:
        assert self.trace is not None, f"{self.example.name} has no trace"
        return self.trace

    def ids(self, label: str | None = None, name: str | None = None) -> list[str]:
        return sorted((n for n, d in self.t.graph.nodes(data=True)
                       if (label is None or d["label"] == label) and (name is None or d["name"] == name)),
                      key=lambda n: self.t.node(n)["forward_index"])

    def one(self, label: str | None = None, name: str | None = None) -> str:
        found = self.ids(label, name)
        assert len(found) == 1, f"{self.example.name}: {len(found)} nodes labelled {label or name}"
        return found[0]

    def value(self, node: str) -> np.ndarray:
        return np.asarray(self.t.node(node)["value"], dtype=float)

    def grad(self, node: str) -> np.ndarray:
        return np.asarray(self.t.node(node)["grad"], dtype=float)

    def shape(self, node: str) -> list[int]:
        return list(self.t.node(node)["shape"])

    def inputs(self, node: str) -> list[str]:
        return list(self.t.graph.predecessors(node))

    def consumers(self, node: str) -> list[str]:
        return list(self.t.graph.successors(node))

    def sent(self, node: str, to: str) -> list[np.ndarray]:
        """The gradients ``node``'s backward sent to ``to``, one per slot it feeds."""
        slots = self.t.node(node)["inputs"]
        event = next(e for e in self.t.backward if e.node == node)
        return [np.asarray(g, dtype=float) for slot, g in zip(slots, event.grad_inputs) if slot == to]

    def at_line(self, label: str, start: str) -> str:
        """The node labelled ``label`` made by the code line that starts with ``start``."""
        lines = self.example.source.splitlines()
        found = [n for n in self.ids(label)
                 if lines[self.t.node(n)["source_line"] - 1].strip().startswith(start)]
        assert len(found) == 1, f"{self.example.name}: {len(found)} {label} nodes on a line {start!r}"
        return found[0]

    def labels(self) -> list[str]:
        return sorted(d["label"] for _, d in self.t.graph.nodes(data=True) if d["kind"] == "op")

    def chain(self, labels: list[str]) -> None:
        """Each labelled node feeds the next (the graph's arrows, forward way)."""
        for a, b in zip(labels, labels[1:]):
            assert any(self.t.graph.has_edge(u, v)
                       for u in self.ids(a) + self.ids(name=a) for v in self.ids(b) + self.ids(name=b)), \
                f"{self.example.name}: no arrow {a} -> {b}"

    # the docks
    def loss_points(self) -> int:
        curves = self.window.run_output.loss.curves
        if curves is None:
            return 0
        xs, _ = curves.curve.getData()
        return 0 if xs is None else len(xs)

    def losses(self) -> np.ndarray:
        return self.window.run_output.loss.values().copy()

    # plain torch
    def plain(self, name: str | None = None, edit: tuple[str, str] | None = None) -> PlainRun:
        """An example (this one by default) run as a student would, backward included."""
        example = BY_NAME[name] if name else self.example
        key = f"{example.name}:{edit}"
        if key not in self._plain:
            if edit is not None:
                assert edit[0] in example.code, edit
                example = dataclasses.replace(example, code=example.code.replace(*edit))
            torch.manual_seed(0)
            run = run_plain(example)
            for output in run.traced:  # the app runs backward from the traced output itself
                output.backward(torch.ones_like(output))
            self._plain[key] = run
        return self._plain[key]

    def code_number(self, pattern: str, name: str | None = None) -> float:
        code = (BY_NAME[name] if name else self.example).code
        found = re.search(pattern, code)
        assert found, f"{pattern!r} is not in the code"
        return float(found.group(1))

    def reopen(self, edit: tuple[str, str]) -> Seen:
        """The window, given the example's code with one edit (as a user would type it)."""
        assert edit[0] in self.example.source
        changed = dataclasses.replace(self.example, source=self.example.source.replace(*edit))
        return open_in(self.window, self.qtbot, changed)


def open_in(window: MainWindow, qtbot: QtBot, example: Example) -> Seen:
    if example.expects_error:
        with qtbot.waitSignal(window.runs.run_failed, timeout=60_000) as failed:
            window.open_example(example)
        return Seen(example, window, qtbot, None, failed.args[0])
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=60_000):
        window.open_example(example)
    return Seen(example, window, qtbot, window.debugger.trace)


# --- the claims ------------------------------------------------------------------------------
Check = Callable[[Seen, list[str]], list[Any]]


def same_graph_as(other: str) -> Check:
    def check(s: Seen, _shown: list[str]) -> list[Any]:
        theirs = trace_code(BY_NAME[other].code, f"{other}.py", "cpu")
        assert s.labels() == sorted(d["label"] for _, d in theirs.graph.nodes(data=True) if d["kind"] == "op")
        assert s.t.graph.number_of_edges() == theirs.graph.number_of_edges()
        return []
    return check


def loss_points(s: Seen, shown: list[str]) -> list[Any]:
    calls = len(s.plain().losses)
    assert s.loss_points() == calls, \
        f"the Loss dock plots {s.loss_points()} points, the code calls backward {calls} times"
    return [calls]


def first_tensor(s: Seen, _shown: list[str]) -> list[Any]:
    x = s.one(name="x")
    return [s.grad(x) / s.value(x), s.grad(x)]


def final_grad_tab(s: Seen, _shown: list[str]) -> list[Any]:
    """The Inspector's own tab holds x.grad as plain torch leaves it, beside the first call's."""
    from ui.inspector import FINAL_TAB

    x = s.one(name="x")
    inspector = s.window.inspector
    inspector.show_node(x)
    final = s.plain().namespace["x"].grad
    assert inspector.tabs.isTabVisible(FINAL_TAB) and inspector.tabs.tabText(FINAL_TAB) == "x.grad at the end"
    np.testing.assert_allclose(s.t.graph.nodes[x]["final_grad"], final.numpy())
    assert not np.allclose(s.grad(x), final.numpy())  # the Gradient tab is the first call's
    return [final]


def slope_steps(s: Seen, _shown: list[str]) -> list[Any]:
    run = s.plain()
    slope = (run.namespace["y"] / run.namespace["x"]).numpy()
    w_first = s.value(s.one(name="w1"))
    w_last = run.namespace["w1"].item()
    assert abs(w_last - 2.0) < abs(float(w_first.reshape(-1)[0]) - 2.0) * 1e-3, "w1 is not pulled to the slope"
    return [loss_points(s, []), slope]


def same_curve_as_tutorial(s: Seen, _shown: list[str]) -> list[Any]:
    tutorial = s.plain("02_linear_regression_tutorial")
    assert s.plain().namespace["optimizer"].param_groups[0]["lr"] == tutorial.namespace["learning_rate"]
    np.testing.assert_allclose(s.losses(), tutorial.losses, rtol=1e-5, atol=1e-6)
    return []


def adam_steps(s: Seen, _shown: list[str]) -> list[Any]:
    return [About(np.diff(_w1_path(s))[:3], 0.1), _crossing(s)]


def _w1_path(s: Seen) -> list[float]:
    example = s.example
    code = example.code.replace("optimizer.step()", "optimizer.step(); path.append(w1.item())")
    code = code.replace("for t in range(20):", "path = [w1.item()]\nfor t in range(20):")
    torch.manual_seed(0)
    namespace: dict[str, Any] = {}
    exec(compile(code, example.file_name, "exec"), namespace)
    return namespace["path"]


def _crossing(s: Seen) -> float:
    """The slope w1 passes on its way, and the loss plot rising after it."""
    path = np.array(_w1_path(s))
    slope = float((s.plain().namespace["y"] / s.plain().namespace["x"]).mean())
    assert path[0] < slope and path.max() > slope, "w1 does not go past the slope"
    losses = s.losses()
    low = int(np.argmin(losses[:10]))
    assert losses[low + 1:].max() > 100 * losses[low], "the loss does not swing back up"
    assert losses[-5:].min() < losses[low + 1:].max() / 100, "the loss does not come down again"
    return slope


def sgd_steady(s: Seen, _shown: list[str]) -> list[Any]:
    losses = np.array(s.plain("03_optim_sgd").losses[:5])
    ratios = losses[1:] / losses[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-2)  # float32 noise at 1e-6 of the start
    return []


def perceptron(s: Seen, _shown: list[str]) -> list[Any]:
    s.chain(["Mm", "Add", "Sigmoid", "BinaryCrossEntropy"])
    s.chain(["b", "Add"])
    run = s.plain()
    error = (run.namespace["y_hat"] - run.namespace["target"]).detach().numpy()
    add = s.one("Add")
    b_grad = s.grad(s.one(name="b"))
    np.testing.assert_allclose(b_grad, error.mean(), rtol=1e-4)
    return [error / s.grad(add), b_grad]


def linear_is_addmm(s: Seen, _shown: list[str]) -> list[Any]:
    for layer in ("model.0", "model.2"):
        s.chain([f"{layer}.weight", "T", "Addmm"])
        s.chain([f"{layer}.bias", "Addmm"])
    return []


def tanh_derivative(s: Seen, _shown: list[str]) -> list[Any]:
    tanh = s.one("Tanh")
    (into,) = s.inputs(tanh)
    (sent,) = s.sent(tanh, into)
    return [sent / s.grad(tanh) + s.value(tanh) ** 2]


def softmax_gradient(s: Seen, _shown: list[str]) -> list[Any]:
    s.chain(["LogSoftmax", "NllLoss"])
    run = s.plain()
    logits, target = run.namespace["logits"].detach(), run.namespace["target"]
    expected = (F.softmax(logits, dim=1) - F.one_hot(target, logits.shape[1])) / logits.shape[0]
    logits_node = s.at_line("Add", "logits =")
    s.chain(["Add", "LogSoftmax"])
    np.testing.assert_allclose(s.grad(logits_node), expected.numpy(), atol=1e-6)
    return []


def broadcast_shapes(s: Seen, _shown: list[str]) -> list[Any]:
    col, row, add = s.one(name="col"), s.one(name="row"), s.one("Add")
    return [*s.shape(col), *s.shape(row), *s.shape(add)]


def broadcast_grads(s: Seen, _shown: list[str]) -> list[Any]:
    weights = s.plain().namespace["weights"].numpy()
    col, row, add = s.one(name="col"), s.one(name="row"), s.one("Add")
    np.testing.assert_allclose(s.grad(col).reshape(-1), weights.sum(axis=1))
    np.testing.assert_allclose(s.grad(row), weights.sum(axis=0))
    return [s.shape(add)[1]]


def leaf_shapes(s: Seen, _shown: list[str]) -> list[Any]:
    for leaf in s.t.nodes_of_kind("leaf"):
        assert s.grad(leaf).shape == s.value(leaf).shape
    return []


def add_grad_shape(s: Seen, _shown: list[str]) -> list[Any]:
    return list(s.grad(s.one("Add")).shape)


def _uses(s: Seen, leaf: str, node: str) -> int:
    return sum(1 for slot in s.t.node(node)["inputs"] if slot == leaf)


def reused_leaf(s: Seen, _shown: list[str]) -> list[Any]:
    x = s.one(name="x")
    return [sum(_uses(s, x, n) for n in s.consumers(x))]


def reused_arrows(s: Seen, _shown: list[str]) -> list[Any]:
    x = s.one(name="x")
    assert all(s.t.node(n)["label"] == "Mul" for n in s.consumers(x))
    square, linear = s.at_line("Mul", "square ="), s.at_line("Mul", "linear =")
    return [len(s.consumers(x)), _uses(s, x, square), _uses(s, x, linear), s.code_number(r"linear = (\d+) \* x")]


def reused_sum(s: Seen, _shown: list[str]) -> list[Any]:
    x, linear = s.one(name="x"), s.at_line("Mul", "linear =")
    (three,) = s.sent(linear, x)
    return [three, three, s.grad(x), s.value(x)]


def detached(s: Seen, _shown: list[str]) -> list[Any]:
    x = s.one(name="x")
    run = s.plain()
    c = run.namespace["c"].item()
    assert not any(d["label"] in ("Detach", "Alias") for _, d in s.t.graph.nodes(data=True))
    assert not any(d["value"] is not None and np.size(d["value"]) == 1 and float(d["value"]) == c
                   for _, d in s.t.graph.nodes(data=True))
    assert sorted(s.t.node(n)["label"] for n in s.consumers(x)) == ["Mul", "Mul"]
    assert s.at_line("Mul", "b =") in s.consumers(x)
    return [len(s.consumers(x)), s.code_number(r"a = (\d+) \* x")]


def detached_sum(s: Seen, _shown: list[str]) -> list[Any]:
    x, a, b = s.one(name="x"), s.at_line("Mul", "a ="), s.at_line("Mul", "b =")
    (through_a,) = s.sent(a, x)
    (through_b,) = s.sent(b, x)
    np.testing.assert_allclose(through_b, s.plain().namespace["a"].item())
    return [through_a, through_b, s.grad(b), s.grad(x)]


def formula(s: Seen, _shown: list[str]) -> list[Any]:
    x = torch.tensor(s.value(s.one(name="x")).item(), requires_grad=True)
    (linear,) = torch.autograd.grad(3 * x, x)
    (square,) = torch.autograd.grad(3 * x * x, x)
    (last,) = torch.autograd.grad(10 * x, x)
    (total,) = torch.autograd.grad(3 * x + 3 * x ** 2 + 10 * x, x)
    return [linear, square / (3 * x.detach()), last, total]


def sigmoid_one(s: Seen, _shown: list[str]) -> list[Any]:
    x = torch.linspace(-4, 4, 9, requires_grad=True)
    y = torch.sigmoid(x)
    (dy,) = torch.autograd.grad(y.sum(), x)
    return [(dy / y + y).detach()]


def inplace_error(s: Seen, _shown: list[str]) -> list[Any]:
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.plain()
    # Said once, over the graph: the failed-run banner (the status bar and the narration point to it).
    assert s.error is not None and "modified by an inplace operation" in s.window.graph_view.run_failed_text()
    assert "line 12" in s.window.status.message.text()
    mark = s.window.editor.error()
    assert mark is not None
    lines = s.example.source.splitlines()
    assert lines[mark.line - 1].startswith("loss.backward()"), f"the editor marks line {mark.line}"
    return []


def inplace_fixed(s: Seen, _shown: list[str]) -> list[Any]:
    s.chain(["Sigmoid", "Mul"])
    x, sig, mul, total = s.one(name="x"), s.one("Sigmoid"), s.one("Mul"), s.one("Sum")
    (ones,) = s.sent(total, mul)
    (from_mul,) = s.sent(mul, sig)
    (from_sig,) = s.sent(sig, x)
    y = s.value(sig)
    sigma = 1 / (1 + np.exp(-s.value(x)))
    return [ones, from_mul / ones, from_sig / (from_mul * y) + y,
            s.grad(x) / (sigma * (1 - sigma)), 1 + 0 * sigma]


def mul_numbers(s: Seen, _shown: list[str]) -> list[Any]:
    return [s.code_number(r"y\.mul_\((\d+)\)", "12_inplace_error"), s.code_number(r"y2 = y \* (\d+)")]


def non_scalar(s: Seen, _shown: list[str]) -> list[Any]:
    y = s.plain().namespace["y"]
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (y.detach().requires_grad_() ** 2).backward()
    return [int(np.prod(s.shape(s.one(name="y"))))]


def twice_x(s: Seen, _shown: list[str]) -> list[Any]:
    x = s.one(name="x")
    np.testing.assert_allclose(s.grad(x), 2 * s.value(x))
    return []


def one_hot_vector(s: Seen, shown: list[str]) -> list[Any]:
    vector = _parse(shown[0])[0]
    x = torch.tensor(s.value(s.one(name="x")), requires_grad=True)
    y = x ** 2
    (by_vector,) = torch.autograd.grad(y, x, torch.tensor(vector, dtype=x.dtype), retain_graph=True)
    (first_alone,) = torch.autograd.grad(y[0], x)
    assert torch.equal(by_vector, first_alone), f"{shown[0]} does not give y₁'s gradient alone"
    return [vector]


def vector_passed(s: Seen, _shown: list[str]) -> list[Any]:
    np.testing.assert_allclose(s.grad(s.one("Pow")), torch.ones_like(s.plain().namespace["y"]).numpy())
    other = s.reopen(("torch.ones_like(y))", "torch.tensor([1.0, 0.0, 0.0]))"))
    np.testing.assert_allclose(other.grad(other.one("Pow")), [1.0, 0.0, 0.0])
    return []


def _norms(s: Seen) -> list[float]:
    weights = [n for n in s.t.nodes_of_kind("leaf") if s.t.node(n)["name"].endswith(".weight")]
    weights.sort(key=lambda n: int(s.t.node(n)["name"].split(".")[1]))
    return [float(np.linalg.norm(s.grad(n))) for n in weights]


def sigmoid_stack(s: Seen, _shown: list[str]) -> list[Any]:
    assert len(s.ids("Sigmoid")) == len(s.ids("Addmm"))
    return [len(s.ids("Addmm"))]


def sigmoid_bound(s: Seen, _shown: list[str]) -> list[Any]:
    z = torch.linspace(-10, 10, 2001, requires_grad=True)
    (dz,) = torch.autograd.grad(torch.sigmoid(z).sum(), z)
    return [sigmoid_one(s, [])[0], 1.0, 1.0 / dz.max().item()]


def shrink_factors(s: Seen, _shown: list[str]) -> list[Any]:
    norms = np.array(_norms(s))
    ratios = norms[1:] / norms[:-1]
    return [ratios.min(), ratios.max()]


def vanishing_norms(s: Seen, _shown: list[str]) -> list[Any]:
    norms = _norms(s)
    net = s.plain().namespace["net"]
    np.testing.assert_allclose(norms, [net[2 * k].weight.grad.norm().item() for k in range(len(norms))], rtol=1e-4)
    assert s.t.node(s.one(name="net.18.weight"))["grad_stats"]["norm"] == pytest.approx(norms[-1])
    return [norms[-1], norms[0], Over(math.log10(norms[-1] / norms[0]))]


def relu_swap(s: Seen, _shown: list[str]) -> list[Any]:
    relu = s.plain(edit=("nn.Sigmoid()", "nn.ReLU()")).namespace["net"][0].weight.grad.norm().item()
    return [Over(relu / _norms(s)[0])]


def _selects(s: Seen) -> list[str]:
    return s.ids("Select")  # forward order: the first time step first


def rnn_steps(s: Seen, _shown: list[str]) -> list[Any]:
    return [len(_selects(s))]


def rnn_uses(s: Seen, _shown: list[str]) -> list[Any]:
    w_hh = s.one(name="W_hh")
    assert len(s.consumers(w_hh)) == len(_selects(s))
    return [len(s.consumers(w_hh)) - 1]


def recurrent_factor(s: Seen, _shown: list[str]) -> list[Any]:
    w_hh = s.value(s.one(name="W_hh"))
    factor = np.diag(w_hh)
    np.testing.assert_allclose(w_hh, np.diag(factor))
    return [factor]


def rnn_growth(s: Seen, _shown: list[str]) -> list[Any]:
    norms = np.array([np.linalg.norm(s.grad(n)) for n in _selects(s)])
    return [norms[:-1] / norms[1:]]


def rnn_ends(s: Seen, _shown: list[str]) -> list[Any]:
    selects = _selects(s)
    first, last = (float(np.linalg.norm(s.grad(n))) for n in (selects[0], selects[-1]))
    x = s.plain().namespace["x"].grad
    assert first == pytest.approx(x[0].norm().item(), rel=1e-5)
    assert last == pytest.approx(x[-1].norm().item(), rel=1e-5)
    return [last, first, Over(first / last), recurrent_factor(s, [])[0], len(selects) - 1, first / last]


def _nan_element(s: Seen) -> int:
    (index,) = np.flatnonzero(np.isneginf(s.value(s.one("Log"))))
    return int(index)


def nan_forward(s: Seen, _shown: list[str]) -> list[Any]:
    i, x = _nan_element(s), s.value(s.one(name="x"))
    assert np.isnan(s.value(s.one("Mul"))[i]) and np.isnan(s.value(s.one(name="loss")))
    return [x[i], x[i], x[i]]


def nan_backward(s: Seen, _shown: list[str]) -> list[Any]:
    i, x_node, log, mul = _nan_element(s), s.one(name="x"), s.one("Log"), s.one("Mul")
    (from_log,) = s.sent(log, x_node)
    from_mul = [g for g in s.sent(mul, x_node)]
    assert np.isnan(from_log[i]) and any(np.isneginf(g[i]) for g in from_mul)
    return [s.grad(log)[i], s.value(x_node)[i], s.value(x_node)[i]]


def first_nan(s: Seen, _shown: list[str]) -> list[Any]:
    with s.qtbot.waitSignal(s.window.debugger.nan_shown, timeout=10_000) as shown:
        s.window.debugger.run_to_first_nan()
    report = shown.args[0]
    assert s.t.node(report.backward_node)["grad_fn"] == "MulBackward0"
    assert s.t.node(report.origin_node)["label"] == "Log"
    marks = s.window.debugger.highlighter.marks
    assert {report.backward_node, report.origin_node} <= set(marks)
    return [s.value(s.one(name="x"))[_nan_element(s)]]


def xlogy_fix(s: Seen, _shown: list[str]) -> list[Any]:
    zero = torch.tensor(0.0)
    x = s.plain().namespace["x"].detach()
    xs = x.clone().requires_grad_()
    loss = torch.xlogy(xs, xs).sum()
    loss.backward()
    assert torch.isfinite(loss) and torch.isnan(xs.grad).any()
    clamped = x.clone().requires_grad_()
    (clamped * torch.log(clamped.clamp(min=1e-12))).sum().backward()
    assert torch.isfinite(clamped.grad).all()
    return [zero, zero, torch.xlogy(zero, zero), 1.0, 1e-12]


def derivative_log(s: Seen, _shown: list[str]) -> list[Any]:
    x = torch.tensor(0.5, requires_grad=True)
    (d,) = torch.autograd.grad(x * torch.log(x), x)
    return [d - torch.log(x.detach())]


def wrong_backward(s: Seen, _shown: list[str]) -> list[Any]:
    x = s.one(name="x")
    return [s.grad(x) / (2 * s.value(x))]


def gradcheck_flags(s: Seen, _shown: list[str]) -> list[Any]:
    with s.qtbot.waitSignal(s.window.debugger.gradcheck_done, timeout=60_000) as done:
        s.window.debugger.run_gradcheck()
    failing = [n.grad_fn for n in done.args[0].failing()]
    assert failing == ["MySquareBackward"], failing
    node = s.one("MySquare")
    assert s.window.debugger.highlighter.marks[node].kind == "fail"
    return []


def gradcheck_passes(s: Seen, shown: list[str]) -> list[Any]:
    s.reopen(("return x * grad_output ", f"return {shown[0]} * x * grad_output "))
    with s.qtbot.waitSignal(s.window.debugger.gradcheck_done, timeout=60_000) as done:
        s.window.debugger.run_gradcheck()
    assert done.args[0].agree, f"with {shown[0]} * x the check still fails"
    return [_parse(shown[0])[0]]


def double_backward(s: Seen, _shown: list[str]) -> list[Any]:
    run = s.plain()
    x = s.one(name="x")
    dy_dx = run.namespace["dy_dx"]
    assert dy_dx.grad_fn is not None
    assert dy_dx.item() == pytest.approx(3 * s.value(x).item() ** 2)
    assert s.value(s.one(name="dy_dx")).item() == pytest.approx(dy_dx.item())
    assert set(s.labels()) == {"Pow", "Mul"}
    xt = torch.tensor(s.value(x).item(), requires_grad=True)
    (first,) = torch.autograd.grad(xt ** 3, xt, create_graph=True)
    (second,) = torch.autograd.grad(first, xt)
    np.testing.assert_allclose(s.grad(x), second.item())
    return [s.grad(x), s.value(x)]


def conv_shape(s: Seen, _shown: list[str]) -> list[Any]:
    filters, _, height, width = s.shape(s.one(name="conv.weight"))
    relu, pool = s.shape(s.one("Relu")), s.shape(s.one("MaxPool2DWithIndices"))
    return [height, width, filters, relu[2] // pool[2], relu[3] // pool[3]]


def conv_inputs(s: Seen, _shown: list[str]) -> list[Any]:
    conv = s.one("Convolution")
    names = sorted(s.t.node(n)["name"] for n in s.inputs(conv))
    assert names == ["conv.bias", "conv.weight"], names
    image = s.plain().namespace["image"]
    assert not any(list(d["shape"] or []) == list(image.shape)
                   for _, d in s.t.graph.nodes(data=True))
    return [len(names)]


def conv_backward(s: Seen, _shown: list[str]) -> list[Any]:
    image = s.plain().namespace["image"]
    incoming = torch.tensor(s.grad(s.one("Convolution")), dtype=image.dtype)
    # each filter: the image patches it saw, weighted by the gradient at each position
    expected = F.conv2d(image.transpose(0, 1), incoming.transpose(0, 1)).transpose(0, 1)
    np.testing.assert_allclose(s.grad(s.one(name="conv.weight")), expected.numpy(), atol=1e-5)
    return []


def pool_and_relu(s: Seen, _shown: list[str]) -> list[Any]:
    conv, relu, pool = s.one("Convolution"), s.one("Relu"), s.one("MaxPool2DWithIndices")
    (to_relu,) = s.sent(pool, relu)
    winners = F.max_pool2d(torch.tensor(s.value(relu)), 2, return_indices=True)[1].numpy()
    mask = np.zeros(to_relu.size, dtype=bool)
    mask[(winners + np.arange(winners.shape[1]).reshape(1, -1, 1, 1) * to_relu[0, 0].size).reshape(-1)] = True
    assert not to_relu.reshape(-1)[~mask].any(), "MaxPool sends gradient to a pixel that lost"
    (to_conv,) = s.sent(relu, conv)
    assert not to_conv[s.value(conv) < 0].any(), "ReLU lets gradient through where its input was negative"
    return []


def view_reshapes(s: Seen, _shown: list[str]) -> list[Any]:
    view, pool = s.one("View"), s.one("MaxPool2DWithIndices")
    np.testing.assert_array_equal(s.value(view).reshape(-1), s.value(pool).reshape(-1))
    (back,) = s.sent(view, pool)
    np.testing.assert_array_equal(back.reshape(-1), s.grad(view).reshape(-1))
    assert back.shape == s.value(pool).shape
    return []


CLAIMS: dict[str, list[tuple[str, Check]]] = {
    "01_first_tensor": [
        ("fill x.grad with {}·x = {}", first_tensor),
        ("so after it x.grad is {}", lambda s, _: [s.plain().namespace["x"].grad]),
        ('the Inspector shows the first call\'s gradient, and its "x.grad at the end" tab the {} the code ends with',
         final_grad_tab),
    ],
    "02_linear_regression_tutorial": [
        ("back through Sum, Pow, Sub, the transpose (T) and the matmul (Mm) to w1",
         lambda s, _: s.chain(["w1", "Mm", "T", "Sub", "Pow", "Sum", "loss"]) or []),
        ("The loss plot shows the {} steps pulling w1 towards the true slope {}", slope_steps),
    ],
    "03_optim_sgd": [
        ("The graph of one step is the same as in the hand-written version",
         same_graph_as("02_linear_regression_tutorial")),
        ("same learning rate, same curve", same_curve_as_tutorial),
    ],
    "04_optim_adam": [
        ("The graph is unchanged", same_graph_as("03_optim_sgd")),
        ("w1 first moves by about {} per step, then its momentum carries it past the target slope {} "
         "and the loss swings back up before coming down again", adam_steps),
        ("where SGD shrank the error by a steady factor", sgd_steady),
    ],
    "05_optim_rmsprop": [
        ("The graph of one step is the same as with SGD and Adam", same_graph_as("04_optim_adam")),
    ],
    "06_perceptron": [
        ("b.grad adds up the gradients of the four rows, (y_hat − target) / {} each, so it is the mean error, {}",
         perceptron),
    ],
    "07_mlp_sequential": [
        ("a Linear layer is an Addmm node (bias + input · weightᵀ) fed by a transpose of the weight",
         linear_is_addmm),
        ("the Tanh derivative {} − tanh²", tanh_derivative),
    ],
    "08_softmax_cross_entropy": [
        ("it is (softmax − one-hot target) / batch size", softmax_gradient),
    ],
    "09_broadcasting": [
        ("Adding a ({}, {}) column to a ({},) row gives a ({}, {}) table", broadcast_shapes),
        ("the gradient flowing into the Add node has shape ({}, {})", add_grad_shape),
        ("So col.grad sums each row ({} copies, times the weights) and row.grad sums each column",
         broadcast_grads),
        ("they always match their tensors", leaf_shapes),
    ],
    "10_leaf_reused": [
        ("Here x feeds {} places", reused_leaf),
        ("x's leaf has one arrow into each of the {} Mul nodes that use it, and during backward a gradient "
         "comes back for every use: {} along the arrow into x * x, {} along the arrow into {} * x", reused_arrows),
        ("once into {} * x", lambda s, _: [s.code_number(r"linear = (\d+) \* x")]),
        ("x.grad = x + x + {} = 2x + {} = {} at x = {}", reused_sum),
    ],
    "11_detach_no_grad": [
        ("a = {}·x is recorded as usual", lambda s, _: [s.code_number(r"a = (\d+) \* x")]),
        ("neither the detached copy nor c has a node, and x's only arrows lead into the {} Mul nodes, {}·x and b",
         detached),
        ("dy/dx = {} (through a) + {} (the detached value of a, times {}) = {}", detached_sum),
        ("not the {} + {}·3x + {} = {} that the formula", formula),
    ],
    "12_inplace_error": [
        ("its derivative is y·({} − y)", lambda s, _: sigmoid_one(s, [])),
        ("The in-place y.mul_({})", lambda s, _: [s.code_number(r"y\.mul_\((\d+)\)")]),
        ("fails on purpose with torch's \"modified by an inplace operation\" RuntimeError; the app shows the "
         "message and marks the line where backward raised it, loss.backward()", inplace_error),
    ],
    "13_inplace_fixed": [
        ("Replacing y.mul_({}) by y2 = y * {}", mul_numbers),
        ("a Mul node after the Sigmoid node", lambda s, _: s.chain(["Sigmoid", "Mul"]) or []),
        ("the Sum sends {} to each element, Mul multiplies it by {}, and Sigmoid multiplies by y·({} − y), "
         "so x.grad = {}·σ(x)·({} − σ(x))", inplace_fixed),
    ],
    "14_non_scalar_backward": [
        ("has {} elements, so y.backward() alone fails with \"grad can be implicitly created only for scalar "
         "outputs\"", non_scalar),
        ("giving x.grad = 2x", twice_x),
        ("A different vector, like {}, would give the gradient of y₁ alone", one_hot_vector),
        ("the gradient entering the Pow node is the vector you passed", vector_passed),
    ],
    "15_vanishing_sigmoid": [
        ("{} Linear + Sigmoid layers in a row", sigmoid_stack),
        ("σ·({} − σ) is at most {}/{}", sigmoid_bound),
        ("here by a factor of {} to {} per layer", shrink_factors),
        ("(net.18.weight, {}) with the first (net.0.weight, {}): over {} orders of magnitude apart",
         vanishing_norms),
        ("the first layer's gradient grows over a {}fold", relu_swap),
    ],
    "16_exploding_rnn": [
        ("unrolled by hand over {} time steps", rnn_steps),
        ("multiplied by W_hh once per step: {} times from the last step back to the first", rnn_uses),
        ("W_hh is {} times the identity", recurrent_factor),
        ("the gradient grows {}-fold per step back in time", rnn_growth),
        ("(norm {}, on the last Select node) with the one at the first step (norm {}, over {} times larger: "
         "{} to the power {} ≈ {})", rnn_ends),
    ],
    "17_nan_log_zero": [
        ("a NaN from log({})", lambda s, _: [s.value(s.one(name="x"))[_nan_element(s)]]),
        ("At x = {} the forward pass already goes wrong: log({}) = −∞ and {} · (−∞) = NaN, so the loss is NaN",
         nan_forward),
        ("the Log node sends ∂L/∂y / x = {} / {} = NaN to x, and the Mul node adds log({}) = −∞", nan_backward),
        ("the first node to send a non-finite gradient is MulBackward0 (its −∞ to x), and the app traces it back "
         "to the Log node, whose log({}) = −∞ made the first non-finite value", first_nan),
        ("which defines {} · log {} = {}, fixes the loss but not x.grad, still NaN at 0 (the derivative log x + {} "
         "has no finite value there); x * torch.log(x.clamp(min={})) keeps both finite", xlogy_fix),
    ],
    "18_custom_function_wrong_backward": [
        ("x.grad comes out {} the right size", wrong_backward),
        ("compares every node's gradient with finite differences and flags MySquareBackward", gradcheck_flags),
        ("Change the return line to {} * x * grad_output and the check passes", gradcheck_passes),
    ],
    "19_double_backward": [
        ("d²y/dx² = 6x = {} at x = {} in x.grad", double_backward),
    ],
    "20_tiny_cnn": [
        ("One {}×{} convolution with {} filters, a ReLU, a {}×{} max-pool", conv_shape),
        ("one Convolution node fed by {} leaves, conv.weight (the filters) and conv.bias; the image needs no "
         "gradient, so it has no node", conv_inputs),
        ("its backward sends each filter the sum of the image patches it saw, weighted by the incoming gradient",
         conv_backward),
        ("MaxPool sends the gradient only to the pixel that won each window; ReLU blocks it where the input was "
         "negative", pool_and_relu),
        ("View (the flatten) only reshapes, in both directions", view_reshapes),
    ],
}


def template(claim: str) -> re.Pattern[str]:
    parts = claim.split("{}")
    return re.compile(f"({SLOT})".join(re.escape(p) for p in parts), re.IGNORECASE)


# --- the tests -------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    return in_process_window(qtbot)


def test_every_example_has_claims() -> None:
    assert sorted(CLAIMS) == sorted(BY_NAME)


def check_names(s: Seen, text: str) -> None:
    """Every node, op or leaf the text names is in the traced graph."""
    if s.trace is None:
        assert not re.search(r"\w+Backward\d*\b", text), "an error example names graph nodes"
        return
    graph = s.t.graph
    grad_fns = {d["grad_fn"].rsplit("::", 1)[-1] for _, d in graph.nodes(data=True) if d["grad_fn"]}
    labels = {d["label"] for _, d in graph.nodes(data=True)}
    names = {d["name"] for _, d in graph.nodes(data=True) if d["name"]}
    for op in re.findall(r"\b(\w+Backward\d*|AccumulateGrad)\b", text):
        assert op in grad_fns, f"the text names {op}, the graph has {sorted(grad_fns)}"
    for first, second in re.findall(r"\b([A-Z]\w*)(?: and ([A-Z]\w*))? nodes?\b", text):
        for label in filter(None, (first, second)):
            assert label in labels, f"the text names a {label} node, the graph has {sorted(labels)}"
    for leaf in re.findall(r"(?<![\w.])([A-Za-z_]\w*)\.grad\b", text):
        assert leaf in names, f"the text names {leaf}.grad, the graph's names are {sorted(names)}"
    for param in re.findall(r"\b[A-Za-z_]\w*(?:\.\d+)?\.(?:weight|bias)\b", text):
        assert param in names, f"the text names {param}, the graph's names are {sorted(names)}"
    if "loss plot" in text.lower():
        loss_points(s, [])


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_every_sentence_is_what_the_window_shows(qtbot: QtBot, window: MainWindow, example: Example) -> None:
    window.resize(1400, 900)
    s = open_in(window, qtbot, example)
    text = f"{example.title}\n{example.explanation}"
    check_names(s, text)
    covered: list[tuple[int, int]] = []
    # Claims that re-open the window with edited code come last: the others read this run.
    for claim, check in sorted(CLAIMS[example.name], key=lambda c: c[1] in (vector_passed, gradcheck_passes)):
        found = template(claim).search(text)
        assert found, f"{example.name}: the text no longer says {claim!r}"
        covered.append(found.span())
        shown = list(found.groups())
        expected = check(s, shown)
        assert len(expected) == len(shown), f"{claim!r}: {len(shown)} numbers, {len(expected)} checked"
        for token, value in zip(shown, expected):
            assert agrees(token, value), \
                f"{example.name}: the text says {token} in {found.group(0)!r}; the window/torch say {value!r}"
    for number in LONE.finditer(text):
        assert any(a <= number.start() < b for a, b in covered), \
            f"{example.name}: {number.group(0)!r} in {text[max(0, number.start() - 40):number.end() + 20]!r} " \
            "is checked by no claim"
