"""The house rules of imports, read from the source (every import, deferred ones too):
the engine never imports Qt, the window or the command line; nothing imports the
command line but main.py; and no module imports itself round a cycle. Imports under
``if TYPE_CHECKING:`` are for the type checker only and are not followed."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("viz", "ui", "cli", "resources", "autograd_studio")
# The public API for users' own code writes files with the export's own writer.
API_WRITER = "cli.export"
QT = ("PySide6", "shiboken6", "pyqtgraph")


def _modules() -> dict[str, Path]:
    found = {"main": ROOT / "main.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[:2] in (("resources", "examples"), ("resources", "docs")):
                continue  # the gallery's lesson files and the guide's link are data
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _runtime_imports(path: Path, package: str) -> set[str]:
    """Every module named by an import statement outside ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _graph() -> tuple[nx.DiGraph, dict[str, set[str]]]:
    modules = _modules()
    graph, raw = nx.DiGraph(), {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        raw[name] = _runtime_imports(path, package)
        graph.add_node(name)
        for target in raw[name]:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph.add_edge(name, target)
    return graph, raw


def test_the_engine_never_imports_qt_the_window_or_the_command_line() -> None:
    _, raw = _graph()
    found = sorted((module, target) for module, targets in raw.items() if module.startswith("viz")
                   for target in targets
                   if target.split(".")[0] in (*QT, "ui", "cli", "main"))
    assert found == []


def test_only_main_imports_the_command_line() -> None:
    _, raw = _graph()
    found = sorted((module, target) for module, targets in raw.items()
                   if not module.startswith("cli") and module != "main"
                   for target in targets if target.split(".")[0] in ("cli", "main")
                   and not (module.startswith("autograd_studio") and target.startswith(API_WRITER)))
    assert found == []


def test_the_public_api_loads_torch_qt_the_engine_and_the_writer_on_first_use() -> None:
    """``import autograd_studio`` stays cheap: its modules import only the standard
    library and each other at module level; torch, viz, ui and cli inside functions."""
    found = []
    for module, path in _modules().items():
        if not module.startswith("autograd_studio"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [(module, name) for name in names
                          if name.split(".")[0] in ("torch", "numpy", "networkx", "viz", "ui", "cli", *QT)]
    assert found == []


def test_no_import_cycles() -> None:
    graph, _ = _graph()
    cycles = sorted(sorted(cycle) for cycle in nx.simple_cycles(graph))
    assert cycles == []
