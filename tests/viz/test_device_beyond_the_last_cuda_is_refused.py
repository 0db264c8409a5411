"""A CUDA device this machine lacks is refused up front, with what the machine has, and
the ones it has are taken: ``cuda:N`` is accepted exactly when torch counts more than N
CUDA devices (``cuda`` alone is ``cuda:0``). On a machine without CUDA that refuses
``cuda`` and ``cuda:0``; on a one-GPU machine, ``cuda:1``. The oracle is torch's own
count, so the test holds on either."""

from __future__ import annotations

import pytest
import torch

from viz.engine.devices import check_device
from viz.engine.engine import trace_code
from viz.errors import StudioError
from viz.training.config import TrainConfig

CODE = "x = torch.ones(2, requires_grad=True)\n(x * x).sum()\n"


def _count() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _names() -> list[tuple[str, int]]:
    count = _count()
    return [("cuda", 0)] + [(f"cuda:{i}", i) for i in range(count + 2)]


def test_a_cuda_index_is_taken_exactly_when_torch_has_that_many_devices() -> None:
    count = _count()
    for name, index in _names():
        if index < count:
            assert check_device(name) == torch.device("cuda", index)
            continue
        with pytest.raises(StudioError) as info:
            check_device(name)
        assert info.value.kind == "option" and info.value.where == "--device"
        assert info.value.what == f"device {name!r} is not available"
        assert "cpu" in info.value.hint


def test_tracing_and_training_on_a_missing_cuda_device_are_refused_before_running() -> None:
    missing = f"cuda:{_count()}"
    with pytest.raises(StudioError) as traced:
        trace_code(CODE, where="lesson.py", device=missing, layout=False)
    assert traced.value.kind == "option" and "not available" in traced.value.what
    with pytest.raises(StudioError) as trained:
        TrainConfig(device=missing).validate()
    assert trained.value.kind == "option" and "not available" in trained.value.what
