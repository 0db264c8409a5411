"""In the parent: one message's plain values and arrays (see ``viz.wire``)."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from viz.wire.format import (_DTYPE_BY_NAME, DTYPES, EARLIER_MAGICS, MAGIC, MAX_CONTAINERS, MAX_DEPTH, MAX_ESCAPES,
                             MAX_HEADER_BYTES, MAX_VALUES, OBJECT, MalformedMessage)

# As many as torch and numpy 2 allow (torch's 33-64-dimensional tensors were refused as a
# tampered reply: red team 42); the trace check's cap (viz.isolation.replies.MAX_DIMS) too.
MAX_ARRAY_DIMS = 64

def decode(data: bytes, *, max_header: int = MAX_HEADER_BYTES, max_values: int = MAX_VALUES,
           max_containers: int = MAX_CONTAINERS, max_arrays: int | None = None,
           max_array_bytes: int | None = None) -> Any:
    """The plain value of one message: dicts, lists, str, int, float, bool, None and
    numpy arrays (dataclass objects stay tagged dicts until ``build``). A header over
    ``max_header`` bytes, ``max_values`` values or ``max_containers`` lists (objects
    among them) is refused before it is parsed; more than ``max_arrays`` arrays, or
    arrays of more than ``max_array_bytes`` bytes in all, before any is made."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) < 8 or bytes(data[:4]) != MAGIC:
        if isinstance(data, (bytes, bytearray, memoryview)) and bytes(data[:4]) in EARLIER_MAGICS:
            raise MalformedMessage("written by an earlier version of the app: write it again with this one")
        raise MalformedMessage("not a message of this app")
    view = memoryview(data)
    (length,) = struct.unpack("<I", view[4:8])
    if length > max_header:
        raise MalformedMessage("the message's header is over its size limit")
    if 8 + length > len(view):
        raise MalformedMessage("the message is shorter than its header says")
    text = bytes(view[8:8 + length])
    if not text.isascii():  # the encoder escapes every other character: one raw one made the
        raise MalformedMessage("the message's header is not ASCII")  # 96 MB header 4 bytes a character (red team 74)
    if b"{" in text:  # an object: parsed in one C call (see viz.wire.format.OBJECT)
        raise MalformedMessage("the message's header holds a JSON object")
    if any(space in text for space in (b" ", b"\n", b"\t", b"\r")):  # the encoder writes none (red team 76)
        raise MalformedMessage("the message's header holds whitespace")
    if text.count(b"[") > max_containers:
        raise MalformedMessage("the message's header holds more lists than a trace has")
    if text.count(b",") + text.count(b":") > max_values:  # a comma in a string counts too: never fewer
        raise MalformedMessage("the message's header holds more values than a trace has")
    if text.count(b"\\") > MAX_ESCAPES:
        raise MalformedMessage("the message's header holds more escaped characters than a trace has")
    from viz.engine.collect import rare_collections

    try:
        with rare_collections():  # a header of a big graph is a million objects, none garbage
            header = json.loads(text.decode("ascii"), parse_int=_count, parse_float=_float)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise MalformedMessage(f"the message's header is not JSON ({type(err).__name__})") from None
    if (type(header) is not list or len(header) != 5 or header[0] != OBJECT or header[1] != "value"
            or header[3] != "arrays" or type(header[4]) is not list):
        raise MalformedMessage("the message's header has the wrong fields")
    header = {"value": header[2], "arrays": header[4]}
    if max_arrays is not None and len(header["arrays"]) > max_arrays:  # each made costs ~750 bytes (red team 123)
        raise MalformedMessage("the message holds more arrays than its reply may")
    body = view[8 + length:]
    try:
        with rare_collections():
            # Checked as numbers first; each array is made, and copied out of the message,
            # only when the value names it: a reply of one unnamed 256 MB array, or of
            # 640,000 tiny ones, cost the window 2-4 times an honest one (red teams 121, 123).
            arrays, offset = [], 0
            for entry in header["arrays"]:  # each array's bytes follow the last one's, as encode lays them
                arrays.append(_array(entry, body, offset))
                offset += arrays[-1][3]
                if max_array_bytes is not None and offset > max_array_bytes:
                    raise MalformedMessage("the message's arrays are larger than its reply may carry")
            value, uses = header["value"], [0] * len(arrays)
            value = _resolve(value, arrays, 0, uses) if type(value) is list else value
            named = sum(use * _nbytes(array) for use, array in zip(uses, arrays))
            if named > REFERENCED_BYTES_PER_BODY_BYTE * len(body) + SHARED_BYTES:
                raise MalformedMessage("the message names its arrays more often than a trace shares them")
            return value
    except MalformedMessage:
        raise
    except Exception as err:  # noqa: BLE001 - sizes that overflow, shapes numpy refuses...
        raise MalformedMessage(f"the message's arrays are malformed ({type(err).__name__})") from None


# A float as the encoder writes it (its repr: at most 24 characters, "-2.2250738585072014e-308").
# Forty-digit ones near the smallest doubles cost Python 10 times a short one's conversion:
# a 96 MB header of them, one C call holding the GIL, froze the window 3-4 s (red team 67).
# Through this hook the conversion also lets other threads run between numbers.
MAX_FLOAT_CHARS = 25


def _float(token: str) -> float:
    if len(token) > MAX_FLOAT_CHARS:
        raise ValueError(f"a number of {len(token):,} characters, longer than the app writes")
    return float(token)


# The wire's integers are counts, positions and seeds: 64 bits, at most 20 digits and a
# sign. Python converts 4,300-digit ones in time quadratic in their length: a 96 MB header
# of them held the GIL, so the window, ~2 s (red team 52).
MAX_INT_CHARS = 21


def _count(token: str) -> int:
    if len(token) > MAX_INT_CHARS:
        raise ValueError("an integer longer than the wire's")
    return int(token)


def _nbytes(array: Any) -> int:
    return array.nbytes if isinstance(array, np.ndarray) else array[3]


def _array(entry: Any, body: memoryview, expected_offset: int) -> tuple[memoryview, np.dtype, list[int], int, int]:
    """An array's entry, checked: (the body, its dtype, shape, byte count, offset)."""
    if type(entry) is not list or len(entry) != 4:
        raise MalformedMessage("an array entry has the wrong form")
    dtype, shape, offset, nbytes = entry
    if type(dtype) is not str or dtype not in DTYPES:
        raise MalformedMessage(f"an array has a dtype this app does not accept: {str(dtype)[:40]!r}")
    if (type(shape) is not list or len(shape) > MAX_ARRAY_DIMS or any(type(s) is not int or s < 0 for s in shape)
            or type(offset) is not int or type(nbytes) is not int or offset < 0 or nbytes < 0):
        raise MalformedMessage("an array has a bad shape or byte range")
    kind = _DTYPE_BY_NAME[dtype]
    count = 1
    for s in shape:
        count *= s
    if count * kind.itemsize != nbytes or offset + nbytes > len(body):
        raise MalformedMessage("an array's bytes do not match its shape")
    if offset != expected_offset:  # one byte range read many times would cost many copies
        raise MalformedMessage("the message's arrays overlap or leave gaps")
    return body, kind, shape, nbytes, offset


# An array may be named more than once (the engine shares a gradient between an edge
# and an event), but each name is a copy's worth of memory to whoever keeps it: a 16 MB
# file naming one array 800 times took the window to 6.3 GB (red team 14).
REFERENCED_BYTES_PER_BODY_BYTE = 4
SHARED_BYTES = 64 << 20


def _resolve(value: list[Any], arrays: list[np.ndarray], depth: int, uses: list[int]) -> Any:
    """``value`` (a list as json.loads made it) as the dict it stands for
    (``[OBJECT, key, value...]``), its array references replaced by the arrays and
    escaped keys unescaped; other lists in place, their escaped first item unescaped."""
    if depth > MAX_DEPTH:
        raise MalformedMessage("the message is nested too deeply")
    deeper = depth + 1
    first = value[0] if value else None
    if type(first) is str and first[:1] == "$" and first != OBJECT:
        if first[:2] != "$$":
            raise MalformedMessage("a list that starts with a marker it cannot have")
        value[0] = first[1:]  # a list whose first string starts with "$", escaped
    if first != OBJECT:
        for i, item in enumerate(value):
            if type(item) is list:
                value[i] = _resolve(item, arrays, deeper, uses)
        return value
    if len(value) % 2 != 1:
        raise MalformedMessage("an object with a key and no value")
    if len(value) == 3 and value[1] == "$a":
        index = value[2]
        if type(index) is not int or not 0 <= index < len(arrays):
            raise MalformedMessage("a bad array reference")
        if not uses[index]:  # made, and copied out of the message, when first named
            body, kind, shape, nbytes, offset = arrays[index]
            arrays[index] = np.frombuffer(body, dtype=kind, count=nbytes // kind.itemsize,
                                          offset=offset).reshape(shape).copy()
        uses[index] += 1
        return arrays[index]
    out = {}
    for at in range(1, len(value), 2):
        key, item = value[at], value[at + 1]
        if type(key) is not str or key == "$a":
            raise MalformedMessage("an object's key is not a name" if type(key) is not str else "a bad array reference")
        if key[:2] == "$$":
            key = key[1:]
        if key in out:  # json.loads kept the last: the checks saw one value, the parse paid for all (red team 72)
            raise MalformedMessage("an object names a key twice")
        out[key] = _resolve(item, arrays, deeper, uses) if type(item) is list else item
    return out
