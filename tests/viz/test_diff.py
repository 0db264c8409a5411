"""viz.debugger.diff: which nodes two runs share, and which of them changed; torch is the oracle.

``torch_nodes`` runs a program in plain torch, keeps every module's output (and its
gradient) and every parameter, and keys them as the trace's nodes are known to the
user: ``(grad_fn, module)`` for ops, ``("leaf", name)``, ``("output", name)``. What the
diff should report then follows from numpy's ``allclose`` on those tensors alone.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from viz.debugger.diff import DiffError, compare_arrays, diff_traces
from viz.engine.engine import trace_code

ROOT = Path(__file__).resolve().parents[2]
VANISHING = (ROOT / "resources" / "examples" / "15_vanishing_sigmoid.py").read_text(encoding="utf-8")
RELU = VANISHING.replace("nn.Sigmoid()", "nn.ReLU()")
LAST_BIAS = VANISHING.replace("loss = ", "nn.init.constant_(net[18].bias, 0.5)\nloss = ")

Key = tuple[str, "str | None"]


def torch_nodes(code: str, model: str = "net", output: str = "loss") -> dict[Key, tuple[torch.Tensor, torch.Tensor]]:
    """Every node of a program that runs modules of ``model`` and ends in a scalar
    ``output``, from plain torch: key -> (value, gradient)."""
    kept: dict[torch.nn.Module, torch.Tensor] = {}

    def keep(module: torch.nn.Module, args: Any, out: torch.Tensor) -> None:
        if not list(module.children()):
            out.retain_grad()
            kept[module] = out

    namespace: dict[str, Any] = {}
    handle = torch.nn.modules.module.register_module_forward_hook(keep)
    try:
        exec(compile(code, "<oracle>", "exec"), namespace)
    finally:
        handle.remove()
    loss = namespace[output]
    loss.backward()
    nodes: dict[Key, tuple[torch.Tensor, torch.Tensor]] = {}
    for name, module in namespace[model].named_modules(prefix=model):
        if module not in kept:
            continue
        out = kept[module]
        nodes[out.grad_fn.name(), name] = (out.detach(), out.grad)
        for fn, _ in out.grad_fn.next_functions:  # a Linear's transposed weight
            if fn is not None and fn.next_functions and \
                    getattr(fn.next_functions[0][0], "variable", None) is getattr(module, "weight", None):
                nodes[fn.name(), name] = (module.weight.detach().T, module.weight.grad.T)
        for pname, param in module.named_parameters(prefix=name):
            nodes["leaf", pname] = (param.detach(), param.grad)
    seed = torch.ones_like(loss)
    nodes[loss.grad_fn.name(), None] = (loss.detach(), seed)
    nodes["output", output] = (loss.detach(), seed)
    return nodes


def node_key(node: dict[str, Any]) -> Key:
    if node["kind"] == "op":
        return node["grad_fn"], node["module"]
    return node["kind"], node["name"]


def _differs(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> bool:
    return a.shape != b.shape or not np.allclose(b.double().numpy(), a.double().numpy(), rtol=rtol, atol=atol,
                                                  equal_nan=True)


def _gaps(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    a, b = a.double(), b.double()
    gap = (b - a).abs()
    return gap.max().item(), (gap[a != 0] / a[a != 0].abs()).max().item()


def expected_report(code_a: str, code_b: str, rtol: float = 1e-5, atol: float = 1e-8) -> dict[str, Any]:
    """What the diff must say, from torch alone: the keys only in A, only in B, and the
    changed ones with torch's (max abs, max rel) for value and gradient (None: unchanged)."""
    a, b = torch_nodes(code_a), torch_nodes(code_b)
    changed: dict[Key, dict[str, tuple[float, float] | None]] = {}
    for key in a.keys() & b.keys():
        found = {what: (_gaps(a[key][k], b[key][k]) if _differs(a[key][k], b[key][k], rtol, atol) else None)
                 for k, what in enumerate(("value", "grad"))}
        if any(found.values()):
            changed[key] = found
    return {"only_in_a": set(a) - set(b), "only_in_b": set(b) - set(a), "changed": changed,
            "nodes_a": len(a), "nodes_b": len(b)}


def check_against_torch(report: dict[str, Any], expected: dict[str, Any]) -> None:
    """``report`` is a diff's JSON; every node accounted for, every number torch's."""
    assert report["a"]["nodes"] == expected["nodes_a"] and report["b"]["nodes"] == expected["nodes_b"]
    assert {node_key(n) for n in report["only_in_a"]} == expected["only_in_a"]
    assert {node_key(n) for n in report["only_in_b"]} == expected["only_in_b"]
    listed = {node_key({**c, "kind": c["kind"]}): c for c in report["changed"]}
    assert len(listed) == len(report["changed"])
    assert set(listed) == set(expected["changed"])
    for key, change in listed.items():
        for what in ("value", "grad"):
            torch_gaps = expected["changed"][key][what]
            assert change[what]["changed"] is (torch_gaps is not None), (key, what)
            if torch_gaps is not None:
                assert math.isclose(change[what]["max_abs_diff"], torch_gaps[0], rel_tol=1e-6), (key, what)
                assert math.isclose(change[what]["max_rel_diff"], torch_gaps[1], rel_tol=1e-6), (key, what)
    assert report["equal"] is not (expected["only_in_a"] or expected["only_in_b"] or expected["changed"])


@pytest.fixture(scope="module")
def vanishing() -> Any:
    return trace_code(VANISHING, "A.py", layout=False)


def test_identical_runs_match_every_node_to_itself_and_report_nothing(vanishing: Any) -> None:
    report = diff_traces(vanishing, trace_code(VANISHING, "B.py", layout=False))
    assert report.equal
    assert report.matches == {n: n for n in vanishing.graph.nodes}
    assert report.to_json("A.py", "B.py")["changed"] == []


@pytest.mark.parametrize("variant", [RELU, LAST_BIAS], ids=["sigmoid-to-relu", "last-bias-init"])
def test_the_report_is_what_torch_says_changed(vanishing: Any, variant: str) -> None:
    report = diff_traces(vanishing, trace_code(variant, "B.py", layout=False)).to_json("A.py", "B.py")
    expected = expected_report(VANISHING, variant)
    assert expected["changed"]  # the oracle sees a difference to find
    check_against_torch(report, expected)


def test_a_swapped_activation_leaves_the_layers_around_it_matched(vanishing: Any) -> None:
    report = diff_traces(vanishing, trace_code(RELU, "B.py", layout=False))
    assert [n.grad_fn for n in report.only_in_a] == ["SigmoidBackward0"] * 10
    assert [n.grad_fn for n in report.only_in_b] == ["ReluBackward0"] * 10
    assert [n.module for n in report.only_in_a] == [f"net.{k}" for k in range(1, 20, 2)]
    assert len(report.matches) == vanishing.graph.number_of_nodes() - 10


def test_an_inserted_op_is_only_in_b_and_its_consumers_stay_matched() -> None:
    a = trace_code("x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x * 2\nloss = y.sum()\n", "a")
    b = trace_code("x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x * 2\ny = y.exp()\n"
                   "loss = y.sum()\n", "b")
    report = diff_traces(a, b)
    assert report.only_in_a == []
    assert [(n.grad_fn, n.source_line) for n in report.only_in_b] == [("ExpBackward0", 3)]
    changed = {(c.a.label, c.a.source_line, c.b.source_line): c for c in report.changed}
    assert set(changed) == {("x", 1, 1), ("Mul", 2, 2), ("Sum", 3, 4), ("loss", 3, 4)}
    assert not changed["Mul", 2, 2].value.changed and changed["Mul", 2, 2].grad.changed
    expected = torch.tensor([1.0, 2.0]).mul(2).exp().sum().item() - 6.0
    assert math.isclose(changed["Sum", 3, 4].value.max_abs_diff, expected, rel_tol=1e-6)


def test_a_renamed_leaf_is_removed_and_added_and_its_op_still_matches() -> None:
    a = trace_code("w = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (w * 3).sum()\n", "a")
    b = trace_code("v = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (v * 3).sum()\n", "b")
    report = diff_traces(a, b)
    assert [n.name for n in report.only_in_a] == ["w"] and [n.name for n in report.only_in_b] == ["v"]
    assert report.changed == [] and len(report.matches) == 3


def test_unnamed_leaves_pair_by_position() -> None:
    code = "loss = (torch.ones(2, requires_grad=True) * torch.full((2,), {}, requires_grad=True)).sum()\n"
    a, b = trace_code(code.format(3.0), "a"), trace_code(code.format(4.0), "b")
    assert all(a.node(n)["name"] is None for n in a.nodes_of_kind("leaf"))
    report = diff_traces(a, b)
    assert not (report.only_in_a or report.only_in_b)
    leaves = sorted(a.nodes_of_kind("leaf"), key=lambda n: a.node(n)["forward_index"])
    assert [report.matches[n] for n in leaves] == sorted(b.nodes_of_kind("leaf"),
                                                         key=lambda n: b.node(n)["forward_index"])
    changed = {c.a.node: (c.value.changed, c.grad.changed) for c in report.changed}
    # ones: the same value, its gradient (the other leaf) changed; the other leaf the reverse
    assert changed[leaves[0]] == (False, True) and changed[leaves[1]] == (True, False)


def test_tolerances_are_numpy_allclose_with_a_as_the_reference() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = rng.normal(size=5) * 10.0 ** rng.integers(-6, 3)
        b = a + rng.normal(size=5) * 10.0 ** rng.integers(-12, 0)
        rtol, atol = 10.0 ** rng.integers(-8, -1), 10.0 ** rng.integers(-12, -3)
        found = compare_arrays(a.astype(np.float32), b.astype(np.float32), rtol, atol)
        a32, b32 = a.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64)
        assert found.changed is not np.allclose(b32, a32, rtol=rtol, atol=atol)
        if found.changed:
            assert found.max_abs_diff == np.abs(b32 - a32).max()
            assert math.isclose(found.max_rel_diff, (np.abs(b32 - a32) / np.abs(a32)).max(), rel_tol=1e-12)
    # A is the reference: 1.1 is 10% from 1.0, and 1.0 is only 9.1% from 1.1
    assert compare_arrays(np.array([1.0]), np.array([1.1]), 0.095, 0.0).changed
    assert not compare_arrays(np.array([1.1]), np.array([1.0]), 0.095, 0.0).changed


def test_shapes_missing_quantities_and_nans() -> None:
    same = compare_arrays(np.array([1.0, np.nan]), np.array([1.0, np.nan]), 1e-5, 1e-8)
    assert not same.changed
    shape = compare_arrays(np.zeros(3), np.zeros((3, 1)), 1e-5, 1e-8)
    assert shape.changed and shape.max_abs_diff is None and "shape" in (shape.note or "")
    missing = compare_arrays(None, np.zeros(2), 1e-5, 1e-8, "gradient")
    assert missing.changed and missing.note == "no gradient in A"
    assert not compare_arrays(None, None, 0.0, 0.0).changed
    nan = compare_arrays(np.array([1.0, 2.0]), np.array([1.0, np.nan]), 1e-5, 1e-8)
    assert nan.changed and nan.max_abs_diff == 0.0 and "NaN" in (nan.note or "")


def test_a_tolerance_wide_enough_hides_a_changed_initialisation(vanishing: Any) -> None:
    b = trace_code(LAST_BIAS, "B.py", layout=False)
    assert not diff_traces(vanishing, b).equal
    assert diff_traces(vanishing, b, rtol=0.0, atol=1e3).equal
    with pytest.raises(ValueError):
        diff_traces(vanishing, b, rtol=-1.0)


def test_a_graph_that_is_no_trace_is_one_error(vanishing: Any) -> None:
    import copy

    forged = copy.copy(vanishing)
    forged.graph = vanishing.graph.copy()
    forged.graph.add_edge(forged.outputs[0], "n0", slots=[0], output_nrs=[0])  # a cycle
    with pytest.raises(DiffError, match="malformed"):
        diff_traces(vanishing, forged)


# -- red team 15: matching stays linear where it can, and bounded where it cannot -------------
FAN = "x = torch.ones(2, requires_grad=True)\nys = [x.{op}() for _ in range(300)]\ntorch.stack(ys).sum()\n"


def test_one_leaf_feeding_many_ops_is_matched_in_linear_work() -> None:
    """One leaf into 300 sin ops in A and 300 cos ops in B: every op is told apart by its
    op without weighing the others (each A op weighed all of B's before: hours at 20k)."""
    import viz.debugger.diff as diff

    a, b = (trace_code(FAN.format(op=op), layout=False) for op in ("sin", "cos"))
    side_a, side_b = diff._Side(a.graph), diff._Side(b.graph)
    matcher = diff._Matcher(side_a, side_b)
    matcher.run()
    # Candidates weighed, and a few passes over A (each paid for): linear in the nodes.
    assert diff.MAX_CANDIDATES - matcher._left <= 16 * (len(side_a.order) + len(side_b.order))
    report = diff_traces(a, b)
    assert [n.label for n in report.only_in_a].count("Sin") == 300
    assert [n.label for n in report.only_in_b].count("Cos") == 300
    same = diff_traces(a, trace_code(FAN.format(op="sin"), layout=False))
    assert same.equal


def test_matching_past_its_budget_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import viz.debugger.diff as diff

    monkeypatch.setattr(diff, "MAX_CANDIDATES", 50)
    a = trace_code(FAN.format(op="sin"), layout=False)
    with pytest.raises(DiffError, match="candidate pairs"):
        diff_traces(a, trace_code(FAN.format(op="sin"), layout=False))


ZIGZAG = """\
vs = [torch.ones(1, requires_grad=True) for _ in range({n} + 2)]
ws = [vs[k] * vs[k + 1] for k in range({n} + 1)]
acc = ws[0]
for w in ws[1:-1]:
    acc = acc {op} w
loss = (acc * ws[-1]).sum()
"""


def test_a_match_that_settles_one_pair_a_pass_is_paid_for_each_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 23: a zigzag (sums become differences) lets each pass of the matcher add
    one pair, and every pass visits every node: 19,500 nodes took 258 s while only 13,000
    candidates were weighed. Passes are charged to the budget, so the work is bounded by it
    and running out is said as what it is, not as tampering."""
    import viz.debugger.diff as diff

    a, b = (trace_code(ZIGZAG.format(n=300, op=op), layout=False) for op in "+-")
    nodes = a.graph.number_of_nodes()
    monkeypatch.setattr(diff, "MAX_CANDIDATES", 40 * nodes)  # far more than every candidate pair here
    with pytest.raises(diff.DiffTooLarge, match="too large or too unlike") as raised:
        diff_traces(a, b)
    assert "differ less" in raised.value.hint
    small = diff_traces(a, trace_code(ZIGZAG.format(n=300, op="+"), layout=False))  # the same code: few passes
    assert small.equal
