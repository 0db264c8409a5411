"""Turn one captured backward pass and the recorded forward values into a Trace graph."""

from __future__ import annotations

import re
from typing import Any

import networkx as nx
import torch

from viz.capture import Captured, to_numpy
from viz.cards import card_for
from viz.trace import BackwardEvent, ForwardEvent, array_stats
from viz.walk import BackwardCapture, is_leaf_node

_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")


def short_label(grad_fn_name: str) -> str:
    """``MulBackward0`` -> ``Mul``; ``torch::autograd::CopySlices`` -> ``CopySlices``."""
    name = grad_fn_name.rsplit("::", 1)[-1]
    return _BACKWARD_SUFFIX.sub("", name) or name


def forward_order(nodes: list[Any]) -> list[int]:
    """Creation order: ops by their sequence number, each leaf just before its first use."""
    index = {node: i for i, node in enumerate(nodes)}
    ops = sorted((i for i, n in enumerate(nodes) if not is_leaf_node(n)),
                 key=lambda i: (nodes[i]._sequence_nr(), i))
    placed: set[int] = set()
    order: list[int] = []
    for i in ops:
        for child, _ in nodes[i].next_functions:
            j = index.get(child) if child is not None else None
            if j is not None and j not in placed and is_leaf_node(child):
                placed.add(j)
                order.append(j)
        order.append(i)
    unused = [i for i, n in enumerate(nodes) if is_leaf_node(n) and i not in placed]
    return unused + order


class GraphBuilder:
    """Assemble the networkx graph and the event lists of one Trace."""

    def __init__(self, capture: BackwardCapture, values: dict[Any, dict[int, Captured]],
                 origins: dict[Any, Any], leaf_lines: dict[int, Any],
                 output_names: list[str | None]) -> None:
        self.capture = capture
        self.values = values
        self.origins = origins
        self.leaf_lines = leaf_lines
        self.output_names = output_names
        self.graph = nx.DiGraph()
        self.ids: dict[int, str] = {}

    def build(self) -> tuple[nx.DiGraph, list[str], list[ForwardEvent], list[BackwardEvent]]:
        capture = self.capture
        order = forward_order(capture.nodes)
        backward_index = {i: pos for pos, i in enumerate(capture.order)}
        for forward_index, i in enumerate(order):
            self.ids[i] = f"n{forward_index}"
        for forward_index, i in enumerate(order):
            node = capture.nodes[i]
            attrs = self._leaf_attrs(i) if is_leaf_node(node) else self._op_attrs(i)
            attrs.update(forward_index=forward_index, backward_index=backward_index.get(i))
            self.graph.add_node(self.ids[i], **attrs)
        for i in order:
            self._add_input_edges(i)
        outputs = self._add_outputs(len(order))
        self._fill_missing_lines(order)
        forward = [ForwardEvent(k, node_id) for k, node_id in enumerate(self._forward_ids(order, outputs))]
        backward = [
            BackwardEvent(pos, self.ids[i], [to_numpy(g) for g in capture.received.get(i, [])],
                          [to_numpy(g) for g in capture.sent.get(i, [])])
            for pos, i in enumerate(capture.order)
        ]
        return self.graph, outputs, forward, backward

    # -- nodes --------------------------------------------------------------------------
    def _common(self, captured: Captured | None, grad: torch.Tensor | None) -> dict[str, Any]:
        value = to_numpy(captured.value) if captured is not None else None
        grad_array = to_numpy(grad)
        stats = array_stats(value) if value is not None else (captured.stats if captured else None)
        return {
            "shape": captured.shape if captured else (list(grad.shape) if grad is not None else None),
            "dtype": captured.dtype if captured else (_dtype(grad) if grad is not None else None),
            "device": captured.device if captured else (str(grad.device) if grad is not None else None),
            "value": value,
            "stats": stats,
            "grad": grad_array,
            "grad_stats": array_stats(grad_array),
        }

    def _op_attrs(self, i: int) -> dict[str, Any]:
        node = self.capture.nodes[i]
        name = node.name()
        outputs = self.values.get(node, {})
        captured = outputs[min(outputs)] if outputs else None
        received = self.capture.received.get(i) or [None]
        origin = self.origins.get(node)
        attrs = self._common(captured, received[0])
        attrs.update(
            kind="op", grad_fn=name, label=short_label(name), name=None,
            source_line=origin.source_line if origin else None,
            module=self.capture.names.module_name(origin.module) if origin else None,
            card=card_for(name.rsplit("::", 1)[-1]),
            inputs=[self._input_id(child) for child, _ in node.next_functions],
        )
        return attrs

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
        return attrs

    def _input_id(self, child: Any) -> str | None:
        if child is None:
            return None
        return self.ids.get(self.capture.index[child])

    # -- edges and outputs ----------------------------------------------------------------
    def _add_input_edges(self, i: int) -> None:
        consumer = self.capture.nodes[i]
        sent = self.capture.sent.get(i, [])
        for slot, (child, output_nr) in enumerate(consumer.next_functions):
            if child is None:
                continue
            source = self.ids[self.capture.index[child]]
            target = self.ids[i]
            grad = sent[slot] if slot < len(sent) else None
            if self.graph.has_edge(source, target):
                edge = self.graph.edges[source, target]
                edge["slots"].append(slot)
                edge["output_nrs"].append(output_nr)
                if grad is not None:
                    previous = edge["grad"]
                    edge["grad"] = to_numpy(grad) if previous is None else previous + to_numpy(grad)
            else:
                self.graph.add_edge(source, target, slots=[slot], output_nrs=[output_nr],
                                    grad=to_numpy(grad))

    def _add_outputs(self, first_index: int) -> list[str]:
        capture = self.capture
        outputs = []
        for k, root in enumerate(capture.roots):
            node_id = f"n{first_index + k}"
            given = self.output_names[k] if k < len(self.output_names) else None
            name = given or capture.root_names[k]
            root_id = self.ids[capture.index[capture.root_nodes[k]]]
            attrs = self._common(capture.root_values[k], capture.seeds[k])
            attrs.update(
                kind="output", grad_fn=None, label=name or "output", name=name,
                forward_index=first_index + k, backward_index=None,
                source_line=self.graph.nodes[root_id].get("source_line"),
                module=None, card=None, inputs=[root_id],
            )
            self.graph.add_node(node_id, **attrs)
            self.graph.add_edge(root_id, node_id, slots=[0], output_nrs=[root.output_nr],
                                grad=to_numpy(capture.seeds[k]))
            outputs.append(node_id)
        return outputs

    def _forward_ids(self, order: list[int], outputs: list[str]) -> list[str]:
        return [self.ids[i] for i in order] + outputs

    def _fill_missing_lines(self, order: list[int]) -> None:
        """Nodes the recorder never saw (inside C++ composites) take their consumer's line."""
        for i in reversed(order):
            node_id = self.ids[i]
            line = self.graph.nodes[node_id]["source_line"]
            if line is None:
                continue
            for source in self.graph.predecessors(node_id):
                if self.graph.nodes[source]["source_line"] is None:
                    self.graph.nodes[source]["source_line"] = line


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")

