"""Fuzz the engine with 10,000 generated cases (issue 7) and print what came back.

Every case must end as a Trace or a StudioError. Bounded cases (the grammar, token
soup without loops, mutated examples with safe numbers, deep nesting, huge literals,
odd text; see tests/viz/fuzz_strategies.py) run in this process under a timer; the
unbounded ones (``while``, power towers, allocatable-but-huge sizes) run through a
``Worker`` with a time limit, which kills and replaces the process when it must.
Families include the inputs of the bugs already reported (``known_bugs=True``), so a
fix shows up here as a falling count of unexpected exceptions.

    .venv/bin/python bench/fuzz.py [-n 10000 | --quick] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.viz import fuzz_strategies as fz  # noqa: E402
from viz.engine.engine import trace_code  # noqa: E402
from viz.errors import Interrupt, StudioError  # noqa: E402
from viz.isolation.worker import TraceRequest, Worker  # noqa: E402

SMALL = "x = torch.tensor([1.0, 2.0], requires_grad=True)\n(x * x).sum()\n"
CANARY_EVERY = 250


def families() -> st.SearchStrategy[tuple[str, str, str]]:
    """(family, route, code); the grammar twice, since it reaches the graph code."""
    def tag(name: str, route: str, strategy: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, str, str]]:
        return strategy.map(lambda code: (name, route, code))

    return st.one_of(
        tag("grammar", "process", fz.grammar_programs()),
        tag("grammar", "process", fz.grammar_programs()),
        tag("token_soup", "process", fz.token_soup(bounded=True, known_bugs=True)),
        tag("mutated", "process", fz.mutated_examples(bounded=True, known_bugs=True)),
        tag("deep_nesting", "process", fz.deep_nesting(known_bugs=True)),
        tag("huge_literals", "process", fz.huge_literals(bounded=True, known_bugs=True)),
        tag("odd_text", "process", fz.odd_text(known_bugs=True)),
        tag("token_soup+", "worker", fz.token_soup(bounded=False, known_bugs=True)),
        tag("mutated+", "worker", fz.mutated_examples(bounded=False, known_bugs=True)),
        tag("huge_literals+", "worker", fz.huge_literals(bounded=False, known_bugs=True)),
    )


class _Hang(Interrupt):
    """The in-process timer: an Interrupt, so the engine lets it through like the worker's."""


@dataclass
class Tally:
    outcomes: Counter = field(default_factory=Counter)  # "trace", "error:<kind>", "unexpected", "hang"
    by_family: dict[str, Counter] = field(default_factory=dict)
    unexpected: Counter = field(default_factory=Counter)  # signature -> count
    examples: dict[str, str] = field(default_factory=dict)  # signature -> first code
    seconds: Counter = field(default_factory=Counter)  # route -> seconds
    cases: Counter = field(default_factory=Counter)  # route -> cases
    restarts: int = 0
    canary_failures: int = 0

    def add(self, family: str, outcome: str) -> None:
        self.outcomes[outcome] += 1
        self.by_family.setdefault(family, Counter())[outcome] += 1

    def surprise(self, family: str, signature: str, code: str) -> None:
        self.add(family, "unexpected")
        self.unexpected[signature] += 1
        self.examples.setdefault(signature, code)


def signature_of(err: BaseException) -> str:
    """The exception's type and the innermost frame of ours (or the library's) it came from."""
    frames = traceback.extract_tb(err.__traceback__)
    ours = [f for f in frames if "/viz/" in f.filename] or frames
    place = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(err).__name__} @ {place}"


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tally = Tally()
        self.worker = Worker()
        self.in_process = 0

    def run(self, family: str, route: str, code: str) -> None:
        started = time.perf_counter()
        if route == "process":
            self._in_process(family, code)
        else:
            self._in_worker(family, code)
        self.tally.seconds[route] += time.perf_counter() - started
        self.tally.cases[route] += 1

    def _in_process(self, family: str, code: str) -> None:
        def on_alarm(_signum: int, _frame: Any) -> None:
            raise _Hang()

        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self.args.time_limit)
        try:
            trace_code(code, layout=True, max_nodes=self.args.max_nodes)
            self.tally.add(family, "trace")
        except StudioError as err:
            self.tally.add(family, f"error:{err.kind}")
        except _Hang:
            self.tally.add(family, "hang")
            self.tally.examples.setdefault("hang (in process)", code)
        except BaseException as err:  # noqa: BLE001 - counting these is the point
            self.tally.surprise(family, signature_of(err), code)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self.in_process += 1
        if self.in_process % CANARY_EVERY == 0:
            self._canary(code)

    def _canary(self, last_code: str) -> None:
        """A state leak (a default the engine does not reset) shows as a known-good
        case going wrong after the others."""
        try:
            trace = trace_code(SMALL, layout=False)
            good = trace.node(trace.leaf_named("x"))["grad"].tolist() == [2.0, 4.0]
        except BaseException:  # noqa: BLE001
            good = False
        if not good:
            self.tally.canary_failures += 1
            self.tally.examples.setdefault("canary failed after", last_code)

    def _in_worker(self, family: str, code: str) -> None:
        pid = self.worker.pid
        request = TraceRequest(code, time_limit_s=self.args.time_limit,
                               memory_limit_mb=self.args.memory_limit, max_nodes=self.args.max_nodes)
        try:
            self.worker.run(request)
            self.tally.add(family, "trace")
        except StudioError as err:
            timed_out = err.kind == "limit" and "time limit" in err.what
            self.tally.add(family, "hang" if timed_out else f"error:{err.kind}")
        except RuntimeError as err:  # the worker reports a bug of ours this way
            last = str(err).strip().splitlines()[-1]
            self.tally.surprise(family, f"worker: {last[:90]}", code)
        if self.worker.pid != pid:
            self.tally.restarts += 1


def quiet_stdout() -> Any:
    """User code prints (tensors, None...): send file descriptor 1 to /dev/null, for this
    process and the worker it spawns, and return the real one for the report. Warnings torch raises about the user's code are not the figures either."""
    real = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    warnings.simplefilter("ignore")
    return real


def report(tally: Tally, total_s: float, shown: int, out: Any) -> None:
    def print(*parts: Any) -> None:  # noqa: A001 - every line of the report goes to ``out``
        out.write(" ".join(str(p) for p in parts) + "\n")

    cases = sum(tally.cases.values())
    print(f"cases: {cases:,} in {total_s:.1f} s ({cases / total_s:.0f} cases/s)")
    for route in sorted(tally.cases):
        n, s = tally.cases[route], tally.seconds[route]
        print(f"  {route:8s} {n:6,} cases, {s:6.1f} s, {n / s if s else 0:6.0f} cases/s")
    print(f"traced ok:            {tally.outcomes['trace']:,}")
    errors = {k[6:]: v for k, v in tally.outcomes.items() if k.startswith("error:")}
    print(f"StudioError:          {sum(errors.values()):,}  "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(errors.items(), key=lambda kv: -kv[1])))
    print(f"hangs (time limit):   {tally.outcomes['hang']:,}")
    print(f"worker restarts:      {tally.restarts:,}")
    print(f"canary failures:      {tally.canary_failures:,}")
    print(f"UNEXPECTED:           {tally.outcomes['unexpected']:,}  (must be 0)")
    print("\nby family:")
    for family in sorted(tally.by_family):
        counts = tally.by_family[family]
        print(f"  {family:15s} {sum(counts.values()):6,}  " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    if tally.unexpected:
        print("\nunexpected exceptions, by signature:")
        for signature, count in tally.unexpected.most_common():
            print(f"  {count:5,}  {signature}")
        print(f"\nfirst {shown} with their code:")
        for signature, _ in tally.unexpected.most_common(shown):
            print(f"--- {signature}\n{tally.examples[signature][:400]!r}")
    for label in ("hang (in process)", "canary failed after"):
        if label in tally.examples:
            print(f"--- {label}\n{tally.examples[label][:400]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--cases", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 cases")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds per case")
    parser.add_argument("--memory-limit", type=int, default=1024, help="MB per worker case")
    parser.add_argument("--max-nodes", type=int, default=300)
    parser.add_argument("--show", type=int, default=5, help="unexpected cases to print")
    args = parser.parse_args()
    count = 1_000 if args.quick else args.cases
    out = quiet_stdout()
    runner = Runner(args)

    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @seed(args.seed)
    @given(families())
    def drive(case: tuple[str, str, str]) -> None:
        runner.run(*case)

    out.write(f"fuzz: {count:,} cases, seed {args.seed}, time limit {args.time_limit:g} s, "
              f"max nodes {args.max_nodes}\n")
    started = time.perf_counter()
    try:
        drive()
    finally:
        runner.worker.close()
    report(runner.tally, time.perf_counter() - started, args.show, out)


if __name__ == "__main__":
    main()
