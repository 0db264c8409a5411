"""Compare mode's pieces without a run: the log scale, the badges' words, the colours
(each theme's own, each measured by ui.contrast) and the Inspector's numbers, torch
the oracle."""

from __future__ import annotations


import numpy as np
import pytest
import torch
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from ui.compare.legend import legend_entries
from ui.compare.marks import badge_text, rel_text
from ui.compare.report import NodeMark, pair_numbers
from ui.compare.rows import A_LINE, ABS_LINE, B_LINE, REL_LINE, CompareRows
from ui.compare.scale import MAX_BINS, ChangeScale, change_scale, compare_colors, ramp
from ui.contrast import failing, theme_pairs
from ui.themes import THEMES
from viz.engine.engine import trace_code


def test_the_scale_spans_the_measured_decades_one_bin_each() -> None:
    scale = change_scale([2e-4, 0.03, None, 5.0])
    assert (scale.low, scale.step, scale.bins) == (-4, 1, 5)
    assert scale.labels() == ["1e-4", "1e-3", "0.01", "0.1", "\u22651"]
    assert [scale.bin_of(r) for r in (2e-4, 9.9e-4, 1e-3, 0.03, 5.0, 1e9, None, 0.0)] == [0, 0, 1, 2, 4, 4, 4, 0]


def test_a_wide_range_merges_decades_to_at_most_six_colours() -> None:
    scale = change_scale([1e-5, 4e5])
    assert scale.bins <= MAX_BINS and scale.step == 2
    assert scale.edges()[0] <= 1e-5 and scale.edges()[-1] > 4e5
    assert scale.bin_of(1e-5) == 0 and scale.bin_of(4e5) == scale.bins - 1
    assert change_scale([]) == change_scale([None]) == ChangeScale(0, 1, 1)


def test_badges_say_the_mark_in_words() -> None:
    assert badge_text(NodeMark("removed")) == "\u2212 removed"
    assert badge_text(NodeMark("added")) == "+ added"
    assert badge_text(NodeMark("changed", 0.8537)) == "\u0394 0.85"
    assert [rel_text(r) for r in (3.1e-4, 21.0, 393904.0, None)] == ["3e-4", "21", "4e5", "?"]


@pytest.mark.parametrize("name", sorted(THEMES))
def test_the_colours_are_the_themes_and_every_one_is_measured(name: str) -> None:
    colors = THEMES[name].graph
    scale = change_scale([1e-3, 10.0])
    compare = compare_colors(colors, scale)
    assert compare.removed == QColor(colors.zero) and compare.added == QColor(colors.ok)
    assert compare.changed[0] == ramp(colors, 0.0) and compare.changed[-1] == ramp(colors, 1.0)
    assert ramp(colors, 0.0).name() == QColor(colors.match).name()
    assert ramp(colors, 1.0).name() == QColor(colors.fail).name()
    assert len(set(c.name() for c in compare.changed)) == scale.bins  # one colour per bin
    assert compare.removed not in compare.changed and compare.added not in compare.changed
    pairs = [p for p in theme_pairs(THEMES[name]) if p.role.startswith("compare:")]
    assert {p.role for p in pairs} == {"compare: removed node outline", "compare: added node outline",
                                       "compare: changed node outline (its worst step)",
                                       "compare: badge and legend text"}
    assert not failing(pairs), [p.describe() for p in failing(pairs)]
    entries = legend_entries(scale, compare)
    assert [e[0] for e in entries[:-2]] == scale.labels()
    assert entries[-2][1:] == (compare.removed, True) and entries[-1][1:] == (compare.added, True)


def test_the_rows_show_both_runs_numbers_as_torch_has_them(qtbot: QtBot) -> None:
    code_a = "w = torch.tensor([1.0, -2.0, 4.0], requires_grad=True)\nloss = (w * w).sum()\n"
    code_b = code_a.replace("4.0", "3.0")
    trace_a, trace_b = trace_code(code_a, "A.py"), trace_code(code_b, "B.py")
    w_a = torch.tensor([1.0, -2.0, 4.0], requires_grad=True)
    w_b = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (w_a * w_a).sum().backward()
    (w_b * w_b).sum().backward()
    rows = CompareRows()
    qtbot.addWidget(rows)
    rows.show_pair(pair_numbers(trace_a, trace_a.leaf_named("w"), trace_b, trace_b.leaf_named("w")))
    assert rows.title.text() == "Compare: in both runs, changed"
    for quantity, (a, b) in (("value", (w_a.detach(), w_b.detach())), ("gradient", (w_a.grad, w_b.grad))):
        shown_a = [float(x) for x in rows.text(quantity, A_LINE).strip("[]").split(",")]
        shown_b = [float(x) for x in rows.text(quantity, B_LINE).strip("[]").split(",")]
        np.testing.assert_allclose(shown_a, a.numpy(), rtol=1e-4)
        np.testing.assert_allclose(shown_b, b.numpy(), rtol=1e-4)
        gap = (b - a).abs()
        assert float(rows.text(quantity, ABS_LINE)) == pytest.approx(gap.max().item(), rel=1e-3)
        assert float(rows.text(quantity, REL_LINE)) == pytest.approx((gap / a.abs()).max().item(), rel=1e-3)
    rows.show_pair(pair_numbers(trace_a, trace_a.leaf_named("w"), trace_b, None))
    assert rows.title.text() == "Compare: only in A (removed in B)"
    assert rows.text("value", B_LINE) == "-" and rows.text("value", ABS_LINE) == ""
    rows.show_pair(None)
    assert rows.isHidden()
