"""A run that fails at a line shows the graph of the code before it, faded under the
banner (newcomer rounds 18 and 19: the in-place Gotcha's excellent banner was over an
empty canvas). The engine, run on those lines alone, is the oracle for the graph."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window
from ui.failed_context import code_before
from viz.engine.engine import trace_code
from viz.teaching.examples import load_example

TIMEOUT = 60_000


@pytest.mark.parametrize("code, line, before", [
    ("a = 1\nb = 2\nc = 3\n", 3, "a = 1\nb = 2\n"),
    ("a = 1\nfor i in range(3):\n    b = i\n    c = b / 0\n", 4, "a = 1\n"),  # the loop is one statement
    ("a = (1 +\n     2)\nb = 3\n", 3, "a = (1 +\n     2)\n"),
    ("a = 1\n", 1, None),  # nothing before
    ("a = (\n", 1, None),  # does not parse
])
def test_the_code_before_is_whole_top_level_statements(code: str, line: int, before: str | None) -> None:
    assert code_before(code, line) == before


def test_the_in_place_gotcha_shows_its_forward_graph_under_the_banner(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    window.safety.prompt_unsaved = False
    example = load_example("12_inplace_error")
    with qtbot.waitSignal(window.runs.run_failed, timeout=TIMEOUT) as failed:
        window.documents.open_example(example)
    error = failed.args[0]
    scene = window.graph_view.graph_scene
    qtbot.waitUntil(lambda: bool(scene.nodes), timeout=TIMEOUT)
    prefix = code_before(example.source, error.line)
    oracle = trace_code(prefix, example.file_name)
    assert sorted(d["label"] for _, d in scene.graph.nodes(data=True)) == \
        sorted(d["label"] for _, d in oracle.graph.nodes(data=True))
    assert "Sigmoid" in {d["label"] for _, d in scene.graph.nodes(data=True)}  # what saved y
    last = prefix.count("\n")
    banner = window.graph_view.run_failed_text()
    assert banner.startswith(f"\u26a0 The run failed at line {error.line}. Faded below: the graph of the code "
                             f"before it (lines 1\u2013{last}), run again on its own.")
    assert "inplace" in banner  # torch's own words stay on it
    sigmoid = next(n for n, d in scene.graph.nodes(data=True) if d["label"] == "Sigmoid")
    window.graph_view.select_node(sigmoid)
    assert window.inspector.title.text().endswith("Sigmoid")


def test_a_newer_run_is_not_covered_by_an_older_failures_context(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    window.safety.prompt_unsaved = False
    with qtbot.waitSignal(window.runs.run_failed, timeout=TIMEOUT):
        window.documents.open_example(load_example("12_inplace_error"))
    good = "x = torch.ones(2, requires_grad=True)\n(x * 5).sum()\n"
    with qtbot.waitSignal(window.runs.trace_ready, timeout=TIMEOUT) as ran:
        window.documents.open_text(good, "<expr>")
    window.failed_context._thread.close()  # whatever it had in flight has answered or been dropped
    scene = window.graph_view.graph_scene
    assert set(scene.nodes) == {str(n) for n in ran.args[0].graph.nodes}
    assert window.graph_view.run_failed_text() == ""


def test_a_typo_is_about_its_line_and_runs_nothing_more(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    window.safety.prompt_unsaved = False
    submitted: list[str] = []
    window.failed_context._thread.submit = lambda tag, *_a, **_k: submitted.append(tag)  # type: ignore[method-assign]
    with qtbot.waitSignal(window.runs.run_failed, timeout=TIMEOUT):
        window.documents.open_text("x = torch.ones(2, requires_grad=True)\ny = x * undefined_name\n", "typo.py")
    assert submitted == []
    assert not window.graph_view.graph_scene.nodes
