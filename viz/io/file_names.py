"""What a file's name in a workspace may hold.

A workspace names the file its code came from ("where"); the window shows that name in
its title, prompts and Lesson pages. A sent workspace may not name one holding controls,
line and paragraph separators, lone surrogates or the bidi overrides and isolates
(viz.errors.refuse_reordering); spaces and joiners are names' own ("lesson\u00a01.py", an
emoji of several: red team 53 lost a recovery over them).
"""

from __future__ import annotations

import re

MAX_NAME_CHARS = 4096  # a path, at most PATH_MAX
_NOT_IN_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def sendable_name(name: str) -> bool:
    """Whether a workspace someone sent may name ``name`` as its code's file."""
    return _NOT_IN_NAMES.search(name) is None


def name_to_send(name: str) -> str:
    """``name`` as a workspace to be opened elsewhere may hold it: what sendable_name
    refuses replaced by U+FFFD (a lesson named "lesson\u202egnp.py" saved a workspace that
    never opened again: red team 55)."""
    return _NOT_IN_NAMES.sub("\ufffd", name)[:MAX_NAME_CHARS]
