"""The device selector: CPU, every CUDA device (with its name), MPS when present."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget


@dataclass(frozen=True)
class Device:
    id: str  # what torch and the worker take: "cpu", "cuda:0", "mps"
    label: str


CPU = Device("cpu", "CPU")


def available_devices() -> list[Device]:
    """Asks torch (through viz) in this process. The window does not: it starts without
    torch and learns the devices from the worker (``RunController.devices_found``)."""
    from viz.engine.devices import available_devices as probe

    return [Device(device_id, label) for device_id, label in probe()]


class DeviceSelector(QComboBox):
    """Starts with the CPU alone; ``set_devices`` fills in what the worker found. A
    device asked for before then (saved, or ``--device``) is chosen once it is known."""

    device_changed = Signal(str)
    unavailable = Signal(str)  # a device asked for that this machine does not have

    def __init__(self, devices: list[Device] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deviceSelector")
        self.setToolTip("Device the code runs on (its default device)")
        self._known = devices is not None
        self._wanted: tuple[str, bool] | None = None  # (device id, say so when missing)
        for device in devices or [CPU]:
            self.addItem(device.label, device.id)
        self.currentIndexChanged.connect(self._emit_device)

    def device(self) -> str:
        return str(self.currentData())

    def set_device(self, device_id: str, quiet: bool = False) -> bool:
        """Select a device by id ("cuda" means "cuda:0"); False when it is not available here.

        quiet: no device_changed (start-up choices must not trigger a run).
        """
        index = self.findData(_normal(device_id))
        if index < 0:
            return False
        blocked = self.blockSignals(quiet)
        self.setCurrentIndex(index)
        self.blockSignals(blocked)
        return True

    def want(self, device_id: str, report: bool = True) -> None:
        """Select ``device_id`` now if it is known, else as soon as the device list comes;
        ``unavailable`` (when ``report``) if this machine turns out not to have it."""
        if self.set_device(device_id, quiet=True):
            self._wanted = None
        elif self._known:
            if report:
                self.unavailable.emit(device_id)
        else:
            self._wanted = (device_id, report)

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """The devices the worker can use. The selection stays; a device wanted before
        the list came is selected now, and the code re-runs on it."""
        current = self.device()
        blocked = self.blockSignals(True)
        self.clear()
        for device_id, label in devices:
            self.addItem(label, device_id)
        self.setCurrentIndex(max(self.findData(current), 0))
        self.blockSignals(blocked)
        self._known = True
        wanted, self._wanted = self._wanted, None
        if wanted is not None and _normal(wanted[0]) != current:
            if not self.set_device(wanted[0]) and wanted[1]:
                self.unavailable.emit(wanted[0])
        elif self.device() != current:
            self._emit_device(self.currentIndex())

    def _emit_device(self, _index: int) -> None:
        self.device_changed.emit(self.device())


def _normal(device_id: str) -> str:
    return "cuda:0" if device_id == "cuda" else device_id
