"""A workspace file: written whole or not at all, read without trusting it.

``read_workspace`` refuses before it trusts: a path that is not a regular file is never
read (a FIFO would block the window), a file over ``MAX_BYTES`` is not read at all,
JSON's containers are counted before they are built, numbers must be finite and
within range, nesting is bounded; then ``viz.io.workspace.from_json`` checks what it
holds, field by field.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

from viz.errors import StudioError
from viz.io.files import NotRegularFile, read_at_most
from viz.io.json_place import depth_place, token_place
from viz.io.workspace import OPEN_HINT, ReadStopped, Workspace, dumps, from_json
from viz.io.workspace_rows import RowTexts

MAX_BYTES = 50 * 1024 * 1024
MAX_CONTAINERS = 1_000_000  # lists and objects (and brackets in the code): a workspace holds thousands
# Strings cost json.loads ~60 bytes each: 50 MB of "ab", took 780 MB. A workspace's are
# its code, names and the history's "nan"/"inf" (at most a few per row).
MAX_STRINGS = 2_000_000
# An object's keys are built in one C call of json.loads, the GIL held throughout: 1.99
# million made-up settings froze the window 1.4-2.2 s on each open (red team 95; an
# honest 2-million-number workspace 0.3-0.5 s). A workspace writes about 60 keys; what
# looks like a key's end ("...":) is counted, so code's own (escaped) ones count too:
# its 512 KB hold fewer than this. (Colons first: a scan for spaced ones is 60 ms of 45 MB.)
MAX_KEYS = 200_000
_KEY_END_SPACED = re.compile(r'"[ \t\r\n]+:')


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
                    extra: dict[str, Any] | None = None, compact: bool = False,
                    texts: RowTexts | None = None) -> None:
    """``texts``: an autosave's rows kept from its last write (viz.io.workspace_rows)."""
    write_workspace_text(path, workspace_text(path, workspace, extra, compact, texts))


def workspace_text(path: str | Path, workspace: Workspace, extra: dict[str, Any] | None = None,
                   compact: bool = False, texts: RowTexts | None = None) -> str:
    """The JSON ``write_workspace`` writes to ``path``; StudioError as it says it."""
    try:
        return dumps(workspace, extra, compact, texts)
    except ValueError as err:  # what JSON or UTF-8 cannot hold (UnicodeError among them)
        raise _cannot_save(path, err) from None


def write_workspace_text(path: str | Path, text: str) -> None:
    """Write a workspace's JSON all or nothing (``atomic_write_text``); StudioError."""
    try:
        atomic_write_text(path, text)
    except (OSError, ValueError) as err:
        raise _cannot_save(path, err) from None


def _cannot_save(path: str | Path, err: Exception) -> StudioError:
    return StudioError("io", f"cannot save the workspace: {getattr(err, 'strerror', None) or err}", str(path),
                       0, 0, "choose a writable folder")


def read_workspace(path: str | Path, own: bool = False,
                   stop: threading.Event | None = None) -> tuple[Workspace, dict[str, Any]]:
    """The workspace and the file's raw top-level dict (for extras such as a pid).
    ``own``: a crash-recovery file: its code and name are the user's own (from_json).
    ``stop``: set, the read ends at its next number with ReadStopped (50 MB of numbers
    took 8-12 s, and the window's close waited for them: red team 71).

    Every failure is a StudioError (kind ``io``): the window shows it and keeps its
    text, the recovery file is moved aside."""
    path = Path(path)
    where = str(path)
    stopped = stop.is_set if stop is not None else _never
    try:
        raw, size = read_at_most(path, MAX_BYTES)
    except NotRegularFile as err:
        raise StudioError("io", str(err), where, 0, 0, OPEN_HINT) from None
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise StudioError("io", f"cannot read the workspace: {reason}", where, 0, 0,
                          "check the path") from None
    if size > MAX_BYTES or len(raw) > MAX_BYTES:
        limit = f"the limit is {MAX_BYTES // 2**20} MB"
        shown = f"{size / 2**20:.0f} MB, {limit}" if size > MAX_BYTES else f"over {limit}"
        raise StudioError("io", f"the file is too large for a workspace ({shown})", where, 0, 0,
                          f"is this a workspace? {OPEN_HINT}")
    _check_stop(stopped)
    text = _decode(raw, where)
    del raw
    _check_stop(stopped)
    if text.count("[") + text.count("{") > MAX_CONTAINERS:  # counted before json.loads builds them
        raise StudioError("io", "the file holds more nested lists than a workspace has", where, 0, 0,
                          f"is this a workspace? {OPEN_HINT}")
    if text.count('"') > 2 * MAX_STRINGS:  # quotes in a string are escaped: never fewer
        raise StudioError("io", "the file holds more strings than a workspace has", where, 0, 0,
                          f"is this a workspace? {OPEN_HINT}")
    if text.count(":") > MAX_KEYS and text.count('":') + sum(1 for _ in _KEY_END_SPACED.finditer(text)) > MAX_KEYS:
        raise StudioError("io", "the file holds more keys than a workspace has", where, 0, 0,
                          f"is this a workspace? {OPEN_HINT}")
    try:
        data = json.loads(text, parse_constant=_refuse_constant,
                          parse_float=lambda token: _check_stop(stopped) or _finite_float(token),
                          parse_int=lambda token: _check_stop(stopped) or _int(token))
    except json.JSONDecodeError as err:
        raise StudioError("io", f"not valid JSON: {err.msg}", where, err.lineno, err.colno,
                          OPEN_HINT) from None
    except _BadNumber as err:
        line, col = token_place(text, err.token)
        token = err.token if len(err.token) <= 30 else err.token[:30] + "..."
        raise StudioError("io", f"{token} {err.why}", where, line, col,
                          err.hint) from None
    except RecursionError:
        line, col = depth_place(text, _NESTING_SHOWN)
        raise StudioError("io", f"the JSON is nested more than {_NESTING_SHOWN} levels deep",
                          where, line, col, f"a workspace nests a few levels; {OPEN_HINT}") from None
    return from_json(data, where, own, stopped), data


def _never() -> bool:
    return False


def _check_stop(stopped: Any) -> None:
    if stopped():
        raise ReadStopped


# --- reading JSON without trusting it -----------------------------------------------------
_NESTING_SHOWN = 100  # where a too-deep file is reported; a workspace nests about 6 levels


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


MAX_INT_DIGITS = 100


def _int(token: str) -> int:
    # Python converts a 4,300-digit integer in time quadratic in its length: a file of
    # them took 0.9 s; of 100-digit ones, 0.13 s. Up to that, the field's own check names
    # it (a workspace's integers are steps, seeds and limits).
    if len(token) > MAX_INT_DIGITS:
        raise _BadNumber(token, f"has too many digits ({len(token)})",
                         "no setting needs a number this long")
    return int(token)


def _decode(raw: bytes, where: str) -> str:
    body = raw[len(codecs.BOM_UTF8):] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        line = body.count(b"\n", 0, err.start) + 1
        col = err.start - body.rfind(b"\n", 0, err.start)
        raise StudioError("io", f"the file is not UTF-8 text (byte 0x{body[err.start]:02x})",
                          where, line, col, f"a workspace is UTF-8 JSON; {OPEN_HINT}") from None
