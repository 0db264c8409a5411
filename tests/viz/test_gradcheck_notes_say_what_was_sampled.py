"""A gradient check's row says it sampled only when it did: a tensor small enough to be
checked entry by entry has every entry checked and no "random direction" in its note;
a larger one says how many of its entries (torch's numel) were checked one by one and
that a random direction covered all of them. The gradcheck table prints the note."""

from __future__ import annotations

import io

import torch

from cli.gradcheck import print_table
from viz.debugger.gradcheck import MAX_ENTRIES, gradcheck_code

SMALL, BIG = (2, 3), (30, 20)
CODE = (f"a = torch.randn({SMALL[0]}, {SMALL[1]}, requires_grad=True)\n"
        f"b = torch.randn({BIG[0]}, {BIG[1]}, requires_grad=True)\n"
        "loss = (a.sin().sum() * b.tanh()).sum()\n")


def test_only_a_sampled_tensor_says_it_was_sampled() -> None:
    small, big = torch.zeros(SMALL).numel(), torch.zeros(BIG).numel()
    assert small <= MAX_ENTRIES < big
    report = gradcheck_code(CODE)
    assert report.agree
    leaves = {leaf.name: leaf for leaf in report.leaves}
    assert set(leaves) == {"a", "b"}

    a = leaves["a"]
    assert a.total_entries == a.checked_entries == small
    assert "random direction" not in a.note and " of " not in a.note

    b = leaves["b"]
    assert b.total_entries == big and 0 < b.checked_entries < big
    assert b.note.startswith(f"{b.checked_entries:,} of {big:,} entries checked one by one")
    assert "random direction" in b.note

    whole = [n for n in report.nodes if n.ok and n.total_entries and n.checked_entries == n.total_entries]
    assert whole  # the small ops: every entry checked
    for node in whole:
        assert "random direction" not in node.note, (node.grad_fn, node.note)

    out = io.StringIO()
    print_table(report, out)
    rows = {line.split()[2]: line for line in out.getvalue().splitlines()
            if line.split()[1:3] in (["leaf", "a"], ["leaf", "b"])}
    assert "random direction" not in rows["a"] and "random direction" in rows["b"]
