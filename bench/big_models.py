"""Big real models: engine time and the window's time to a drawing collapsed to a readable depth.

    .venv/bin/python bench/big_models.py [--quick] [--profile]

Issue 18's figure: a ResNet-18 or a small torch.nn transformer is ready in under 2 s
of engine time (trace_code's evaluate + backward + graph + layout; warm, median of 3).
For each model: its nodes and edges, the engine's timings, and the window's time from
a new trace to a painted viewport (offscreen), opened collapsed (ui.auto_collapse).
The ResNet-18 is written here in plain torch.nn (torchvision is not a dependency).
--profile: cProfile's top functions for one trace of each model.
Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from viz.engine.engine import trace_code  # noqa: E402

ENGINE_TARGET_S = 2.0
TRANSFORMER = """
model = nn.TransformerEncoder(
    nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, batch_first=True),
    num_layers={layers})
x = torch.randn(2, 8, 32)
model(x).sum()
"""
RESNET18 = """
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet18(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256))
        self.layer4 = nn.Sequential(BasicBlock(256, 512, 2), BasicBlock(512, 512))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


model = ResNet18()
x = torch.randn(1, 3, 64, 64)
model(x).sum()
"""
MODELS = {
    "transformer, 6 layers": TRANSFORMER.format(layers=6),
    "ResNet-18, 1x3x64x64": RESNET18,
    "transformer, 24 layers": TRANSFORMER.format(layers=24),
}
PARTS = ("evaluate_ms", "backward_ms", "graph_ms", "layout_ms")


def bench_engine(name: str, code: str, repeats: int) -> object:
    """Median timings of ``repeats`` warm traces; returns the last trace."""
    trace = trace_code(code)  # warm: torch's first calls, imports
    runs: list[dict[str, float]] = []
    for _ in range(repeats):
        trace = trace_code(code)
        runs.append({part: float(trace.timings.get(part, 0.0)) for part in PARTS})
    median = {part: statistics.median(run[part] for run in runs) for part in PARTS}
    total = statistics.median(sum(run.values()) for run in runs)
    graph = trace.graph
    verdict = "under" if total / 1000 < ENGINE_TARGET_S else "OVER"
    print(f"{name}: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges; engine "
          + ", ".join(f"{part[:-3]} {median[part]:.0f}" for part in PARTS)
          + f" = {total:.0f} ms ({verdict} {ENGINE_TARGET_S:.0f} s; median of {repeats}, warm)")
    return trace


def bench_window(name: str, trace: object, repeats: int) -> None:
    """A new trace -> the view collapsed to a readable depth and painted (a fresh view
    each time, so each is a new model to it, not a re-run)."""
    from ui.auto_collapse import boxes_shown, readable_depth
    from ui.graph_view import GraphView
    from ui.render import ensure_application
    from ui.themes import THEMES

    ensure_application()
    times = []
    for _ in range(repeats):
        view = GraphView(THEMES["light"].graph)
        view.resize(1200, 800)
        view.show()
        started = time.perf_counter()
        view.show_trace(trace)
        view.viewport().repaint()
        times.append(time.perf_counter() - started)
        scene = view.graph_scene
        depth = readable_depth(scene.node_modules, len(scene.nodes))
        shown = boxes_shown(scene)
        view.close()
        view.deleteLater()
    print(f"  window: new trace -> drawn, collapsed to depth {depth} ({shown} boxes): median "
          f"{statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms "
          f"over {repeats} (offscreen)")


def profile(name: str, code: str, top: int = 12) -> None:
    trace_code(code)
    profiler = cProfile.Profile()
    profiler.enable()
    trace_code(code)
    profiler.disable()
    print(f"  cProfile of one trace of the {name} (cumulative, top {top}):")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--profile", action="store_true", help="cProfile one trace of each")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # as the worker runs (viz.isolation.worker_process): a core stays the window's
    for name, code in MODELS.items():
        trace = bench_engine(name, code, 3)
        bench_window(name, trace, 2 if args.quick else 3)
        if args.profile:
            profile(name, code)


if __name__ == "__main__":
    main()
