"""The wire format's constants and its one error (see ``viz.wire``)."""

from __future__ import annotations

import numpy as np

MAGIC = b"AGS3"
# The same, with JSON objects in its header (AGS1, before red team 69), or raw spaces (AGS2).
EARLIER_MAGICS = (b"AGS1", b"AGS2")
# The header holds no JSON object: a dict is the list ``[OBJECT, key, value, key, value...]``
# and a "{" inside a string is written "\\u007b", so one in the header's bytes refuses it
# before it is parsed. json.loads builds an object's keys in one C call, memoised and
# hashed: 1.33 million distinct keys held the GIL, so the window, ~1 s (red team 69);
# as list items the same strings take a tenth of it, and the dict is built a step at a
# time in Python (``decode._resolve``), where other threads get their turns. Nor does
# it hold whitespace: json.dumps escapes the rest, and a space in a string is written
# "\\u0020"; progress frames padded with 24 MB of it passed every check and cost the
# window a core for as long as the run went on (red team 76).
OBJECT = "$o"
MAX_MESSAGE_BYTES = 256 << 20  # a 20,000-node trace with its values is a few tens of MB
MAX_HEADER_BYTES = 96 << 20  # the JSON part (numbers travel as raw arrays): 20,000 long names fit
MAX_DEPTH = 64
# Lists and objects in a header: a 20,000-node trace has a few hundred thousand, and
# each costs the reader ~60 bytes; a header of nothing but "[[]]," would cost 30x its size.
MAX_CONTAINERS = 2_000_000
# Values of any kind (counted by their separators, "," and ":", before parsing): a string
# "ab" costs the reader ~70 bytes for its 5, so 96 MB of them took 4.6 GB. A trace has
# about 50-70 per node (``values_for``); a 200,000-node graph fits the default.
MAX_VALUES = 12_000_000
VALUES_PER_NODE = 64
# Escapes (backslashes) in a header: json.loads decodes a string's escapes at 6.5 ns a
# byte, plain text at 2.5, in one C call: 2.6 million strings of "\\n\\n..." (93 MB)
# froze the window 0.7-1.2 s (red team 95; an honest 18,000-node trace 0.2-0.35 s). A
# trace's labels have next to none (0-0.2 a node); its text has the rest: the code (512
# KB), the output (1 MB) and the notes, each character at most a surrogate pair's two.
# At this cap the most escapes cost 0.14 s (37 MB of "\\ud83d\\ude00").
MAX_ESCAPES = 6_000_000
DTYPES = frozenset({"bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
                    "float16", "float32", "float64", "complex64", "complex128"})
_DTYPE_BY_NAME = {name: np.dtype(name) for name in DTYPES}  # native byte order
_NAME_BY_DTYPE = {dtype: name for name, dtype in _DTYPE_BY_NAME.items()}


def values_for(nodes: int) -> int:
    """The values a reply whose graphs hold at most ``nodes`` nodes may have."""
    return VALUES_PER_NODE * nodes + 100_000  # and a small graph's fixed part (its code, notes, timings)


# Lists (objects among them) a trace has: 20-25 a node (a 6,003-node RNN: 21.4), and a
# small graph's fixed part of ~300. A reply of 2 million empty lists nested 900 deep,
# within the values cap, cost the window seconds (red team 74).
LISTS_PER_NODE = 32


def lists_for(nodes: int) -> int:
    """The lists a reply whose graphs hold at most ``nodes`` nodes may have."""
    return min(LISTS_PER_NODE * nodes + 10_000, MAX_CONTAINERS)


class MalformedMessage(Exception):
    """What the worker sent is not a message of the expected form."""
