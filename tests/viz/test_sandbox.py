"""Escape attempts: every one refused with one clear line, and nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.viz.sandbox_requests import RawRequest
from viz.engine import trace_code
from viz.errors import StudioError
from viz.worker import TraceRequest, Worker

FIRST_WALL = [
    ("open_write", "open(CANARY, 'w').write('x')\n", "'open'"),
    ("torch_save", "torch.save(torch.ones(1), CANARY)\n", "'.save'"),
    ("torch_load", "x = torch.load(HOSTILE)\n", "'.load'"),
    ("torch_os", "torch.os.system('touch ' + CANARY)\n", "'.os'"),
    ("from_torch_import_os", "from torch import os\nos.system('touch ' + CANARY)\n", "import os"),
    ("cpp_extension", "import torch.utils.cpp_extension\n", "torch.utils.cpp_extension"),
    ("from_file", "x = torch.from_file(SECRET, size=4)\n", "'.from_file'"),
    ("storage_from_file", "s = torch.UntypedStorage.from_file(SECRET, False, 4)\n", "'.from_file'"),
    ("multiprocessing", "import torch.multiprocessing as mp\n", "torch.multiprocessing"),
    ("np_save", "np.save(CANARY, np.ones(1))\n", "'.save'"),
    ("np_load_pickle", "a = np.load(HOSTILE, allow_pickle=True)\n", "'.load'"),
    ("np_tofile", "np.ones(3).tofile(CANARY)\n", "'.tofile'"),
    ("np_fromfile", "a = np.fromfile(SECRET)\n", "'.fromfile'"),
    ("np_loadtxt", "a = np.loadtxt(SECRET)\n", "'.loadtxt'"),
    ("np_genfromtxt", "a = np.genfromtxt(SECRET)\n", "'.genfromtxt'"),
    ("np_memmap", "a = np.memmap(CANARY, mode='w+', shape=(3,))\n", "'.memmap'"),
    ("np_ctypeslib", "lib = np.ctypeslib.load_library('libc', '/lib')\n", "'.ctypeslib'"),
    ("np_dump", "np.ones(2).dump(CANARY)\n", "'.dump'"),
    ("subclasses", "s = ().__class__.__base__.__subclasses__()\n", "'__class__'"),
    ("frame_globals", "g = (x for x in []).gi_frame.f_globals\n", "'.gi_frame'"),
    ("eval", "eval('1 + 1')\n", "'eval'"),
    ("exec", "exec('x = 1')\n", "'exec'"),
    ("getattr", "getattr(torch, 'os')\n", "'getattr'"),
    ("globals", "globals()['__builtins__']\n", "'globals'"),
    ("vars", "vars()\n", "'vars'"),
    ("dunder_import", "__import__('os')\n", "'__import__'"),
    ("builtins_name", "__builtins__['open']\n", "'__builtins__'"),
    ("breakpoint", "breakpoint()\n", "'breakpoint'"),
    ("input", "x = input()\n", "'input'"),
    ("compile", "compile('1', 'f', 'eval')\n", "'compile'"),
    ("import_os", "import os\n", "import of 'os'"),
    ("import_subprocess", "import subprocess\n", "import of 'subprocess'"),
    ("import_ctypes", "import ctypes\n", "import of 'ctypes'"),
    ("import_pickle", "import pickle\n", "import of 'pickle'"),
    ("import_operator", "import operator\n", "import of 'operator'"),
    ("torch_hub", "m = torch.hub.load('x', 'y')\n", "'.hub'"),
    ("torch_jit", "m = torch.jit.load(HOSTILE)\n", "'.jit'"),
    ("state_dict_from_file", "model = nn.Linear(1, 1)\nmodel.load_state_dict(torch.load(HOSTILE))\n", "'.load'"),
    ("private_attribute", "x = torch.ones(1)\nx._version\n", "'_version'"),
    ("module_init_by_name", "class N(nn.Module):\n    def __init__(self):\n        nn.Module.__init__(self)\n",
     "super().__init__()"),
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


@pytest.mark.parametrize("code, expected", [c[1:] for c in FIRST_WALL], ids=[c[0] for c in FIRST_WALL])
def test_first_wall_refuses_before_running(code: str, expected: str, paths: dict[str, str]) -> None:
    with pytest.raises(StudioError) as info:
        trace_code(_with_paths(code, paths), where="lesson.py", layout=False)
    err = info.value
    assert err.kind == "refused", err.one_line()
    assert expected in err.one_line()
    assert err.line >= 1 and err.hint
    assert not Path(paths["CANARY"]).exists()


def test_super_init_and_tutorial_code_still_work() -> None:
    code = (
        "import torch\nimport torch.nn as nn\nfrom torch.autograd import Variable\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(2, 1)\n    def forward(self, x):\n        return self.fc(x)\n"
        "if __name__ == '__main__':\n    net = Net()\n    loss = net(Variable(torch.ones(3, 2))).sum()\nloss\n"
    )
    trace = trace_code(code, layout=False)
    assert {d["name"] for _, d in trace.graph.nodes(data=True) if d["kind"] == "leaf"} == {"net.fc.weight", "net.fc.bias"}


def test_user_modules_see_only_allowed_names() -> None:
    code = "names = dir(torch)\nx = torch.ones(1, requires_grad=True)\n(x * len([n for n in names if n in ('save', 'load', 'os')])).sum()\n"
    trace = trace_code(code, layout=False)
    assert trace.node(trace.outputs[0])["value"] == 0.0


SECOND_WALL = [
    ("open_write", "open(CANARY, 'w').write('x')\n", "writing the file"),
    ("read_secret", "result = open(SECRET).read()\n", "reading the file"),
    ("os_system", "import os\nos.system('touch ' + CANARY)\n", "starting a process"),
    ("subprocess", "import subprocess\nsubprocess.run(['touch', CANARY])\n", "starting a process"),
    ("unpickle", "import pickle\npickle.load(open(HOSTILE, 'rb'))\n", "reading the file"),
    ("np_save", "import numpy\nnumpy.save(CANARY, numpy.ones(1))\n", "writing the file"),
    ("socket", "import socket\nsocket.socket()\n", "opening a socket"),
    ("ctypes", "import ctypes\nctypes.CDLL(None).system(b'touch x')\n", "native"),
    ("swallowed_then_retried",
     "try:\n    open(CANARY, 'w')\nexcept BaseException:\n    pass\nopen(CANARY, 'w')\n", "writing the file"),
]


@pytest.fixture(scope="module")
def worker():
    with Worker() as w:
        yield w


@pytest.mark.parametrize("code, expected", [c[1:] for c in SECOND_WALL], ids=[c[0] for c in SECOND_WALL])
def test_second_wall_refuses_in_the_worker(worker: Worker, code: str, expected: str,
                                           paths: dict[str, str]) -> None:
    with pytest.raises(StudioError) as info:
        worker.run(RawRequest(_with_paths(code, paths)))
    assert info.value.kind == "refused", info.value.one_line()
    assert expected in info.value.what
    assert not Path(paths["CANARY"]).exists()


def test_native_writes_hit_the_file_size_limit(worker: Worker, paths: dict[str, str]) -> None:
    """torch.save opens its file in C++, out of the audit hook's sight: wall one refuses
    it by name, and the worker's file-size limit of 0 stops every byte anyway."""
    code = _with_paths("import torch\ntorch.save(torch.ones(1000), CANARY)\n", paths)
    with pytest.raises(StudioError) as info:
        worker.run(RawRequest(code))
    assert info.value.kind in ("runtime", "refused")
    canary = Path(paths["CANARY"])
    assert not canary.exists() or canary.stat().st_size == 0


def test_worker_still_traces_after_refusals(worker: Worker) -> None:
    trace = worker.run(TraceRequest("x = torch.ones(2, requires_grad=True)\nloss = (x * 3).sum()\n"))
    np.testing.assert_allclose(trace.node(trace.leaf_named("x"))["grad"], torch.full((2,), 3.0).numpy())
