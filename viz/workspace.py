"""A workspace as JSON: the code, where it lives, the settings, the training lab's state.

One shape serves two files: File > Save Workspace (the user's ``.json``) and the
autosave recovery file that brings work back after a crash. Reading checks the whole
shape and turns anything wrong into one StudioError (kind ``io``) naming the field, so
a bad file never half-applies. Writing is atomic (temp file in the same folder, fsync,
``os.replace``): a crash mid-write leaves the previous file whole.

JSON has no NaN or infinity; the history has both (``batch_loss`` at step 0, a
diverged run), so non-finite floats travel as the strings ``"nan"``, ``"inf"``,
``"-inf"``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from viz.errors import StudioError
from viz.training.config import TrainConfig
from viz.training.snapshots import HistoryRow, RunInfo

FORMAT = "autograd-studio.workspace"
VERSION = 1
SETTING_TYPES: dict[str, type] = {"device": str, "theme": str, "time_limit_s": float,
                                  "memory_limit_mb": int, "max_nodes": int, "direction": str}
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


@dataclass(frozen=True)
class TrainingHistory:
    """A finished or running lab run as the plots hold it: its facts and its rows."""

    info: RunInfo
    rows: tuple[HistoryRow, ...]


@dataclass(frozen=True)
class Workspace:
    """Everything a user would miss after a crash. ``path`` is the .py file the code
    came from (None for an example, --expr or new text); ``where`` is what errors and
    the title call it; ``modified`` says the code differs from that file."""

    code: str
    where: str = "<expr>"
    path: str | None = None
    modified: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    training_config: TrainConfig | None = None
    training_history: TrainingHistory | None = None


# --- to JSON ---------------------------------------------------------------------------
def to_json(workspace: Workspace, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The workspace as a JSON-ready dict; ``extra`` adds top-level keys (the recovery
    file's pid and time)."""
    data: dict[str, Any] = {
        "format": FORMAT, "version": VERSION,
        "code": workspace.code, "where": workspace.where, "path": workspace.path,
        "modified": workspace.modified, "settings": dict(workspace.settings),
        "training": {
            "config": (None if workspace.training_config is None
                       else _config_json(workspace.training_config)),
            "history": (None if workspace.training_history is None
                        else _history_json(workspace.training_history)),
        },
    }
    data.update(extra or {})
    return data


def dumps(workspace: Workspace, extra: dict[str, Any] | None = None) -> str:
    return json.dumps(to_json(workspace, extra), indent=1, allow_nan=False)


def _config_json(config: TrainConfig) -> dict[str, Any]:
    data = dataclasses.asdict(config)
    data["hidden"] = list(config.hidden)
    return data


def _history_json(history: TrainingHistory) -> dict[str, Any]:
    info = history.info
    return {
        "info": {
            "task": info.task, "classes": info.classes, "loss_name": info.loss_name,
            "device": info.device, "layer_names": list(info.layer_names),
            "parameters": info.parameters, "steps_total": info.steps_total,
            "eval_every": info.eval_every, "extent": [_number(v) for v in info.extent],
            "x_train": _array_json(info.x_train), "y_train": _array_json(info.y_train),
            "x_test": _array_json(info.x_test), "y_test": _array_json(info.y_test),
            "model_text": info.model_text,
        },
        "rows": [[row.step, _number(row.seconds), _number(row.batch_loss),
                  _number(row.train_loss), _number(row.test_loss), _number(row.train_accuracy),
                  _number(row.test_accuracy), [_number(g) for g in row.grad_norms]]
                 for row in history.rows],
    }


def _number(value: float | None) -> float | str | None:
    if value is None:
        return None
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _array_json(array: np.ndarray) -> dict[str, Any]:
    flat = [_number(v) for v in np.asarray(array).reshape(-1).tolist()]
    return {"dtype": str(array.dtype), "shape": list(array.shape), "data": flat}


# --- from JSON ---------------------------------------------------------------------------
def from_json(data: Any, where: str = "<workspace>") -> Workspace:
    """Check the whole shape; a StudioError names the first thing wrong."""
    reader = _Reader(where)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise reader.error("not an Autograd Studio workspace",
                           f'expected a JSON object with "format": "{FORMAT}"')
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
        raise reader.error(f"workspace version {version!r} is not supported",
                           f"this app reads versions up to {VERSION}; update the app")
    path = reader.get(data, "path", (str, type(None)), None)
    settings = reader.get(data, "settings", dict, {})
    clean_settings: dict[str, Any] = {}
    for key, value in settings.items():
        if key not in SETTING_TYPES:
            continue  # a later version's setting: ignore rather than refuse the file
        wanted = SETTING_TYPES[key]
        if wanted is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise reader.error(f'setting "{key}" should be {wanted.__name__}, got {value!r}')
        clean_settings[key] = value
    training = reader.get(data, "training", dict, {})
    config = training.get("config")
    history = training.get("history")
    return Workspace(
        code=reader.get(data, "code", str),
        where=reader.get(data, "where", str, "<expr>"),
        path=path, modified=reader.get(data, "modified", bool, False),
        settings=clean_settings,
        training_config=None if config is None else _config_from(reader, config),
        training_history=None if history is None else _history_from(reader, history))


def _config_from(reader: _Reader, data: Any) -> TrainConfig:
    if not isinstance(data, dict):
        raise reader.error('"training.config" should be an object')
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    defaults = TrainConfig()
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            raise reader.error(f'unknown training setting "{key}"')
        default = getattr(defaults, key)
        if key == "hidden":
            ok = isinstance(value, list) and all(isinstance(h, int) and not isinstance(h, bool)
                                                 for h in value)
        elif key == "data_file":
            ok = value is None or isinstance(value, str)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, type(default)) and not isinstance(value, bool)
        if not ok:
            raise reader.error(f'training setting "{key}" has a bad value {value!r}')
        values[key] = tuple(value) if key == "hidden" else value
    return TrainConfig(**values)


def _history_from(reader: _Reader, data: Any) -> TrainingHistory:
    if not isinstance(data, dict):
        raise reader.error('"training.history" should be an object')
    info = reader.get(data, "info", dict)
    try:
        extent = tuple(_float(v) for v in reader.get(info, "extent", list))
        run_info = RunInfo(
            task=reader.get(info, "task", str), classes=reader.get(info, "classes", int),
            loss_name=reader.get(info, "loss_name", str), device=reader.get(info, "device", str),
            layer_names=tuple(str(n) for n in reader.get(info, "layer_names", list)),
            parameters=reader.get(info, "parameters", int),
            steps_total=reader.get(info, "steps_total", int),
            eval_every=reader.get(info, "eval_every", int),
            extent=extent,  # type: ignore[arg-type]
            x_train=_array_from(reader.get(info, "x_train", dict)),
            y_train=_array_from(reader.get(info, "y_train", dict)),
            x_test=_array_from(reader.get(info, "x_test", dict)),
            y_test=_array_from(reader.get(info, "y_test", dict)),
            model_text=reader.get(info, "model_text", str, ""))
        rows = tuple(HistoryRow(int(r[0]), _float(r[1]), _float(r[2]), _float(r[3]),
                                _float(r[4]), _optional(r[5]), _optional(r[6]),
                                tuple(_float(g) for g in r[7]))
                     for r in reader.get(data, "rows", list))
    except StudioError:
        raise
    except (TypeError, ValueError, IndexError, KeyError) as err:
        raise reader.error(f"the training history is damaged ({err})") from None
    if len(run_info.extent) != 4:
        raise reader.error("the training history is damaged (extent needs 4 numbers)")
    return TrainingHistory(run_info, rows)


def _float(value: Any) -> float:
    if isinstance(value, str):
        if value not in _NON_FINITE:
            raise ValueError(f"{value!r} is not a number")
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def _optional(value: Any) -> float | None:
    return None if value is None else _float(value)


def _array_from(data: dict[str, Any]) -> np.ndarray:
    values = [_float(v) for v in data["data"]]
    return np.asarray(values, dtype=np.dtype(data["dtype"])).reshape(data["shape"])


class _Reader:
    """Typed field access whose errors say which field, in which file."""

    def __init__(self, where: str) -> None:
        self.where = where

    def error(self, what: str, hint: str = "the file may be damaged; "
              "open another workspace or save a new one") -> StudioError:
        return StudioError("io", what, self.where, 0, 0, hint)

    def get(self, data: dict[str, Any], key: str, kind: type | tuple[type, ...],
            default: Any = ...) -> Any:
        if key not in data:
            if default is ...:
                raise self.error(f'missing "{key}"')
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.error(f'"{key}" has a bad value {value!r}')
        if not isinstance(value, kinds):
            names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            raise self.error(f'"{key}" should be {names}, got {type(value).__name__}')
        return value


# --- files ---------------------------------------------------------------------------------
def atomic_write_text(path: str | Path, text: str) -> None:
    """Write all of ``text`` or nothing: a temp file beside ``path``, fsync, rename.

    Raises OSError; the caller words it for the user."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def write_workspace(path: str | Path, workspace: Workspace,
                    extra: dict[str, Any] | None = None) -> None:
    try:
        atomic_write_text(path, dumps(workspace, extra))
    except OSError as err:
        raise StudioError("io", f"cannot save the workspace: {err.strerror or err}", str(path),
                          0, 0, "choose a writable folder") from None


def read_workspace(path: str | Path) -> tuple[Workspace, dict[str, Any]]:
    """The workspace and the file's raw top-level dict (for extras such as a pid)."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise StudioError("io", f"cannot read the workspace: {reason}", str(path), 0, 0,
                          "check the path") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise StudioError("io", f"not valid JSON: {err.msg}", str(path), err.lineno, err.colno,
                          "open a workspace saved by File > Save Workspace") from None
    return from_json(data, str(path)), data
