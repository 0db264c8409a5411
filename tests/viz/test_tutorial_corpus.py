"""Real tutorial code runs in the app exactly as it runs in plain Python.

The corpus is real code from public tutorials (each file's first line cites its
source; the corpus's README lists them and what was changed). Being other people's
code, it is kept out of this repository: it lives beside the checkout in
``../tutorial-corpus/tutorials`` (or where ``AUTOGRAD_STUDIO_CORPUS`` says). The seed
tutorial's own variants (tests/viz/seed_tutorial, written here) always run. Plain
Python is the oracle: one subprocess runs every snippet (each in a forked child, with
torch, numpy and random seeded with 0, in a fresh ``{"__name__": "__main__"}``
namespace, stdout a file) and records what it printed, the value of every scalar the
code itself called ``backward()`` / ``torch.autograd.grad`` on, and the last
statement's tensor when it requires grad. Then ``main.py export FILE -o OUT.json`` runs
twice per snippet, once with stdout a pipe and once with stdout a regular file: it must
succeed with no traceback, print what plain Python printed, and write the same text
(graph attribute ``output``), losses (``loss_series``) and output value to the JSON.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("AUTOGRAD_STUDIO_CORPUS", ROOT.parent / "tutorial-corpus" / "tutorials"))
SEEDS = sorted((ROOT / "tests" / "viz" / "seed_tutorial").glob("seed_*.py"))
SNIPPETS = sorted(CORPUS.glob("*.py")) + SEEDS

# Both sides get the same environment: one thread (reductions then sum in the same
# order) and a fixed string hash (some tutorials build vocabularies from a set()).
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
       "QT_QPA_PLATFORM": "offscreen"}
ORACLE_TIMEOUT_S = 120  # per snippet
CLI_TIMEOUT_S = 180  # per export run

# Runs as `python -c ORACLE_DRIVER RESULTS.json FILE...`. Imports torch once, then forks
# a child per snippet (isolation at no import cost: the parent runs no torch op first).
ORACLE_DRIVER = r'''
import ast, builtins, json, os, random, signal, sys, tempfile, time, traceback
import numpy
import torch
# Loaded once here rather than in every child: optimizers import torch._dynamo on their
# first step (about 2 s); a module import changes nothing a snippet can observe.
import torch._dynamo, torch.nn, torch.optim, torch.utils.data  # noqa: E401

results_path, paths = sys.argv[1], sys.argv[2:]


def scalar_roots(func, args, kwargs):
    name = getattr(func, "__name__", "")
    if name == "grad":
        roots = args[0] if args else kwargs.get("outputs")
    elif func is ORIGINAL["Tensor.backward"]:
        roots = args[0] if args else kwargs.get("self")
    else:
        roots = args[0] if args else kwargs.get("tensors")
    roots = list(roots) if isinstance(roots, (tuple, list)) else [roots]
    first = roots[0] if roots else None
    if isinstance(first, torch.Tensor) and first.numel() == 1:
        return float(first.detach())
    return None


def run_child(path, out_path, result_path):
    losses = []

    def wrap(key, func):
        def wrapper(*args, **kwargs):
            # Only the snippet's own calls count, not torch's calls inside them
            # (Tensor.backward calls torch.autograd.backward; gradcheck calls grad).
            if sys._getframe(1).f_code.co_filename == path:
                value = scalar_roots(func, args, kwargs)
                if value is not None:
                    losses.append(value)
            return func(*args, **kwargs)
        wrapper.__name__ = getattr(func, "__name__", key)
        wrapper.__doc__ = getattr(func, "__doc__", None)
        return wrapper

    torch.Tensor.backward = wrap("Tensor.backward", ORIGINAL["Tensor.backward"])
    torch.autograd.backward = wrap("backward", ORIGINAL["backward"])
    torch.autograd.grad = wrap("grad", ORIGINAL["grad"])

    result = {"stdout": "", "losses": losses, "outputs": [], "error": None, "seconds": None}
    started = time.perf_counter()
    source = open(path, encoding="utf-8").read()
    sys.argv = [path]
    torch.manual_seed(0)
    numpy.random.seed(0)
    random.seed(0)
    namespace = {"__name__": "__main__"}
    try:
        tree = ast.parse(source, path)
        body, last = tree.body[:-1], tree.body[-1] if tree.body else None
        exec(compile(ast.Module(body=body, type_ignores=[]), path, "exec", dont_inherit=True), namespace)
        values = []
        if isinstance(last, ast.Expr):
            values = [eval(compile(ast.Expression(last.value), path, "eval", dont_inherit=True), namespace)]
        elif last is not None:
            exec(compile(ast.Module(body=[last], type_ignores=[]), path, "exec", dont_inherit=True), namespace)
            if isinstance(last, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = last.targets if isinstance(last, ast.Assign) else [last.target]
                for target in targets:
                    for node in ast.walk(target):
                        if isinstance(node, ast.Name) and node.id in namespace:
                            values.append(namespace[node.id])
        flat = []
        for value in values:
            flat.extend(value if isinstance(value, (tuple, list)) else [value])
        result["outputs"] = [t.detach().double().cpu().tolist() for t in flat
                             if isinstance(t, torch.Tensor) and t.requires_grad]
    except SystemExit as stop:
        if stop.code not in (None, 0):
            result["error"] = "SystemExit(%r)" % (stop.code,)
    except BaseException:
        result["error"] = traceback.format_exc()
    result["seconds"] = round(time.perf_counter() - started, 3)
    sys.stdout.flush()
    result["stdout"] = open(out_path, encoding="utf-8", errors="replace", newline="").read()  # "\\r" as written
    with open(result_path, "w") as handle:
        json.dump(result, handle)


ORIGINAL = {"Tensor.backward": torch.Tensor.backward, "backward": torch.autograd.backward,
            "grad": torch.autograd.grad}
results = {}
scratch = tempfile.mkdtemp(prefix="tutorial-oracle-")
for index, path in enumerate(paths):
    work = os.path.join(scratch, str(index))
    os.mkdir(work)
    out_path, result_path = os.path.join(work, "stdout.txt"), os.path.join(work, "result.json")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            signal.alarm(TIMEOUT)  # default action: the child ends, and the parent's wait with it
            os.chdir(work)
            fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.close(fd)
            run_child(path, out_path, result_path)
        except BaseException:
            traceback.print_exc()
            status = 1
        finally:
            os._exit(status)
    # The child's own alarm (set below, before the snippet runs) ends it at the limit.
    _, status = os.waitpid(pid, 0)
    try:
        with open(result_path) as handle:
            results[path] = json.load(handle)
    except (OSError, ValueError):
        results[path] = {"stdout": "", "losses": [], "outputs": [],
                         "error": "the oracle child died or timed out (status %r)" % (status,)}
with open(results_path, "w") as handle:
    json.dump(results, handle)
'''


@pytest.fixture(scope="session")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """What plain Python does with every snippet, from one subprocess."""
    results = tmp_path_factory.mktemp("oracle") / "results.json"
    driver = ORACLE_DRIVER.replace("TIMEOUT", str(ORACLE_TIMEOUT_S))
    done = subprocess.run([sys.executable, "-c", driver, str(results), *map(str, SNIPPETS)],
                          capture_output=True, text=True, env=ENV, cwd=ROOT,
                          timeout=ORACLE_TIMEOUT_S * len(SNIPPETS))
    assert done.returncode == 0, f"the oracle driver failed:\n{done.stderr[-3000:]}"
    return json.loads(results.read_text())


def _export(snippet: Path, out: Path, stdout: Any, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "export", str(snippet), "-o", str(out),
                             "--time-limit", "60"],
                            stdout=stdout, stderr=subprocess.PIPE, text=True, env=ENV, cwd=cwd)


# `print(y.grad_fn)` shows an object's address, which differs between any two runs of
# plain Python too: addresses are compared as "0x…".
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


def _same_text(text: str) -> str:
    return _ADDRESS.sub("0x…", text)


def _printed(cli_stdout: str) -> str:
    """What the CLI printed on stdout: only the user's output (its own notes go to stderr).
    Read as text, its "\\r" became "\\n" (a progress bar's, IPython's clear_output)."""
    return _same_text(cli_stdout)


def _newlines(text: str) -> str:
    """``text`` as a text-mode read gives it: "\\r\\n" and "\\r" become "\\n"."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _output_text(graph: dict[str, Any]) -> Any:
    """What the code printed on standard output, from the JSON's output chunks (the
    attribute ``output`` holds standard error's warnings too, as a terminal shows)."""
    chunks = graph.get("output_chunks")
    if not isinstance(chunks, list):
        return None
    return _same_text("".join(c["text"] for c in chunks if c.get("stream") == "stdout"))


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no stderr)"


def _mismatch(actual: Any, expected: Any) -> str | None:
    """None when close (rtol 1e-5, atol 1e-6), else where and by how much they differ."""
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        return f"shape {list(a.shape)}, want {list(e.shape)}"
    bad = ~np.isclose(a, e, rtol=1e-5, atol=1e-6, equal_nan=True)
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{int(bad.sum())} of {a.size} differ, first at {first}: got {float(a[first])!r}, want {float(e[first])!r}"


def _check_run(mode: str, code: int, stderr: str, printed: str, out: Path,
               expected: dict[str, Any]) -> list[str]:
    """Everything one export run got wrong, one line each."""
    if code != 0:
        return [f"[{mode}] export exited {code}: {_last_line(stderr)}"]
    problems = []
    expected = {**expected, "stdout": _same_text(expected["stdout"])}
    if "Traceback (most recent call last)" in stderr:
        problems.append(f"[{mode}] traceback on stderr: {_last_line(stderr)}")
    if _printed(printed) != _newlines(expected["stdout"]):
        problems.append(f"[{mode}] printed output differs from plain Python: "
                        f"{_diff(_printed(printed), _newlines(expected['stdout']))}")
    try:
        graph = json.loads(out.read_text())["graph"]
    except (OSError, ValueError, KeyError) as exc:
        return problems + [f"[{mode}] no readable JSON export: {exc!r}"]
    output = _output_text(graph)
    if output != expected["stdout"]:
        problems.append(f"[{mode}] graph attribute 'output' differs from plain Python's stdout: "
                        f"{_diff(output, expected['stdout'])}")
    if expected["losses"]:
        series = graph.get("loss_series")
        if series is None or len(series) != len(expected["losses"]):
            problems.append(f"[{mode}] loss_series has {None if series is None else len(series)} values, "
                            f"plain Python called backward on {len(expected['losses'])} scalars")
        elif (why := _mismatch(series, expected["losses"])) is not None:
            problems.append(f"[{mode}] loss_series differs: {why}")
    shows_first_call = any("already used" in note for note in graph.get("notes", []))
    if expected["outputs"] and not shows_first_call:  # else: loss_series holds that call's loss
        nodes = {n["id"]: n for n in json.loads(out.read_text())["nodes"]}
        values = [nodes[i].get("value") for i in graph.get("outputs", []) if i in nodes]
        if len(values) != len(expected["outputs"]):
            problems.append(f"[{mode}] {len(values)} output nodes, plain Python's last statement gives "
                            f"{len(expected['outputs'])} tensors that require grad")
        for k, (value, want) in enumerate(zip(values, expected["outputs"])):
            if value is None:
                continue  # over 1024 elements: the export keeps stats only
            if (why := _mismatch(value, want)) is not None:
                problems.append(f"[{mode}] output {k} value differs: {why}")
    return problems


def _diff(actual: Any, expected: str) -> str:
    if not isinstance(actual, str):
        return f"got {type(actual).__name__} {str(actual)[:80]!r}"
    for i, (a, e) in enumerate(zip(actual, expected)):
        if a != e:
            return f"first difference at char {i}: got {actual[i:i + 40]!r}, want {expected[i:i + 40]!r}"
    return f"got {len(actual)} chars, want {len(expected)} (one is a prefix of the other)"


@pytest.mark.slow
@pytest.mark.parametrize("snippet", SNIPPETS, ids=[p.stem for p in SNIPPETS])
def test_tutorial_runs_as_in_plain_python(snippet: Path, oracle: dict[str, dict[str, Any]],
                                          tmp_path: Path) -> None:
    expected = oracle[str(snippet)]
    assert expected["error"] is None, f"the snippet fails in plain Python itself:\n{expected['error']}"
    pipe_out, file_out = tmp_path / "pipe.json", tmp_path / "file.json"
    (tmp_path / "pipe").mkdir()
    (tmp_path / "file").mkdir()
    stdout_file = tmp_path / "stdout.txt"
    with stdout_file.open("w") as handle:
        # Both modes at once: the two runs are independent and the machine has two cores.
        piped = _export(snippet, pipe_out, subprocess.PIPE, tmp_path / "pipe")
        filed = _export(snippet, file_out, handle, tmp_path / "file")
        try:
            pipe_stdout, pipe_stderr = piped.communicate(timeout=CLI_TIMEOUT_S)
            _, file_stderr = filed.communicate(timeout=CLI_TIMEOUT_S)
        finally:
            for proc in (piped, filed):
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    problems = _check_run("stdout=pipe", piped.returncode, pipe_stderr, pipe_stdout, pipe_out, expected)
    problems += _check_run("stdout=file", filed.returncode, file_stderr, stdout_file.read_text(),
                           file_out, expected)
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the tutorial corpus (third-party code, kept out of the "
                    f"repository) is not at {CORPUS}; set AUTOGRAD_STUDIO_CORPUS to run it")
def test_corpus_is_broad() -> None:
    """At least 40 real snippets with a cited source, plus the seed tutorial's variants."""
    real = [p for p in SNIPPETS if not p.name.startswith("seed_")]
    seeds = [p for p in SNIPPETS if p.name.startswith("seed_")]
    assert len(real) >= 40 and len(seeds) >= 4
    for path in real:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert re.match(r"# Source: https://github\.com/[^/]+/[^/]+/blob/[^/]+/\S+$", first), path.name
    for path in seeds:
        assert path.read_text(encoding="utf-8").startswith("# Source: shared/seeds/"), path.name
