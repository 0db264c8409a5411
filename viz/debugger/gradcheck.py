"""Check every gradient against finite differences, in float64, and pin a wrong one
to the node whose backward is wrong.

Two checks, both on the recorded run (``viz.debugger.replay`` runs its torch calls again):

- per **leaf**: the gradient of the output (weighted by backward's seed) w.r.t. the
  leaf, analytic (backward through the replay) against central differences of the
  replayed forward;
- per **op node**: the node's *own* backward against central differences of its
  *own* forward on the inputs it got. A custom ``autograd.Function`` is replayed
  through its ``apply``, so a wrong ``backward`` fails at its node, not only at the
  leaves downstream. The gradient fed to the node is random, so a backward that
  forgets to multiply by its incoming gradient cannot pass by luck.

Why float64: a central difference ``(f(x+h) - f(x-h)) / 2h`` has a truncation error
of order ``h²`` and a rounding error of order ``eps·|f| / h``. In float32
(``eps ≈ 1.2e-7``) the best ``h`` (~5e-3) still leaves errors around 1e-4..1e-3 of the
value, as large as the bugs to be found; in float64 (``eps ≈ 2.2e-16``) ``h = 1e-6``
leaves about 1e-10. So everything is cast to float64 first, as
``torch.autograd.gradcheck`` asks.

Where a function has a kink (``relu`` at 0, ``abs`` at 0, ties in ``max``) the
one-sided differences disagree; an analytic value between them (a subgradient) is
accepted there, and the report says how many entries sat on a kink.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np
import torch

from viz.debugger.gradcheck_report import (ATOL, DEFAULT_BUDGET_S, EPS, MAX_ENTRIES, MAX_OP_ELEMENTS,  # noqa: F401
                                           RTOL, WHY_FLOAT64, GradcheckReport, LeafCheck, NodeCheck)
from viz.engine.build import forward_order, short_label
from viz.engine.devices import check_device
from viz.engine.engine import choose_capture, output_tensors, reset_state
from viz.errors import StudioError
from viz.engine.evaluate import compile_user_code, run_compiled
from viz.debugger.gradcheck_fd import EntryCheck, compare_entries, sample_entries
from viz.debugger.replay import CallRecorder, RecordedCall, Replay, ReplayError, call_outputs, cast64
from viz.engine.walk import BackwardCapture, NameIndex, is_leaf_node

def gradcheck_code(code: str, where: str = "<expr>", device: str = "cpu", *,
                   budget_s: float = DEFAULT_BUDGET_S) -> GradcheckReport:
    """Run ``code`` as ``trace_code`` would and check every gradient of its graph."""
    started = time.perf_counter()
    compiled = compile_user_code(code, where)
    target = check_device(device)
    reset_state()
    recorder = CallRecorder(where)
    with (torch.device(target) if target.type != "cpu" else contextlib.nullcontext()), recorder:
        evaluated = run_compiled(compiled, where)
    notes: list[str] = []
    try:
        capture, _ = choose_capture(evaluated, recorder, compiled, where, notes)
    except StudioError as err:
        # A backward that raises (a custom Function returning a wrong shape) is what
        # this check is for: walk the graph without running backward, and let the
        # per-node check find the node.
        outputs, _ = output_tensors(evaluated)
        if not outputs or not err.what.startswith("backward failed"):
            raise
        notes.append(f"the trace's own backward failed: {err.what.removeprefix('backward failed: ')}")
        capture = BackwardCapture(outputs, [], NameIndex.from_scopes(evaluated.namespace), recorder.values,
                                  recorder.origins)
        capture.stop()
    checker = _Checker(capture, recorder, started + budget_s)
    report = checker.run()
    report.notes[:0] = notes
    report.seconds = round(time.perf_counter() - started, 3)
    return report


class _Checker:
    def __init__(self, capture: BackwardCapture, recorder: CallRecorder, deadline: float) -> None:
        self.capture = capture
        self.recorder = recorder
        self.deadline = deadline
        nodes = capture.nodes
        order = forward_order(nodes, capture.inputs, set(capture.leaf_values))
        self.ids = {i: f"n{pos}" for pos, i in enumerate(order)}
        self.order = order
        self.replay = Replay(recorder.calls, set(nodes))
        self.call_of: dict[Any, int] = {}
        for k, call in enumerate(self.replay.program):
            for node in call.nodes:
                self.call_of.setdefault(node, k)
        self.generator = torch.Generator().manual_seed(0)
        self.rng_state = torch.random.get_rng_state()

    # -- the whole run ---------------------------------------------------------------------
    def run(self) -> GradcheckReport:
        notes: list[str] = []
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            leaves, base = self._check_leaves(notes)
            inputs = base.inputs if base is not None else []
            nodes = self._check_nodes(inputs, notes)
        agree = all(c.ok is not False for c in nodes) and all(c.ok is not False for c in leaves)
        return GradcheckReport(agree, nodes, leaves, notes)

    def _leaf_tensors(self) -> dict[int, tuple[int, torch.Tensor]]:
        """id(leaf variable) -> (node index, float64 value at backward time)."""
        found = {}
        for i, captured in self.capture.leaf_values.items():
            variable = self.capture.nodes[i].variable
            value = captured.value()
            found[id(variable)] = (i, cast64(value if value is not None else variable))
        return found

    def _evaluate(self, leaves: dict[int, torch.Tensor], keep_inputs: bool = False) -> tuple[torch.Tensor, Any]:
        """The scalar backward differentiated: sum of each output times its seed."""
        torch.random.set_rng_state(self.rng_state)  # random ops draw alike every time
        run = self.replay.run(leaves, keep_inputs)
        total = torch.zeros((), dtype=torch.float64)
        for root, node, seed in zip(self.capture.roots, self.capture.root_nodes, self.capture.seeds):
            if is_leaf_node(node):
                value = leaves[id(node.variable)]
            else:
                value = run.values.get(("node", node, root.output_nr))
                if value is None:
                    raise ReplayError("the output was not made by a recorded call")
            total = total + (value * cast64(seed).to(value.device)).sum().to(total.device)
        return total, run

    def _check_leaves(self, notes: list[str]) -> tuple[list[LeafCheck], Any]:
        found = self._leaf_tensors()
        rows = {i: LeafCheck(self.ids[i], self.capture.names.tensor_name(self.capture.nodes[i].variable), None,
                             total_entries=int(value.numel())) for i, value in found.values()}
        ordered = [rows[i] for i in self.order if i in rows]
        leaves = {key: value.clone().requires_grad_() for key, (_, value) in found.items()}
        try:
            total, base = self._evaluate(leaves, keep_inputs=True)
        except (ReplayError, RuntimeError, TypeError, ValueError) as err:
            notes.append(f"leaves not checked: the recorded ops could not be replayed ({_first_line(err)})")
            for row in ordered:
                row.note = "the recorded ops could not be replayed"
            return ordered, None
        self._note_replay_drift(base, notes)
        keys = list(leaves)
        try:
            grads = torch.autograd.grad(total, [leaves[k] for k in keys], allow_unused=True)
        except RuntimeError as err:
            for row in ordered:
                row.ok, row.note = False, f"backward failed: {_first_line(err)}"
            return ordered, base
        for key, grad in zip(keys, grads):
            i, _ = found[key]
            row = rows[i]
            if time.perf_counter() > self.deadline:
                row.note = "not checked: the time budget ran out"
                continue
            if leaves[key].is_complex():  # as a complex op's own check (_skip_reason)
                row.note = "not checked: complex tensors"
                continue
            analytic = grad if grad is not None else torch.zeros_like(leaves[key])
            point = {k: v.detach().clone() for k, v in leaves.items()}

            def scalar(value: torch.Tensor, key: int = key) -> float:
                point[key] = value
                return float(self._evaluate(point)[0])

            with torch.no_grad():
                entry = _difference_check(scalar, point[key], analytic.detach(), self.generator)
            _fill(row, entry)
        return ordered, base

    def _note_replay_drift(self, base: Any, notes: list[str]) -> None:
        """Say where the float64 replay parts from the recorded float32 run (a random
        op, or a tensor the code changed later): the check stays valid, but for values
        that are not exactly the user's."""
        for i in self.order:
            node = self.capture.nodes[i]
            outputs = self.recorder.values.get(node) or {}
            for nr, captured in outputs.items():
                key = ("node", node, nr)
                if key in self.replay.overwritten:
                    continue
                recorded, replayed = captured.value(), base.values.get(key)
                if (recorded is None or replayed is None or not recorded.is_floating_point()
                        or not replayed.is_floating_point()):
                    continue
                expected = recorded.detach().to(torch.float64)
                # In float64 as well: a cast to float8 (or half) stays one in the replay (red team 42).
                got = replayed.detach().to(device=expected.device, dtype=torch.float64)
                if got.shape != expected.shape or not torch.allclose(got, expected, rtol=1e-3, atol=1e-4, equal_nan=True):
                    notes.append(f"the replay differs from the recorded run from {self.ids[i]} "
                                 f"({node.name()}) on: a random op, or a tensor changed after use")
                    return

    # -- per node ------------------------------------------------------------------------
    def _check_nodes(self, inputs: list[list[Any]], notes: list[str]) -> list[NodeCheck]:
        rows: dict[int, NodeCheck] = {}
        for i in self.order:
            node = self.capture.nodes[i]
            if i in self.capture.leaf_values:
                continue
            origin = self.recorder.origins.get(node)
            name = node.name()
            rows[i] = NodeCheck(self.ids[i], name, short_label(name), origin.source_line if origin else None, None)
        for i, row in rows.items():
            node = self.capture.nodes[i]
            k = self.call_of.get(node)
            if k is None or k >= len(inputs):
                continue
            call = self.replay.program[k]
            unchecked = _cannot_check(call, inputs[k])
            if unchecked is None and time.perf_counter() > self.deadline:
                unchecked = EntryCheck.skipped("not checked: the time budget ran out")
            _fill(row, unchecked or self._check_call(call, inputs[k], node))
            if len(call.nodes) > 1 or self._made_inside(node):
                row.note = (row.note + "; " if row.note else "") + f"checked as one call to {call.describe()}"
        self._cover_inner_nodes(rows)
        if self.replay.program and not inputs:
            notes.append("op nodes not checked: the recorded ops could not be replayed")
        return [rows[i] for i in self.order if i in rows]

    def _made_inside(self, node: Any) -> bool:
        """Whether the call's own graph reaches inner nodes before its inputs."""
        index = self.capture.index
        return any(child is not None and not is_leaf_node(child) and child not in self.call_of
                   for child, _ in self.capture.inputs[index[node]])

    def _cover_inner_nodes(self, rows: dict[int, NodeCheck]) -> None:
        """Nodes torch made inside one call (``F.linear``'s transpose) have no call of
        their own: they share the verdict of the call whose node consumes them."""
        for i in self.order:
            row = rows.get(i)
            if row is None or self.capture.nodes[i] not in self.call_of:
                continue
            stack = [c for c, _ in self.capture.inputs[i]]
            while stack:
                child = stack.pop()
                if child is None or is_leaf_node(child) or child in self.call_of:
                    continue
                j = self.capture.index[child]
                inner = rows[j]
                if inner.ok is None and not inner.note:
                    inner.ok = row.ok
                    inner.note = f"made inside the call of {row.node}; checked with it"
                    stack.extend(c for c, _ in self.capture.inputs[j])
        for row in rows.values():
            if row.ok is None and not row.note:
                row.note = "not checked: no recorded call made this node"

    def _check_call(self, call: RecordedCall, args: list[Any], node: Any) -> EntryCheck:
        """The call's own backward against differences of its own forward."""
        wanted = [p for p, key in enumerate(call.in_keys)
                  if key is not None and isinstance(args[p], torch.Tensor) and args[p].is_floating_point()]

        def forward(point: list[Any]) -> list[torch.Tensor]:
            torch.random.set_rng_state(self.rng_state)
            current = list(point)
            if call.mutates and isinstance(current[0], torch.Tensor):
                current[0] = current[0].clone()  # an in-place op writes into a copy
            pairs = call_outputs(call, current)
            return [o for key, o in pairs if key[1] is node and o.is_floating_point()]

        point = [a.detach().clone().requires_grad_() if p in wanted else a for p, a in enumerate(args)]
        try:
            outputs = forward(point)
        except Exception as err:  # noqa: BLE001 - any failure of the replay means "cannot check"
            return EntryCheck.skipped(f"not checked: the replay failed ({_first_line(err)})")
        if not outputs:
            return EntryCheck.skipped("not checked: no floating-point output")
        if any(o.dtype != torch.float64 for o in outputs) or any(point[p].dtype != torch.float64 for p in wanted):
            return EntryCheck.skipped("not checked: the op computes in another precision than float64")
        directions = [torch.randn(o.shape, generator=self.generator, dtype=torch.float64).to(o.device)
                      for o in outputs]
        try:
            grads = torch.autograd.grad(outputs, [point[p] for p in wanted], directions, allow_unused=True)
        except RuntimeError as err:
            return EntryCheck.failed(f"its backward failed: {_first_line(err)}")

        worst = EntryCheck.empty()
        for p, grad in zip(wanted, grads):
            analytic = grad if grad is not None else torch.zeros_like(point[p])
            if analytic.shape != point[p].shape:
                return EntryCheck.failed(f"its backward gave shape {list(analytic.shape)} for an input of "
                                         f"shape {list(point[p].shape)}")
            base = [a.detach() if isinstance(a, torch.Tensor) else a for a in point]

            def scalar(value: torch.Tensor, p: int = p) -> float:
                base[p] = value
                return float(sum((o * d).sum() for o, d in zip(forward(base), directions)))

            with torch.no_grad():
                worst = worst.merge(_difference_check(scalar, point[p].detach(), analytic.detach(), self.generator))
        return worst


def _difference_check(scalar: Any, point: torch.Tensor, analytic: torch.Tensor,
                      generator: torch.Generator) -> EntryCheck:
    """Central differences of ``scalar`` around ``point`` against ``analytic``, entry by
    entry (sampled when large, plus one random direction covering every entry)."""
    flat_point = point.reshape(-1)
    flat_analytic = analytic.reshape(-1).cpu().numpy()
    picked = sample_entries(flat_analytic, MAX_ENTRIES, generator)
    f0 = scalar(point)
    plus, minus = np.empty(len(picked)), np.empty(len(picked))
    for n, j in enumerate(picked):
        moved = flat_point.clone()
        moved[j] += EPS
        plus[n] = scalar(moved.reshape(point.shape))
        moved[j] -= 2 * EPS
        minus[n] = scalar(moved.reshape(point.shape))
    entry = compare_entries(flat_analytic[picked], plus, minus, f0, EPS, ATOL, RTOL)
    entry.total = int(flat_point.numel())
    if len(picked) < flat_point.numel():
        direction = torch.randn(flat_point.shape, generator=generator, dtype=torch.float64).to(point.device)
        direction /= direction.norm()
        up = scalar((flat_point + EPS * direction).reshape(point.shape))
        down = scalar((flat_point - EPS * direction).reshape(point.shape))
        projected = np.array([float(np.dot(flat_analytic, direction.cpu().numpy()))])
        entry = entry.merge(compare_entries(projected, np.array([up]), np.array([down]), f0, EPS, ATOL, RTOL),
                            count=False)
    return entry


def _fill(row: NodeCheck | LeafCheck, entry: EntryCheck) -> None:
    row.ok = entry.ok
    row.max_abs_err = entry.max_abs
    row.max_rel_err = entry.max_rel
    row.checked_entries = entry.checked
    row.total_entries = entry.total or row.total_entries
    row.note = entry.note


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _cannot_check(call: RecordedCall, args: list[Any]) -> EntryCheck | None:
    """Why a call is not checked, where that is known without running it (complex
    tensors, no input that needs a gradient, too many elements); None where it can be."""
    if any(isinstance(a, torch.Tensor) and a.is_complex() for a in args):
        return EntryCheck.skipped("not checked: complex tensors")
    if not any(key is not None and isinstance(args[p], torch.Tensor) and args[p].is_floating_point()
               for p, key in enumerate(call.in_keys)):
        return EntryCheck.skipped("not checked: no input needs a gradient")
    size = sum(int(a.numel()) for a in args if isinstance(a, torch.Tensor))
    if size > MAX_OP_ELEMENTS:
        return EntryCheck.skipped(f"not checked: {size:,} elements is too large")
    return None
