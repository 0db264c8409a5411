"""The optimizers the lab offers, including the tutorial's hand-written update.

``manual`` is the update the classic tutorial writes out by hand::

    w.data -= lr * w.grad
    w.grad.data.zero_()

kept next to ``torch.optim`` so a class can compare the two and see that plain
SGD is exactly this.
"""

from __future__ import annotations

from typing import Iterable

import torch

from viz.errors import StudioError

OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop", "adagrad", "manual")
MOMENTUM = 0.9


class ManualUpdate:
    """``w.data -= lr * w.grad`` then zero the gradient: the tutorial's loop body.

    Has the two methods the training loop calls on any optimizer (``zero_grad``
    and ``step``). Weight decay adds ``weight_decay * w`` to the gradient, as
    ``torch.optim.SGD`` does.
    """

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float,
                 weight_decay: float = 0.0) -> None:
        self.params = list(params)
        self.lr = lr
        self.weight_decay = weight_decay

    def zero_grad(self, set_to_none: bool = True) -> None:
        # The update zeroes the gradients itself; before the first step they are None.
        return None

    def step(self) -> None:
        for w in self.params:
            if w.grad is None:
                continue
            if self.weight_decay:
                w.data -= self.lr * (w.grad + self.weight_decay * w.data)
            else:
                w.data -= self.lr * w.grad
            w.grad.data.zero_()


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer | ManualUpdate:
    """One of ``OPTIMIZERS`` over ``params`` with PyTorch's defaults otherwise."""
    if not lr > 0 or lr != lr:
        raise StudioError("option", f"learning rate must be > 0, got {lr}", where="--lr")
    if weight_decay < 0:
        raise StudioError("option", f"weight decay must be >= 0, got {weight_decay}",
                          where="--weight-decay")
    params = list(params)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=MOMENTUM, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "manual":
        return ManualUpdate(params, lr, weight_decay)
    raise StudioError("option", f"unknown optimizer {name!r}", where="--optimizer",
                      hint="one of " + ", ".join(OPTIMIZERS))
