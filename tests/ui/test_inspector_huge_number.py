"""The Inspector's value line and one cell of its table take a 401-digit integer as they
take any other bad value: the message under the editor says why, nothing runs, and the
user's text stays. Its OverflowError escaped the slot (a crash report, red team 44);
pytest-qt fails a test on an exception raised in a slot."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.test_inspector import SMALL, make_inspector, requests

HUGE = "1" * 401


def test_the_value_line_says_the_number_is_too_large_and_keeps_it(qtbot: QtBot) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    asked = requests(inspector)
    inspector.show_node(trace.leaf_named("x"))
    typed = f"[[1, 2], [3, {HUGE}]]"
    inspector.value_edit.setText(typed)
    inspector.value_edit.returnPressed.emit()
    assert not asked
    said = inspector.message.text()
    assert "too large for float64" in said and "1.8e308" in said and "<what-if>" not in said
    assert "\n" not in said and not inspector.message.isHidden()
    assert inspector.value_edit.text() == typed


def test_a_cell_says_the_number_is_too_large_and_keeps_it(qtbot: QtBot) -> None:
    inspector, trace = make_inspector(qtbot, SMALL)
    asked = requests(inspector)
    inspector.show_node(trace.leaf_named("x"))
    item = inspector.value_view.table.item(1, 0)
    item.setText(HUGE)  # as a committed cell edit does
    assert not asked
    said = inspector.message.text()
    assert "too large for float64" in said and not inspector.message.isHidden()
    assert item.text() == HUGE
