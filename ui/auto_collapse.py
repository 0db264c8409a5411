"""A big model opens with its modules collapsed to a readable depth.

A new trace of more than ``READABLE_BOXES`` boxes, with module groups, opens with
every group of one depth collapsed (``readable_depth``): a transformer shows its
layers as boxes, a ResNet its stages. Running the same model again (the same module
paths) keeps the groups the way the user left them instead. Double-click and
View > Expand Module Groups open the boxes as ever.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, Protocol

from ui.arrangement import Arrangement, collapsed_arrangement, layout_direction
from viz.layout.layering import LayoutTooLarge

READABLE_BOXES = 120  # more boxes than this on screen is no longer read, only scanned


class CollapsibleScene(Protocol):
    """What this module needs of ui.graph_items.GraphScene."""

    @property
    def nodes(self) -> Mapping[str, Any]: ...  # every node id -> its item

    @property
    def groups(self) -> Mapping[str, Any]: ...  # module path -> ModuleGroup (.collapsed)

    @property
    def node_modules(self) -> Mapping[str, str]: ...  # node id -> innermost module

    @property
    def arrangement(self) -> Any: ...  # ui.arrangement.Arrangement on show

    def collapse_only(self, modules: set[str], wait: bool = True) -> bool: ...


def boxes_shown(scene: CollapsibleScene) -> int:
    """Nodes on show plus collapsed boxes: what the eye has to take in."""
    arrangement = scene.arrangement
    return len(scene.nodes) - len(arrangement.hidden_in) + len(arrangement.boxes)


@dataclass(frozen=True)
class GroupState:
    """A drawing's module paths and which of them were collapsed."""

    modules: frozenset[str] = frozenset()
    collapsed: frozenset[str] = frozenset()


def group_state(scene: CollapsibleScene) -> GroupState:
    return GroupState(frozenset(scene.groups),
                      frozenset(m for m, group in scene.groups.items() if group.collapsed))


def depth_sizes(node_modules: Mapping[str, str], depth: int) -> dict[str, int]:
    """Module path at ``depth`` (0: "model") -> how many nodes ran in it or inside it.
    Each distinct path is split once, however many nodes ran in it (40,000 nodes in
    paths 62 deep took 4.7 s: red team 25)."""
    sizes: dict[str, int] = {}
    for module, count in Counter(node_modules.values()).items():
        parts = module.split(".")
        if len(parts) > depth:
            path = ".".join(parts[:depth + 1])
            sizes[path] = sizes.get(path, 0) + count
    return sizes


def readable_depth(node_modules: Mapping[str, str], total: int,
                   limit: int = READABLE_BOXES) -> int | None:
    """The module depth to collapse a graph of ``total`` nodes to, or None to show it whole.

    A depth counts when it has two groups or more (one group only wraps the rest: its
    box would say nothing). Of the depths whose collapse leaves at most ``limit``
    boxes, the shallowest where no group holds more than half the graph (the outer
    ``model`` or ``model.layers`` is skipped for the layers inside it); without one,
    the deepest that fits; when none fits, the one leaving the fewest boxes, if it
    halves them at least.
    """
    if total <= limit or not node_modules:
        return None
    levels: list[tuple[int, int, int]] = []  # depth, boxes left, biggest group
    for depth in range(max(m.count(".") for m in set(node_modules.values())) + 1):
        sizes = depth_sizes(node_modules, depth)
        boxes = total - sum(sizes.values()) + len(sizes)
        if len(sizes) >= 2 and boxes < total:
            levels.append((depth, boxes, max(sizes.values())))
    fitting = [level for level in levels if level[1] <= limit]
    balanced = [level for level in fitting if 2 * level[2] <= total]
    if balanced:
        return balanced[0][0]
    if fitting:
        return fitting[-1][0]
    # None fits: the depth leaving the fewest boxes, if that at least halves them (else a
    # fresh layout of nearly the whole graph buys nothing: red team 24's 4 module nodes
    # among 20,000 had the window lay out 20,000 again).
    fewest = min(levels, key=lambda level: level[1]) if levels else None
    return fewest[0] if fewest is not None and 2 * fewest[1] <= total else None


def readable_layout(graph: Any) -> dict[frozenset[str], Arrangement]:
    """The collapsed layout a new trace of ``graph`` opens with when it is big
    (``open_groups``), made ahead, on the thread its run came back on: the collapsed
    modules -> their ui.arrangement.Arrangement; {} when it opens whole or cannot be
    laid out collapsed (then the window says so as it shows it)."""
    node_modules = {str(node): str(module) for node, module in graph.nodes(data="module") if module}
    depth = readable_depth(node_modules, graph.number_of_nodes())
    if depth is None:
        return {}
    key = frozenset(depth_sizes(node_modules, depth))
    try:
        return {key: collapsed_arrangement(graph, set(key), layout_direction(graph))}
    except LayoutTooLarge:
        return {}


def kept_layout(graph: Any, before: GroupState) -> dict[frozenset[str], Arrangement]:
    """The layout ``open_groups`` shows when ``graph`` is the model drawn before (the same
    module paths) with the groups the user collapsed, made ahead on the run's thread (red
    team 27: a re-run after a fold laid a big graph out on the GUI thread); {} otherwise."""
    if not before.collapsed:
        return {}
    paths: set[str] = set()
    for _, module in graph.nodes(data="module"):
        if module:
            parts = str(module).split(".")
            paths.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    if frozenset(paths) != before.modules:
        return {}
    key = frozenset(m for m in before.collapsed
                    if not any(m.startswith(other + ".") for other in before.collapsed))
    try:
        return {key: collapsed_arrangement(graph, set(key), layout_direction(graph))}
    except LayoutTooLarge:
        return {}


def open_groups(scene: CollapsibleScene, before: GroupState) -> int | None:
    """Collapse a newly drawn scene's groups: as the user left them when the model is
    the one drawn before, else to a readable depth when it is big. Returns the depth
    collapsed to, or None."""
    # Not waited for: a layout not made ahead (a trace under PREPARED_FROM nodes) is made
    # as a fold's is, on a thread, awaited a moment (red team 101: a forged 998-node trace's
    # collapse at its opening held the GUI thread 3-5 s).
    if before.modules and before.modules == frozenset(scene.groups):
        if before.collapsed:
            scene.collapse_only(set(before.collapsed), wait=False)
        return None
    depth = readable_depth(scene.node_modules, len(scene.nodes))
    if depth is not None and not scene.collapse_only(set(depth_sizes(scene.node_modules, depth)), wait=False):
        return None  # too tangled to lay out collapsed: shown whole, as drawn
    return depth


def all_groups_note(collapsed: bool, scene: CollapsibleScene) -> str:
    """The status line's words after View > Collapse / Expand Module Groups (the note of
    an automatic collapse named a depth the graph no longer had: newcomer, session 17)."""
    if collapsed:
        return (f"{len(scene.nodes):,} nodes: every module collapsed ({boxes_shown(scene)} boxes) \u2014 "
                "double-click a box to open it, View > Expand Module Groups for all")
    return f"{len(scene.nodes):,} nodes: every module expanded \u2014 View > Collapse Module Groups folds them"


def collapse_note(depth: int, scene: CollapsibleScene) -> str:
    """The status line's words after an automatic collapse (plain text)."""
    return (f"{len(scene.nodes):,} nodes: modules collapsed to depth {depth} "
            f"({boxes_shown(scene)} boxes) \u2014 double-click a box to open it, "
            "View > Expand Module Groups for all")
