"""A user's own project in a temporary folder (``model.py`` with a Net, ``train.py``
importing it and training), and torch's own numbers for the step the traces show:
the oracle of tests/test_api.py and tests/test_cli_run.py."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STEP = 1  # the loop's step the trace shows (after one optimizer step changed the weights)

MODEL = '''import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))
'''

SETUP = '''torch.manual_seed(0)
net = Net()
opt = torch.optim.SGD(net.parameters(), lr=0.5)
x = torch.randn(6, 3)
y = torch.randn(6, 2)
'''

# Step 1 traced twice: by export(loss) before its backward, and inside record().
TRAIN = '''import torch
import torch.nn.functional as F

import autograd_studio
from model import Net

''' + SETUP + '''for step in range(2):
    opt.zero_grad()
    loss = F.mse_loss(net(x), y)
    if step == 1:
        autograd_studio.export(loss, "trace.json")
        with autograd_studio.record() as rec:
            loss = F.mse_loss(net(x), y)
            loss.backward()
        autograd_studio.export(rec, "recorded.json")
    else:
        loss.backward()
    opt.step()
'''

# The same, self-contained, as the editor and `autograd-studio export` take it: the
# last statement's loss is the one of step 1, before its backward.
SELF_CONTAINED = MODEL + '''
import torch.nn.functional as F

''' + SETUP + '''for step in range(2):
    opt.zero_grad()
    loss = F.mse_loss(net(x), y)
    if step == 1:
        break
    loss.backward()
    opt.step()
loss
'''


def write_project(folder: Path) -> Path:
    (folder / "model.py").write_text(MODEL, encoding="utf-8")
    (folder / "train.py").write_text(TRAIN, encoding="utf-8")
    return folder / "train.py"


def app_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_python(args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=app_env(), capture_output=True,
                          text=True, timeout=timeout)


def cli_export(folder: Path) -> dict[str, Any]:
    """``autograd-studio export`` of the same step written as one self-contained file."""
    (folder / "step.py").write_text(SELF_CONTAINED, encoding="utf-8")
    done = run_python([str(ROOT / "main.py"), "export", "step.py", "-o", "cli.json"], folder)
    assert done.returncode == 0, done.stderr
    return read_json(folder / "cli.json")


def torch_step(folder: Path) -> dict[str, Any]:
    """Step 1 of train.py computed by torch alone: parameters, intermediate values and
    the gradients of every one of them (``retain_grad``)."""
    import torch
    import torch.nn.functional as F

    spec = importlib.util.spec_from_file_location("own_model", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    torch.manual_seed(0)
    net = module.Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    x, y = torch.randn(6, 3), torch.randn(6, 2)
    opt.zero_grad()
    F.mse_loss(net(x), y).backward()
    opt.step()
    opt.zero_grad()
    hidden = x @ net.fc1.weight.T + net.fc1.bias
    relu = torch.relu(hidden)
    out = relu @ net.fc2.weight.T + net.fc2.bias
    for tensor in (hidden, relu, out):
        tensor.retain_grad()
    loss = F.mse_loss(out, y)
    loss.backward()
    params = dict(net.named_parameters())
    facts = {f"net.{k}": (v.detach().numpy().copy(), v.grad.numpy().copy()) for k, v in params.items()}
    facts.update(hidden=(hidden.detach().numpy(), hidden.grad.numpy()), relu=(relu.detach().numpy(), relu.grad.numpy()),
                 out=(out.detach().numpy(), out.grad.numpy()), loss=(loss.detach().numpy(), np.ones(())))
    return facts


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def nodes_by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in data["nodes"]}


def label_of(node: dict[str, Any]) -> str:
    return {"op": node["label"], "leaf": node["name"]}.get(node["kind"], "output")


def check_against_torch(data: dict[str, Any], facts: dict[str, Any], every_value: bool) -> None:
    """Every leaf's value and .grad, every op's value (where known; all of them when
    ``every_value``) and the gradient it received, and the output: torch's numbers.
    The graph is Linear -> ReLU -> Linear -> MSE: each op checked by what feeds it."""
    nodes = nodes_by_id(data)
    leaves = {n["name"]: n for n in nodes.values() if n["kind"] == "leaf"}
    assert sorted(leaves) == sorted(k for k in facts if k.startswith("net."))
    for name, leaf in leaves.items():
        np.testing.assert_allclose(leaf["value"], facts[name][0], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(leaf["grad"], facts[name][1], rtol=1e-5, atol=1e-7)
    ops = [n for n in nodes.values() if n["kind"] == "op"]
    by_label: dict[str, list[dict[str, Any]]] = {}
    for op in sorted(ops, key=lambda n: n["forward_index"]):
        by_label.setdefault(op["label"], []).append(op)
    assert sorted(by_label) == ["Addmm", "MseLoss", "Relu", "T"]
    (first, second), (relu,), (mse,) = by_label["Addmm"], by_label["Relu"], by_label["MseLoss"]
    expected = {id(first): facts["hidden"], id(relu): facts["relu"], id(second): facts["out"], id(mse): facts["loss"]}
    for op in (first, relu, second, mse):
        value, grad = expected[id(op)]
        np.testing.assert_allclose(op["grad"], grad, rtol=1e-5, atol=1e-7)
        if op["value"] is not None or every_value:
            np.testing.assert_allclose(op["value"], value, rtol=1e-5, atol=1e-6)
    for transpose, weight in zip(by_label["T"], ("net.fc1.weight", "net.fc2.weight")):
        assert nodes[transpose["inputs"][0]]["name"] == weight
        np.testing.assert_allclose(transpose["value"], facts[weight][0].T, rtol=1e-6)
        np.testing.assert_allclose(transpose["grad"], facts[weight][1].T, rtol=1e-5, atol=1e-7)
    # Who feeds whom, by the user's names and ops' labels.
    edges = sorted((label_of(nodes[e["source"]]), label_of(nodes[e["target"]])) for e in data["edges"])
    assert edges == sorted([
        ("net.fc1.weight", "T"), ("net.fc1.bias", "Addmm"), ("T", "Addmm"), ("Addmm", "Relu"),
        ("Relu", "Addmm"), ("net.fc2.weight", "T"), ("T", "Addmm"), ("net.fc2.bias", "Addmm"),
        ("Addmm", "MseLoss"), ("MseLoss", "output"),
    ])
    (output,) = [n for n in nodes.values() if n["kind"] == "output"]
    assert output["name"] == "loss"
    np.testing.assert_allclose(output["value"], facts["loss"][0], rtol=1e-6)
    ran = sorted(n["backward_index"] for n in nodes.values() if n["kind"] != "output")
    assert ran == list(range(len(nodes) - 1))  # every node ran in backward, once


def comparable(data: dict[str, Any]) -> list[tuple]:
    """What two traces of the same graph share whoever made them: per node id, its
    kind, grad_fn, name and order in backward."""
    return [(n["id"], n["kind"], n["grad_fn"], n["name"] if n["kind"] == "leaf" else None, n["backward_index"])
            for n in sorted(data["nodes"], key=lambda n: n["id"])]


def same_numbers(mine: dict[str, Any], theirs: dict[str, Any], layout: bool) -> None:
    """Gradients everywhere, values wherever both traces know them, and (``layout``)
    the boxes: the same only when both saw which module each op ran in."""
    ours, other = nodes_by_id(mine), nodes_by_id(theirs)
    for node_id, node in ours.items():
        np.testing.assert_allclose(node["grad"], other[node_id]["grad"], rtol=1e-5, atol=1e-7)
        if node["value"] is not None and other[node_id]["value"] is not None:
            np.testing.assert_allclose(node["value"], other[node_id]["value"], rtol=1e-5, atol=1e-6)
        if layout:
            assert [node[k] for k in ("x", "y", "width", "height", "module")] == \
                [other[node_id][k] for k in ("x", "y", "width", "height", "module")]
