"""``autograd-studio diff A.py B.py`` without --json: the table a user reads. A computes
``(x * 2).sum()``, B ``(x * 3).sum()`` from the same leaf x. torch says x's value is the
same and its gradient changes (2 -> 3), while the loss's value changes and its gradient
(1) does not: each difference must sit under its own column header."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
HEAD = "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
CODE_A = HEAD + "loss = (x * 2).sum()\n"
CODE_B = HEAD + "loss = (x * 3).sum()\n"
COLUMNS = ("op", "name", "line A", "line B", "value abs", "value rel", "grad abs", "grad rel", "note")


def in_torch(code: str) -> dict[str, torch.Tensor]:
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102
    x, loss = namespace["x"], namespace["loss"]
    loss.backward()  # type: ignore[union-attr]
    return {"x value": x.detach(), "x grad": x.grad, "loss value": loss.detach(),  # type: ignore[union-attr]
            "loss grad": torch.ones(())}


def differences(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    """max |b - a| and max |b - a| / |a|: what the table's abs and rel columns hold."""
    return float((b - a).abs().max()), float(((b - a).abs() / a.abs()).max())


def table_rows(stdout: str) -> list[dict[str, str]]:
    """The table's rows as {column header: cell}, cut at the headers' positions."""
    lines = stdout.splitlines()
    header = next(line for line in lines if "value abs" in line and "grad abs" in line)
    starts = [header.index(f"  {name}") + 2 for name in COLUMNS]
    rows = []
    for line in lines[lines.index(header) + 1:]:
        if not line.startswith(("changed", "only in")):
            continue
        cells = {"": line[:starts[0]].strip()}
        for k, name in enumerate(COLUMNS):
            end = starts[k + 1] if k + 1 < len(starts) else len(line)
            cells[name] = line[starts[k]:end].strip()
        rows.append(cells)
    return rows


def test_the_diff_table_shows_value_changes_under_value_and_gradient_changes_under_grad(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(CODE_A)
    (tmp_path / "b.py").write_text(CODE_B)
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "diff", str(tmp_path / "a.py"),
                           str(tmp_path / "b.py")], capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 4, done.stderr  # the runs differ
    rows = {row["name"]: row for row in table_rows(done.stdout) if row[""] == "changed"}
    a, b = in_torch(CODE_A), in_torch(CODE_B)

    assert torch.equal(a["x value"], b["x value"])  # torch: the leaf's value is the same ...
    grad_abs, grad_rel = differences(a["x grad"], b["x grad"])  # ... its gradient is not
    x = rows["x"]
    assert x["op"] == "leaf"
    assert (x["value abs"], x["value rel"]) == ("", "")
    assert (float(x["grad abs"]), float(x["grad rel"])) == (grad_abs, grad_rel) == (1.0, 0.5)

    assert torch.equal(a["loss grad"], b["loss grad"])  # the loss's gradient is 1 in both
    value_abs, value_rel = differences(a["loss value"], b["loss value"])
    loss = rows["loss"]
    assert loss["op"] == "output"
    assert (float(loss["value abs"]), float(loss["value rel"])) == (value_abs, value_rel) == (3.0, 0.5)
    assert (loss["grad abs"], loss["grad rel"]) == ("", "")
