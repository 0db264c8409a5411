"""One training step of a configuration, written as code the graph view can trace.

This is where the trainer meets the visualizer: the panel hands this code to the
graph view, which walks the loss's ``grad_fn`` chain like any user code. The code
follows DESIGN.md's expression semantics (``torch``, ``nn``, ``F`` predefined; the
last statement's tensor is the output) and rebuilds the same layers from the same
seed, on a small batch of the configured shape.
"""

from __future__ import annotations

from viz.training.config import TrainConfig
from viz.training.models import PERCEPTRON_CRITERION, build_model, task_loss

GRAPH_BATCH = 4  # a few rows keep the traced values readable

_ACTIVATION_CODE = {"tanh": "nn.Tanh()", "relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()",
                    "gelu": "nn.GELU()"}


def training_step_code(config: TrainConfig, task: str, input_dim: int, output_dim: int) -> str:
    """Python source for forward + loss of one batch; the app runs backward from it."""
    build_model(config.model, input_dim, output_dim, config.hidden, config.activation)
    loss = task_loss(task, config.model, config.activation)  # raises for a bad pairing
    widths = [input_dim, *(config.hidden if config.model == "mlp" else ()), output_dim]
    layers = []
    for index, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(f"    nn.Linear({a}, {b}),")
        if index < len(widths) - 2:
            layers.append(f"    {_ACTIVATION_CODE[config.activation]},")
    n = GRAPH_BATCH
    lines = [
        f"# One training step: {config.model}, {config.optimizer}, loss: {loss.name}",
        f"torch.manual_seed({config.seed})",
        "model = nn.Sequential(",
        *layers,
        ")",
        f"x = torch.randn({n}, {input_dim})",
    ]
    if task == "regression":
        lines += ["y = 2.0 * x[:, :1]", "scores = model(x)", "loss = F.mse_loss(scores, y)"]
    elif task == "multiclass":
        lines += [f"y = torch.randint(0, {output_dim}, ({n},))", "scores = model(x)",
                  "loss = F.cross_entropy(scores, y)"]
    elif loss.name == PERCEPTRON_CRITERION:
        lines += [f"y = torch.randint(0, 2, ({n}, 1)).float()", "scores = model(x)",
                  "loss = torch.relu(-(2 * y - 1) * scores).mean()  # perceptron criterion"]
    else:
        lines += [f"y = torch.randint(0, 2, ({n}, 1)).float()", "scores = model(x)",
                  "loss = F.binary_cross_entropy_with_logits(scores, y)"]
    return "\n".join(lines) + "\n"
