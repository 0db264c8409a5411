"""Red team 22: what a run sends back costs the parent in proportion to what was asked.

Each case held the window or the CLI: a forged trace whose code was 4 MB of ``x=1``
(the parent parses a trace's code for names: 2.5 GB, 10 s); a 96 MB header of short
strings sent as progress (4.6 GB before any field was read); an exception message of
60 MB from plain code (the Output panel froze 6 s); 96,000 POSIX timers that left the
user's other programs no queued signals; 4 million epoll watches (820 MB of kernel
memory no limit counts); code 5,000 attributes deep that made the debugger say
"internal error" and What-if raise on the GUI thread.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.viz.test_forged_traces import fresh
from viz import wire
from viz.engine.value_names import assigned_names as _assigned_names
from viz.debugger.whatif import parse_value, with_leaf_values
from viz.engine.engine import trace_code
from viz.errors import MAX_PART_CHARS, StudioError
from viz.isolation.frames import PROGRESS_HEADER, SMALL_HEADER, header_caps
from viz.isolation.worker import TraceRequest, Worker

DEEP = "x = torch.ones(1, requires_grad=True)\ny = x" + ".T" * 4990 + "\n"


def _header(values: int) -> bytes:
    header = b'["$o","value",["$o","status","progress","j",[' + b'"ab",' * values + b'"ab"]],"arrays",[]]'
    return wire.MAGIC + struct.pack("<I", len(header)) + header


def test_a_trace_of_other_code_than_the_request_is_malformed(tmp_path: Path) -> None:
    from tests.viz.test_confinement import _forge

    trace = fresh()
    trace.code = "x=1\n" * 1000
    with Worker() as worker:
        error = _forge(worker, wire.encode({"status": "ok", "result": trace}), {}, tmp_path)
    assert "malformed reply (a trace of other code than the request's)" in error


def test_a_header_of_short_strings_is_counted_before_it_is_parsed() -> None:
    with pytest.raises(wire.MalformedMessage, match="more values"):
        wire.decode(_header(wire.MAX_VALUES))
    assert wire.decode(_header(10))["j"] == ["ab"] * 11
    with pytest.raises(wire.MalformedMessage, match="more values"):
        wire.decode(_header(11), max_values=10)
    with pytest.raises(wire.MalformedMessage, match="size limit"):
        wire.decode(_header(1000), max_header=1000)


def test_each_kind_of_message_has_caps_of_its_own_and_a_trace_fits_its_requests() -> None:
    assert header_caps(b"P", TraceRequest("x = 1")) == PROGRESS_HEADER
    assert header_caps(b"W", TraceRequest("x = 1")) == SMALL_HEADER
    assert header_caps(b"R", TraceRequest("x = 1", max_nodes=100)) == (wire.MAX_HEADER_BYTES, wire.values_for(216),
                                                                     wire.lists_for(216))
    # An RNN at its node limit, as the worker encodes it: inside the caps its request gives.
    code = ("W = torch.randn(8, 8, requires_grad=True)\nh = torch.zeros(8)\nfor t in range(500):\n"
            "    h = torch.tanh(W @ h + 0.1)\nloss = h.sum()\nloss.backward()\n")
    trace = trace_code(code)
    nodes = trace.graph.number_of_nodes()
    data = wire.encode({"status": "ok", "result": trace})
    max_header, max_values, max_lists = header_caps(b"R", TraceRequest(code, max_nodes=nodes))
    assert wire.decode(data, max_header=max_header, max_values=max_values, max_containers=max_lists)["status"] == "ok"
    (length,) = struct.unpack("<I", data[4:8])
    text = data[8:8 + length]
    assert text.count(b",") + text.count(b":") < max_values / 2  # room to spare, not a near miss
    assert text.count(b"[") < max_lists * 0.75


def test_a_huge_exception_message_is_cut_where_it_is_made() -> None:
    error = StudioError("runtime", "ValueError: " + "A" * 5_000_000, hint="h" * 20_000)
    assert len(error.what) < MAX_PART_CHARS + 40 and error.what.endswith("(5,000,012 characters in all)")
    assert len(error.hint) < MAX_PART_CHARS + 40 and len(error.one_line()) < 3 * MAX_PART_CHARS
    with pytest.raises(StudioError) as raised:
        trace_code("x = torch.ones(1, requires_grad=True)\nraise ValueError('A' * 3_000_000)\n", "big.py")
    assert raised.value.line == 2 and raised.value.what.startswith("ValueError: AAAA")
    assert raised.value.what.endswith("(3,000,012 characters in all)")


def test_code_too_deep_to_parse_again_is_a_message_not_an_internal_error() -> None:
    assert _assigned_names(DEEP) == {}  # the timeline names nothing rather than fail
    assert _assigned_names("a = 1\0\n") == {}
    with pytest.raises(StudioError, match="cannot be read again"):
        with_leaf_values(DEEP, {"x": 1.0})
    with pytest.raises(StudioError, match="is not a number"):
        parse_value("[" * 5000 + "]" * 5000)  # typed in the Inspector's value box


def test_the_run_gets_few_queued_signals_and_descriptors(tmp_path: Path) -> None:
    code = ("import resource\n"
            "print(resource.getrlimit(resource.RLIMIT_SIGPENDING), resource.getrlimit(resource.RLIMIT_NOFILE))\n"
            "x = torch.ones(1, requires_grad=True)\n")
    with Worker() as worker:
        trace = worker.run(TraceRequest(code, "limits.py"))
    printed = "".join(chunk["text"] for chunk in trace.output)
    assert printed.startswith("(256, 256) ")
    assert all(int(n) <= 1024 for n in printed.split(") (")[1].rstrip(")\n").split(", "))


def test_a_lone_surrogate_in_a_module_name_is_replaced_and_the_lesson_page_written(tmp_path: Path) -> None:
    from viz.teaching.html_export import write_lesson

    code = ("m = torch.nn.Sequential()\nm.add_module('a\\ud800b', torch.nn.Linear(2, 2))\n"
            "x = torch.ones(2, requires_grad=True)\ny = m(x).sum()\n")
    trace = trace_code(code, "names.py")
    # Replaced as a module path's is: a node's name is one printable line (red team 34).
    assert any("a\ufffdb" in str(data.get("name")) for _, data in trace.graph.nodes(data=True))
    assert not any("\ud800" in str(data.get("name")) for _, data in trace.graph.nodes(data=True))
    page = tmp_path / "lesson.html"
    write_lesson(trace, page)  # the plain code forged nothing: no "tampered" error
    text = page.read_text(encoding="utf-8")
    assert "\ud800" not in text and "a\ufffdb" in text


def test_a_trace_file_of_short_strings_is_refused_by_its_count(tmp_path: Path) -> None:
    """Red team 23: a 60 MB .agtrace of short strings took the window 1 GB and 1.9 s
    before it was refused; a trace file's values are counted as a reply's are."""
    from viz.io.trace_file import MAX_NODES, read_trace_file

    path = tmp_path / "strings.agtrace"
    path.write_bytes(_header(wire.values_for(MAX_NODES) + 1))
    with pytest.raises(StudioError, match="more values"):
        read_trace_file(path)


@pytest.mark.parametrize("forge", ["where", "notes", "device", "timings", "long_note"])
def test_a_traces_words_beside_its_graph_are_what_the_engine_writes(forge: str) -> None:
    """Red team 23: a forged reply with the request's own code but a 90-million
    character ``where`` (650 MB) or 2,000 notes (2,000 lines on the CLI) passed."""
    from viz.isolation.replies import check_trace

    trace = fresh()
    check_trace(trace)  # the engine's own passes
    if forge == "where":
        trace.where = "w" * 10_000
    elif forge == "notes":
        trace.notes = ["note"] * 2000
    elif forge == "long_note":
        trace.notes = ["n" * 5000]
    elif forge == "device":
        trace.device = "cuda" * 100
    else:
        trace.timings = {f"t{i}": 1.0 for i in range(100)}
    with pytest.raises(wire.MalformedMessage):
        check_trace(trace)


def test_the_run_gets_no_real_time_priority_whatever_the_user_may(tmp_path: Path) -> None:
    """Red team 48: a user whose limits grant real-time scheduling (an audio group's)
    would let a run spin at real-time priority and starve the window. Raised here (as
    a privileged user can) before the worker starts, the run still has none."""
    import resource

    limits = {name: resource.getrlimit(getattr(resource, name)) for name in ("RLIMIT_RTPRIO", "RLIMIT_NICE")}
    try:
        for name in limits:
            try:
                resource.setrlimit(getattr(resource, name), (10, 10))
            except (ValueError, OSError):
                pass  # an unprivileged user keeps 0: the run then inherits none anyway
        code = ("import resource, os\n"
                "print(resource.getrlimit(resource.RLIMIT_RTPRIO), resource.getrlimit(resource.RLIMIT_NICE))\n"
                "try:\n"
                "    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(5))\n"
                "    print('real-time')\n"
                "except OSError as err:\n"
                "    print('refused', err.errno)\n"
                "x = torch.ones(1, requires_grad=True)\n")
        with Worker() as worker:
            trace = worker.run(TraceRequest(code, "priority.py"))
    finally:
        for name, limit in limits.items():
            resource.setrlimit(getattr(resource, name), limit)
    printed = "".join(chunk["text"] for chunk in trace.output)
    assert printed.splitlines() == ["(0, 0) (0, 0)", "refused 1"]


def test_the_seal_lowers_real_time_and_priority_limits_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the test above proves only where the user's limits can be raised (not in
    every container): the seal asks the kernel for no real-time priority and no higher
    priority, hard limits, whatever they were."""
    import resource

    from viz.isolation import confine

    asked: dict[int, tuple[int, int]] = {}
    monkeypatch.setattr(resource, "setrlimit", lambda which, limits: asked.__setitem__(which, limits))
    confine._set_limits(None, 1 << 20)
    assert asked[resource.RLIMIT_RTPRIO] == (0, 0) and asked[resource.RLIMIT_NICE] == (0, 0)
