"""What a reply costs the parent's memory is what it carries, once (red team 121): code
wrote a reply frame of 256 MB, one array nothing names, and the window peaked at twice
that (+504-514 MB against +242-245 for the largest honest trace): the frame was joined
from its parts and copied again behind its tag, and every array was copied out of it,
named or not. A frame is now held once as it comes, and an array is copied out only
when the reply names it."""

from __future__ import annotations

import threading
import time
import tracemalloc
from multiprocessing import Pipe

import numpy as np

from tests.viz.wire_forge import header_of, message
from viz import wire
from viz.isolation.frames import read_frame

MB = 1 << 20


def _peak(call) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_array_the_reply_does_not_name_is_never_copied() -> None:
    named, unnamed = np.arange(1000, dtype=np.float32), np.ones(32 * MB // 4, dtype=np.float32)
    header, body = header_of(wire.encode({"values": named, "spare": unnamed}))
    header["value"] = {"values": header["value"]["values"]}  # the big one named by nothing
    data = bytearray(message(header, body))
    value, peak = _peak(lambda: wire.decode(memoryview(data)))
    assert peak < 4 * MB, f"{peak / MB:.1f} MB held to decode a reply naming 4 KB"
    assert np.array_equal(value["values"], named) and value["values"].flags.owndata
    data[-1] ^= 0xFF  # the message's bytes are not the reply's
    assert np.array_equal(value["values"], named)


def test_a_frame_is_held_once_as_it_is_read() -> None:
    size = 48 * MB
    reader, writer = Pipe(duplex=False)
    payload = b"R" + bytes(size - 1)
    sender = threading.Thread(target=lambda: writer.send_bytes(payload), daemon=True)
    sender.start()
    try:
        frame, peak = _peak(lambda: read_frame(reader, time.monotonic() + 60))
    finally:
        reader.close()
        sender.join()
    assert len(frame) == size and frame[:1] == b"R"
    assert peak < 1.3 * size, f"{peak / size:.2f} times the frame held to read it"


def test_arrays_past_what_a_reply_carries_are_refused_before_any_is_made() -> None:
    """Red team 123: a 256 MB reply naming its one 256 MB array still cost a copy (the
    window at twice the largest honest trace), and 640,000 one-byte arrays cost ~750
    bytes each before anything was checked (3 times an honest trace of that size)."""
    from viz.isolation.frames import array_caps
    from viz.isolation.requests import TraceRequest

    most, most_bytes = array_caps(b"R", TraceRequest("x = 1"))
    big = np.ones((most_bytes + MB) // 4, dtype=np.float32)
    data = bytearray(wire.encode({"values": big}))
    try:
        _, peak = _peak(lambda: wire.decode(memoryview(data), max_arrays=most, max_array_bytes=most_bytes))
    except wire.MalformedMessage as err:
        assert "larger than its reply may carry" in str(err)
    else:
        raise AssertionError("a reply of more array bytes than a trace carries was read")
    del data, big
    many = [np.zeros(1, dtype=np.uint8) for _ in range(most + 1)]
    data = bytearray(wire.encode({"values": many}))
    try:
        wire.decode(memoryview(data), max_arrays=most, max_array_bytes=most_bytes)
    except wire.MalformedMessage as err:
        assert "more arrays than its reply may" in str(err)
    else:
        raise AssertionError("a reply of more arrays than a trace has was read")
    header, body = header_of(bytes(data))
    header["value"] = {"values": []}  # none named: checked as numbers, none made
    unnamed = bytearray(message(header, body))
    _, peak = _peak(lambda: wire.decode(memoryview(unnamed)))
    assert peak < 450 * len(many), f"{peak / len(many):.0f} bytes held an array nothing names"


def test_an_honest_trace_reads_within_its_caps() -> None:
    from viz.engine.engine import trace_code
    from viz.isolation.frames import array_caps
    from viz.isolation.requests import TraceRequest

    trace = trace_code("x = torch.randn(64, 64, requires_grad=True)\ny = (x @ x).tanh().sum()\n")
    data = wire.encode({"status": "ok", "trace": trace})
    most, most_bytes = array_caps(b"R", TraceRequest("x"))
    value = wire.decode(data, max_arrays=most, max_array_bytes=most_bytes)
    assert value["status"] == "ok"
