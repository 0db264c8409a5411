"""The gradient-check table fits the Debugger tab: every column in view at the window's
sizes a class uses (1366x768, 1920x1080), nothing to scroll sideways, the numbers and
verdicts whole, a long node name ended in "…" with the name (and the row's note) in
its tooltip. The window is the real one; its code runs in this process."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import InProcessWorker, in_process_window
from ui.main_window import MainWindow
from ui.playback.debug_panel import COLUMNS, NODE_COLUMN
from viz.teaching.examples import load_example

TIMEOUT = 60_000
# A custom Function with a long name: its backward's name is longer than the tab.
LONG = load_example("18_custom_function_wrong_backward").source.replace(
    "MySquare", "MyVeryLongCustomSquareFunction")


def check_at(qtbot: QtBot, window: MainWindow, size: tuple[int, int]) -> None:
    window.resize(*size)
    with qtbot.waitSignal(window.debugger.timeline_ready, timeout=TIMEOUT):
        window.documents.open_text(LONG, "long.py")
    window.debugger.debug_dock.raise_()
    with qtbot.waitSignal(window.debugger.gradcheck_done, timeout=TIMEOUT):
        window.debugger.run_gradcheck()
    qtbot.waitUntil(lambda: window.debugger.panel.table.isVisible(), timeout=5_000)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_every_column_fits_the_debugger_tab(qtbot: QtBot, size: tuple[int, int]) -> None:
    window = in_process_window(qtbot, InProcessWorker())
    check_at(qtbot, window, size)
    table = window.debugger.panel.table
    assert table.rowCount() >= 3 and table.columnCount() == len(COLUMNS)
    header = table.horizontalHeader()
    viewport = table.viewport().width()
    widths = [table.columnWidth(c) for c in range(table.columnCount())]
    assert sum(widths) <= viewport, (widths, viewport)  # every column in view
    assert table.horizontalScrollBar().maximum() == 0  # nothing to scroll to
    metrics = table.fontMetrics()
    for c in range(table.columnCount()):
        heading = table.horizontalHeaderItem(c)
        assert heading.toolTip()  # a short heading says the rest in its tooltip
        if c == NODE_COLUMN:
            continue
        # Numbers, lines and verdicts whole: never elided.
        needed = max([header.sectionSizeFromContents(c).width()]
                     + [metrics.horizontalAdvance(table.item(r, c).text()) + 8 for r in range(table.rowCount())])
        assert widths[c] >= needed, (COLUMNS[c], widths[c], needed)
    assert widths[NODE_COLUMN] >= metrics.horizontalAdvance("MyVery")  # a name, not a letter
    names = [table.item(r, NODE_COLUMN) for r in range(table.rowCount())]
    long = next(item for item in names if item.text().startswith("MyVeryLong"))
    assert "MyVeryLongCustomSquareFunctionBackward" in long.toolTip()


def test_a_report_of_thousands_of_rows_shows_its_failures_first_within_a_bound(qtbot: QtBot) -> None:
    """Red team 14: a forged report of 40,000 rows (five items and a tooltip each) took
    the window to 1.6 GB. The table keeps MAX_TABLE_ROWS, every failure first, and
    says how many it left out."""
    from ui.playback.debug_panel import MAX_TABLE_ROWS
    from viz.engine.engine import trace_code
    from viz.debugger.gradcheck import GradcheckReport, NodeCheck

    window = in_process_window(qtbot, InProcessWorker())
    trace = trace_code("x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n")
    rows = [NodeCheck(f"n{i}", "MulBackward0", "Mul", i, True, 0.0, 0.0) for i in range(2000)]
    rows += [NodeCheck(f"bad{i}", "ExpBackward0", "Exp", 3000 + i, False, 1.0, 0.5) for i in range(10)]
    window.debugger.panel.show_gradcheck(GradcheckReport(False, rows, []), trace)
    table = window.debugger.panel.table
    assert table.rowCount() == MAX_TABLE_ROWS < 2010
    verdicts = [table.item(r, COLUMNS.index("check")).text() for r in range(table.rowCount())]
    assert verdicts[:10] == ["FAIL"] * 10 and set(verdicts[10:]) == {"ok"}
    assert f"{MAX_TABLE_ROWS:,} of 2,010" in window.debugger.panel.summary.text()
