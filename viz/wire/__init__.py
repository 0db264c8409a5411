"""Data-only messages from a worker: what crosses back is data, never code.

A worker runs code nobody vetted, so the window and the CLI never unpickle what it
sends. A message is JSON (plain values only) followed by raw numeric arrays:

    b"AGS3" | u32 length of the JSON | the JSON, ASCII | the arrays' bytes, end to end

The JSON holds no object: a dict is the list ``["$o", key, value, key, value...]``
and a "{" inside a string is escaped, so a header with a "{" is refused before it is
parsed; so is one with whitespace (the encoder writes none: a space in a string is
escaped too, red team 76) (json.loads builds an object's keys in one C call: 1.33 million distinct ones
held the window ~1 s, red team 69; the same strings as list items take a tenth of
that, and the dicts are built in Python). Below, ``{...}`` stands for that list. An
array is ``{"$a": k}`` (k indexes the header's ``arrays`` table of dtype, shape and
byte range); an object of one of our dataclasses is ``{"$t": "ClassName", field:
value, ...}``; a networkx graph is ``{"$t": "DiGraph", "graph": {...}, "ids": [...],
"nodes": {column: ...}, "u": ..., "v": ..., "edges": {column: ...}}``. A plain dict's
keys that start with ``$`` are escaped with a second ``$``, and so is a list's first
item when it is a string that starts with ``$``.

``decode`` gives plain values and arrays only (``json.loads`` and ``np.frombuffer``
with a dtype from a fixed list). ``build(value, hint)`` then turns them into the
type the parent expects, checking every field against the dataclass's own type
hints: the *parent* names the class, the message only has to match it. Anything
else raises ``MalformedMessage``.
"""

from __future__ import annotations

from viz.wire.build import EDGE_ATTRIBUTES, EDGES_A_NODE, NODE_ATTRIBUTES, build, edge_limit, graph_limit
from viz.wire.decode import decode
from viz.wire.encode import encode
from viz.wire.format import (DTYPES, MAGIC, MAX_CONTAINERS, MAX_DEPTH, MAX_HEADER_BYTES, MAX_MESSAGE_BYTES,
                             MAX_VALUES, MalformedMessage, lists_for, values_for)

__all__ = ["DTYPES", "EDGE_ATTRIBUTES", "EDGES_A_NODE", "MAGIC", "MAX_CONTAINERS", "MAX_DEPTH", "MAX_HEADER_BYTES",
           "MAX_MESSAGE_BYTES", "MAX_VALUES", "NODE_ATTRIBUTES", "MalformedMessage", "build", "decode", "edge_limit",
           "encode", "graph_limit", "lists_for", "values_for"]
