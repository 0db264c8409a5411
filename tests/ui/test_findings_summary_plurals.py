"""The line above the Findings table counts what was found in plain English: "1 warning",
"2 warnings", "1 info". Real traces of small programs, each made to trip a known number
of findings: one or two leaves whose gradient torch makes huge (one warning each), or a
chain of five sigmoids (a mild vanishing gradient: one info)."""

from __future__ import annotations

import re

import pytest
import torch
from pytestqt.qtbot import QtBot

from ui.findings_panel import FindingsPanel
from viz.debugger.health import check_health
from viz.engine.engine import trace_code

ONE_HUGE = """import torch
w = torch.ones(3, requires_grad=True)
loss = (w * 1e6).sum()
loss.backward()
"""

TWO_HUGE = """import torch
w = torch.ones(3, requires_grad=True)
v = torch.ones(2, requires_grad=True)
loss = (w * 1e6).sum() + (v * 1e6).sum()
loss.backward()
"""

FIVE_SIGMOIDS = """import torch
x = torch.zeros(4, requires_grad=True)
h = x
for _ in range(5):
    h = torch.sigmoid(h)
loss = h.sum()
loss.backward()
"""


def english(n: int, word: str) -> str:
    """'1 warning', '2 warnings', '1 info': the plural only when there is more than one."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def huge_leaves(code: str) -> int:
    """torch's count of leaves whose gradient has an RMS over the app's 1e4 threshold."""
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102
    leaves = [t for t in namespace.values() if isinstance(t, torch.Tensor) and t.is_leaf and t.grad is not None]
    return sum(float(t.grad.double().pow(2).mean().sqrt()) > 1e4 for t in leaves)


@pytest.mark.parametrize(("code", "warnings", "infos", "shown"), [
    (ONE_HUGE, 1, 0, "1 warning: click one to see its node and line."),
    (TWO_HUGE, 2, 0, "2 warnings: click one to see its node and line."),
    (FIVE_SIGMOIDS, 0, 1, "Nothing alarming; 1 info worth a look. Click one to see its node."),
], ids=["one-warning", "two-warnings", "one-info"])
def test_the_summary_line_says_1_warning_and_2_warnings(qtbot: QtBot, code: str, warnings: int, infos: int,
                                                        shown: str) -> None:
    if warnings:
        assert huge_leaves(code) == warnings  # torch: that many leaves get a huge gradient
    trace = trace_code(code)
    report = check_health(trace)
    assert report.counts() == {"info": infos, "warning": warnings, "error": 0}
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    panel.show_report(report, trace)
    text = panel.summary.text()
    assert text == shown
    assert panel.table.topLevelItemCount() == warnings + infos
    # Each count reads as English: no "1 warnings", no "2 warning".
    for level, n in (("warning", warnings), ("info", infos)):
        if n:
            assert re.search(rf"\b{english(n, level)}\b", text, re.IGNORECASE), (level, n, text)
    assert not re.search(r"\b1 (warning|info|error)s\b", text, re.IGNORECASE), text
