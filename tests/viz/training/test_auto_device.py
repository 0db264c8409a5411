"""``auto`` picks the device that is faster for the model, and says why in one line.

The rule's two constants come from the runs measured on an H200 machine (issue 15):
for those two models, the device that ran faster there is the one ``auto`` picks."""

from __future__ import annotations

from viz.training import TrainConfig, train
from viz.training.config import auto_device, choose_device

LESSON = TrainConfig(dataset="spiral", hidden=(8, 8), optimizer="adam", batch_size=32)
LARGE = TrainConfig(dataset="spiral", hidden=(512, 512, 512), activation="relu", optimizer="adam",
                    batch_size=512)
GPU_MACHINE = ["cpu", "cuda:0"]


def test_a_lesson_model_stays_on_the_cpu_and_a_large_one_goes_to_the_gpu() -> None:
    # Measured: lesson MLP 1,931 steps/s on the CPU vs 592 on CUDA; 512x3 119 vs 577 (16 cores).
    device, why = choose_device(LESSON, GPU_MACHINE, cores=16)
    assert device == "cpu" and "small model" in why and "105 parameters, batch 32" in why
    device, why = choose_device(LARGE, GPU_MACHINE, cores=16)
    assert device == "cuda:0" and "large model" in why


def test_more_cores_keep_more_models_on_the_cpu() -> None:
    middle = LARGE.with_changes(hidden=(256, 256, 256), batch_size=64)  # 132,609 parameters
    assert choose_device(middle, GPU_MACHINE, cores=2)[0] == "cuda:0"
    assert choose_device(middle, GPU_MACHINE, cores=64)[0] == "cpu"


def test_without_a_gpu_auto_is_the_cpu_and_says_so() -> None:
    assert choose_device(LARGE, ["cpu"], cores=16) == ("cpu", "auto: no GPU here, so the CPU")


def test_a_device_the_teacher_chose_is_kept() -> None:
    assert auto_device(LARGE.with_changes(device="cpu")) == ("cpu", "")


def test_an_auto_run_trains_where_the_rule_says() -> None:
    config = LESSON.with_changes(device="auto", steps=20, samples=200)
    expected = auto_device(config)[0]
    assert train(config).info.device.startswith(expected)
