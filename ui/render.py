"""Headless rendering for `main.py export ... -o out.png|.svg|.pdf`: the window's own items."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from ui.export import export_scene
from ui.graph_items import GraphScene
from ui.themes import THEMES

if TYPE_CHECKING:
    from viz.engine.trace import Trace


def ensure_application() -> QApplication:
    """The running QApplication, or an offscreen one (no display needed)."""
    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["autograd-studio"])
    return app  # type: ignore[return-value]


def render_trace(trace: Trace, path: Path, scale: float = 1.0, theme: str = "light",
                 legend: bool = True) -> None:
    """Render the trace's graph to .png/.svg/.pdf; theme is light, dark or high-contrast.

    The legend goes in a strip under the graph, as the window shows it by default.
    """
    ensure_application()
    colors = THEMES.get(theme, THEMES["light"]).graph
    scene = GraphScene(colors)
    # Drawn once, whole: a spatial index would only cost (long edges of a node with
    # thousands of inputs filled the BSP tree with gigabytes).
    scene.auto_index = False
    scene.setItemIndexMethod(GraphScene.ItemIndexMethod.NoIndex)
    scene.set_trace(trace)
    try:
        export_scene(scene, Path(path), scale, legend)
    finally:
        scene.clear()
        scene.deleteLater()
