"""``autograd-studio gradcheck``'s table: each row's "max abs err" and "max rel err"
columns are the report's own errors for that node or leaf, in that order (the table
writes them as ``.2e``), and they say what ``--json`` says. A leaf row repeating its
absolute error under "max rel err" (audit 21c, B12) passed every test that only looked
for ok/FAIL in the table."""

from __future__ import annotations

import io
import json
import re

import pytest

from cli.gradcheck import print_table
from viz.debugger.gradcheck import GradcheckReport, gradcheck_code

# Two leaves, each through a different op: float64 finite differences leave errors of
# ~1e-10 whose absolute and relative sizes differ.
CODE = """x = torch.tensor([0.5, 1.5, -2.0], requires_grad=True)
w = torch.tensor([1.0, -0.5, 2.0], requires_grad=True)
((x ** 3) * w).sum()
"""
HEADER = ["node", "grad_fn", "result", "max abs err", "max rel err"]


def _rows(text: str) -> dict[str, list[str]]:
    """The table's rows by their first cell (the node id); cells are two spaces apart."""
    lines = text.splitlines()
    assert re.split(r" {2,}", lines[0].strip())[:5] == HEADER
    rows: dict[str, list[str]] = {}
    for line in lines[1:]:
        if line.startswith(("note:", "all gradients", "the ", "no gradient", "gradients DISAGREE")):
            break
        cells = re.split(r" {2,}", line.strip())
        rows[cells[0]] = cells
    return rows


def _cell(error: float | None) -> str:
    return "-" if error is None else f"{error:.2e}"


@pytest.fixture(scope="module")
def report() -> GradcheckReport:
    return gradcheck_code(CODE)


def test_each_row_shows_its_abs_then_its_rel_error(report: GradcheckReport) -> None:
    out = io.StringIO()
    print_table(report, out)
    rows = _rows(out.getvalue())
    assert len(rows) == len(report.nodes) + len(report.leaves)
    assert {leaf.name for leaf in report.leaves} == {"x", "w"}
    for leaf in report.leaves:  # a leaf row only helps here if its two errors read differently
        assert _cell(leaf.max_abs_err) != _cell(leaf.max_rel_err), leaf
    for check in [*report.nodes, *report.leaves]:
        cells = rows[check.node]
        assert cells[3:5] == [_cell(check.max_abs_err), _cell(check.max_rel_err)], (check, cells)
        assert cells[2] == ("ok" if check.ok else "FAIL")


def test_the_table_and_json_give_the_same_errors(report: GradcheckReport) -> None:
    out = io.StringIO()
    print_table(report, out)
    rows = _rows(out.getvalue())
    data = json.loads(json.dumps(report.to_json()))
    for entry in [*data["nodes"], *data["leaves"]]:
        cells = rows[entry["node"]]
        assert float(cells[3]) == pytest.approx(entry["max_abs_err"], rel=5e-3)
        assert float(cells[4]) == pytest.approx(entry["max_rel_err"], rel=5e-3)
