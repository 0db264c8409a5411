"""The user's names for the values in a graph, read from the code: leaves and outputs
carry theirs (``name``); an op gets the variable of the single-name assignment on its
line (``h = x @ w``) when it is the one node of that line whose value leaves the line.
The engine stamps those op names on the graph (``var``) so the boxes say them; the
debugger's timeline and narration speak of values by the same names."""

from __future__ import annotations

import ast
from typing import Any

from viz.errors import PARSE_FAILURES
from viz.limits import MAX_REPARSED_CHARS


def value_names(graph: Any, code: str) -> dict[str, str]:
    """Node id -> the user's name for its value, where the code gives one."""
    names = {n: d["name"] for n, d in graph.nodes(data=True) if d.get("name")}
    targets = assigned_names(code)
    tops: dict[int, list[str]] = {}
    for node_id, data in graph.nodes(data=True):
        line = data.get("source_line")
        if data["kind"] != "op" or line not in targets:
            continue
        consumers = [c for c in graph.successors(node_id) if graph.nodes[c]["kind"] == "op"]
        if not any(graph.nodes[c].get("source_line") == line for c in consumers):
            tops.setdefault(line, []).append(node_id)
    for line, nodes in tops.items():
        if len(nodes) == 1:
            names.setdefault(nodes[0], targets[line])
    return names


def name_results(graph: Any, code: str) -> None:
    """Stamp ``var`` on each op whose result the code names, unless the output node right
    after it already shows that name (``loss = ...``)."""
    from viz.isolation.replies import MAX_NAME_CHARS

    for node_id, name in value_names(graph, code).items():
        data = graph.nodes[node_id]
        if data["kind"] != "op" or len(name) > MAX_NAME_CHARS:
            continue
        if any(graph.nodes[c]["kind"] == "output" and graph.nodes[c].get("name") == name
               for c in graph.successors(node_id)):
            continue
        data["var"] = name


def assigned_names(code: str) -> dict[int, str]:
    """Line -> variable for each single-name assignment (``z = ...``) that is not in
    a loop (a loop's line makes many values). None for code longer than the window
    parses again (viz.limits.MAX_REPARSED_CHARS): its values go by their ops' names."""
    if len(code) > MAX_REPARSED_CHARS:
        return {}
    try:
        tree = ast.parse(code)
    except PARSE_FAILURES:
        return {}
    found: dict[int, str] = {}
    in_loop: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor, ast.ListComp, ast.GeneratorExp)):
            in_loop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name) and node.lineno not in in_loop \
                    and node.lineno == node.end_lineno:
                found[node.lineno] = targets[0].id
    return found
