""""did you mean torch.tensor?" for a misspelled attribute or name.

Python 3.11 puts no suggestion in an AttributeError's or NameError's text (3.12 adds
one to the printed traceback only), and the text is all the app shows. The names to
compare with come from objects the user's code made or imported, which may be
hostile: ``__dir__`` may raise, never end or return millions of entries, and a
"name" may be a ``str`` subclass with its own ``__eq__``. So only a bounded number
of plain ``str`` entries is read, anything raised gives no suggestion, and nothing
the user wrote is evaluated again (the prefix is taken from the line's text).
"""

from __future__ import annotations

import difflib
import itertools
import linecache
import re
from types import TracebackType
from typing import Any, Iterable

MAX_NAMES = 5_000  # torch has ~1,500; past this the listing is not a namespace a user reads
MAX_NAME_LENGTH = 80


def suggestion(err: BaseException, where: str, line: int) -> str:
    """The hint for ``err`` ("did you mean torch.tensor?"), or "" when none is close."""
    try:
        if isinstance(err, AttributeError):
            return _for_attribute(err, where, line)
        if isinstance(err, NameError):
            return _for_name(err)
    except Exception:  # noqa: BLE001 - a hint is never worth a second failure
        return ""
    return ""


def closest(name: str, candidates: Iterable[Any], limit: int = MAX_NAMES) -> str | None:
    """The candidate closest to ``name`` (difflib's ratio >= 0.6), among the first
    ``limit`` candidates, plain strings only."""
    names = [c for c in itertools.islice(candidates, limit)
             if type(c) is str and c != name and len(c) <= MAX_NAME_LENGTH]
    found = difflib.get_close_matches(name, names, n=1)
    return found[0] if found else None


def _plain_name(value: Any) -> str | None:
    return value if type(value) is str and value.isidentifier() and len(value) <= MAX_NAME_LENGTH \
        else None


def _for_attribute(err: AttributeError, where: str, line: int) -> str:
    name, obj = _plain_name(getattr(err, "name", None)), getattr(err, "obj", None)
    if name is None or obj is None:
        return ""
    match = closest(name, _listing(obj))
    if match is None:
        return ""
    prefix = _written_before(linecache.getline(where, line) if line else "", name)
    return f"did you mean {prefix}.{match}?" if prefix else f"did you mean '{match}'?"


def _listing(obj: Any) -> Iterable[Any]:
    """``dir(obj)`` without sorting (an endless or huge ``__dir__`` is cut off by the
    caller's islice, not listed whole)."""
    listing = type(obj).__dir__(obj)
    return iter(listing)


def _written_before(source: str, name: str) -> str:
    """What the line writes before ``.name`` (``torch``, ``nn.functional``, ``self.fc``)."""
    found = re.findall(rf"([A-Za-z_][\w.]*)\s*\.\s*{re.escape(name)}\b", source[:2000])
    return found[-1] if found and len(found[-1]) <= MAX_NAME_LENGTH else ""


def _for_name(err: NameError) -> str:
    name = _plain_name(getattr(err, "name", None))
    frame = _innermost_frame(err.__traceback__)
    if name is None or frame is None:
        return ""
    scopes = (frame.f_locals, frame.f_globals, frame.f_builtins)
    names = itertools.chain.from_iterable(itertools.islice(iter(scope), MAX_NAMES) for scope in scopes)
    match = closest(name, names, limit=len(scopes) * MAX_NAMES)
    return f"did you mean {match}?" if match else ""


def _innermost_frame(tb: TracebackType | None) -> Any:
    frame = None
    while tb is not None:
        frame, tb = tb.tb_frame, tb.tb_next
    return frame
