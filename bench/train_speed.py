"""Training lab speed and quality, measured in one run (the machine is noisy).

1. Headless steps/s of ``viz.training.train`` against a bare PyTorch loop on the
   same model, data, batch order and seed (MLP 2-16-16-1 tanh, two moons n=1000,
   batch 32, SGD, CPU, one thread). Each run of ours is bracketed by bare runs and
   compared with their mean; the median of those paired ratios is the figure (this
   machine's speed drifts 20% within seconds). Best and CPU-time rates are printed
   too; also with snapshots and pictures (boundary grid, weights) computed at the
   worker's rates (5 and 2.5 a second). A history row (about 50 a run) costs about
   one step, so a short run (--quick, 1,000 steps) pays twice what 2,000 steps do.
2. The worker process (what the window uses): steps/s with snapshots read from the
   pipe as the panel does, against the bare loop run in a spawned process too.
3. MLP + Adam on two moons: the first step with test accuracy >= 0.97, within 2,000.

    .venv/bin/python bench/train_speed.py [--quick] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from viz.training import TrainConfig, TrainState, train  # noqa: E402
from viz.training.worker import PICTURE_INTERVAL, SNAPSHOT_INTERVAL, TrainingWorker  # noqa: E402


def bare_loop(config: TrainConfig) -> None:
    """The tutorial's loop with nothing else."""
    device = torch.device(config.device)
    data = config.load_dataset()
    x = torch.from_numpy(data.x_train).to(device)
    y = torch.from_numpy(data.y_train).float().reshape(-1, 1).to(device)
    torch.manual_seed(config.seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 1)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    step = 0
    while step < config.steps:
        for indices in torch.randperm(len(x), generator=generator).to(device).split(
                config.batch_size):
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(x[indices]), y[indices])
            loss.backward()
            optimizer.step()
            step += 1
            if step == config.steps:
                break
    loss.item()  # wait for a GPU to finish before stopping the clock


class _NoPictures(TrainState):
    wants_pictures = False


def ours_headless(config: TrainConfig) -> None:
    train(config, _NoPictures())


def ours_pictures(config: TrainConfig) -> None:
    train(config, TrainState(SNAPSHOT_INTERVAL, PICTURE_INTERVAL))  # as the worker does


def timed(run: Callable[[TrainConfig], None], config: TrainConfig) -> tuple[float, float]:
    """(wall, cpu) steps per second of one call, set-up included for every contender."""
    wall, cpu = time.perf_counter(), time.process_time()
    run(config)
    return (config.steps / (time.perf_counter() - wall),
            config.steps / (time.process_time() - cpu))


def _cpu_seconds(pid: int) -> float | None:
    """A process's user + system CPU time (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_speed(config: TrainConfig, rounds: int) -> tuple[float, float | None, int]:
    """Best (wall, cpu) steps/s of runs in the worker process, read as the panel reads."""
    worker = TrainingWorker()
    best_wall, best_cpu, snapshots = 0.0, None, 0
    try:
        worker.ensure_started()
        for _ in range(rounds):
            cpu_before = _cpu_seconds(worker.pid or 0)
            worker.start(config)
            result = None
            while worker.running:
                for message in worker.receive(1.0):
                    snapshots += message[0] == "snapshot"
                    if message[0] == "finished":
                        result = message[1]
                    elif message[0] in ("error", "crash"):
                        raise RuntimeError(str(message[1]))
            cpu_after = _cpu_seconds(worker.pid or 0)
            assert result is not None
            best_wall = max(best_wall, result.steps_per_second)
            if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
                rate = config.steps / (cpu_after - cpu_before)
                best_cpu = rate if best_cpu is None else max(best_cpu, rate)
        return best_wall, best_cpu, snapshots // rounds
    finally:
        worker.shutdown()


def _bare_in_child(queue: "multiprocessing.Queue", config: TrainConfig, rounds: int) -> None:
    torch.set_num_threads(1)
    bare_loop(config.with_changes(steps=200))
    queue.put([timed(bare_loop, config) for _ in range(rounds)])


def spawned_bare(config: TrainConfig, rounds: int) -> tuple[float, float]:
    """Best (wall, cpu) steps/s of the bare loop in a spawned process: the fair reference
    for the worker, since a spawned process runs the same loop a few percent slower
    than the main one here (measured)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_bare_in_child, args=(queue, config, rounds))
    process.start()
    figures = queue.get()
    process.join()
    return max(w for w, _ in figures), max(c for _, c in figures)


def adam_accuracy(device: str) -> tuple[int | None, float]:
    config = TrainConfig(dataset="moons", optimizer="adam", lr=0.01, steps=2000, eval_every=10,
                         device=device)
    result = train(config, _NoPictures())
    first = next((r.step for r in result.history
                  if r.test_accuracy is not None and r.test_accuracy >= 0.97), None)
    final = result.final
    return first, final.test_accuracy if final and final.test_accuracy is not None else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps, rounds = (1000, 4) if args.quick else (2000, 10)
    config = TrainConfig(dataset="moons", samples=1000, model="mlp", hidden=(16, 16),
                         activation="tanh", optimizer="sgd", lr=0.1, batch_size=32,
                         steps=steps, device=args.device)
    print(f"torch {torch.__version__}, device {args.device}, one thread, {steps} steps x "
          f"{rounds} rounds (MLP 2-16-16-1 tanh, two moons n=1000, batch 32, SGD)")
    bare_loop(config.with_changes(steps=200))  # warm-up: allocator, kernels
    ours_headless(config.with_changes(steps=200))
    contenders = {"train(), headless": ours_headless, "train(), snapshots": ours_pictures}
    # bare, ours, bare, ours, ...: each of our runs against the bare runs just before and
    # after it (this machine's speed drifts 20% within seconds); their median is the figure.
    bare = [timed(bare_loop, config)]
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    paired: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            figures[name].append(timed(run, config))
            bare.append(timed(bare_loop, config))
            paired[name].append(figures[name][-1][0] / ((bare[-2][0] + bare[-1][0]) / 2))
    figures = {"bare torch loop": bare, **figures}
    # CPU-time rates are the second opinion on a shared machine.
    best_wall = {name: max(w for w, _ in values) for name, values in figures.items()}
    best_cpu = {name: max(c for _, c in values) for name, values in figures.items()}
    median_wall = {name: statistics.median(w for w, _ in values) for name, values in figures.items()}
    base = "bare torch loop"
    print(f"{'':24s} {'best wall':>10s} {'ratio':>6s} {'median':>8s} {'ratio':>6s} "
          f"{'best cpu':>9s} {'ratio':>6s}")
    for name in figures:
        print(f"{name:24s} {best_wall[name]:10.0f} {best_wall[name] / best_wall[base]:6.3f} "
              f"{median_wall[name]:8.0f} {median_wall[name] / median_wall[base]:6.3f} "
              f"{best_cpu[name]:9.0f} {best_cpu[name] / best_cpu[base]:6.3f}   steps/s")
    for name, ratios in paired.items():
        ratios = sorted(ratios)
        print(f"{name:24s} paired ratio, each run / the bare runs either side: median "
              f"{statistics.median(ratios):.3f} (the figure; target >= 0.9), min {ratios[0]:.3f}, "
              f"max {ratios[-1]:.3f}, {len(ratios)} runs")
    child_wall, child_cpu = spawned_bare(config, rounds=max(2, rounds // 2))
    print(f"{'bare loop, spawned child':24s} {child_wall:10.0f} {child_wall / best_wall[base]:6.3f} "
          f"{'':8s} {'':6s} {child_cpu:9.0f} {child_cpu / best_cpu[base]:6.3f}   steps/s")
    worker_wall, worker_cpu, snapshots = worker_speed(config, rounds=max(2, rounds // 2))
    cpu_text = (f"{worker_cpu:9.0f} {worker_cpu / best_cpu[base]:6.3f}" if worker_cpu
                else f"{'n/a':>9s} {'':6s}")
    print(f"{'worker process + pipe':24s} {worker_wall:10.0f} {worker_wall / best_wall[base]:6.3f} "
          f"{'':8s} {'':6s} {cpu_text}   steps/s (best rounds; {snapshots} snapshots a run, "
          f"pictures included)")
    print(f"worker against the bare loop in a spawned child: wall ratio "
          f"{worker_wall / child_wall:.3f}"
          + (f", cpu ratio {worker_cpu / child_cpu:.3f}" if worker_cpu else ""))
    first, final = adam_accuracy(args.device)
    print(f"MLP + Adam (lr 0.01) on two moons: test accuracy >= 0.97 first at step {first}; "
          f"{final:.3f} at step 2000")


if __name__ == "__main__":
    main()
