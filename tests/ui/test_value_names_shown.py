"""Results named by the code are found by those names (viz.engine.value_names)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.viz.test_value_names import CODE
from viz.engine.engine import trace_code



def test_search_and_the_inspector_find_a_result_by_its_name(qtbot: QtBot) -> None:
    """Newcomer 19: Ctrl+F "y_hat" found nothing though the narration spoke of y_hat."""
    from ui.graph_items import GraphScene
    from ui.inspector import Inspector
    from ui.themes import THEMES

    trace = trace_code(CODE)
    scene = GraphScene(THEMES["light"].graph)
    scene.set_trace(trace)
    found = scene.find_nodes("linear")
    assert [trace.graph.nodes[n].get("var") for n in found] == ["linear"]
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.set_trace(trace)
    inspector.show_node(found[0])
    assert inspector.title.text() == "linear = Mul"
