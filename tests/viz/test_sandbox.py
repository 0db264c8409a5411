"""The friendly first wall, and the worker holding every attempt to reach outside.

Security rests on the worker's OS confinement (tests/viz/test_confinement.py); the
checks here make refusals clear and early, and keep harmless code running.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from viz.engine import sandbox
from viz.isolation.confine import landlock_abi
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.engine.evaluate import compile_user_code
from viz.isolation.worker import TraceRequest, Worker

EARLY_REFUSALS = [
    ("subprocess", "import subprocess\nsubprocess.run(['touch', CANARY])\n", "import of 'subprocess'"),
    ("from_subprocess", "from subprocess import run\n", "import of 'subprocess'"),
    ("socket", "import socket\n", "import of 'socket'"),
    ("urllib", "from urllib.request import urlopen\n", "import of 'urllib.request'"),
    ("urllib_submodule_as_name", "from urllib import request\n", "import of 'urllib.request'"),
    ("multiprocessing", "import torch.multiprocessing as mp\n", "import of 'torch.multiprocessing'"),
    ("http", "import http.client\n", "import of 'http.client'"),
    ("late_in_the_code", "x = torch.ones(1, requires_grad=True)\nimport os\nimport socket\n", "import of 'socket'"),
]


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, str]:
    secret = tmp_path / "secret.txt"
    secret.write_text("the exam answers")
    hostile = tmp_path / "hostile.pt"
    hostile.write_bytes(b"\x80\x04cposix\nsystem\n.")  # a pickle that would call os.system
    return {"CANARY": str(tmp_path / "canary"), "SECRET": str(secret), "HOSTILE": str(hostile)}


def _with_paths(code: str, paths: dict[str, str]) -> str:
    for key, value in paths.items():
        code = code.replace(key, repr(value))
    return code


@pytest.mark.parametrize("code, expected", [c[1:] for c in EARLY_REFUSALS], ids=[c[0] for c in EARLY_REFUSALS])
def test_imports_that_only_reach_outside_are_refused_before_running(code: str, expected: str,
                                                                     paths: dict[str, str]) -> None:
    with pytest.raises(StudioError) as info:
        trace_code(_with_paths(code, paths), where="lesson.py", layout=False)
    err = info.value
    assert err.kind == "refused", err.one_line()
    assert expected in err.what
    assert err.line == (3 if code.startswith("x =") else 1) and err.col >= 1
    assert err.hint and "cannot" in err.hint
    assert not Path(paths["CANARY"]).exists()


def test_the_code_check_alone_refuses_before_the_first_line_runs(paths: dict[str, str]) -> None:
    """The first wall on its own: reading the code (nothing runs) finds the import on
    line 2, so line 1's file is never written. The run-time refusal would come too
    late for that: line 1 would have run."""
    code = _with_paths("open(CANARY, 'w').write('ran')\nimport socket\n", paths)
    with pytest.raises(StudioError) as info:
        compile_user_code(code, "lesson.py")
    assert (info.value.kind, info.value.line) == ("refused", 2), info.value.one_line()
    with pytest.raises(StudioError):
        trace_code(code, where="lesson.py", layout=False)
    assert not Path(paths["CANARY"]).exists()


HARMLESS = [
    ("input_as_a_name", "def f(input):\n    return input * 2\ninput = torch.ones(2, requires_grad=True)\ny = f(input)\n"),
    ("private_attribute", "x = torch.ones(2, requires_grad=True)\nv = x._version\ny = x * (v + 1)\n"),
    ("numpy_lazy_imports", "a = (np.array([1, 2]) == np.array([1, 3])).astype(int).sum()\n"
                           "x = torch.ones(2, requires_grad=True)\ny = x * float(a)\n"),
    ("legacy_constructors", "x = torch.Tensor([1.0, 2.0]).requires_grad_()\nw = torch.FloatTensor(2).fill_(3)\n"
                            "i = torch.LongTensor([0, 1])\nd = torch.DoubleTensor([1.0])\ny = (x * w)[i].sum()\n"),
    ("os_path_and_pdb", "import os, sys, pdb\np = os.path.join('data', 'x.csv')\n"
                        "x = torch.ones(len(p), requires_grad=True)\ny = x.sum()\n"),
    ("builtins_shadowed", "sum = 0\nmax = 3\niter = 2\nx = torch.ones(max, requires_grad=True)\ny = x * iter\n"),
    ("eval_and_getattr", "x = torch.ones(2, requires_grad=True)\ny = getattr(x, 'mul')(eval('2'))\n"),
    ("matplotlib_neutralised", "import matplotlib.pyplot as plt\nx = torch.ones(2, requires_grad=True)\n"
                               "fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()\ny = x * 2\n"),
    ("main_guard", "def main():\n    x = torch.ones(2, requires_grad=True)\n    (x * 2).sum().backward()\n"
                   "if __name__ == '__main__':\n    main()\n"),
]


@pytest.mark.parametrize("code", [c[1] for c in HARMLESS], ids=[c[0] for c in HARMLESS])
def test_harmless_code_plain_python_runs_runs_here(code: str) -> None:
    trace = trace_code(code, where="lesson.py", layout=False)
    assert trace.outputs


def test_matplotlib_calls_do_nothing_and_say_so() -> None:
    trace = trace_code(HARMLESS[-2][1], layout=False)
    assert any("matplotlib" in note for note in trace.notes)
    assert not any("matplotlib" in note for note in trace_code(HARMLESS[0][1], layout=False).notes)


def test_input_the_function_explains_itself() -> None:
    with pytest.raises(StudioError) as info:
        trace_code("n = int(input('how many? '))\n", where="lesson.py", layout=False)
    assert info.value.kind == "refused" and info.value.line == 1
    assert "keyboard" in info.value.what


def test_tutorial_code_still_works() -> None:
    code = (
        "import torch\nimport torch.nn as nn\nfrom torch.autograd import Variable\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(2, 1)\n    def forward(self, x):\n        return self.fc(x)\n"
        "if __name__ == '__main__':\n    net = Net()\n    loss = net(Variable(torch.ones(3, 2))).sum()\nloss\n"
    )
    trace = trace_code(code, layout=False)
    assert {d["name"] for _, d in trace.graph.nodes(data=True) if d["kind"] == "leaf"} == {"net.fc.weight", "net.fc.bias"}


# -- the second wall alone: the import refusal at run time, past the code check ---------------
# The code check reads import statements; these reach a refused module without one. In
# this process there is no OS confinement and no audit hook, so only the run-time
# ``__import__`` of the code's builtins (viz.engine.evaluate._Importer) stands in the way.
PAST_THE_CODE_CHECK = [
    ("dunder_import", "__import__('socket')\n", "socket", 1),
    ("import_inside_exec", "exec('import subprocess')\n", "subprocess", 1),
    ("importer_taken_off_builtins", "x = 1\nload = __builtins__['__import__']\nload('http.client')\n",
     "http.client", 3),
    ("refused_name_in_fromlist", "__import__('urllib', fromlist=['request'])\n", "urllib.request", 1),
    ("in_a_function", "def get(name):\n    return __import__(name)\nget('multiprocessing')\n", "multiprocessing", 2),
]


@pytest.mark.parametrize("code, module, line", [c[1:] for c in PAST_THE_CODE_CHECK],
                         ids=[c[0] for c in PAST_THE_CODE_CHECK])
def test_the_runtime_import_refusal_holds_alone(code: str, module: str, line: int) -> None:
    compile_user_code(code, "lesson.py")  # the first wall lets it through
    assert sandbox._places["read"] == (), "an audit hook in the test process would stand in for the wall"
    with pytest.raises(StudioError) as info:
        trace_code(code, where="lesson.py", layout=False)
    err = info.value
    assert err.kind == "refused", err.one_line()
    assert f"import of '{module}'" in err.what and err.line == line, err.one_line()


# -- the worker-side check alone: the audit hook of a worker the OS does not confine ----------
# Where the kernel has no Landlock or seccomp the worker installs Python's audit hook
# (viz.engine.sandbox.install_audit_hook) and runs each request inside ``guarded()``. A worker
# started unconfined is that case on this machine: what these cases try, neither the
# code check nor the import refusal sees, and no OS refuses.
HOOKED = [
    ("open_write", "open(CANARY, 'w').write('x')\n", "tried to write the file"),
    ("raw_open_write", "import os\nos.close(os.open(CANARY, os.O_WRONLY | os.O_CREAT))\n", "tried to write the file"),
    ("read_secret", "print(open(SECRET).read())\n", "tried to read the file"),
    ("raw_socket", "__import__('_socket').socket()\n", "opening a socket"),
    ("native_library", "import ctypes\nctypes.CDLL(None).system(b'true')\n", "loading a native library"),
]


@pytest.fixture(scope="module")
def unconfined_worker():
    with Worker(confined=False) as w:
        protections = w.wait_ready()
        assert not protections.landlock and not protections.seccomp, protections.lines()
        yield w


@pytest.mark.parametrize("code, expected", [c[1:] for c in HOOKED], ids=[c[0] for c in HOOKED])
def test_the_audit_hook_holds_alone_where_the_os_confines_nothing(unconfined_worker: Worker, code: str,
                                                                  expected: str, paths: dict[str, str]) -> None:
    code = _with_paths(code, paths)
    compile_user_code(code, "lesson.py")  # past the first wall
    with pytest.raises(StudioError) as info:
        unconfined_worker.run(TraceRequest(code, "lesson.py"))
    err = info.value
    assert err.kind == "refused" and expected in err.what, err.one_line()
    assert err.line == code.count("\n"), err.one_line()
    assert "exam answers" not in err.one_line() + "".join(c["text"] for c in err.output)
    assert not Path(paths["CANARY"]).exists()


def test_an_unconfined_worker_still_runs_plain_code_and_its_own_folder(unconfined_worker: Worker) -> None:
    trace = unconfined_worker.run(TraceRequest("torch.save(torch.ones(2), 'w.pt')\nx = torch.load('w.pt')\n"
                                               "x.requires_grad_()\nloss = (x * 3).sum()\n"))
    np.testing.assert_allclose(trace.node(trace.leaf_named("x"))["grad"], torch.full((2,), 3.0).numpy())


# -- in the worker: whatever gets past the first wall meets the OS --------------------------
IN_THE_WORKER = [
    ("open_write", "open(CANARY, 'w').write('x')\n", "file"),
    ("read_secret", "print(open(SECRET).read())\n", "file"),
    ("unpickle_hostile_file", "import pickle\npickle.load(open(HOSTILE, 'rb'))\n", "file"),
    ("torch_load_hostile_file", "torch.load(HOSTILE, weights_only=False)\n", "file"),
    ("np_save", "np.save(CANARY, np.ones(1))\n", "file"),
    ("torch_save", "torch.save(torch.ones(1000), CANARY)\n", "file"),
    ("torch_os_system", "status = torch.os.system('touch ' + CANARY)\nassert status == 0, status\n", ""),
    ("swallowed_then_retried", "try:\n    open(CANARY, 'w')\nexcept BaseException:\n    pass\nopen(CANARY, 'w')\n",
     "file"),
    ("dynamic_import", "__import__('subprocess').run(['touch', CANARY])\n", "subprocess"),
]


@pytest.fixture(scope="module")
def worker():
    with Worker() as w:
        yield w


@pytest.mark.skipif(landlock_abi() == 0, reason="the worker is OS-confined only where Landlock is")
@pytest.mark.parametrize("code, expected", [c[1:] for c in IN_THE_WORKER], ids=[c[0] for c in IN_THE_WORKER])
def test_the_worker_holds_what_the_first_wall_lets_through(worker: Worker, code: str, expected: str,
                                                           paths: dict[str, str]) -> None:
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(_with_paths(code, paths), "lesson.py"))
    err = info.value
    assert err.line >= 1, err.one_line()
    assert expected in err.what, err.one_line()
    assert "exam answers" not in err.one_line() + "".join(c["text"] for c in err.output)
    assert not Path(paths["CANARY"]).exists()


def test_worker_still_traces_after_refusals(worker: Worker) -> None:
    trace = worker.run(TraceRequest("x = torch.ones(2, requires_grad=True)\nloss = (x * 3).sum()\n"))
    np.testing.assert_allclose(trace.node(trace.leaf_named("x"))["grad"], torch.full((2,), 3.0).numpy())
