"""A workspace as JSON: the code, where it lives, the settings, the training lab's state.

One shape serves two files: File > Save Workspace (the user's ``.json``) and the
autosave recovery file that brings work back after a crash. Reading checks the whole
shape and turns anything wrong into one StudioError (kind ``io``) naming the field, so
a bad file never half-applies. Writing is atomic (temp file in the same folder, fsync,
``os.replace``): a crash mid-write leaves the previous file whole.

JSON has no NaN or infinity; the history has both (``batch_loss`` at step 0, a
diverged run), so non-finite floats travel as the strings ``"nan"``, ``"inf"``,
``"-inf"``.

Reading the file (``viz.io.workspace_file``) refuses before it trusts: a special file or
one over its ``MAX_BYTES`` is not read at all, JSON's non-standard ``NaN``/``Infinity``
and numbers that overflow are refused with their line, nesting too deep for the parser
is refused; here every number is checked against a range, so an opened file either
applies whole or changes nothing. The code must be what a code file may hold
(``viz.io.code_file``: 512 KB, lines of 10,000 characters). The run limits
(``time_limit_s``, ``memory_limit_mb``, ``max_nodes``) must lie in the ranges Edit >
Preferences offers (``viz.limits``: 0.1 to 3,600 s, 64 to 1,048,576 MB, 10 to 10,000,000
nodes); a value outside is refused, naming the setting. The training settings, counts
and array shapes must fit what the window's Qt widgets hold (0 to ``INT_MAX``, a C int;
floats at least 0).

A workspace may come from someone else, so what it names is not trusted either: its
``path`` is a save target only when ``viz.io.code_file.own_file`` says the file there holds the code
and it is one of the user's recent files (``ui.documents.Documents.restore``),
its settings apply to the window that opened it and are never saved as the user's
preferences (``ui.workspace``), and its ``data_file`` is read only through the lab's
reader, which takes regular files up to 16 MB (``viz.training.csv_points``). Its
training history must be one a lab run could have made: the lab's task, loss and
device names, layers named ``layer 1``... (at most ``MAX_LAYERS``), no more points than
the form or a 16 MB CSV gives (counted from the declared shapes before any array is
built), at most one row a step, one gradient norm a layer, and gradient histograms in
the lab's bins, no more than its heat map has columns (``viz.io.workspace_histograms``;
a file from before them has none). Its names reach the plots' rich-text titles, its
counts one curve, weights plot or marker each.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from viz.io.file_names import MAX_NAME_CHARS, sendable_name
from viz.io.code_file import MAX_CODE_BYTES, check_lines, is_network_path
from viz.io.workspace_reader import INT_MAX, Reader as _Reader, short as _short
from viz.io.workspace_histograms import KEY as HISTOGRAMS, histograms_json, with_histograms
from viz.io.workspace_rows import COMPACT, RowTexts, number as _number, object_pieces, row_json
from viz.errors import StudioError
from viz.limits import MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS, RUN_LIMITS
from viz.training.config import HIDDEN_RANGE, TrainConfig
from viz.training.csv_points import MAX_POINTS
from viz.training.snapshots import HistoryRow, RunInfo

FORMAT = "autograd-studio.workspace"
VERSION = 1
SETTING_TYPES: dict[str, type] = {"device": str, "theme": str, "time_limit_s": float,
                                  "memory_limit_mb": int, "max_nodes": int, "direction": str}
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
# A saved workspace is kilobytes (a long history, a few MB); anything far larger is
# another file, and reading it whole could take the window's memory.
# Array dtypes a lab run produces (points float32/64, labels int64, targets float32).
ARRAY_DTYPES = frozenset({"float16", "float32", "float64", "int32", "int64"})
OPEN_HINT = "open a workspace saved by File > Save Workspace"
MAX_WHERE_CHARS = MAX_NAME_CHARS  # the code's file name or "<expr>"
MAX_PATH_CHARS = 4096  # PATH_MAX: a 1.3 MB path held the window 41-94 s in os.path.realpath (red team 75)
# A history holds only what the lab's runs make (viz.training): its names go into the
# plots' titles, its counts into one curve and one weights plot per layer and one
# marker per point, all built on the window's thread.
TASKS = ("binary", "multiclass", "regression")
_LOSS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 ()-]{0,39}")  # "BCE with logits", "MSE"...
_DEVICE = re.compile(r"[a-z]{1,16}(:[0-9]{1,4})?")  # str(torch.device): cpu, cuda:0, mps
MAX_LAYERS = MAX_HIDDEN_LAYERS + 1  # an MLP's hidden layers and its output layer
_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def max_points(width: int) -> int:
    """The most points (train + test) a run on ``width`` input features holds: the
    form's Samples box and a CSV file both stop at ``MAX_POINTS``."""
    return MAX_POINTS


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
def to_json(workspace: Workspace, extra: dict[str, Any] | None = None, without_rows: bool = False) -> dict[str, Any]:
    """The workspace as a JSON-ready dict; ``extra`` adds top-level keys (the recovery
    file's pid and time). ``without_rows``: the history's rows and histograms are left
    out (None), for ``dumps`` to put their kept text in."""
    data: dict[str, Any] = {
        "format": FORMAT, "version": VERSION,
        "code": workspace.code, "where": workspace.where, "path": workspace.path,
        "modified": workspace.modified, "settings": dict(workspace.settings),
        "training": {
            "config": (None if workspace.training_config is None
                       else _config_json(workspace.training_config)),
            "history": (None if workspace.training_history is None
                        else _history_json(workspace.training_history, without_rows)),
        },
    }
    data.update(extra or {})
    return data


def dumps(workspace: Workspace, extra: dict[str, Any] | None = None, compact: bool = False,
          texts: RowTexts | None = None) -> str:
    """The workspace's JSON: indented for a file the user saves, ``compact`` for the
    crash-recovery file autosave writes on the GUI thread (written by json's C encoder,
    smaller: an indented 21-million-number history took 14-17 s a save and outgrew the
    50 MB a workspace is read within, red team 73). ASCII either way: a lone surrogate
    in a sent history's text cannot be written as UTF-8 (red team 75). ``texts`` (with
    ``compact``): the rows' text kept from the last write, the new rows' added (see
    viz.io.workspace_rows); the same text as without it."""
    if not compact:
        return json.dumps(to_json(workspace, extra), indent=1, allow_nan=False)
    history = workspace.training_history
    if texts is None or history is None:
        return json.dumps(to_json(workspace, extra), **COMPACT)
    # Put together as json.dumps writes an object, the kept texts in their places: by
    # the structure, not by searching the text for a mark (text the sender wrote can
    # hold any mark: red team 79 made every autosave encode it all again).
    data = to_json(workspace, extra, without_rows=True)
    rows, histograms = texts.texts(kept_rows(history))
    training = data["training"]
    history_text = object_pieces({"rows": [rows], HISTOGRAMS: [histograms]}, training["history"])
    return "".join(object_pieces({"training": object_pieces({"history": history_text}, training)}, data))


def _config_json(config: TrainConfig) -> dict[str, Any]:
    data = dataclasses.asdict(config)
    data["hidden"] = list(config.hidden)
    return data


def kept_rows(history: TrainingHistory) -> tuple[HistoryRow, ...]:
    """The rows a workspace keeps of ``history``: all of them, or for a run longer than
    MAX_HISTORY_NUMBERS holds (the lab's longest runs are twice it), evenly spaced ones,
    the first and the last among them; a saved run always opens again."""
    rows = history.rows
    most = MAX_HISTORY_NUMBERS // (8 + len(history.info.layer_names))
    if len(rows) <= most:
        return rows
    stride = -(-(len(rows) - 1) // max(most - 2, 1))
    kept = rows[::stride]
    return kept if kept[-1] is rows[-1] else kept + rows[-1:]


def _history_json(history: TrainingHistory, without_rows: bool = False) -> dict[str, Any]:
    info = history.info
    rows = kept_rows(history)
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
        "rows": None if without_rows else [row_json(row) for row in rows],
        HISTOGRAMS: None if without_rows else histograms_json(rows),
    }




def _array_json(array: np.ndarray) -> dict[str, Any]:
    flat = [_number(v) for v in np.asarray(array).reshape(-1).tolist()]
    return {"dtype": str(array.dtype), "shape": list(array.shape), "data": flat}


# --- from JSON ---------------------------------------------------------------------------
def check_code(code: str, reader: Any) -> None:
    """What a lesson file may hold (viz.io.code_file), for a workspace's code; ``reader``
    a _Reader, or the file's name (then the error says the workspace would not open)."""
    if isinstance(reader, str):
        reader = _Reader(reader, "this workspace could not be opened again: ")
    if len(code.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
        raise reader.error(f'"code" is larger than {MAX_CODE_BYTES // 1024} KB, more than a lesson holds')
    try:
        check_lines(code, reader.where)
    except StudioError as err:
        raise reader.error(f'"code": {err.what}', err.hint) from None


class ReadStopped(Exception):
    """The read was asked to stop (the window closes): nothing was read."""


def from_json(data: Any, where: str = "<workspace>", own: bool = False,
              stopped: Callable[[], bool] = lambda: False) -> Workspace:
    """Check the whole shape; a StudioError names the first thing wrong. ``own``: the code
    and its file's name are the user's own as their editor held them (a crash-recovery
    file), not held to what a file someone sent may hold (red teams 53 and 55: a pasted
    12,000-character line, a lesson named with a bidi override: the recovery was refused
    and the edit lost)."""
    reader = _Reader(where)
    reader.stopped = stopped  # checked between rows of a training history
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise reader.error("not an Autograd Studio workspace",
                           f'expected a JSON object with "format": "{FORMAT}"')
    version = data.get("version")
    if (not isinstance(version, int) or isinstance(version, bool)
            or not 1 <= version <= VERSION):
        raise reader.error(f"workspace version {version!r} is not supported",
                           f"this app reads versions up to {VERSION}; update the app")
    path = reader.get(data, "path", (str, type(None)), None)
    if path is not None and len(path) > MAX_PATH_CHARS:  # checked on the GUI thread: realpath is quadratic
        raise reader.error(f'"path" is {len(path):,} characters, longer than a file\'s path can be')
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
    code = reader.get(data, "code", str)
    if not own:
        check_code(code, reader)
    where_name = reader.get(data, "where", str, "<expr>")
    if len(where_name) > MAX_WHERE_CHARS or not (own or sendable_name(where_name)):
        raise reader.error('"where" is not a file name the window shows',
                           f"at most {MAX_WHERE_CHARS} printable characters")
    return Workspace(
        code=code,
        where=where_name,
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
            ok = isinstance(value, list) and len(value) <= MAX_HIDDEN_LAYERS and all(
                _is_int(h) and 1 <= h <= MAX_HIDDEN_UNITS for h in value)
            if not ok:
                raise reader.error(f'training setting "hidden" has a bad value {_short(value)}',
                                   HIDDEN_RANGE)
        elif key == "data_file":
            # Not a network path: reading it would reach that host (on Windows, with the
            # user's credentials: red team 97).
            ok = value is None or isinstance(value, str) and "\0" not in value and not is_network_path(value)
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
    task, loss_name, device = (reader.get(info, key, str)
                               for key in ("task", "loss_name", "device"))
    _check_names(reader, task, loss_name, device)
    layer_names = _layer_names(reader, reader.get(info, "layer_names", list))
    steps_total = reader.count(info, "steps_total")
    raw_rows = reader.get(data, "rows", list)
    # Numbers, not lists, are what a history costs the window (one "0," is two bytes):
    # 21 million took it to 3.5 GB and each autosave 14-17 s (red team 73). A file of the
    # most it holds, at full precision, is read within the 50 MB cap (100,000 rows of 33
    # layers made a 73 MB recovery file no one could read back: red team 75).
    if len(raw_rows) * (8 + len(layer_names)) > MAX_HISTORY_NUMBERS:
        raise reader.error(f"the training history holds {len(raw_rows):,} rows of {len(layer_names)} layers, "
                           f"over the {MAX_HISTORY_NUMBERS:,} numbers a workspace keeps", OPEN_HINT)
    if len(raw_rows) > steps_total + 1:
        raise reader.error(f"the training history has {len(raw_rows):,} rows for a run of "
                           f"{steps_total:,} steps", "a run records at most one row a step; "
                           + OPEN_HINT)
    # Sizes from the declared shapes, before a single array is built.
    try:
        shapes = {name: _array_shape(reader.get(info, name, dict)) for name in _ARRAYS}
    except StudioError:
        raise
    except (TypeError, ValueError, KeyError) as err:
        raise reader.error(f"the training history is damaged ({err})") from None
    _check_points(reader, shapes)
    try:
        extent = tuple(_float(v) for v in reader.get(info, "extent", list))
        run_info = RunInfo(
            task=task, classes=reader.count(info, "classes"), loss_name=loss_name,
            device=device, layer_names=layer_names,
            parameters=reader.count(info, "parameters"), steps_total=steps_total,
            eval_every=reader.count(info, "eval_every"),
            extent=extent,  # type: ignore[arg-type]
            x_train=_array_from(info["x_train"]), y_train=_array_from(info["y_train"]),
            x_test=_array_from(info["x_test"]), y_test=_array_from(info["y_test"]),
            model_text=reader.get(info, "model_text", str, "")[:MAX_MODEL_TEXT])
        kept = []
        for at, raw in enumerate(raw_rows):
            if at % 4096 == 0 and reader.stopped():
                raise ReadStopped
            kept.append(_row_from(raw, steps_total, len(layer_names)))
        rows = tuple(kept)
        # In the order a run writes them, a row per evaluation: the lab's plots draw a
        # curve's points in order and thin them by their spacing (red team 40: a last row
        # moved back to step 0 made every repaint of the lab draw all 490,000 points, 3-7 s).
        if any(later.step <= earlier.step for earlier, later in zip(rows, rows[1:])):
            raise ValueError("its rows' steps do not increase, as a run writes them")
        if HISTOGRAMS in data:
            rows = with_histograms(data[HISTOGRAMS], rows, run_info)
    except StudioError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, OverflowError) as err:
        raise reader.error(f"the training history is damaged ({err})") from None
    # A lab run pads its data's extent by at least 1e-6 each side (Dataset.bounds); one of
    # 5e-324 made the plots' range divide by zero in pyqtgraph's paint (red team 51).
    if (len(extent) != 4 or not all(math.isfinite(v) for v in extent)
            or not extent[1] - extent[0] >= MIN_EXTENT or not extent[3] - extent[2] >= MIN_EXTENT):
        raise reader.error("the training history is damaged (extent needs 4 finite numbers: "
                           f"x_min < x_max, y_min < y_max, at least {MIN_EXTENT:g} apart)")
    return TrainingHistory(run_info, rows)


MIN_EXTENT = 1e-6  # x_max - x_min and y_max - y_min of a lab run's extent, at least
MAX_HISTORY_NUMBERS = 2_000_000  # their file fits the 50 MB a workspace is read within
MAX_MODEL_TEXT = 20_000  # str(model) of the lab's largest network is a few KB; it is only searched


def _check_names(reader: _Reader, task: str, loss_name: str, device: str) -> None:
    """The words a lab run writes, which the plots show: nothing else is accepted."""
    if task not in TASKS:
        raise reader.error(f'"task" is {_short(task)}, not one of the lab\'s: ' + ", ".join(TASKS))
    if not _LOSS_NAME.fullmatch(loss_name):
        raise reader.error(f'"loss_name" is {_short(loss_name)}, not a loss the lab names')
    if not _DEVICE.fullmatch(device):
        raise reader.error(f'"device" is {_short(device)}, not a device such as cpu or cuda:0')


def _layer_names(reader: _Reader, names: list[Any]) -> tuple[str, ...]:
    """``layer 1`` ... ``layer n``, as ``viz.training.models.linear_layers`` names them."""
    if not 1 <= len(names) <= MAX_LAYERS:
        raise reader.error(f"the training history has {len(names):,} layers; the lab's models "
                           f"have 1 to {MAX_LAYERS}", f"{HIDDEN_RANGE}; {OPEN_HINT}")
    for number, name in enumerate(names, start=1):
        if name != f"layer {number}":
            raise reader.error(f"the training history's layer {number} is named {_short(name)}; "
                               f'the lab names its layers "layer 1", "layer 2", ...')
    return tuple(names)


def _check_points(reader: _Reader, shapes: dict[str, tuple[int, ...]]) -> None:
    """The shapes the lab's plots index: points (n, 1) or (n, 2), one label per point;
    and no more points than a lab run holds."""
    x_train = shapes["x_train"]
    width = x_train[1] if len(x_train) == 2 else 0
    for part in ("train", "test"):
        x, y = shapes[f"x_{part}"], shapes[f"y_{part}"]
        if len(x) != 2 or x[1] not in (1, 2) or x[1] != width:
            raise reader.error(f"the training history is damaged (x_{part} has shape "
                               f"{list(x)}; points are rows of 1 or 2 numbers)")
        if y != (x[0],):
            raise reader.error(f"the training history is damaged (y_{part} has shape "
                               f"{list(y)}; it needs one value per point, {x[0]})")
    points, most = x_train[0] + shapes["x_test"][0], max_points(width)
    if points > most:
        raise reader.error(f"the training history holds {points:,} points; a lab run holds at "
                           f"most {most:,}", f"the lab trains on up to {MAX_POINTS:,} points, generated "
                           f"or from a CSV file; {OPEN_HINT}")


def _row_from(row: Any, steps_total: int, layers: int) -> HistoryRow:
    if not isinstance(row, list) or len(row) != 8:
        raise ValueError(f"a row should be a list of 8 values, got {str(row)[:40]}")
    if not _is_int(row[0]) or not 0 <= row[0] <= INT_MAX:
        raise ValueError(f"step {row[0]!r} is not a step number")
    if row[0] > steps_total:
        raise ValueError(f"step {row[0]:,} is past the run's {steps_total:,} steps")
    if not isinstance(row[7], list):
        raise TypeError(f"gradient norms should be a list, got {str(row[7])[:40]}")
    if len(row[7]) not in (0, layers):  # none before the first backward, else one a layer
        raise ValueError(f"a row has {len(row[7]):,} gradient norms for {layers} layers")
    return HistoryRow(row[0], _float(row[1]), _float(row[2]), _float(row[3]), _float(row[4]),
                      _optional(row[5]), _optional(row[6]), tuple(_float(g) for g in row[7]))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# A lab run computes in float32: a finite number past its largest is not one a run made
# (±1.7e308 losses gave the plots an infinite range: a crash report, red team 20).
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _float(value: Any) -> float:
    if isinstance(value, str):
        if value not in _NON_FINITE:
            raise ValueError(f"{value!r} is not a number")
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is not a number")
    number = float(value)
    if abs(number) > FLOAT32_MAX:
        raise ValueError(f"{_short(value)} is past what a lab run computes (float32)")
    return number


def _optional(value: Any) -> float | None:
    return None if value is None else _float(value)


def _array_shape(data: dict[str, Any]) -> tuple[int, ...]:
    """The shape an array declares, checked against its dtype and its number of values."""
    if data["dtype"] not in ARRAY_DTYPES:
        raise ValueError(f"dtype {str(data['dtype'])[:40]!r} is not one of "
                         + ", ".join(sorted(ARRAY_DTYPES)))
    shape = data["shape"]
    if (not isinstance(shape, list) or len(shape) > 2
            or not all(_is_int(n) and 0 <= n <= INT_MAX for n in shape)):
        raise ValueError(f"shape {str(shape)[:40]} is not a list of at most 2 sizes")
    if not isinstance(data["data"], list):
        raise TypeError("array data should be a list of numbers")
    if len(data["data"]) != math.prod(shape):
        raise ValueError(f"{len(data['data']):,} values for shape {shape}")
    return tuple(shape)


def _array_from(data: dict[str, Any]) -> np.ndarray:
    """The array; call ``_array_shape`` first."""
    values = data["data"]
    kinds = set(map(type, values))  # one pass in C; bool is its own type, refused
    if not kinds <= {int, float, str}:
        wrong = next(v for v in values if type(v) not in (int, float, str))
        raise TypeError(f"{_short(wrong)} is not a number")
    if str in kinds:
        for value in values:
            if isinstance(value, str) and value not in _NON_FINITE:
                raise ValueError(f"{value[:40]!r} is not a number")
    array = np.array(values, dtype=np.float64)  # "nan", "inf", "-inf" convert as they read
    with np.errstate(invalid="ignore"):
        within = np.isnan(array) | (np.abs(array) <= FLOAT32_MAX)  # a missing value may be NaN
    if not within.all():
        raise ValueError("a data point is infinite or past what a lab run holds (float32)")
    if array.dtype.kind == "f" and np.dtype(data["dtype"]).kind == "i" and not (
            np.isfinite(array).all() and (array == np.round(array)).all()
            and (np.abs(array) <= 2.0**53).all()):
        raise ValueError(f"an {data['dtype']} array holds a number that is not a whole number")
    return array.astype(np.dtype(data["dtype"])).reshape(data["shape"])
