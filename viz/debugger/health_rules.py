"""The thresholds and remedies of gradient health, in one place for its two readers.

``viz.debugger.health`` applies them to one traced backward (the window's Findings,
``autograd-studio health``); ``viz.training.findings`` applies them to a training
run's rows as they arrive (the lab's live findings). Both say the same thing in the
same words at the same numbers: a gradient a lesson calls vanishing in the graph is
called vanishing in the lab. Plain constants: nothing here imports numpy or torch.
"""

from __future__ import annotations

# Three orders of magnitude between the first and the last repeat of a layer: with one
# learning rate for all, the first layers then move a thousand times slower than the
# last (SGD), i.e. they barely learn. Glorot & Bengio (2010) and Pascanu et al. (2013)
# diagnose vanishing/exploding gradients by this ratio across layers; a healthy
# initialisation (Xavier/Kaiming) keeps it within one order of magnitude.
VANISHING_RATIO = 1e-3
EXPLODING_RATIO = 1e3
# Below two orders of magnitude of spread it is worth a look, not a warning.
WATCH_RATIO = 1e-2
# A chain needs this many repeats of one op before the ratio says something about
# depth: two layers of a net may differ by a scale the loss head explains.
MIN_CHAIN_REPEATS = 3
# A leaf gradient RMS above this moves every weight by more than 10 per step at a
# typical learning rate of 1e-3: one step wipes out what the weights held.
HUGE_GRAD_RMS = 1e4
# At initialisation about half of a ReLU's inputs are negative (symmetric weights);
# nine in ten off means the layer passes almost no gradient back.
DEAD_RELU_FRACTION = 0.9
# Within 0.01 of an asymptote, sigmoid's derivative s(1 - s) is below 0.0099 (1/25 of
# its peak of 1/4) and tanh's 1 - t^2 below 0.02 (1/50 of its peak of 1).
SATURATION_EPS = 1e-2
# Most of the layer's outputs saturated: most of it passes almost no gradient back.
SATURATED_FRACTION = 0.5

# What to do about each, as both readers say it.
SATURATING_VANISHING_HINT = "sigmoid's derivative is at most 1/4, tanh's at most 1: use ReLU, "
VANISHING_HINT = "a Xavier/Kaiming initialisation, normalisation layers or residual connections"
HUGE_GRADIENT_HINT = ("one optimizer step moves its values far: clip gradients "
                      "(torch.nn.utils.clip_grad_norm_), lower the learning rate or normalise the inputs")
DEAD_RELU_HINT = ("its inputs are mostly negative (a large negative bias, a too-high learning rate): "
                  "use LeakyReLU, a smaller learning rate, or re-initialise the layer")
SATURATED_HINT = ("its inputs are too large: scale them down (normalisation, smaller initial weights); at a "
                  "loss, use BCEWithLogitsLoss or log_softmax instead of sigmoid/softmax then log")


class CheckStopped(Exception):
    """A health check was asked to stop (the window closes, a newer trace came)."""


def never() -> bool:
    return False
