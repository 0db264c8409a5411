"""Bad input: one clear StudioError with the user's place and a hint."""

from __future__ import annotations

import pytest

from viz.engine.engine import trace_code
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
    # cuda:99: a runtime error on a CPU-only build ("not compiled with CUDA") and on a GPU
    # machine ("invalid device ordinal") alike; both name CUDA, so the hint says what to do
    ("bad_device_tensor", "x = torch.ones(2, device='cuda:99', requires_grad=True)\n", "runtime", 1,
     "choose a device this machine has"),
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


TYPOS = [
    ("torch", "y = torch.tensr([1.0, 2.0])\n", "did you mean torch.tensor?"),
    ("nn", "layer = nn.Linaer(2, 2)\n", "did you mean nn.Linear?"),
    ("functional", "y = F.rleu(torch.ones(2))\n", "did you mean F.relu?"),
    ("dotted_module", "y = torch.nn.functional.softmx(torch.ones(2), 0)\n",
     "did you mean torch.nn.functional.softmax?"),
    ("optim", "p = torch.ones(2, requires_grad=True)\nopt = optim.SDG([p], lr=0.1)\n",
     "did you mean optim.SGD?"),
    ("numpy", "a = np.arrya([1.0])\n", "did you mean np.array?"),
    ("math", "r = math.sqr(2.0)\n", "did you mean math.sqrt?"),
    ("tensor_method", "x = torch.ones(2, requires_grad=True)\nloss = x.sum()\nloss.bakward()\n",
     "did you mean loss.backward?"),
    ("after_a_call", "x = torch.ones(2, requires_grad=True)\nx.sum().bakward()\n",
     "did you mean 'backward'?"),
    ("own_module", "model = nn.Linear(2, 1)\nw = model.wieght\n", "did you mean model.weight?"),
    ("own_class", "class Net:\n    def __init__(self):\n        self.hidden = 3\n"
                  "    def size(self):\n        return self.hiden\nNet().size()\n", "did you mean self.hidden?"),
    ("name", "learning_rate = 0.1\nstep = learning_rat * 2\n", "did you mean learning_rate?"),
    ("module_name", "x = tourch.ones(2)\n", "did you mean torch?"),
]


@pytest.mark.parametrize("code, hint", [t[1:] for t in TYPOS], ids=[t[0] for t in TYPOS])
def test_a_misspelled_name_gets_did_you_mean(code: str, hint: str) -> None:
    with pytest.raises(StudioError) as info:
        trace_code(code, where="lesson.py", layout=False)
    assert info.value.hint == hint
    assert hint in info.value.one_line()


HOSTILE = [
    ("dir_raises", "    def __dir__(self):\n        raise RuntimeError('no listing')\n"),
    ("dir_endless", "    def __dir__(self):\n        while True:\n            yield 'colour'\n"),
    ("dir_not_strings", "    def __dir__(self):\n        return [1, None, b'colour', object()]\n"),
    ("dir_huge", "    def __dir__(self):\n        return ['n%d' % i for i in range(200_000)]\n"),
]


@pytest.mark.parametrize("body", [h[1] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_an_object_with_a_hostile_dir_still_gives_its_error(body: str) -> None:
    code = f"class Odd:\n{body}\nOdd().color\n"
    with pytest.raises(StudioError) as info:
        trace_code(code, where="lesson.py", layout=False)
    err = info.value
    assert err.what == "AttributeError: 'Odd' object has no attribute 'color'"
    assert err.line == code.count("\n")
    # At most the capped listing is read: the endless one still finds its near name.
    assert err.hint in ("the error was raised by your code at this line", "did you mean 'colour'?")


def test_no_suggestion_when_nothing_is_close() -> None:
    with pytest.raises(StudioError) as info:
        trace_code("y = torch.qqqqqqq\n", where="lesson.py", layout=False)
    assert "did you mean" not in info.value.hint


@pytest.mark.parametrize("code, col", [
    ("x = torch.tensr([1.0])\n", 11),
    ("if True:\n    x = torch.tensr([1.0])\n", 15),
    ("import torch.nn as nn\nm = nn.Linera(2, 3)\n", 8),
])
def test_a_misspelled_attribute_is_pointed_at_not_the_module_before_it(code: str, col: int) -> None:
    with pytest.raises(StudioError) as info:
        trace_code(code, where="lesson.py", layout=False)
    line = code.splitlines()[info.value.line - 1]
    assert info.value.col == col and line[col - 1:].startswith(("tensr", "Linera"))
