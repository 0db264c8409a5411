"""A forged reply that puts an array where the parent checks a name (red team 56: the
graph's direction as a numpy array made ``value in ("TB", "LR")`` raise ValueError, an
"internal error" with a traceback on the command line, and the worker that sent it kept).
Whatever a check trips on is a malformed reply: the worker is replaced, nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from tests.viz.test_confinement import forging_code
from viz import wire
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.isolation.worker import TraceRequest, Worker
from viz.training.worker import read_message

CODE = "x = torch.ones(2, requires_grad=True)\n(x * 3).sum()\n"


@pytest.fixture(scope="module")
def worker():
    with Worker() as w:
        yield w


def forged(where: str) -> bytes:
    trace = trace_code(CODE, "forge.py")
    if where == "direction":
        trace.graph.graph["direction"] = np.array([1.0, 2.0])
    else:  # an output chunk's stream
        trace.output = [{"stream": np.array([1, 2]), "line": None, "text": "hi"}]
    return wire.encode({"status": "ok", "result": trace})


@pytest.mark.parametrize("where", ["direction", "stream"])
def test_an_array_where_a_name_belongs_is_a_malformed_reply(worker: Worker, where: str) -> None:
    pid = worker.run(TraceRequest(CODE)) and worker.pid
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(forging_code(forged(where)) + CODE, "forge.py"))
    assert info.value.kind == "limit" and "malformed reply" in info.value.what
    assert worker.pid != pid  # replaced: the next run gets a fresh process
    assert worker.run(TraceRequest(CODE)).outputs


def test_the_training_worker_reads_an_array_for_its_kind_as_a_malformed_message() -> None:
    kind, text = read_message(wire.encode([np.array([1, 2]), None]))
    assert kind == "crash" and "malformed message" in text


def test_each_wall_holds_alone(worker: Worker) -> None:
    """The direction's own check, and the reader's catch-all for any check that trips."""
    from viz.isolation.graph_level import _check

    assert _check("direction", np.array([1.0, 2.0]), None, 0, 0.0, 0) == "is not a direction"

    def trips() -> None:
        raise ValueError("The truth value of an array with more than one element is ambiguous")
    with pytest.raises(StudioError) as info:
        worker._read(TraceRequest(CODE), trips)
    assert "malformed reply (ValueError while it was checked)" in info.value.what
