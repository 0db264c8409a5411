"""A run process ends after its one request: once the user's code has run, the engine's
graph, layout and reply (a 20,000-node RNN's millions of objects) are not walked by
the collector there, which took 0.2 s of a 1 s trace. Anywhere else (the CLI's own
process, a notebook, these tests) tracing leaves the collector as it found it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import gc, sys
sys.path.insert(0, {root!r})
from viz.engine import collect
from viz.engine.engine import trace_code
if {one_request}:
    collect.one_request_process()
code = "import gc\\nprint(gc.isenabled())\\nx = torch.ones(2, requires_grad=True)\\n(x * 2).sum()\\n"
trace = trace_code(code)
print("".join(chunk["text"] for chunk in trace.output).strip(), gc.isenabled())
"""


def _collector_after_a_trace(one_request: bool) -> str:
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(root=str(ROOT), one_request=one_request)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_run_process_leaves_the_engines_work_uncollected() -> None:
    assert _collector_after_a_trace(True) == "True False"  # on while the user's code ran, then off


def test_any_other_process_keeps_its_collector() -> None:
    assert _collector_after_a_trace(False) == "True True"
