"""Find (Ctrl+F) answers every query: "no match" when nothing is found, else how many."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window, run_and_wait
from ui.find_status import match_text

CODE = ("x = torch.tensor([1.0, 2.0], requires_grad=True)\nw = torch.tensor([3.0, 4.0], requires_grad=True)\n"
        "loss = (x * w).sum()\nloss\n")


def test_find_says_no_match_and_counts_matches(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    trace = run_and_wait(qtbot, window, CODE)
    window.actions_["find_node"].trigger()
    label = window.find_status
    assert label.isVisible() and label.text() == ""
    with qtbot.waitSignal(window.graph_view.searched, timeout=2000,
                          check_params_cb=lambda query, _count: query == "nothing_here") as searched:
        qtbot.keyClicks(window.search_box, "nothing_here")  # a search per key, the last one answers
    assert searched.args == ["nothing_here", 0]
    assert label.text().strip() == "no match" and label.font().bold()
    window.search_box.clear()
    assert label.text() == ""
    # The leaves x and w: what the graph holds decides the count.
    leaves = [n for n, data in trace.graph.nodes(data=True) if data.get("name") in ("x", "w")]
    with qtbot.waitSignal(window.graph_view.searched, timeout=2000):
        window.search_box.setText("x")
    expected = len(window.graph_view.graph_scene.find_nodes("x"))
    assert expected >= 1 and leaves
    assert label.text().strip() == match_text("x", expected) and not label.font().bold()


def test_match_text() -> None:
    assert [match_text(q, n) for q, n in (("", 0), ("  ", 3), ("a", 0), ("a", 1), ("a", 4))] == [
        "", "", "no match", "1 match", "4 matches"]


def test_find_mul_finds_the_multiplication_not_the_leaves(qtbot: QtBot, shared_worker: object) -> None:
    """Leaves' grad_fn is AccumulateGrad ("mul" is in it), which the graph never shows."""
    window = make_window(qtbot, shared_worker)
    trace = run_and_wait(qtbot, window, CODE)
    found = window.graph_view.search("Mul")
    assert [trace.graph.nodes[n]["grad_fn"] for n in found] == ["MulBackward0"]
    assert window.graph_view.graph_scene.selected_node() == found[0]
    assert window.graph_view.search("nothing_here") == []
    assert window.graph_view.graph_scene.selected_node() is None  # the old match is not shown as one


def test_find_next_says_which_match_of_how_many(qtbot: QtBot, shared_worker: object) -> None:
    """Newcomer, session 17: Enter in Find went from Tanh to Tanh of a 1,000-step loop,
    each looking the same, and the bar said "1000 matches" throughout."""
    window = make_window(qtbot, shared_worker)
    code = "h = torch.ones(2, requires_grad=True)\nfor t in range(5):\n    h = torch.tanh(h * 2)\nh.sum()\n"
    run_and_wait(qtbot, window, code)
    with qtbot.waitSignal(window.graph_view.searched, timeout=2000):
        window.search_box.setText("tanh")
    label = window.find_status
    assert label.text().strip() == "5 matches"
    shown = [window.graph_view.graph_scene.selected_node()]
    for k in (2, 3, 4, 5, 1):
        qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
        assert label.text().strip() == f"{k} of 5"
        shown.append(window.graph_view.graph_scene.selected_node())
    assert len(set(shown)) == 5 and shown[0] == shown[-1]
    with qtbot.waitSignal(window.graph_view.searched, timeout=2000):
        window.search_box.setText("nothing_here")
    assert label.text().strip() == "no match"
