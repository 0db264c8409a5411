"""A workspace as JSON: the code, where it lives, the settings, the training lab's state.

One shape serves two files: File > Save Workspace (the user's ``.json``) and the
autosave recovery file that brings work back after a crash. Reading checks the whole
shape and turns anything wrong into one StudioError (kind ``io``) naming the field, so
a bad file never half-applies. Writing is atomic (temp file in the same folder, fsync,
``os.replace``): a crash mid-write leaves the previous file whole.

JSON has no NaN or infinity; the history has both (``batch_loss`` at step 0, a
diverged run), so non-finite floats travel as the strings ``"nan"``, ``"inf"``,
``"-inf"``.

Reading refuses before it trusts: a file over ``MAX_BYTES`` is not read at all, JSON's
non-standard ``NaN``/``Infinity`` and numbers that overflow are refused with their line,
nesting too deep for the parser is refused, and every number is checked against a
range, so an opened file either applies whole or changes nothing. The run limits
(``time_limit_s``, ``memory_limit_mb``, ``max_nodes``) must lie in the ranges Edit >
Preferences offers (``viz.limits``: 0.1 to 3,600 s, 64 to 1,048,576 MB, 10 to 10,000,000
nodes); a value outside is refused, naming the setting. The training settings, counts
and array shapes must fit what the window's Qt widgets hold (0 to ``INT_MAX``, a C int;
floats at least 0).

A workspace may come from someone else, so what it names is not trusted either: its
``path`` is a save target only when ``viz.code_file.own_file`` says the file there holds the code,
its settings apply to the window that opened it and are never saved as the user's
preferences (``ui.workspace``), and its ``data_file`` is read only through the lab's
reader, which takes regular files up to 16 MB (``viz.training.csv_points``).
"""

from __future__ import annotations

import dataclasses
import codecs
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from viz.errors import StudioError
from viz.limits import RUN_LIMITS
from viz.training.config import TrainConfig
from viz.training.snapshots import HistoryRow, RunInfo

FORMAT = "autograd-studio.workspace"
VERSION = 1
SETTING_TYPES: dict[str, type] = {"device": str, "theme": str, "time_limit_s": float,
                                  "memory_limit_mb": int, "max_nodes": int, "direction": str}
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
# A saved workspace is kilobytes (a long history, a few MB); anything far larger is
# another file, and reading it whole could take the window's memory.
MAX_BYTES = 50 * 1024 * 1024
MAX_CONTAINERS = 1_000_000  # lists and objects (and brackets in the code): a workspace holds thousands
# Qt's spin boxes and progress bars hold a C int; a larger count would raise in the window.
INT_MAX = 2**31 - 1
# Array dtypes a lab run produces (points float32/64, labels int64, targets float32).
ARRAY_DTYPES = frozenset({"float16", "float32", "float64", "int32", "int64"})
OPEN_HINT = "open a workspace saved by File > Save Workspace"


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
    if (not isinstance(version, int) or isinstance(version, bool)
            or not 1 <= version <= VERSION):
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
        limit = RUN_LIMITS.get(key)
        if limit is not None and value not in limit:
            raise reader.error(f'setting "{key}" is {_short(value)}, out of range',
                               f"the {limit.label} in Preferences is {limit.text()}")
        clean_settings[key] = value
    training = reader.get(data, "training", dict, {})
    config = training.get("config")
    history = training.get("history")
    if path is not None and "\0" in path:
        raise reader.error('"path" holds a NUL character')
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
            ok = isinstance(value, list) and all(_is_int(h) and 1 <= h <= INT_MAX
                                                 for h in value)
        elif key == "data_file":
            ok = value is None or isinstance(value, str) and "\0" not in value
        elif isinstance(default, float):
            # Finite already (read_workspace refuses NaN and overflow); never negative.
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
        elif isinstance(default, int):
            ok = _is_int(value) and 0 <= value <= INT_MAX
        else:
            ok = isinstance(value, type(default)) and not isinstance(value, bool)
        if not ok:
            raise reader.error(f'training setting "{key}" has a bad value {_short(value)}')
        values[key] = tuple(value) if key == "hidden" else value
    return TrainConfig(**values)


def _history_from(reader: _Reader, data: Any) -> TrainingHistory:
    if not isinstance(data, dict):
        raise reader.error('"training.history" should be an object')
    info = reader.get(data, "info", dict)
    try:
        extent = tuple(_float(v) for v in reader.get(info, "extent", list))
        run_info = RunInfo(
            task=reader.get(info, "task", str), classes=reader.count(info, "classes"),
            loss_name=reader.get(info, "loss_name", str), device=reader.get(info, "device", str),
            layer_names=tuple(str(n) for n in reader.get(info, "layer_names", list)),
            parameters=reader.count(info, "parameters"),
            steps_total=reader.count(info, "steps_total"),
            eval_every=reader.count(info, "eval_every"),
            extent=extent,  # type: ignore[arg-type]
            x_train=_array_from(reader.get(info, "x_train", dict)),
            y_train=_array_from(reader.get(info, "y_train", dict)),
            x_test=_array_from(reader.get(info, "x_test", dict)),
            y_test=_array_from(reader.get(info, "y_test", dict)),
            model_text=reader.get(info, "model_text", str, ""))
        rows = tuple(_row_from(r) for r in reader.get(data, "rows", list))
    except StudioError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, OverflowError) as err:
        raise reader.error(f"the training history is damaged ({err})") from None
    if (len(extent) != 4 or not all(math.isfinite(v) for v in extent)
            or not extent[0] < extent[1] or not extent[2] < extent[3]):
        raise reader.error("the training history is damaged (extent needs 4 finite numbers: "
                           "x_min < x_max, y_min < y_max)")
    _check_points(reader, run_info)
    return TrainingHistory(run_info, rows)


def _check_points(reader: _Reader, info: RunInfo) -> None:
    """The shapes the lab's plots index: points (n, 1) or (n, 2), one label per point."""
    width = info.x_train.shape[1] if info.x_train.ndim == 2 else 0
    for x, y, part in ((info.x_train, info.y_train, "train"), (info.x_test, info.y_test, "test")):
        if x.ndim != 2 or x.shape[1] not in (1, 2) or x.shape[1] != width:
            raise reader.error(f"the training history is damaged (x_{part} has shape "
                               f"{list(x.shape)}; points are rows of 1 or 2 numbers)")
        if y.shape != (len(x),):
            raise reader.error(f"the training history is damaged (y_{part} has shape "
                               f"{list(y.shape)}; it needs one value per point, {len(x)})")


def _row_from(row: Any) -> HistoryRow:
    if not isinstance(row, list) or len(row) != 8:
        raise ValueError(f"a row should be a list of 8 values, got {str(row)[:40]}")
    if not _is_int(row[0]) or not 0 <= row[0] <= INT_MAX:
        raise ValueError(f"step {row[0]!r} is not a step number")
    if not isinstance(row[7], list):
        raise TypeError(f"gradient norms should be a list, got {str(row[7])[:40]}")
    return HistoryRow(row[0], _float(row[1]), _float(row[2]), _float(row[3]), _float(row[4]),
                      _optional(row[5]), _optional(row[6]), tuple(_float(g) for g in row[7]))


def _short(value: Any) -> str:
    """A value for a one-line message: a hand-edited file can hold a megabyte list."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
    if data["dtype"] not in ARRAY_DTYPES:
        raise ValueError(f"dtype {str(data['dtype'])[:40]!r} is not one of "
                         + ", ".join(sorted(ARRAY_DTYPES)))
    shape = data["shape"]
    if (not isinstance(shape, list) or len(shape) > 2
            or not all(_is_int(n) and 0 <= n <= INT_MAX for n in shape)):
        raise ValueError(f"shape {str(shape)[:40]} is not a list of at most 2 sizes")
    if not isinstance(data["data"], list):
        raise TypeError("array data should be a list of numbers")
    values = [_float(v) for v in data["data"]]
    array = np.asarray(values, dtype=np.float64)
    if array.dtype.kind == "f" and np.dtype(data["dtype"]).kind == "i" and not (
            np.isfinite(array).all() and (array == np.round(array)).all()
            and (np.abs(array) <= 2.0**53).all()):
        raise ValueError(f"an {data['dtype']} array holds a number that is not a whole number")
    return array.astype(np.dtype(data["dtype"])).reshape(shape)


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

    def count(self, data: dict[str, Any], key: str) -> int:
        """A whole number the window shows in a Qt widget: 0..INT_MAX."""
        value = self.get(data, key, int)
        if not 0 <= value <= INT_MAX:
            raise self.error(f'"{key}" is {_short(value)}, out of range',
                             f"it must be a whole number from 0 to {INT_MAX}")
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
    """The workspace and the file's raw top-level dict (for extras such as a pid).

    Every failure is a StudioError (kind ``io``): the window shows it and keeps its
    text, the recovery file is moved aside."""
    path = Path(path)
    where = str(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            # A special file (a pipe, /dev/zero) says 0: the read is capped either way.
            raw = b"" if size > MAX_BYTES else handle.read(MAX_BYTES + 1)
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise StudioError("io", f"cannot read the workspace: {reason}", where, 0, 0,
                          "check the path") from None
    if size > MAX_BYTES or len(raw) > MAX_BYTES:
        limit = f"the limit is {MAX_BYTES // 2**20} MB"
        shown = f"{size / 2**20:.0f} MB, {limit}" if size > MAX_BYTES else f"over {limit}"
        raise StudioError("io", f"the file is too large for a workspace ({shown})", where, 0, 0,
                          f"is this a workspace? {OPEN_HINT}")
    text = _decode(raw, where)
    if text.count("[") + text.count("{") > MAX_CONTAINERS:  # counted before json.loads builds them
        raise StudioError("io", "the file holds more nested lists than a workspace has", where, 0, 0,
                          f"is this a workspace? {OPEN_HINT}")
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                          parse_int=_int)
    except json.JSONDecodeError as err:
        raise StudioError("io", f"not valid JSON: {err.msg}", where, err.lineno, err.colno,
                          OPEN_HINT) from None
    except _BadNumber as err:
        line, col = _locate(text, err.token)
        token = err.token if len(err.token) <= 30 else err.token[:30] + "..."
        raise StudioError("io", f"{token} {err.why}", where, line, col,
                          err.hint) from None
    except RecursionError:
        line, col = _too_deep(text)
        raise StudioError("io", f"the JSON is nested more than {_NESTING_SHOWN} levels deep",
                          where, line, col, f"a workspace nests a few levels; {OPEN_HINT}") from None
    return from_json(data, where), data


# --- reading JSON without trusting it -----------------------------------------------------
_NESTING_SHOWN = 100  # where a too-deep file is reported; a workspace nests about 6 levels
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class _BadNumber(ValueError):
    def __init__(self, token: str, why: str, hint: str) -> None:
        super().__init__(token)
        self.token, self.why, self.hint = token, why, hint


def _refuse_constant(token: str) -> Any:
    raise _BadNumber(token, "is not a JSON number",
                     'a workspace stores non-finite numbers as the strings "nan", "inf", '
                     '"-inf"; save the workspace again from the app')


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _BadNumber(token, "is too large for a number", "a float holds up to about 1.8e308")
    return value


def _int(token: str) -> int:
    try:
        return int(token)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise _BadNumber(token, f"has too many digits ({len(token)})",
                         "no setting needs a number this long") from None


def _decode(raw: bytes, where: str) -> str:
    body = raw[len(codecs.BOM_UTF8):] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        line = body.count(b"\n", 0, err.start) + 1
        col = err.start - body.rfind(b"\n", 0, err.start)
        raise StudioError("io", f"the file is not UTF-8 text (byte 0x{body[err.start]:02x})",
                          where, line, col, f"a workspace is UTF-8 JSON; {OPEN_HINT}") from None


def _masked(text: str) -> str:
    """``text`` with every JSON string blanked (same length, newlines kept), so a search
    for a number or a bracket cannot land inside the user's code."""
    return _STRING.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def _place(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def _locate(text: str, token: str) -> tuple[int, int]:
    """Line and column of the first ``token`` outside strings: the parser reads left to
    right, so the first one is the one it refused."""
    found = re.search(r"(?<![\w.+-])" + re.escape(token) + r"(?![\w.])", _masked(text))
    return _place(text, found.start()) if found else (0, 0)


def _too_deep(text: str) -> tuple[int, int]:
    depth = 0
    for found in _BRACKETS.finditer(_masked(text)):
        depth += 1 if found.group() in "[{" else -1
        if depth > _NESTING_SHOWN:
            return _place(text, found.start())
    return 0, 0
