"""How the parent reads the worker's messages: multiprocessing's framing, read by a
deadline, and the header caps each kind of message is decoded within. (The names are
imported from ``viz.isolation.worker`` too.)"""

from __future__ import annotations

import os
import socket
import struct
from multiprocessing.connection import Connection
from typing import Any

from viz import limits

# Headers by kind of message (bytes, values, lists): "ready" and its like are a few
# fields; progress carries at most the run's output cap (1 MB of text, 12 bytes a
# character escaped) and its losses, a list a piece of output: a run keeps 10,000 apart
# (viz.engine.output.MAX_OUTPUT_CHUNKS). Frames of 2 million nested lists each held the
# GIL half a second apiece (red team 72).
SMALL_HEADER = (1 << 20, 10_000, 10_000)
PROGRESS_HEADER = (24 << 20, 500_000, 32_768)
# A progress message is its header and a few bytes (no arrays): read whole, a bigger one
# (up to a reply's 256 MB) cost the parent its memory at every frame.
MAX_PROGRESS_BYTES = PROGRESS_HEADER[0] + (64 << 10)


def reply_nodes(request: Any) -> int:
    """The nodes a final reply to ``request`` may hold: its node limit counts op nodes,
    and outputs and leaves come on top."""
    limit = getattr(request, "max_nodes", None)
    return 2 * limit + 16 if isinstance(limit, int) else 2 * limits.MAX_NODES.default + 16


def header_caps(tag: bytes, request: Any) -> tuple[int, int, int]:
    """(header bytes, values, lists) a message with ``tag`` may have, for ``request``: a
    final reply in proportion to the graph the request allows."""
    from viz import wire

    if tag == b"R":
        if getattr(request, "small_reply", False):  # a few fields (a why-None answer, the devices)
            return SMALL_HEADER
        nodes = reply_nodes(request)
        return wire.MAX_HEADER_BYTES, wire.values_for(nodes), wire.lists_for(nodes)
    return PROGRESS_HEADER if tag == b"P" else SMALL_HEADER


# Arrays a message may carry (how many, bytes in all): a final reply's graphs have about
# two a node and at most MAX_TRACE_ARRAY_BYTES of numbers (viz.engine.array_budget), its
# columns (indexes, statistics, edge ends, routes) 276-337 bytes a node (red team 125),
# and a margin; other messages carry none worth the name. Checked before any is made: a
# 256 MB reply naming one 256 MB array, or 640,000 tiny ones, cost the window 2-4 times
# the largest honest trace (red team 123).
ARRAYS_PER_NODE, ARRAY_BYTES_PER_NODE, ARRAY_BYTES_MARGIN = 4, 512, 32 << 20
SMALL_ARRAYS = (64, 1 << 20)


def array_caps(tag: bytes, request: Any) -> tuple[int, int]:
    """(arrays, bytes of arrays) a message with ``tag`` may carry, for ``request``."""
    from viz.engine.array_budget import MAX_TRACE_ARRAY_BYTES

    if tag == b"R" and not getattr(request, "small_reply", False):
        nodes = reply_nodes(request)
        return (ARRAYS_PER_NODE * nodes + 10_000,
                MAX_TRACE_ARRAY_BYTES + ARRAY_BYTES_PER_NODE * nodes + ARRAY_BYTES_MARGIN)
    return SMALL_ARRAYS


def read_frame(conn: Connection, deadline: float) -> bytearray:
    """One message's bytes (multiprocessing's framing), read by the deadline: a
    worker that sends half a message cannot make the parent wait past it."""
    from viz import wire
    from viz.isolation.run_process import read_exactly

    def read(count: int) -> bytes:
        data = read_exactly(conn.fileno(), count, deadline)
        if data is None:
            raise EOFError
        return data

    (size,) = struct.unpack("!i", read(4))
    if size == -1:
        (size,) = struct.unpack("!Q", read(8))
    if size < 1 or size > wire.MAX_MESSAGE_BYTES:
        raise ValueError(f"a message of {size:,} bytes, over the limit")
    tag = read(1)
    if tag == b"P" and size > MAX_PROGRESS_BYTES:  # refused before it is read (red team 35's lead)
        raise ValueError(f"a progress message of {size:,} bytes, over the {MAX_PROGRESS_BYTES:,} one may have")
    # Held once as it comes (a bytearray grows in place), not joined from its parts and
    # then again behind its tag: the window held twice a 256 MB frame (red team 121).
    frame = bytearray(tag)
    while len(frame) < size:
        frame += read(min(size - len(frame), 1 << 20))
    return frame


def send_now(conn: Connection, data: bytes) -> bool:
    """Send one small message (multiprocessing's framing) only if the socket takes all
    of it at once; False when it would have to wait (the worker is not reading and
    the buffer is full: red team 65's Esc held the window 9.5 s in ``send_bytes``), or
    took only part of it: the caller then ends the worker, whose framing is broken."""
    frame = struct.pack("!i", len(data)) + data
    try:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
    except OSError:  # not a socket (where multiprocessing pipes are something else)
        return False
    try:
        return sock.send(frame, socket.MSG_DONTWAIT) == len(frame)
    except OSError:  # BlockingIOError among them
        return False
    finally:
        sock.close()
