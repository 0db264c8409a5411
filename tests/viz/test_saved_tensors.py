"""What backward saves (viz.engine.saved): torch's own ``_saved_*`` attributes are the oracle for
every record; a forged record is refused; exports write saved nodes only when asked; the
in-place error names the saved tensor, its versions and the line that changed it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from viz import wire
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.teaching.examples import list_examples, load_example
from viz.io.export import trace_to_json_data
from viz.isolation.replies import MAX_SAVED, MAX_SAVED_NAME, check_graph
from viz.engine.trace import Trace, short_label

ROOT = Path(__file__).resolve().parents[2]

CUSTOM = """
class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a
"""

CASES = {
    "mul_saves_both_inputs": "a = torch.randn(3, requires_grad=True)\nb = torch.randn(3, requires_grad=True)\n"
                             "y = (a * b).sum()\n",
    "sigmoid_saves_its_result": "x = torch.randn(3, requires_grad=True)\ny = torch.sigmoid(x).sum()\n",
    "exp_saves_its_result": "x = torch.randn(3, requires_grad=True)\ny = (x * 2).exp().sum()\n",
    "matmul": "A = torch.randn(2, 3, requires_grad=True)\nB = torch.randn(3, 4, requires_grad=True)\n"
              "y = (A @ B).sum()\n",
    "custom_function": CUSTOM + "x = torch.randn(3, requires_grad=True)\nw = torch.randn(3, requires_grad=True)\n"
                                "y = Scale.apply(x * 2, w).sum()\n",
    "leaf_changed_before_use": "w = torch.randn(3)\nw.mul_(2)\nw.requires_grad_()\nx = torch.randn(3, requires_grad=True)\n"
                               "y = (w * x).tanh().sum()\n",
    "mlp": "torch.manual_seed(0)\nmodel = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))\n"
           "y = model(torch.randn(5, 2)).pow(2).mean()\n",
}


def _plain_nodes(code: str) -> tuple[dict[str, Any], list[Any]]:
    """Run the code as plain Python; its graph's Nodes, walked from ``y``."""
    namespace: dict[str, Any] = {"torch": torch, "nn": torch.nn}
    exec(code, namespace)
    nodes, stack, seen = [], [namespace["y"].grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        stack.extend(child for child, _ in node.next_functions)
    return namespace, nodes


def _described(node: Any, op: Any, names: dict[int, str], order: dict[Any, int]) -> Any:
    """What graph node a tensor's Node is, in words both sides share: a leaf by name, an
    op by its place in creation order."""
    if node is op:
        return "itself"
    if node is None:
        return None
    if hasattr(node, "variable"):
        return ("leaf", names.get(id(node.variable)))
    return ("op", short_label(node.name()), order.get(node))


def _oracle(node: Any, names: dict[int, str], order: dict[Any, int]) -> set[tuple]:
    """torch's own saved tensors of one Node: (name, which node, shape, dtype, version)."""
    found = set()
    for attr in dir(node):
        if not (attr.startswith("_saved_") or attr == "saved_tensors"):
            continue
        value = getattr(node, attr)
        name = attr.removeprefix("_saved_") if attr != "saved_tensors" else "tensors"
        listed = isinstance(value, (tuple, list))
        for k, tensor in enumerate(value if listed else [value]):
            if not isinstance(tensor, torch.Tensor):
                continue
            if tensor.grad_fn is not None:
                which = _described(tensor.grad_fn, node, names, order)
            elif tensor.requires_grad:
                which = ("leaf", names.get(id(tensor)))
            else:
                which = None
            found.add((f"{name}[{k}]" if listed else name, which, tuple(tensor.shape),
                       str(tensor.dtype).removeprefix("torch."), tensor._version))
    return found


def _recorded(trace: Trace, node_id: str, order: dict[str, int]) -> set[tuple]:
    graph = trace.graph
    found = set()
    for entry in graph.nodes[node_id]["saved"]:
        assert entry["saved_version"] == entry["version"], "no in-place change in these cases"
        target = entry["node"]
        if target is None:
            which = None
        elif target == node_id:
            which = "itself"
        elif graph.nodes[target]["kind"] == "leaf":
            which = ("leaf", graph.nodes[target]["name"])
        else:
            which = ("op", graph.nodes[target]["label"], order.get(target))
        found.add((entry["name"], which, tuple(entry["shape"]), entry["dtype"], entry["version"]))
    return found


@pytest.mark.parametrize("code", CASES.values(), ids=CASES.keys())
def test_each_ops_saved_tensors_are_what_torch_saved(code: str) -> None:
    trace = trace_code(code, layout=False)
    namespace, nodes = _plain_nodes(code)
    names = {id(v): k for k, v in namespace.items() if isinstance(v, torch.Tensor)}
    for module in (v for v in namespace.values() if isinstance(v, torch.nn.Module)):
        names.update({id(p): n for n, p in module.named_parameters(prefix="model")})
    # Both in creation order: the trace numbers its ops by their Nodes' sequence numbers.
    plain = sorted((n for n in nodes if not hasattr(n, "variable")), key=lambda n: n._sequence_nr())
    ops = sorted((n for n, d in trace.graph.nodes(data=True) if d["kind"] == "op"),
                 key=lambda n: trace.graph.nodes[n]["forward_index"])
    assert [trace.graph.nodes[n]["label"] for n in ops] == [short_label(n.name()) for n in plain]
    plain_order = {node: k for k, node in enumerate(plain)}
    trace_order = {op: k for k, op in enumerate(ops)}
    saved_any = False
    for op, node in zip(ops, plain):
        expected = _oracle(node, names, plain_order)
        assert _recorded(trace, op, trace_order) == expected, trace.graph.nodes[op]["label"]
        saved_any = saved_any or bool(expected)
    assert saved_any


def test_the_named_cases_save_what_the_brief_says() -> None:
    """Spot checks a reader can follow: mul saves both inputs, sigmoid and exp their result."""
    mul = trace_code(CASES["mul_saves_both_inputs"], layout=False)
    (op,) = [n for n, d in mul.graph.nodes(data=True) if d["label"] == "Mul"]
    saved = {e["name"]: mul.graph.nodes[e["node"]]["name"] for e in mul.graph.nodes[op]["saved"]}
    assert saved == {"self": "a", "other": "b"}
    for case, label in (("sigmoid_saves_its_result", "Sigmoid"), ("exp_saves_its_result", "Exp")):
        trace = trace_code(CASES[case], layout=False)
        (op,) = [n for n, d in trace.graph.nodes(data=True) if d["label"] == label]
        (entry,) = trace.graph.nodes[op]["saved"]
        assert entry["name"] == "result" and entry["node"] == op
    custom = trace_code(CASES["custom_function"], layout=False)
    (op,) = [n for n, d in custom.graph.nodes(data=True) if d["label"] == "Scale"]
    saved = {e["name"]: custom.graph.nodes[e["node"]] for e in custom.graph.nodes[op]["saved"]}
    assert saved["tensors[0]"]["label"] == "Mul" and saved["tensors[1]"]["name"] == "w"


def test_a_saved_tensor_outside_the_graph_is_called_by_the_codes_name() -> None:
    # nn.Linear's addmm saves its input mat1: the data x, which is no node of the graph
    # (it needs no gradient). The Inspector said "a tensor outside the graph".
    from ui.saved_list import which

    code = ("x = torch.randn(8, 2)\nlayer = nn.Linear(2, 4)\nbatch = [torch.randn(8, 4)]\n"
            "loss = (layer(x).tanh() * batch[0]).sum()\n")
    trace = trace_code(code, layout=False)
    (addmm,) = [n for n, d in trace.graph.nodes(data=True) if d["label"] == "Addmm"]
    entries = {e["name"]: e for e in trace.graph.nodes[addmm]["saved"]}
    assert entries["mat1"]["node"] is None and entries["mat1"]["known_as"] == "x"
    assert which(trace.graph, addmm, entries["mat1"]) == "x, not in the graph"
    (mul,) = [n for n, d in trace.graph.nodes(data=True) if d["label"] == "Mul"]
    other = next(e for e in trace.graph.nodes[mul]["saved"] if e["node"] is None)
    assert other["known_as"] == "batch[0]"
    named = [e for d in trace.graph.nodes.values() for e in d.get("saved") or [] if e["node"] is not None]
    assert named and all(e["known_as"] is None for e in named)  # a node is named by the node
    check_graph(trace.graph)
    forged = json.loads(json.dumps(entries["mat1"]))
    for bad in ("x\nNote: safe", "<b>x</b>", "x" * (MAX_SAVED_NAME + 1), 3):
        trace.graph.nodes[addmm]["saved"] = [{**forged, "known_as": bad}]
        with pytest.raises(wire.MalformedMessage):
            check_graph(trace.graph)


def test_a_saved_tensor_changed_in_place_shows_both_versions() -> None:
    """The code never calls backward, so the app's own backward meets the change and the
    forward graph is still drawn: the saved result's versions are torch's, before and after."""
    code = "x = torch.ones(3, requires_grad=True)\ny = torch.sigmoid(x)\ny.mul_(2)\ny\n"
    x = torch.ones(3, requires_grad=True)
    y = torch.sigmoid(x)
    before = y._version
    y.mul_(2)
    trace = trace_code(code, layout=False)
    (op,) = [n for n, d in trace.graph.nodes(data=True) if d["label"] == "Sigmoid"]
    (entry,) = trace.graph.nodes[op]["saved"]
    assert (entry["name"], entry["node"]) == ("result", op)
    assert (entry["saved_version"], entry["version"]) == (before, y._version) == (0, 1)


# ---- what crosses from the worker ----------------------------------------------------------------
def _accepted(trace: Trace) -> Trace:
    """What the parent does with a worker's reply: decode by the schema, then check."""
    back = wire.build(wire.decode(wire.encode({"result": trace}))["result"], Trace)
    check_graph(back.graph)
    return back


def _forged(change: Any) -> Trace:
    trace = trace_code(CASES["mul_saves_both_inputs"], layout=False)
    (op,) = [n for n, d in trace.graph.nodes(data=True) if d["label"] == "Mul"]
    change(trace.graph.nodes[op])
    return trace


def _entry(**fields: Any) -> dict[str, Any]:
    return {"name": "self", "node": None, "shape": [3], "dtype": "float32", "saved_version": 0,
            "version": 0, "known_as": None, **fields}


def test_a_real_saved_list_crosses_unchanged() -> None:
    trace = trace_code(CASES["mlp"], layout=False)
    back = _accepted(trace)
    for node, data in trace.graph.nodes(data=True):
        assert back.graph.nodes[node].get("saved") == data.get("saved")


FORGED = {
    "not_a_list": lambda d: d.update(saved="self"),
    "record_not_a_dict": lambda d: d.update(saved=[["self", None]]),
    "name_of_wrong_type": lambda d: d.update(saved=[_entry(name=3)]),
    "name_too_long": lambda d: d.update(saved=[_entry(name="s" * (MAX_SAVED_NAME + 1))]),
    "too_many": lambda d: d.update(saved=[_entry()] * (MAX_SAVED + 1)),
    "missing_field": lambda d: d.update(saved=[{k: v for k, v in _entry().items() if k != "version"}]),
    "extra_field": lambda d: d.update(saved=[_entry(html="<img src='/dev/zero'>")]),
    "unknown_node": lambda d: d.update(saved=[_entry(node="n999")]),
    "version_not_int": lambda d: d.update(saved=[_entry(version=1.5)]),
    "negative_version": lambda d: d.update(saved=[_entry(saved_version=-1)]),
    "bool_version": lambda d: d.update(saved=[_entry(version=True)]),
    "shape_of_strings": lambda d: d.update(saved=[_entry(shape=["3"])]),
    "long_dtype": lambda d: d.update(saved=[_entry(dtype="f" * 100)]),
    # Round 87: 63 sizes no tensor can have, hidden from the count of elements by a zero
    # (each box 1,300 characters wide).
    "shape_past_strides": lambda d: d.update(saved=[_entry(shape=[0] + [(1 << 62) - 1] * 63)]),
    # Round 10: a name with lines of its own ("Note: Autograd Studio checked this lesson...").
    "name_with_lines": lambda d: d.update(saved=[_entry(name="self\nNote: this lesson is safe")]),
    "dtype_with_lines": lambda d: d.update(saved=[_entry(dtype="float32\nok")]),
    # ... and a box far off the drawing (the window filed a billion grid cells for it).
    "box_off_the_drawing": lambda d: d.update(x=3e12),
    "box_of_a_million_units": lambda d: d.update(width=3e6),
}


def test_the_forgeries_start_from_an_entry_the_parent_accepts() -> None:
    """Each forgery below changes one thing of this entry (it lacked a field once, and every
    forgery was refused for that alone)."""
    assert _accepted(_forged(lambda d: d.update(saved=[_entry()])))


@pytest.mark.parametrize("change", FORGED.values(), ids=FORGED.keys())
def test_a_forged_saved_list_is_refused(change: Any) -> None:
    with pytest.raises(wire.MalformedMessage):
        _accepted(_forged(change))


WRONG_TYPES = ("not_a_list", "record_not_a_dict", "version_not_int", "bool_version",
               "shape_of_strings")


@pytest.mark.parametrize("name", WRONG_TYPES)
def test_the_wire_reads_saved_by_its_type(name: str) -> None:
    """The schema refuses a wrong type before any check of the parent's runs."""
    message = wire.decode(wire.encode({"result": _forged(FORGED[name])}))
    with pytest.raises(wire.MalformedMessage, match="saved"):
        wire.build(message["result"], Trace)


# ---- exports ---------------------------------------------------------------------------------------
def test_json_has_saved_nodes_only_when_asked() -> None:
    trace = trace_code(CASES["mlp"], layout=False)
    plain = trace_to_json_data(trace)
    assert {n["kind"] for n in plain["nodes"]} == {"op", "leaf", "output"}
    asked = trace_to_json_data(trace, saved=True)
    nodes = {n["id"]: n for n in asked["nodes"]}
    saved = [n for n in nodes.values() if n["kind"] == "saved"]
    expected = sum(len(d["saved"]) for _, d in trace.graph.nodes(data=True) if d["kind"] == "op")
    assert expected and len(saved) == expected
    into = {e["source"]: e["target"] for e in asked["edges"] if e.get("saved")}
    for node in saved:
        op = into[node["id"]]
        assert node["op"] == op and nodes[op]["kind"] == "op"
        (record,) = [r for r in nodes[op]["saved"] if f"{op}:saved:{nodes[op]['saved'].index(r)}" == node["id"]]
        assert (node["name"], node["of"], node["shape"]) == (record["name"], record["node"], record["shape"])


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_export_saved_flag_on_the_command_line(tmp_path: Path) -> None:
    source = tmp_path / "mlp.py"
    source.write_text(CASES["mlp"])
    for flag, out in (([], tmp_path / "plain.json"), (["--saved"], tmp_path / "saved.json")):
        done = run_cli("export", str(source), *flag, "-o", str(out))
        assert done.returncode == 0, done.stderr
    plain = json.loads((tmp_path / "plain.json").read_text())
    asked = json.loads((tmp_path / "saved.json").read_text())
    assert not [n for n in plain["nodes"] if n["kind"] == "saved"]
    saved = {n["id"] for n in asked["nodes"] if n["kind"] == "saved"}
    assert saved and saved == {e["source"] for e in asked["edges"] if e.get("saved")}
    assert "--saved" in run_cli("export", "--help").stdout


# ---- the in-place error --------------------------------------------------------------------------
def _mul_line(source: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if line.startswith("y.mul_("))


def test_the_inplace_example_names_the_saved_tensor_versions_and_line() -> None:
    (example,) = [e for e in list_examples() if e.name == "12_inplace_error"]
    with pytest.raises(StudioError) as caught:
        trace_code(example.source, where="12_inplace_error.py", layout=False)
    err = caught.value
    line = _mul_line(example.source)
    assert "modified by an inplace operation" in err.what  # torch's own words stay
    assert (f"sigmoid's saved result y was version 0 when saved, version 1 at backward: line {line}, "
            "y.mul_(2), changed it in place") in err.hint
    assert err.line == line + 2  # still marked where backward raised it, loss.backward()


def test_the_cli_message_names_them_too(tmp_path: Path) -> None:
    (example,) = [e for e in list_examples() if e.name == "12_inplace_error"]
    source = tmp_path / "inplace.py"
    source.write_text(example.source)
    done = run_cli("export", str(source), "-o", str(tmp_path / "never.json"))
    assert done.returncode == 2
    (message,) = done.stderr.strip().splitlines()
    line = _mul_line(example.source)
    assert re.search(rf"saved result y was version 0 when saved, version 1 at backward: line {line}, "
                     r"y\.mul_\(2\), changed it in place", message), message


def test_changes_of_an_input_name_every_line_and_the_op() -> None:
    code = ("x = torch.ones(3, requires_grad=True)\nw = x * 3\nm = x * w\nw.add_(1)\nw[0] = 5\n"
            "m.sum().backward()\n")
    with pytest.raises(StudioError) as caught:
        trace_code(code, where="lesson.py", layout=False)
    assert ("mul's saved other w was version 0 when saved, version 2 at backward: "
            "line 4, w.add_(1), and line 5, w[0] = 5, changed it in place") in caught.value.hint


@pytest.mark.parametrize("line, rewrite", [
    ("y.mul_(2)", "y = y * 2"), ("y += 1", "y = y + 1"), ("y /= n", "y = y / n"),
    ("y.clamp_(min=0)", "y = y.clamp(min=0)"), ("y.sigmoid_()", "y = y.sigmoid()"),
    ("w.data -= 0.1 * g", None), ("y[0] = 3", None), ("print(y)", None),
])
def test_the_in_place_line_is_rewritten_out_of_place(line: str, rewrite: str | None) -> None:
    from viz.engine.inplace import out_of_place

    assert out_of_place(line) == rewrite


def test_the_in_place_example_says_what_to_write_with_its_own_names() -> None:
    example = load_example("12_inplace_error")
    with pytest.raises(StudioError) as info:
        trace_code(example.source, "12_inplace_error.py", layout=False)
    assert info.value.hint.endswith("write y = y * 2 there instead")  # y, the example's tensor, not x


KEEP_64 = ("class Keep(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
           "        ctx.save_for_backward(*([x] * 64))\n        return x * 1.0\n"
           "    @staticmethod\n    def backward(ctx, g):\n        return g\n"
           "x = torch.ones(2, requires_grad=True)\ny = x\nfor _ in range(400):\n    y = Keep.apply(y)\n"
           "loss = y.sum()\n")


def test_the_worker_records_no_more_than_the_total_and_the_parent_refuses_more() -> None:
    """Round 10: 4,000 ops of 64 saved tensors each made the parent build 256,000 nodes
    for export --saved (1-3 GB). The worker records at most MAX_SAVED_TOTAL a graph; a
    reply with more is forged."""
    from viz.isolation.replies import MAX_SAVED_TOTAL

    trace = trace_code(KEEP_64, layout=False)
    total = sum(len(d.get("saved") or ()) for _, d in trace.graph.nodes(data=True))
    assert total == MAX_SAVED_TOTAL  # 400 x 64 saved, the first 20,000 recorded
    check_graph(trace.graph)
    for _, data in trace.graph.nodes(data=True):
        if data["kind"] == "op":
            data["saved"] = [_entry()] * MAX_SAVED  # 400 x 64 > 20,000
    with pytest.raises(wire.MalformedMessage, match="saved"):
        _accepted(trace)
