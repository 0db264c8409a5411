"""Bad input: one clear StudioError with the user's place and a hint."""

from __future__ import annotations

import pytest

from viz.engine import trace_code
from viz.errors import StudioError

BAD = [
    ("syntax", "x = (1,\n", "syntax", 1, "was never closed"),
    ("tutorial_typo", "import torch.autograd import Variable\n", "syntax", 1, "syntax error"),
    ("indent", "x = 1\n  y = 2\n", "syntax", 2, "indent"),
    ("import_socket", "import os\nimport socket\n", "refused", 2, "import of 'socket'"),
    ("from_import", "from subprocess import run\n", "refused", 1, "import of 'subprocess'"),
    ("relative", "from . import x\n", "runtime", 1, "relative import"),
    ("name_error", "x = torch.ones(2)\ny = undefined_name * x\n", "runtime", 2, "NameError"),
    ("shape", "a = torch.ones(2, 3)\nb = torch.ones(4, 5)\nc = a @ b\n", "runtime", 3, "RuntimeError"),
    ("int_requires_grad", "x = torch.tensor([1, 2], requires_grad=True)\n", "runtime", 1, "floating point"),
    ("inplace_breaks_backward",
     "x = torch.ones(3, requires_grad=True)\ny = x.sigmoid()\ny.mul_(2)\ny.sum().backward()\n",
     "runtime", 4, "inplace"),
    ("backward_twice", "x = torch.ones(2, requires_grad=True)\ny = (x * x).sum()\ny.backward()\ny.backward()\n",
     "runtime", 4, "second time"),
    ("raise_in_function", "def f(v):\n    raise ValueError('bad value')\n\nf(1)\n", "runtime", 2, "ValueError: bad value"),
    ("system_exit", "raise SystemExit(3)\n", "runtime", 1, "exit(3)"),
    ("bad_device_tensor", "x = torch.ones(2, device='cuda', requires_grad=True)\n", "runtime", 1, ""),
]


@pytest.mark.parametrize("code, kind, line, text", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_gives_one_clear_error(code: str, kind: str, line: int, text: str) -> None:
    with pytest.raises(StudioError) as info:
        trace_code(code, where="lesson.py", layout=False)
    err = info.value
    assert err.kind == kind
    assert err.line == line
    assert text in err.what or text in err.hint
    one = err.one_line()
    assert one.startswith(f"error: lesson.py:{line}:") and "\n" not in one
    assert err.hint, "every error carries a hint"


# Code plain Python runs that builds no graph is no error: it runs, with nothing drawn
# and a note saying why (tests/viz/test_nothing_to_draw.py has more).
NOTHING_TO_DRAW = [
    ("no_grad_output", "x = torch.ones(3)\nx * 2\n", "no tensor here requires grad"),
    ("detached_output", "w = torch.ones(2, requires_grad=True)\ny = (w * 2).detach()\ny\n",
     "the last line's tensor does not require grad"),
    ("not_a_tensor", "x = 3\nx + 1\n", "no tensor here requires grad"),
    ("loop_no_backward", "for i in range(2):\n    pass\n", "no tensor here requires grad"),
    ("empty", "", "no tensor here requires grad"),
]


@pytest.mark.parametrize("code, why", [b[1:] for b in NOTHING_TO_DRAW], ids=[b[0] for b in NOTHING_TO_DRAW])
def test_code_with_no_graph_is_not_an_error(code: str, why: str) -> None:
    trace = trace_code(code, where="lesson.py", layout=False)
    assert trace.graph.number_of_nodes() == 0 and trace.outputs == []
    assert trace.notes[-1].startswith("nothing to draw: ") and why in trace.notes[-1]
    assert "requires_grad=True" in trace.notes[-1] and "backward()" in trace.notes[-1]


def test_runtime_error_points_at_the_column() -> None:
    with pytest.raises(StudioError) as info:
        trace_code("a = torch.ones(2)\nb = a + missing\n", layout=False)
    assert (info.value.line, info.value.col) == (2, 9)


def test_errors_pickle_across_processes() -> None:
    import pickle

    err = StudioError("runtime", "boom", "f.py", 3, 4, "hint")
    again = pickle.loads(pickle.dumps(err))
    assert again.one_line() == err.one_line() == "error: f.py:3:4: boom (hint)"


def test_one_line_shows_every_control_a_terminal_would_obey() -> None:
    # C1 CSI/OSC (U+009B, U+009D), line separators and bidi overrides, besides C0.
    what = "a\x1b[2J\x9b2J\x9d0;t\x07\u2028\u2029\u202e\u2066b\nc"
    line = StudioError("runtime", what).one_line()
    assert line == "error: <expr>:0:0: a^[[2J\\x9b2J\\x9d0;t^G\\u2028\\u2029\\u202e\\u2066b c"
    assert all(ch.isprintable() for ch in line)
