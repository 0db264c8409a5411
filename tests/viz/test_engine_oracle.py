"""Every case traces exactly as torch computes it: graph, values, gradients, order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.viz.cases import CASES, GAPS, INTERMEDIATES
from tests.viz.oracle import check_against_oracle, check_backward_order, check_gradient_flow, run_oracle
from viz.engine.engine import trace_code


@pytest.mark.parametrize("case, code, output", CASES, ids=[i for i, _, _ in CASES])
def test_trace_matches_torch(case: str, code: str, output: str) -> None:
    trace = trace_code(code + output + "\n", layout=False)
    oracle = run_oracle(code, output)
    compared = check_against_oracle(trace, oracle, INTERMEDIATES.get(case), GAPS.get(case))
    # Every node's value was compared (or is a listed gap), and so was every gradient.
    shown = trace.graph.number_of_nodes()
    assert compared.values + compared.unmatched == shown
    assert compared.grads == sum(attrs["grad"] is not None for _, attrs in trace.graph.nodes(data=True)
                                 if attrs["kind"] != "output")
    check_backward_order(trace)
    check_gradient_flow(trace)


def test_corpus_is_broad() -> None:
    assert len(CASES) >= 30


UNARY = next(c for c in CASES if c[0] == "unary_maths")


def _planted(mutate: Any) -> None:
    """The unary_maths trace with one number changed must not pass the oracle."""
    _, code, output = UNARY
    trace = trace_code(code + output + "\n", layout=False)
    oracle = run_oracle(code, output)
    check_against_oracle(trace, oracle)  # as traced, it passes
    exp = next(attrs for _, attrs in trace.graph.nodes(data=True) if attrs["grad_fn"] == "ExpBackward0")
    mutate(exp)
    with pytest.raises(AssertionError, match="ExpBackward0"):
        check_against_oracle(trace, oracle)


@pytest.mark.parametrize("plant", ["value x1.001", "value missing", "grad x1.001", "grad missing"])
def test_the_oracle_fails_on_one_wrong_or_missing_number(plant: str) -> None:
    field = plant.split()[0]

    def mutate(attrs: dict[str, Any]) -> None:
        attrs[field] = attrs[field] * 1.001 if "x1.001" in plant else None

    _planted(mutate)


def test_a_gap_fails_unless_listed_and_a_listed_gap_must_be_one() -> None:
    _, code, output = UNARY
    trace = trace_code(code + output + "\n", layout=False)
    oracle = run_oracle(code, output)
    with pytest.raises(AssertionError, match="listed as gaps"):
        check_against_oracle(trace, oracle, gaps={"ExpBackward0": "no longer true"})
    exp = next(node for node in oracle.nodes if node.name() == "ExpBackward0")
    oracle.op_values.pop(exp)
    oracle.call_values.pop(exp)  # no source left for exp's value
    with pytest.raises(AssertionError, match="no independent value"):
        check_against_oracle(trace, oracle)
    compared = check_against_oracle(trace, oracle, gaps={"ExpBackward0": "a reason"})
    assert compared.gaps == {"ExpBackward0": "a reason"}
