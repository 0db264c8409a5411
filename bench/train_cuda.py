"""The training lab on a GPU: steps/s on CPU and on each CUDA device, same runs.

Two models: the teacher's demo (spiral, MLP 2-8-8-1 tanh, Adam, batch 32) and a
larger MLP (spiral, 2-512-512-512-1 relu, Adam, batch 512), where a GPU should win.
For each device: ``train()`` headless (numbers only), ``train()`` with pictures (the
boundary grid and weights the panel shows), and one run through the worker process
(what the window uses); the final losses of CPU and GPU runs are compared (same
seed, so they agree to float tolerance). Without a CUDA device it says so, runs the
CPU figures, and exits 0.

    .venv/bin/python bench/train_cuda.py [--steps N] [--devices cpu,cuda:0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from viz.training import TrainConfig, TrainState, available_devices, train  # noqa: E402
from viz.errors import StudioError  # noqa: E402
from viz.training.config import resolve_device, threads_for  # noqa: E402
from viz.training.worker import TrainingWorker  # noqa: E402

# (config, default steps): the large model's CPU runs take minutes at 2,000 steps.
MODELS = {
    "spiral MLP 8-8 Adam, batch 32": (TrainConfig(
        dataset="spiral", hidden=(8, 8), optimizer="adam", lr=0.03, batch_size=32), 2000),
    "spiral MLP 512x3 relu Adam, batch 512": (TrainConfig(
        dataset="spiral", samples=20_000, hidden=(512, 512, 512), activation="relu",
        optimizer="adam", lr=0.001, batch_size=512), 300),
}


class _NoPictures(TrainState):
    wants_pictures = False


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(torch.device(device))


def in_process(config: TrainConfig, pictures: bool) -> tuple[float, float | None]:
    """(steps/s, final train loss) of one run in this process."""
    torch.set_num_threads(threads_for(config))
    state = TrainState() if pictures else _NoPictures()
    _sync(config.device)
    result = train(config, state)
    _sync(config.device)
    final = result.final
    return result.steps_per_second, final.train_loss if final else None


def in_worker(config: TrainConfig) -> float:
    """steps/s of one run in the spawned worker, snapshots read as the panel reads."""
    worker = TrainingWorker()
    try:
        worker.ensure_started()
        worker.start(config)
        while worker.running:
            for kind, payload in worker.receive(1.0):
                if kind == "finished":
                    return payload.steps_per_second
                if kind in ("error", "crash"):
                    raise RuntimeError(str(payload))
        raise RuntimeError("the worker ended without a result")
    finally:
        worker.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=0,
                        help="steps per run (default: 2000 small model, 300 large)")
    parser.add_argument("--devices", default="",
                        help="comma-separated (default: cpu and every CUDA device)")
    args = parser.parse_args()
    devices = [d for d in (args.devices.split(",") if args.devices else available_devices())
               if d == "cpu" or d.startswith("cuda")]
    for device in devices:
        try:
            resolve_device(device)
        except StudioError as err:
            print(err.one_line(), file=sys.stderr)
            raise SystemExit(2) from None
    print(f"torch {torch.__version__}; CUDA available: {torch.cuda.is_available()}; "
          f"devices: {', '.join(devices)}")
    for index in range(torch.cuda.device_count()):
        print(f"  cuda:{index} = {torch.cuda.get_device_name(index)}")
    if not any(d.startswith("cuda") for d in devices):
        print("no CUDA device here: CPU figures only (run this on a GPU machine for the rest)")
    for title, (base, default_steps) in MODELS.items():
        config = base.with_changes(steps=args.steps or default_steps)
        print(f"\n{title}: {config.parameter_estimate()} parameters, {config.steps} steps")
        print(f"  {'device':8s} {'headless':>10s} {'pictures':>10s} {'worker':>10s} "
              f"{'final loss':>12s}")
        losses: dict[str, float | None] = {}
        for device in devices:
            run = config.with_changes(device=device)
            in_process(run.with_changes(steps=20), pictures=False)  # warm-up: kernels, allocator
            started = time.perf_counter()
            headless, loss = in_process(run, pictures=False)
            pictures, _ = in_process(run, pictures=True)
            worker = in_worker(run)
            losses[device] = loss
            print(f"  {device:8s} {headless:10.0f} {pictures:10.0f} {worker:10.0f} "
                  f"{loss if loss is not None else float('nan'):12.6g}   steps/s "
                  f"({time.perf_counter() - started:.0f} s)")
        cpu = losses.get("cpu")
        for device, loss in losses.items():
            if device != "cpu" and cpu is not None and loss is not None:
                print(f"  {device} vs cpu final loss: relative difference "
                      f"{abs(loss - cpu) / max(abs(cpu), 1e-12):.2e}")


if __name__ == "__main__":
    main()
