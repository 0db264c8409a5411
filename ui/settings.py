"""Every setting declared once, with its type and default, over QSettings.

User preferences (theme, device, recent files) live apart from window state
(geometry, dock layout) so "reset layout" never forgets a user's choices.
Tests point ``AUTOGRAD_STUDIO_SETTINGS`` at a temporary .ini file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from viz import limits

SETTINGS_ENV = "AUTOGRAD_STUDIO_SETTINGS"
MAX_RECENT = 8

T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    key: str
    type: type
    default: T


THEME = Setting("preferences/theme", str, "system")
DEVICE = Setting("preferences/device", str, "cpu")
# The worker's limits and the layout direction: the same defaults as the command line.
TIME_LIMIT = Setting("preferences/time_limit_s", float, limits.TIME_LIMIT_S.default)
MEMORY_LIMIT = Setting("preferences/memory_limit_mb", int, limits.MEMORY_LIMIT_MB.default)
MAX_NODES = Setting("preferences/max_nodes", int, limits.MAX_NODES.default)
DIRECTION = Setting("preferences/direction", str, "TB")
SHOW_LEGEND = Setting("view/show_legend", bool, True)
SHOW_SAVED = Setting("view/show_saved", bool, False)  # View > Show Saved Tensors
COLOR_GRAD_NORM = Setting("view/color_grad_norm", bool, False)  # View > Color by Gradient Norm
CODE_POINT_SIZE = Setting("view/code_point_size", int, 0)  # 0: the editor's default
RECENT_FILES = Setting("preferences/recent_files", list, [])
# Where Open and Save dialogs start, per kind of file ("" until one is used).
LAST_CODE_FOLDER = Setting("folders/code", str, "")
LAST_EXPORT_FOLDER = Setting("folders/exports", str, "")
# Pixels per scene unit in a PNG export: 2 is crisp on slides and high-DPI screens.
PNG_SCALE = Setting("preferences/png_scale", float, 2.0)
# The Training Lab's speed (steps a second, 0: full speed; below 0: never chosen), kept
# from one start to the next, a kill -9 included (newcomer round 20).
LAB_SPEED = Setting("training/speed", float, -1.0)
GEOMETRY = Setting("window/geometry", QByteArray, QByteArray())
WINDOW_STATE = Setting("window/state", QByteArray, QByteArray())
# Beside it, while the Training Lab has set the docks aside (ui/window_shape.py): the
# arrangement it found, given back when it closes after the next start too.
STATE_UNDER_LAB = Setting("window/state_under_lab", QByteArray, QByteArray())


def open_settings() -> QSettings:
    """The app's QSettings: an isolated .ini when the env var says so (tests)."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                     "AutogradStudio", "Autograd Studio")


class Settings:
    """Typed access to the declared settings."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else open_settings()

    def get(self, setting: Setting[T]) -> T:
        raw: Any = self._store.value(setting.key, None)
        if raw is None:
            return _copy(setting.default)
        if setting.type is list:
            # QSettings hands back a bare string for a one-element list in .ini files.
            return list(raw) if isinstance(raw, (list, tuple)) else [raw]  # type: ignore[return-value]
        if setting.type is bool:
            # .ini files store booleans as the strings "true"/"false".
            return (raw.lower() == "true" if isinstance(raw, str) else bool(raw))  # type: ignore[return-value]
        if setting.type is QByteArray:
            return raw if isinstance(raw, QByteArray) else QByteArray(raw)  # type: ignore[return-value]
        try:
            return setting.type(raw)  # type: ignore[no-any-return]
        except (TypeError, ValueError):
            return _copy(setting.default)

    def set(self, setting: Setting[T], value: T) -> None:
        self._store.setValue(setting.key, value)

    def sync(self) -> None:
        self._store.sync()

    def add_recent_file(self, path: str) -> list[str]:
        files = [path] + [p for p in self.get(RECENT_FILES) if p != path]
        files = files[:MAX_RECENT]
        self.set(RECENT_FILES, files)
        return files


DIRECTIONS = {"TB": "Top to bottom", "LR": "Left to right"}


@dataclass(frozen=True)
class RunOptions:
    """What every run carries besides the code: the worker's limits and the layout direction."""

    time_limit_s: float = TIME_LIMIT.default
    memory_limit_mb: int = MEMORY_LIMIT.default
    max_nodes: int = MAX_NODES.default
    direction: str = DIRECTION.default

    @classmethod
    def load(cls, settings: Settings) -> RunOptions:
        direction = settings.get(DIRECTION)
        # Into Preferences' ranges: a file an earlier version let a workspace write
        # (2**31 s) would otherwise break every run of every session.
        return cls(time_limit_s=limits.TIME_LIMIT_S.clamp(settings.get(TIME_LIMIT)),
                   memory_limit_mb=limits.MEMORY_LIMIT_MB.clamp(settings.get(MEMORY_LIMIT)),
                   max_nodes=limits.MAX_NODES.clamp(settings.get(MAX_NODES)),
                   direction=direction if direction in DIRECTIONS else DIRECTION.default)

    def save(self, settings: Settings) -> None:
        settings.set(TIME_LIMIT, self.time_limit_s)
        settings.set(MEMORY_LIMIT, self.memory_limit_mb)
        settings.set(MAX_NODES, self.max_nodes)
        settings.set(DIRECTION, self.direction)


def _copy(value: T) -> T:
    return list(value) if isinstance(value, list) else value  # type: ignore[return-value]
