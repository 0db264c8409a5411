"""The min/max/mean/norm a complex tensor's node carries (``stats`` of its value,
``grad_stats`` of its gradient) are of its magnitudes, as torch's own ``abs()``
reductions and ``linalg.vector_norm`` give them. The real-valued stats tests never
trace a complex tensor, and dropping the ``abs`` (audit 21e, B08) showed z = [3+4j,
-6+8j] as "min -6 max 3 mean -1.5 norm 6.708" instead of "min 5 max 10 mean 7.5
norm 11.18" in the Inspector, the hover cards and the HTML export.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from tests.viz.oracle import run_oracle, trace_walk
from viz.engine.engine import trace_code

CODE = """z = torch.tensor([3+4j, -6+8j], requires_grad=True)
c = torch.tensor([1-2j, 0.5+1j])
w = z * z.conj() + z * c
y = w.real.sum() + (z.abs() * 2).sum()
"""
OUTPUT = "y"


def _torch_stats(tensor: torch.Tensor) -> dict[str, float]:
    """A complex tensor by its magnitudes (its norm is the vector norm of the complex
    entries); a real one as it is."""
    t = tensor.detach()
    mags = t.abs().double() if t.is_complex() else t.double()
    return {"min": float(mags.min()), "max": float(mags.max()), "mean": float(mags.mean()),
            "norm": float(torch.linalg.vector_norm(t.to(torch.complex128 if t.is_complex() else torch.float64)))}


def _check(shown: Any, tensor: torch.Tensor, what: str) -> None:
    assert isinstance(shown, dict), f"{what}: no stats"
    expected = _torch_stats(tensor)
    for key, value in expected.items():
        assert shown[key] == pytest.approx(value, rel=1e-6, abs=1e-9), f"{what} {key}: {shown} vs torch {expected}"


def test_the_leaf_z_shows_torchs_magnitude_stats_for_value_and_gradient() -> None:
    trace = trace_code(CODE + OUTPUT + "\n", layout=False)
    namespace: dict[str, Any] = {"torch": torch}
    exec(compile(CODE, "<torch>", "exec"), namespace)  # noqa: S102 - our own test program
    namespace["y"].backward()
    z = namespace["z"]
    assert z.is_complex() and z.grad is not None and z.grad.is_complex()
    (node,) = [n for n, d in trace.graph.nodes(data=True) if d.get("kind") == "leaf" and d.get("label") == "z"]
    attrs = trace.node(node)
    _check(attrs["stats"], z, "value of z")
    _check(attrs["grad_stats"], z.grad, "gradient of z")
    # The numbers a user reads, |3+4j| = 5 and |-6+8j| = 10: not the real parts (-6, 3).
    assert (attrs["stats"]["min"], attrs["stats"]["max"], attrs["stats"]["mean"]) == pytest.approx((5.0, 10.0, 7.5))
    assert attrs["stats"]["norm"] == pytest.approx(125 ** 0.5)


def test_every_complex_node_matches_torch() -> None:
    trace = trace_code(CODE + OUTPUT + "\n", layout=False)
    oracle = run_oracle(CODE, OUTPUT)
    ids, children = trace_walk(trace)
    assert [trace.node(i)["grad_fn"] for i in ids] == [n.name() for n in oracle.nodes]
    assert children == oracle.children
    complex_values = complex_grads = 0
    for node, node_id in zip(oracle.nodes, ids):
        attrs = trace.node(node_id)
        if hasattr(node, "variable"):
            value, grad = node.variable, node.variable.grad
        else:
            value = oracle.op_values.get(node, oracle.call_values.get(node))
            grad = oracle.grads_in.get(node)
        assert value is not None and grad is not None, attrs["label"]
        _check(attrs["stats"], value, f"value of {attrs['label']}")
        _check(attrs["grad_stats"], grad, f"gradient of {attrs['label']}")
        # Count only complex tensors whose real parts alone would give other stats.
        complex_values += value.is_complex() and bool((value.imag != 0).any())
        complex_grads += grad.is_complex() and bool((grad.imag != 0).any())
    assert complex_values >= 3 and complex_grads >= 2  # the case exercises the complex path
