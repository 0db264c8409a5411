"""Where in a JSON file someone sent the parser stopped: line and column, found in time
in proportion to the file's size.

``json.loads`` says where bad syntax is, but not where a number it handed to a hook
was refused (NaN, 1e400, a number of a million digits) nor where it ran out of stack.
Those are found here, outside the file's strings (a search for a number or a bracket
must not land inside the user's code). The strings are found on the UTF-8 bytes (the
brackets and quotes of JSON are ASCII, and no byte of a multi-byte character is), then
blanked, so each later search runs in C.

Costs seen before (red teams 46 and 52): a regular expression of the token (a number of
52 million digits) took 5.4 GB; a string left open, made of ``\\"`` pairs, made every
quote a new start of the string search: 60 KB took 12 s, 2 MB hours.
"""

from __future__ import annotations

import re

import numpy as np

# A JSON string, or one left open to the end of the file: a match never fails, so the
# search never starts again inside a string. Each escape is one repeat on the regular
# expression's stack; past these counts a place is not worth its cost (the message
# still says what is wrong).
_STRING = re.compile(rb'"[^"\\]*(?:\\[\s\S][^"\\]*)*(?:"|\\?\Z)')
MAX_QUOTES = 200_000
MAX_ESCAPES = 200_000
_WORD_END = re.compile(rb"[^A-Za-z0-9_.+\-]")  # where a number or a name stops
_CHUNK = 1 << 20  # bytes whose bracket depths are summed at once
NOWHERE = (0, 0)


def blanked(data: bytes) -> bytes | None:
    """``data`` with every string (quotes included) blanked to spaces; None when it holds
    more strings or escapes than are found in little time."""
    if data.count(b'"') > MAX_QUOTES or data.count(b"\\") > MAX_ESCAPES:
        return None
    pieces, end = [], 0
    for found in _STRING.finditer(data):
        start = found.start()
        pieces += (data[end:start], b" " * (found.end() - start))
        end = found.end()
    pieces.append(data[end:])
    return b"".join(pieces)


def place(data: bytes, index: int) -> tuple[int, int]:
    """Line and column (in characters, both from 1) of byte ``index``."""
    start = data.rfind(b"\n", 0, index) + 1
    return data.count(b"\n", 0, index) + 1, len(data[start:index].decode("utf-8", "replace")) + 1


def token_place(text: str, token: str) -> tuple[int, int]:
    """Where the first ``token`` stands outside strings as a whole token (not inside a
    longer number or name): the parser reads left to right, so that is the one it
    refused. (0, 0) when it is not found."""
    data = text.encode("utf-8", "surrogatepass")
    masked = blanked(data)
    if masked is None:
        return NOWHERE
    wanted = token.encode("utf-8", "surrogatepass")
    index = masked.find(wanted)
    while index >= 0:
        end = index + len(wanted)
        before = masked[index - 1:index] if index else b" "
        after = masked[end:end + 1] or b" "
        if not (before.isalnum() or before in b"_.+-") and not (after.isalnum() or after in b"_."):
            return place(data, index)
        # Inside a longer number or name: on from its end, not from the next byte (a
        # 10,000-digit token sought through a million-digit float: every byte a start,
        # 17 s; red team 54).
        word_end = _WORD_END.search(masked, index + 1)
        index = masked.find(wanted, word_end.start() if word_end else len(masked))
    return NOWHERE


def depth_place(text: str, levels: int) -> tuple[int, int]:
    """Where brackets outside strings first nest more than ``levels`` deep; (0, 0) when
    they never do."""
    data = text.encode("utf-8", "surrogatepass")
    masked = blanked(data)
    if masked is None:
        return NOWHERE
    codes = np.frombuffer(masked, dtype=np.uint8)
    depth = 0
    for start in range(0, len(codes), _CHUNK):
        part = codes[start:start + _CHUNK]
        step = (part == ord("[")).astype(np.int32) + (part == ord("{")) - (part == ord("]")) - (part == ord("}"))
        running = np.cumsum(step) + depth
        over = np.flatnonzero(running > levels)
        if len(over):
            return place(data, start + int(over[0]))
        depth = int(running[-1])
    return NOWHERE
