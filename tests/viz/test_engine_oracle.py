"""Every case traces exactly as torch computes it: graph, values, gradients, order."""

from __future__ import annotations

import pytest

from tests.viz.cases import CASES
from tests.viz.oracle import check_against_oracle, check_backward_order, check_gradient_flow, run_oracle
from viz.engine import trace_code


@pytest.mark.parametrize("code, output", [(c, o) for _, c, o in CASES], ids=[i for i, _, _ in CASES])
def test_trace_matches_torch(code: str, output: str) -> None:
    trace = trace_code(code + output + "\n", layout=False)
    oracle = run_oracle(code, output)
    compared = check_against_oracle(trace, oracle)
    assert compared >= 2
    check_backward_order(trace)
    check_gradient_flow(trace)


def test_corpus_is_broad() -> None:
    assert len(CASES) >= 30
