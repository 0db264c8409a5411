"""Ready-made lessons for the training lab: a setting and what to watch in it.

Each preset's sentence is a claim about what the run shows; the tests run every
preset and check its claim against torch's numbers (tests/viz/training/test_presets.py).
No torch here: the window fills its form from these at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from viz.training.config import TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    watch: str  # one or two sentences: what the class should look at
    config: TrainConfig


PRESETS: tuple[Preset, ...] = (
    Preset("The tutorial: fit a line by hand",
           "One weight, one bias and the tutorial's own update, w -= lr * w.grad: the loss "
           "falls and the weight settles on the line's slope, 2.",
           TrainConfig(dataset="line", model="perceptron", optimizer="manual", lr=0.1,
                       steps=300)),
    Preset("The same line, learning rate too large",
           "lr 1.5: each update overshoots further than the last; the loss explodes and "
           "the run stops, naming the step.",
           TrainConfig(dataset="line", model="perceptron", optimizer="manual", lr=1.5,
                       steps=300)),
    Preset("Rosenblatt's perceptron",
           "A step unit and the perceptron rule: one straight boundary between two "
           "blobs; its two weights and bias are the whole model.",
           TrainConfig(dataset="gaussian", model="perceptron", activation="step", lr=0.1,
                       steps=300)),
    Preset("XOR: a perceptron cannot",
           "No straight line splits XOR: the loss stalls and test accuracy stays near "
           "a coin toss.",
           TrainConfig(dataset="xor", model="perceptron", steps=1000)),
    Preset("XOR: one hidden layer can",
           "Four hidden units bend the boundary around the corners: accuracy climbs "
           "past 0.95.",
           TrainConfig(dataset="xor", hidden=(4,), optimizer="adam", lr=0.05, steps=1000)),
    Preset("Spiral: MLP 8-8 with Adam",
           "The loss falls and the boundary wraps the spiral's two arms.",
           TrainConfig(dataset="spiral", hidden=(8, 8), optimizer="adam", lr=0.01,
                       steps=3000)),
    Preset("Spiral: the same net with plain SGD",
           "Same net, same steps, plain SGD: the loss barely moves. Compare with Adam.",
           TrainConfig(dataset="spiral", hidden=(8, 8), optimizer="sgd", lr=0.1,
                       steps=3000)),
    Preset("Three spiral arms",
           "Three classes: cross-entropy, three colours, and 16-16 hidden units to wrap "
           "them all.",
           TrainConfig(dataset="spiral", classes=3, hidden=(16, 16), optimizer="adam",
                       lr=0.01, steps=3000)),
)


BY_NAME: dict[str, Preset] = {preset.name: preset for preset in PRESETS}


def preset_named(name: str) -> Preset:
    return BY_NAME[name]
