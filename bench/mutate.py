"""Hand-chosen mutants of the engine, the sandbox and the training loop, each run
against its focused tests: does the suite notice a small wrong change?

    make mutate                      # every mutant in bench/mutants.toml
    python bench/mutate.py --only importer_lets_refused_modules_in seccomp_allows_socket
    python bench/mutate.py --list

The working tree (as it is, uncommitted edits included; no .git, no .venv) is copied
once into a temporary folder. Each mutant replaces one exact text in one file of the
copy, runs its focused tests with this project's interpreter, and puts the file back.
A mutant is *killed* when its tests fail (or time out), *survives* when they pass.
Before any mutant, the focused tests must pass on the unchanged copy; a mutant whose
original text is not found exactly once in its file stops the run (mutants must not
rot silently when the code moves).

The data file holds, per mutant: ``name``, ``file``, ``original``, ``replacement``,
``tests`` (pytest paths or node ids) and, for a survivor that is known to be
harmless, ``equivalent``: why no test can tell it from the original. The exit status
is 1 when a mutant survives that is not explained so, 2 when the data file is wrong
or the unchanged copy fails its tests.

Not part of ``make test`` (minutes, not seconds); ``make bench`` skips it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = Path(__file__).with_name("mutants.toml")
PYTHON = Path(sys.executable)  # make mutate: the project's venv
IGNORED = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache",
                                 ".ruff_cache", "build", "dist", "*.egg-info", "out")
TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]
    equivalent: str = ""


def load(path: Path = MUTANTS) -> list[Mutant]:
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    mutants = [Mutant(m["name"], m["file"], m["original"], m["replacement"], tuple(m["tests"]),
                      m.get("equivalent", "")) for m in data["mutant"]]
    names = [m.name for m in mutants]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SystemExit(f"mutate: names used twice in {path.name}: {', '.join(duplicated)}")
    return mutants


def rotten(mutants: list[Mutant], root: Path) -> list[str]:
    """One line per mutant that cannot be applied exactly as written."""
    problems = []
    for m in mutants:
        source = root / m.file
        if not source.is_file():
            problems.append(f"{m.name}: {m.file} does not exist")
            continue
        count = source.read_text(encoding="utf-8").count(m.original)
        if count != 1:
            problems.append(f"{m.name}: its original text occurs {count} times in {m.file}, not once")
        elif m.original == m.replacement:
            problems.append(f"{m.name}: its replacement is its original")
        for test in m.tests:
            if not (root / test.split("::", 1)[0]).exists():
                problems.append(f"{m.name}: no test file {test}")
    return problems


def copy_tree(target: Path) -> None:
    shutil.copytree(ROOT, target, symlinks=True, ignore=IGNORED)


def environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # The copy's packages, never the editable install's (the project itself), in this
    # process and in every worker or subprocess the tests start.
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # No .pyc: a mutant the same size as its original, written within the same second,
    # would otherwise run the original's cached bytecode.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_tests(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float, str]:
    """('passed' | 'failed' | 'timeout', seconds, the output's tail)."""
    command = ["nice", "-n", "10", str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               *tests]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=copy, env=environment(copy), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode(errors="replace") if isinstance(err.stdout, bytes) else (err.stdout or "")
        return "timeout", time.monotonic() - started, out[-1500:]
    outcome = "passed" if done.returncode == 0 else "failed"
    return outcome, time.monotonic() - started, (done.stdout + done.stderr)[-1500:]


def first_failure(output: str) -> str:
    """The test that failed first, from pytest's summary (what killed the mutant)."""
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ", 1)[0].split(" ", 1)[1]
    return ""


def check_copy_imports_itself(copy: Path) -> None:
    probe = "import ui, viz; print(viz.__file__); print(ui.__file__)"
    done = subprocess.run([str(PYTHON), "-c", probe], cwd=copy, env=environment(copy), capture_output=True,
                          text=True, timeout=60)
    places = done.stdout.split()
    if done.returncode != 0 or not places or not all(Path(p).resolve().is_relative_to(copy.resolve())
                                                      for p in places):
        raise SystemExit(f"mutate: the copy imports the app from elsewhere: {done.stdout}{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these mutants only")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests, run nothing")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per mutant's tests")
    parser.add_argument("--verbose", action="store_true", help="print the tests' output for survivors")
    args = parser.parse_args(argv)

    mutants = load()
    problems = rotten(mutants, ROOT)
    if problems:
        print("mutate: refusing to run; fix bench/mutants.toml:", *problems, sep="\n  ", file=sys.stderr)
        return 2
    if args.only:
        unknown = sorted(set(args.only) - {m.name for m in mutants})
        if unknown:
            print(f"mutate: no mutant named {', '.join(unknown)}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.name in args.only]
    if args.list:
        for m in mutants:
            print(f"{m.name:44} {m.file:28} {' '.join(m.tests)}")
        return 0

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutate-") as folder:
        copy = Path(folder) / "tree"
        copy_tree(copy)
        check_copy_imports_itself(copy)
        every_test = tuple(dict.fromkeys(t for m in mutants for t in m.tests))
        outcome, seconds, tail = run_tests(copy, every_test, args.timeout * 2)
        print(f"baseline: the focused tests on the unchanged copy {outcome} in {seconds:.0f} s", flush=True)
        if outcome != "passed":
            print(tail, file=sys.stderr)
            return 2
        rows = []
        for m in mutants:
            source = copy / m.file
            text = source.read_text(encoding="utf-8")
            source.write_text(text.replace(m.original, m.replacement, 1), encoding="utf-8")
            try:
                outcome, seconds, tail = run_tests(copy, m.tests, args.timeout)
            finally:
                source.write_text(text, encoding="utf-8")
            result = {"failed": "killed", "timeout": "killed (timeout)", "passed": "SURVIVED"}[outcome]
            rows.append((m, result, seconds))
            print(f"{m.name:44} {result:16} {seconds:6.1f} s  {first_failure(tail)}", flush=True)
            if result == "SURVIVED" and args.verbose:
                print(tail)

    killed = sum(1 for _, result, _ in rows if result != "SURVIVED")
    survivors = [(m, s) for m, result, s in rows if result == "SURVIVED"]
    print(f"\n{'mutant':44} {'result':16} {'seconds':>8}")
    for m, result, seconds in rows:
        print(f"{m.name:44} {result:16} {seconds:8.1f}")
    print(f"\nkill rate: {killed}/{len(rows)} ({100 * killed / max(len(rows), 1):.0f}%) "
          f"in {time.monotonic() - started:.0f} s")
    unexplained = [m for m, _ in survivors if not m.equivalent]
    for m, _ in survivors:
        why = f"equivalent: {m.equivalent}" if m.equivalent else "NOT EXPLAINED: add a test that kills it"
        print(f"survived: {m.name} ({m.file}) - {why}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
