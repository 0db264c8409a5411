"""``autograd-studio train``: train headless, print progress, then one final line.

``main.py`` builds the sub-parser with ``add_train_arguments`` and calls
``run_train``. The run happens in this process (there is no window to protect).

Output: progress lines about twice a second, then a final line, on stdout; with
``--json`` the progress goes to stderr and stdout holds only the JSON summary
``{"steps", "loss", "train_accuracy", "test_accuracy", "steps_per_second",
"device", "seconds", ...}`` (``loss`` is the final full training-set loss;
accuracies are null for regression; non-finite numbers are null).

Exit status: 0 when the run ends, 2 for bad input (one ``error: ...`` line on
stderr), 1 only for a bug. A *divergence* (the loss became NaN or infinite) is a
result, not bad input: the run stops, the history up to it is kept (and written by
``--csv``/``--plot``), the message goes to stderr, the JSON says ``"diverged":
true``, and the exit status is 0. Ctrl-C stops the run the same way (status
``stopped``); a second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import TextIO

import torch

from cli.common import check_output, raise_write_error, results_out
from viz.errors import StudioError
from viz.training.config import TrainConfig, auto_device, parse_hidden, threads_for
from viz.training.datasets import DATASETS
from viz.training.history import json_number, write_history_csv
from viz.training.loop import TrainResult, TrainState, train
from viz.training.models import MLP_ACTIVATIONS, MODELS, PERCEPTRON_ACTIVATIONS
from viz.training.optimizers import OPTIMIZERS
from viz.training.plot import check_plot_path, write_curves_png
from viz.training.snapshots import DIVERGED, RunInfo, Snapshot

PROGRESS_INTERVAL = 0.5  # seconds between progress lines


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``train`` options of DESIGN.md's command line, plus data and noise settings."""
    parser.add_argument("--model", choices=MODELS, default="mlp")
    parser.add_argument("--hidden", default="16,16", metavar="N,N",
                        help="MLP hidden layer sizes, comma-separated (default 16,16)")
    parser.add_argument("--activation", default="",
                        choices=("",) + MLP_ACTIVATIONS + PERCEPTRON_ACTIVATIONS,
                        metavar="|".join(dict.fromkeys(MLP_ACTIVATIONS + PERCEPTRON_ACTIVATIONS)),
                        help="MLP: tanh (default), relu, sigmoid, gelu; perceptron: "
                             "sigmoid (default) or step")
    parser.add_argument("--dataset", choices=DATASETS, default="moons")
    parser.add_argument("--data", metavar="FILE.csv", default=None,
                        help="your own points: x1,x2,label lines (or x,y for regression)")
    parser.add_argument("--samples", type=int, default=1000, help="points in all (default 1000)")
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--classes", type=int, default=2, help="spiral/gaussian classes")
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=0, metavar="N",
                        help="steps between history rows (default: about 50 rows, at most "
                             "100 steps apart)")
    parser.add_argument("--csv", metavar="FILE", default=None, help="write the history")
    parser.add_argument("--plot", metavar="FILE.png", default=None, help="draw the curves")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    hidden = parse_hidden(args.hidden) if args.model == "mlp" else ()
    return TrainConfig(
        dataset=args.dataset, data_file=args.data, samples=args.samples, noise=args.noise,
        classes=args.classes, test_fraction=args.test_fraction, model=args.model,
        hidden=hidden, activation=args.activation, optimizer=args.optimizer, lr=args.lr,
        batch_size=args.batch_size, weight_decay=args.weight_decay, steps=args.steps,
        seed=args.seed, device=args.device, eval_every=args.eval_every)


class _ProgressState(TrainState):
    """Prints a progress line per snapshot; no pictures are computed. ``stop_unread``:
    the run's only output is ``out``, so a reader that went away (``| head -1``) stops
    the run, as it ends a Unix filter."""

    wants_pictures = False

    def __init__(self, out: TextIO, stop_unread: bool = False) -> None:
        super().__init__(PROGRESS_INTERVAL)
        self.out = out
        self.stop_unread = stop_unread
        self.info: RunInfo | None = None
        self.interrupts = 0

    def say(self, text: str) -> None:
        try:
            print(text, file=self.out, flush=True)
        except OSError as err:
            raise_write_error(self.out, err)  # a full disk: one line, exit status 2
            if self.stop_unread:
                self.request_stop()

    def set_info(self, info: RunInfo) -> None:
        self.info = info
        self.say(f"training {info.parameters} parameters on {info.device}, loss: {info.loss_name}")

    def set_partial_result(self, snapshot: Snapshot) -> None:
        row = snapshot.latest
        if row is None or snapshot.status != "running" or snapshot.step == 0:
            return
        text = f"step {snapshot.step}/{snapshot.steps_total}  loss {row.train_loss:.4g}"
        if row.test_loss == row.test_loss:
            text += f"  test {row.test_loss:.4g}"
        if row.train_accuracy is not None:
            text += f"  accuracy {row.train_accuracy:.3f}"
            if row.test_accuracy is not None and row.test_accuracy == row.test_accuracy:
                text += f" / test {row.test_accuracy:.3f}"
        text += f"  {snapshot.steps_per_second:.0f} steps/s"
        self.say(text)

    def interrupt(self, signum: int, frame: object) -> None:
        self.interrupts += 1
        if self.interrupts > 1:
            raise KeyboardInterrupt
        self.request_stop()


def summary(result: TrainResult) -> dict:
    final = result.final
    return {
        "steps": result.steps,
        "loss": json_number(final.train_loss if final else None),
        "test_loss": json_number(final.test_loss if final else None),
        "train_accuracy": json_number(final.train_accuracy if final else None),
        "test_accuracy": json_number(final.test_accuracy if final else None),
        "steps_per_second": round(result.steps_per_second, 2),
        "device": result.info.device,
        "seconds": round(result.seconds, 4),
        "loss_name": result.info.loss_name,
        "status": result.status,
        "diverged": result.status == DIVERGED,
        "message": result.message,
    }


def run_train(args: argparse.Namespace) -> int:
    """Run ``train`` from parsed options; returns the exit status."""
    progress_out = sys.stderr if args.json else sys.stdout
    try:
        config = config_from_args(args)
        config.validate()
        if args.plot:
            check_plot_path(args.plot)
            check_output(args.plot, "--plot")
        if args.csv:
            check_output(args.csv, "--csv")
        torch.set_num_threads(threads_for(config))
        state = _ProgressState(progress_out, stop_unread=not (args.json or args.csv or args.plot))
        why = auto_device(config)[1]
        if why:
            state.say(why)
        previous = _install_interrupt(state)
        try:
            result = train(config, state)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if args.csv:
            write_history_csv(args.csv, result.history, result.info.layer_names)
        if args.plot:
            title = f"{config.model} on {config.data_file or config.dataset}, {config.optimizer}"
            write_curves_png(args.plot, result.history, title)
        if result.message:
            print(result.message, file=sys.stderr)
        with results_out() as out:
            print(json.dumps(summary(result)) if args.json else result.summary(), file=out)
    except StudioError as err:
        print(err.one_line(), file=sys.stderr)
        return 2
    return 0


def _install_interrupt(state: _ProgressState):  # type: ignore[no-untyped-def]
    try:
        return signal.signal(signal.SIGINT, state.interrupt)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        return None
