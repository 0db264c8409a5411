"""The device selector: CPU, every CUDA device (with its name), MPS when present."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget


@dataclass(frozen=True)
class Device:
    id: str  # what torch and the worker take: "cpu", "cuda:0", "mps"
    label: str


def available_devices() -> list[Device]:
    """Asks torch (through viz) in the GUI process; only the worker puts tensors on them."""
    from viz.devices import available_devices as probe

    return [Device(device_id, label) for device_id, label in probe()]


class DeviceSelector(QComboBox):
    device_changed = Signal(str)

    def __init__(self, devices: list[Device], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deviceSelector")
        self.setToolTip("Device the code runs on (its default device)")
        for device in devices:
            self.addItem(device.label, device.id)
        self.currentIndexChanged.connect(self._emit_device)

    def device(self) -> str:
        return str(self.currentData())

    def set_device(self, device_id: str, quiet: bool = False) -> bool:
        """Select a device by id ("cuda" means "cuda:0"); False when it is not available here.

        quiet: no device_changed (start-up choices must not trigger a run).
        """
        index = self.findData("cuda:0" if device_id == "cuda" else device_id)
        if index < 0:
            return False
        blocked = self.blockSignals(quiet)
        self.setCurrentIndex(index)
        self.blockSignals(blocked)
        return True

    def _emit_device(self, _index: int) -> None:
        self.device_changed.emit(self.device())
