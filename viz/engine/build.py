"""Turn one captured backward pass and the recorded forward values into a Trace graph."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import torch

from viz.engine.capture import MAX_VALUE_ELEMENTS, Captured, GradSummary, batch_stats, dtype_name, to_numpy
from viz.teaching.cards import card_for
from viz.engine.collect import paused_collections
from viz.engine.saved import saved_record
from viz.engine.trace import RESHAPES, BackwardEvent, ForwardEvent, short_label
from viz.engine.walk import BackwardCapture


def source_unseen(attrs: dict[str, Any]) -> bool:
    return not attrs.get("recorded", True)


def view_value(label: str, node: Any, source: np.ndarray | None,
               shape: list[int] | None) -> np.ndarray | None:
    """The value of a pure view op from its input's value; None when not a known view."""
    if source is None or shape is None:
        return None
    try:
        if label in RESHAPES and source.size == int(np.prod(shape, dtype=np.int64)):
            result = source.reshape(shape)
        elif label == "T" and source.ndim <= 2:
            result = source.T
        elif label == "Expand":
            result = np.broadcast_to(source, shape)
        elif label == "Permute":
            result = np.transpose(source, [d % source.ndim for d in node._saved_dims])
        elif label == "Transpose":
            result = np.swapaxes(source, node._saved_dim0, node._saved_dim1)
        else:
            return None
    except (ValueError, AttributeError, RuntimeError, TypeError, IndexError):
        return None
    return result if list(result.shape) == list(shape) else None


def forward_order(nodes: list[Any], inputs: list[tuple], leaves: set[int]) -> list[int]:
    """Creation order: ops by their sequence number, each leaf just before its first use."""
    index = {node: i for i, node in enumerate(nodes)}
    ops = sorted((i for i in range(len(nodes)) if i not in leaves),
                 key=lambda i: (nodes[i]._sequence_nr(), i))
    placed: set[int] = set()
    order: list[int] = []
    for i in ops:
        for child, _ in inputs[i]:
            j = index.get(child) if child is not None else None
            if j is not None and j in leaves and j not in placed:
                placed.add(j)
                order.append(j)
        order.append(i)
    unused = [i for i in sorted(leaves) if i not in placed]
    return unused + order


class GraphBuilder:
    """Assemble the networkx graph and the event lists of one Trace."""

    def __init__(self, capture: BackwardCapture, values: dict[Any, dict[int, Captured]],
                 origins: dict[Any, Any], leaf_lines: dict[int, Any],
                 output_names: list[str | None], final_grads: bool = False) -> None:
        """final_grads: the capture is the code's own backward call, so a leaf's ``.grad``
        when the code ended is the code's doing (later calls added to it): kept as
        ``final_grad`` where it differs from this call's gradient."""
        self.capture = capture
        self.final_grads = final_grads
        self.values = values
        self.origins = origins
        self.leaf_lines = leaf_lines
        self.output_names = output_names
        self.graph = nx.DiGraph()
        self.ids: dict[int, str] = {}
        self._per_op: dict[str, tuple[str, dict[str, str]]] = {}  # name -> (label, card)
        # One array per tensor: events, nodes and edges share it (and pickle it once).
        self._arrays: dict[int, np.ndarray | None] = {}

    def build(self) -> tuple[nx.DiGraph, list[str], list[ForwardEvent], list[BackwardEvent]]:
        with paused_collections():  # a few objects per node and edge, none garbage yet
            return self._build()

    def _build(self) -> tuple[nx.DiGraph, list[str], list[ForwardEvent], list[BackwardEvent]]:
        capture = self.capture
        order = forward_order(capture.nodes, capture.inputs, set(capture.leaf_values))
        backward_index = {i: pos for pos, i in enumerate(capture.order)}
        for forward_index, i in enumerate(order):
            self.ids[i] = f"n{forward_index}"
        nodes = []
        for forward_index, i in enumerate(order):
            attrs = self._leaf_attrs(i) if i in capture.leaf_values else self._op_attrs(i)
            attrs["forward_index"] = forward_index
            attrs["backward_index"] = backward_index.get(i)
            nodes.append((self.ids[i], attrs))
        self.graph.add_nodes_from(nodes)
        edges: dict[tuple[str, str], dict[str, Any]] = {}
        for i in order:
            self._collect_input_edges(i, edges)
        self.graph.add_edges_from((u, v, attrs) for (u, v), attrs in edges.items())
        outputs = self._add_outputs(len(order))
        self._fill_missing_origins(order)
        self._derive_view_values(order)
        self._fill_stats()
        forward = [ForwardEvent(k, node_id) for k, node_id in enumerate([self.ids[i] for i in order] + outputs)]
        numpy, ids, received, sent = self._numpy, self.ids, capture.received, capture.sent
        backward = [
            BackwardEvent(pos, ids[i], list(map(numpy, received.get(i, ()))), list(map(numpy, sent.get(i, ()))))
            for pos, i in enumerate(capture.order)
        ]
        return self.graph, outputs, forward, backward

    # -- nodes --------------------------------------------------------------------------
    def _common(self, captured: Captured | None, grad: torch.Tensor | GradSummary | None) -> dict[str, Any]:
        """shape/dtype/device from the value, else from the gradient (same shape); the
        stats of both are filled in one pass by ``_fill_stats`` (a gradient too large
        to keep comes with its own)."""
        tensor = captured.tensor if captured is not None else None
        described = tensor if tensor is not None else grad
        if captured is not None and captured.shape is not None:
            shape, dtype, device = captured.shape, captured.dtype, captured.device
        elif isinstance(described, GradSummary):
            shape, dtype, device = list(described.shape), described.dtype, described.device
        elif described is not None:
            shape, dtype, device = list(described.shape), dtype_name(described), str(described.device)
        else:
            shape = dtype = device = None
        return {
            "shape": shape, "dtype": dtype, "device": device,
            "value": to_numpy(captured.value()) if captured is not None else None,
            "stats": captured.stats if captured is not None else None,
            "grad": self._numpy(grad),
            "grad_stats": grad.stats if isinstance(grad, GradSummary) else None,
        }

    def _numpy(self, tensor: torch.Tensor | GradSummary | None) -> np.ndarray | None:
        if not isinstance(tensor, torch.Tensor):  # none, or too large to keep: no numbers
            return None
        array = self._arrays.get(id(tensor))
        if array is None:
            array = self._arrays[id(tensor)] = to_numpy(tensor)
        return array

    def _op_attrs(self, i: int) -> dict[str, Any]:
        node = self.capture.nodes[i]
        name = node.name()
        per_op = self._per_op.get(name)
        if per_op is None:
            per_op = self._per_op[name] = (short_label(name), card_for(name))
        outputs = self.values.get(node) or self.capture.recovered.get(node)
        captured = outputs[min(outputs)] if outputs else None
        received = self.capture.received.get(i) or [None]
        origin = self.origins.get(node)
        attrs = self._common(captured, received[0])
        attrs.update(
            kind="op", grad_fn=name, label=per_op[0], name=None,
            source_line=origin.source_line if origin else None,
            module=self.capture.names.module_name(origin.module) if origin else None,
            recorded=origin is not None,
            card=per_op[1],
            inputs=[self._input_id(child) for child, _ in self.capture.inputs[i]],
            saved=[saved_record(s, self._node_id) for s in self.capture.saved.get(node, ())],
        )
        return attrs

    def _node_id(self, node: Any) -> str | None:
        i = self.capture.index.get(node)
        return self.ids.get(i) if i is not None else None

    def _leaf_attrs(self, i: int) -> dict[str, Any]:
        variable = self.capture.nodes[i].variable
        name = self.capture.names.tensor_name(variable)
        attrs = self._common(self.capture.leaf_values[i], self.capture.leaf_grads.get(i))
        module = name.rsplit(".", 1)[0] if name and isinstance(variable, torch.nn.Parameter) and "." in name else None
        attrs.update(
            kind="leaf", grad_fn=self.capture.nodes[i].name(), name=name,
            label=name or ("param" if isinstance(variable, torch.nn.Parameter) else "leaf"),
            source_line=self.leaf_lines.get(id(variable), (None, None))[1],
            module=module, card=None, inputs=[],
        )
        if self.final_grads:
            attrs["final_grad"] = self._final_grad(variable, self.capture.leaf_grads.get(i))
        return attrs

    def _final_grad(self, variable: torch.Tensor, grad: torch.Tensor | GradSummary | None) -> np.ndarray | None:
        """The leaf's ``.grad`` as the code left it, when it is not this call's gradient
        (``x.grad`` after two backward calls is their sum); not one too large to keep."""
        final = variable.grad
        if not isinstance(final, torch.Tensor) or final.shape != variable.shape or final.is_sparse \
                or final.numel() > MAX_VALUE_ELEMENTS:
            return None
        if isinstance(grad, torch.Tensor) and grad.shape == final.shape \
                and torch.equal(grad.detach().cpu(), final.detach().cpu()):
            return None
        return to_numpy(final.detach())

    def _input_id(self, child: Any) -> str | None:
        if child is None:
            return None
        return self.ids.get(self.capture.index[child])

    # -- edges and outputs ----------------------------------------------------------------
    def _collect_input_edges(self, i: int, edges: dict[tuple[str, str], dict[str, Any]]) -> None:
        sent = self.capture.sent.get(i, ())
        target = self.ids[i]
        for slot, (child, output_nr) in enumerate(self.capture.inputs[i]):
            if child is None:
                continue
            source = self.ids[self.capture.index[child]]
            grad = self._numpy(sent[slot]) if slot < len(sent) else None
            edge = edges.get((source, target))
            if edge is None:
                edges[source, target] = {"slots": [slot], "output_nrs": [output_nr], "grad": grad}
                continue
            edge["slots"].append(slot)
            edge["output_nrs"].append(output_nr)
            if grad is not None:
                edge["grad"] = grad if edge["grad"] is None else np.asarray(edge["grad"] + grad)

    def _add_outputs(self, first_index: int) -> list[str]:
        capture = self.capture
        outputs = []
        for k, root in enumerate(capture.roots):
            node_id = f"n{first_index + k}"
            given = self.output_names[k] if k < len(self.output_names) else None
            name = given or capture.root_names[k]
            root_id = self.ids[capture.index[capture.root_nodes[k]]]
            seed = None if capture.failed else capture.seeds[k]
            attrs = self._common(capture.root_values[k], seed)
            attrs.update(
                kind="output", grad_fn=None, label=name or "output", name=name,
                forward_index=first_index + k, backward_index=None,
                source_line=self.graph.nodes[root_id].get("source_line"),
                module=None, card=None, inputs=[root_id],
            )
            self.graph.add_node(node_id, **attrs)
            self.graph.add_edge(root_id, node_id, slots=[0], output_nrs=[root.output_nr],
                                grad=self._numpy(seed))
            outputs.append(node_id)
        return outputs

    def _derive_view_values(self, order: list[int]) -> None:
        """A view the recorder never saw (a Linear's transpose, reshapes inside a
        composite) has exactly its input's value rearranged: derive it, in creation
        order so chains of views follow. Other unseen ops stay unknown."""
        for i in order:
            attrs = self.graph.nodes[self.ids[i]]
            if attrs["kind"] != "op" or attrs["value"] is not None or not attrs["inputs"]:
                continue
            source = attrs["inputs"][0]
            edge = self.graph.edges[source, self.ids[i]] if source is not None else None
            if edge is None or edge["output_nrs"][0] != 0:
                continue
            value = view_value(attrs["label"], self.capture.nodes[i],
                               self.graph.nodes[source]["value"], attrs["shape"])
            if value is not None:
                attrs["value"] = value

    def _fill_stats(self) -> None:
        nodes = list(self.graph.nodes.values())
        values = batch_stats([attrs["value"] for attrs in nodes])
        grads = batch_stats([attrs["grad"] for attrs in nodes])
        for attrs, value_stats, grad_stats in zip(nodes, values, grads):
            if value_stats is not None:
                attrs["stats"] = value_stats
            if attrs["grad"] is not None:  # one too large to keep has its stats already
                attrs["grad_stats"] = grad_stats

    def _fill_missing_origins(self, order: list[int]) -> None:
        """Op nodes the recorder never saw (built inside a C++ composite such as a
        Linear's transpose) take their consumer's line and module; leaves whose
        creation was not seen take the line of their first use."""
        for i in reversed(order):
            node_id = self.ids[i]
            attrs = self.graph.nodes[node_id]
            line, module = attrs["source_line"], attrs["module"]
            for source in self.graph.predecessors(node_id):
                inherit = self.graph.nodes[source]
                if inherit["source_line"] is None:
                    inherit["source_line"] = line
                if inherit["kind"] == "op" and inherit["module"] is None and source_unseen(inherit):
                    inherit["module"] = module

