"""The worker process: reused, limited in time and memory, cancellable, replaced when lost."""

from __future__ import annotations

import os
import threading

import pytest

from viz.errors import StudioError
from viz.isolation.worker import TraceRequest, Worker

SMALL = "x = torch.tensor([1.0, 2.0], requires_grad=True)\n(x * x).sum()\n"


@pytest.fixture(scope="module")
def worker():
    with Worker() as w:
        yield w


def test_runs_and_is_reused(worker: Worker) -> None:
    first = worker.run(TraceRequest(SMALL))
    pid = worker.pid
    second = worker.run(TraceRequest(SMALL))
    assert worker.pid == pid
    assert first.node(first.leaf_named("x"))["grad"].tolist() == [2.0, 4.0]
    assert second.graph.number_of_nodes() == first.graph.number_of_nodes()


def test_bad_input_comes_back_as_studio_error(worker: Worker) -> None:
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest("x = 1 +\n", where="f.py"))
    assert info.value.kind == "syntax" and info.value.where == "f.py"


def test_runaway_loop_is_stopped_at_its_line_and_next_run_works(worker: Worker) -> None:
    code = "x = torch.ones(2, requires_grad=True)\nwhile True:\n    x = x + 0\n"
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(code, time_limit_s=0.5))
    assert info.value.kind == "limit" and "0.5 s" in info.value.what
    assert info.value.line in (2, 3)
    assert worker.run(TraceRequest(SMALL)).outputs


def test_loop_that_swallows_the_timer_is_killed_and_replaced(worker: Worker) -> None:
    code = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n"
    pid = worker.pid
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(code, time_limit_s=0.3))
    assert info.value.kind == "limit"
    assert worker.run(TraceRequest(SMALL)).outputs
    assert worker.pid != pid


def test_memory_bomb_is_refused(worker: Worker) -> None:
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest("x = torch.empty(10**11)\n", memory_limit_mb=512))
    assert info.value.kind == "limit" and "512 MB" in info.value.what
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest("x = [0] * 10**10\n", memory_limit_mb=512))
    assert info.value.kind == "limit"
    assert worker.run(TraceRequest(SMALL)).outputs


def test_each_request_gets_its_own_memory_budget(worker: Worker) -> None:
    """The limit is the request's (set on its run process from outside), not the last one's."""
    code = ("x = torch.empty(700 * 2**20 // 4)\n"  # 700 MB of address space, never touched
            "w = torch.ones(2, requires_grad=True)\n(w * 2).sum()\n")
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(code, memory_limit_mb=512))
    assert info.value.kind == "limit" and "512 MB" in info.value.what
    assert worker.run(TraceRequest(code, memory_limit_mb=2048)).outputs
    with pytest.raises(StudioError):
        worker.run(TraceRequest(code, memory_limit_mb=512))


def test_cancel_from_another_thread(worker: Worker) -> None:
    code = "while True:\n    pass\n"
    timer = threading.Timer(0.5, worker.cancel)
    timer.start()
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(code, time_limit_s=30))
    timer.join()
    assert info.value.kind == "cancelled"
    assert worker.run(TraceRequest(SMALL)).outputs


def test_a_cancel_is_tied_to_its_request(worker: Worker) -> None:
    # A cancel that landed before Worker.run took its request was lost (the window
    # retried it every 100 ms); one meant for another request must not stop this one.
    mine, other = threading.Event(), threading.Event()
    mine.set()
    worker.cancel(mine)  # before the run begins: it never does
    pid = worker.pid
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(SMALL), cancelled=mine)
    assert info.value.kind == "cancelled" and worker.pid == pid  # nothing killed: it never ran
    waiting = "import time\nprint('waiting', flush=True)\ntime.sleep(1.0)\nx = torch.ones(2, requires_grad=True)\n" \
              "(x * 2).sum()\n"
    mine = threading.Event()

    def on_progress(news: dict) -> None:  # the run is under way: cancel another's, then its own
        if news["output"] and not other.is_set():
            other.set()
            worker.cancel(other)
    assert worker.run(TraceRequest(waiting), on_progress, cancelled=mine).outputs  # not another's
    started = threading.Event()

    def cancel_mine(news: dict) -> None:
        if news["output"] and not started.is_set():
            started.set()
            mine.set()
            worker.cancel(mine)
    with pytest.raises(StudioError) as info:
        worker.run(TraceRequest(waiting), cancel_mine, cancelled=mine)
    assert info.value.kind == "cancelled"


def test_a_cancel_that_lands_as_the_reply_is_checked_does_not_take_the_next_run(
        worker: Worker, monkeypatch: pytest.MonkeyPatch) -> None:
    # CI: a failure's context run was cancelled (its process killed) as its reply was
    # being checked; the process lived on a moment, the user's next run was sent to it
    # and "died while running the code". A killed process is never given a request.
    from viz.isolation import replies

    check_trace, flag = replies.check_trace, threading.Event()

    def cancelled_while_checked(trace: object) -> None:
        process = worker._process
        kill = process.kill
        # the kill lands, the process dies a moment later (a big run takes a while)
        monkeypatch.setattr(process, "kill", lambda: threading.Timer(0.5, kill).start())
        flag.set()
        worker.cancel(flag)
        check_trace(trace)
    monkeypatch.setattr(replies, "check_trace", cancelled_while_checked)
    pid = worker.pid
    assert worker.run(TraceRequest(SMALL), cancelled=flag).outputs  # it had answered
    monkeypatch.setattr(replies, "check_trace", check_trace)
    # in a fresh process (one that outlasts the killed one's last moment)
    assert worker.run(TraceRequest("import time\ntime.sleep(1.0)\n" + SMALL)).outputs
    assert worker.pid != pid


def test_cancel_while_idle_keeps_the_warm_process(worker: Worker) -> None:
    worker.run(TraceRequest(SMALL))
    pid = worker.pid
    worker.cancel()
    assert worker.run(TraceRequest(SMALL)).outputs
    assert worker.pid == pid


def test_close_leaves_no_process() -> None:
    w = Worker()
    w.run(TraceRequest(SMALL))
    process = w._process
    w.close()
    assert process is not None and not process.is_alive()
    w.close()  # twice is fine
    with pytest.raises(StudioError):
        w.run(TraceRequest(SMALL))


def test_folders_left_by_a_killed_app_are_swept(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """A window killed with SIGKILL cannot remove its worker's scratch folder; the next
    app to start a worker does, and leaves a running app's folder alone."""
    import subprocess
    import sys
    import tempfile

    from viz.isolation import scratch as module

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(ended.stdout)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(module, "_swept", False)
    left = tmp_path / f"{module.SCRATCH_PREFIX}{dead}-abc123"
    (left / "run-3" / "work").mkdir(parents=True)
    (left / "run-3" / "work" / "model.pt").write_bytes(b"x")
    running = tmp_path / f"{module.SCRATCH_PREFIX}{os.getpid()}-def456"
    running.mkdir()
    module.sweep_leftovers()
    assert not left.exists() and running.exists()


def test_runs_back_to_back_leave_a_bounded_number_of_processes(worker: Worker) -> None:
    """Requests with no pause between them are served by the spare run processes;
    the ended ones are reaped as they go, not when the requests stop."""
    from pathlib import Path

    from viz.isolation.worker_process import SPARES

    worker.wait_ready()
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
    most = 0
    for i in range(12):
        trace = worker.run(TraceRequest(f"x = torch.ones(2, requires_grad=True)\n(x * {i}).sum()\n"))
        assert trace.node(trace.outputs[0])["value"] == pytest.approx(2.0 * i)
        most = max(most, len(children.read_text().split()))
    assert most <= 2 * SPARES + 1


def test_a_reply_missing_what_the_window_reads_or_over_the_caps_is_malformed() -> None:
    """Checked in the parent before the window sees a trace: every node attribute it
    reads is there, the output is within the worker's cap."""
    from viz.engine.engine import trace_code
    from viz.engine.output import MAX_OUTPUT_CHARS
    from viz.wire import MalformedMessage
    from viz.isolation.replies import check_chunks, check_graph

    trace = trace_code("x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n")
    check_graph(trace.graph)
    del trace.graph.nodes[trace.outputs[0]]["label"]
    with pytest.raises(MalformedMessage, match="label"):
        check_graph(trace.graph)
    edge = next(iter(trace.graph.edges))
    trace.graph.nodes[trace.outputs[0]]["label"] = "x"
    slots = trace.graph.edges[edge].pop("slots")
    with pytest.raises(MalformedMessage, match="slots"):
        check_graph(trace.graph)
    trace.graph.edges[edge]["slots"] = slots
    del trace.graph.edges[edge]["points"]
    check_graph(trace.graph)  # no layout asked for: no routes
    for route in ([[0.0, 0.0, 1.0], [1.0, 2.0]], [[0.0], [1.0, 2.0]], [[float("nan"), 0.0]]):
        trace.graph.edges[edge]["points"] = route
        with pytest.raises(MalformedMessage, match="route"):
            check_graph(trace.graph)
    chunk = {"stream": "stdout", "line": 1, "text": "x" * (MAX_OUTPUT_CHARS // 2)}
    check_chunks([chunk, chunk])
    with pytest.raises(MalformedMessage, match="over the cap"):
        check_chunks([chunk, chunk, chunk])


def test_a_run_keeps_at_most_its_cap_of_losses(monkeypatch: pytest.MonkeyPatch) -> None:
    from viz.engine import recorder
    from viz.engine.engine import trace_code

    monkeypatch.setattr(recorder, "MAX_LOSSES", 50)  # the cap (100,000) made small, the code the same
    code = "w = torch.ones(1, requires_grad=True)\nfor _ in range(55):\n    (w * 2).sum().backward()\n"
    trace = trace_code(code, layout=False)
    assert len(trace.loss_series) == 50


def test_progress_stays_within_the_caps_however_it_is_sent() -> None:
    from viz.engine.output import MAX_OUTPUT_CHARS
    from viz.isolation.progress import streaming, within_caps

    from viz.wire import MalformedMessage

    streamed = streaming()
    message = {"output": [{"stream": "stdout", "line": 3, "text": "y" * (MAX_OUTPUT_CHARS // 3)}] * 2,
               "losses": [1.0] * 40_000}
    shown = [within_caps(message, streamed) for _ in range(2)]
    shown.append(within_caps({"output": [], "losses": message["losses"]}, streamed))
    assert sum(len(c["text"]) for news in shown for c in news["output"]) == MAX_OUTPUT_CHARS
    assert sum(len(news["losses"]) for news in shown) == 100_000
    # A run sends nothing past its caps: more is a forged flood (red team 74), not news.
    for past in ({"output": message["output"], "losses": []}, {"output": [], "losses": [1.0]}):
        with pytest.raises(MalformedMessage, match="past what a run streams"):
            within_caps(past, streamed)
    assert within_caps({"output": [{"stream": "stdout", "line": 3, "text": ""}], "losses": []}, streamed)


def test_output_in_many_pieces_is_kept_in_a_bounded_number_of_them(worker: Worker) -> None:
    # One character at a time, alternating stdout and stderr: a piece each, 300,000 of
    # them, froze the Output panel. Past the cap the pieces join; no text is lost.
    from viz.engine.output import MAX_OUTPUT_CHUNKS
    from viz.isolation.progress import streaming, within_caps
    from viz.isolation.replies import check_chunks
    from viz.wire import MalformedMessage

    code = ("import sys\nfor i in range(30000):\n    sys.stdout.write('o')\n    sys.stderr.write('e')\n"
            "x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n")
    streamed_pieces: list[int] = []
    trace = worker.run(TraceRequest(code), lambda news: streamed_pieces.append(len(news["output"])))
    assert len(trace.output) <= MAX_OUTPUT_CHUNKS + 1
    assert "".join(c["text"] for c in trace.output).count("o") == 30000
    assert sum(c["text"].count("e") for c in trace.output) == 30000
    assert sum(streamed_pieces) <= MAX_OUTPUT_CHUNKS + len(streamed_pieces)
    streamed = streaming()  # the parent joins what a run sends past the cap
    piece = {"stream": "stdout", "line": None, "text": "z"}
    shown = within_caps({"output": [piece] * (MAX_OUTPUT_CHUNKS + 500), "losses": []}, streamed)
    assert len(shown["output"]) == MAX_OUTPUT_CHUNKS and sum(len(c["text"]) for c in shown["output"]) == 10_500
    with pytest.raises(MalformedMessage):
        check_chunks([piece] * (MAX_OUTPUT_CHUNKS + 2))


def test_remove_tree_empties_folders_left_without_permissions(tmp_path) -> None:  # noqa: ANN001
    from viz.isolation.scratch import remove_tree

    top = tmp_path / "run-7"
    (top / "a" / "b").mkdir(parents=True)
    (top / "a" / "b" / "big.bin").write_bytes(b"x" * 1000)
    (top / "a" / "b" / "locked").mkdir(mode=0)
    (top / "a" / "readonly").mkdir()
    (top / "a" / "readonly" / "f").write_text("x")
    (top / "a" / "readonly").chmod(0o500)
    (top / "a" / "link").symlink_to(tmp_path / "outside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep.txt").write_text("mine")
    pid = os.fork()
    if pid == 0:  # as the worker does it: without the capabilities that would ignore permission bits
        from viz.isolation.confine import Protections, _drop_capabilities

        _drop_capabilities(Protections())
        remove_tree(str(top), keep_top=True)
        os._exit(0)
    os.waitpid(pid, 0)
    assert top.is_dir() and list(top.iterdir()) == []
    assert (tmp_path / "outside" / "keep.txt").read_text() == "mine"


def test_a_run_process_holds_no_other_run_process_pipe(worker: Worker) -> None:
    """Spare run processes are forked while others wait: none inherits another's pipes
    (it could read what the other is sent, or write as it)."""
    from pathlib import Path

    def pipes_of_children() -> dict[str, set[str]]:
        pipes = {}
        for child in Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split():
            try:
                links = [os.readlink(f"/proc/{child}/fd/{fd}") for fd in os.listdir(f"/proc/{child}/fd")]
            except OSError:  # ended meanwhile
                continue
            if any(link.startswith("pipe:") for link in links):
                pipes[child] = {link for link in links if link.startswith("pipe:")}
        return pipes

    import time

    for i in range(3):  # back to back: spares made and used, the ended ones reaped
        done = worker.run(TraceRequest(f"import os\nprint(os.getpid())\nx = torch.ones(2, requires_grad=True)\n"
                                       f"(x * {i}).sum()\n"))
    ended = done.output[0]["text"].strip()  # killed, perhaps not yet gone
    deadline = time.monotonic() + 30
    # The quiet moment after a run refills the spares. Nothing signals another process's
    # fork to a test, so its children are polled, with a deadline.
    while len(set(pipes_of_children()) - {ended}) < 2:
        assert time.monotonic() < deadline, "the worker kept fewer than two spare run processes"
        time.sleep(0.01)
    pipes: dict[str, set[str]] = {}

    def look(news: dict) -> None:  # while the run below waits, beside the other spare
        if news["output"] and not pipes:
            pipes.update(pipes_of_children())

    code = "import threading\nprint('ready', flush=True)\nthreading.Event().wait(1.0)\n" \
           "x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n"
    worker.run(TraceRequest(code), look)
    assert len(pipes) >= 2
    shared = [(a, b, pipes[a] & pipes[b]) for a in pipes for b in pipes if a < b and pipes[a] & pipes[b]]
    assert not shared


def test_what_the_code_printed_arrives_while_it_still_computes(worker: Worker) -> None:
    """A line printed before a long computation is shown then, not when the run ends."""
    import time

    arrived: list[tuple[float, str]] = []
    code = ("import threading\nprint('epoch 1', flush=True)\nthreading.Event().wait(1.5)\n"
            "x = torch.ones(1, requires_grad=True)\n(x * 2).sum()\n")
    worker.run(TraceRequest(code, time_limit_s=20),
               lambda news: arrived.extend((time.monotonic(), c["text"]) for c in news["output"]))
    ended = time.monotonic()
    assert arrived and arrived[0][1] == "epoch 1\n"
    assert ended - arrived[0][0] > 1.0


def test_a_reply_beyond_what_the_worker_makes_is_malformed() -> None:
    """Sizes the engine never produces (a value past its element cap, a module path
    pages long, a gradient check of more rows than nodes) are refused in the parent."""
    import numpy as np

    from viz.engine.engine import trace_code
    from viz.debugger.gradcheck import gradcheck_code
    from viz.isolation.replies import MAX_ARRAY_ELEMENTS, check_graph, check_report
    from viz.wire import MalformedMessage

    trace = trace_code("x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n")
    node = trace.graph.nodes[trace.outputs[0]]
    for key, bad in (("value", np.zeros(MAX_ARRAY_ELEMENTS + 1, np.float16)), ("module", ".".join("m" * 70)),
                     ("label", "x" * 5000)):
        kept, node[key] = node[key], bad
        with pytest.raises(MalformedMessage):
            check_graph(trace.graph)
        node[key] = kept
    check_graph(trace.graph)
    report = gradcheck_code("x = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n")
    check_report(report, 100)
    report.nodes = report.nodes * 60
    with pytest.raises(MalformedMessage, match="rows"):
        check_report(report, 100)
    report.nodes, report.precision = report.nodes[:1], "\x1b]0;title\x07" * 500
    with pytest.raises(MalformedMessage, match="length"):
        check_report(report, 100)


def test_honest_code_with_very_long_names_is_drawn_shortened_not_refused(worker: Worker) -> None:
    """A legal 1,200-character name is real code's, not a forgery: the engine shortens
    it to what the parent accepts, and the run succeeds."""
    name = "w" * 1200
    code = f"{name} = torch.ones(2, requires_grad=True)\n({name} * 2).sum()\n"
    trace = worker.run(TraceRequest(code))
    leaf = next(d for _, d in trace.graph.nodes(data=True) if d["kind"] == "leaf")
    assert leaf["name"].startswith("w" * 900) and leaf["name"].endswith("\u2026") and len(leaf["name"]) == 1000


LAZY = "import sys\nprint('torch._dynamo' in sys.modules)\nx = torch.ones(2, requires_grad=True)\n(x * 2).sum()\n"


def test_the_first_requests_run_before_the_worker_is_warm_and_later_ones_warm() -> None:
    # The first two run processes (the window's ping and first trace) are forked before
    # the warm-up (an optimizer's lazy import of torch._dynamo) and do not wait for it;
    # every later one is forked warm. Both kinds keep to their memory budget (their
    # resting sizes differ).
    with Worker() as fresh:
        runs = [fresh.run(TraceRequest(LAZY)) for _ in range(3)]
    assert [[chunk["text"] for chunk in run.output] for run in runs] == [["False\n"], ["False\n"], ["True\n"]]
    for bombs in ([BOMB], [SMALL, SMALL, BOMB]):  # a cold run process, then a warm one
        with Worker() as fresh:
            for code in bombs[:-1]:
                fresh.run(TraceRequest(code))
            with pytest.raises(StudioError) as info:
                fresh.run(TraceRequest(bombs[-1], memory_limit_mb=512))
        assert info.value.kind == "limit" and "512 MB" in info.value.what


BOMB = "x = torch.empty(10**11)\n"


def test_output_that_fills_the_cap_exactly_sends_no_empty_piece() -> None:
    """Progress without news is a forged frame (red team 76); a print after output that
    filled the cap exactly made a piece of no text, kept and sent."""
    from viz.engine.output import MAX_OUTPUT_CHARS, PROGRESS_INTERVAL_S, OutputCapture, progress
    from viz.isolation.progress import progress_news

    sent: list[dict] = []
    progress.sink, progress.interval = sent.append, 0.0
    try:
        capture = OutputCapture("<expr>")
        capture.add("stdout", "x" * MAX_OUTPUT_CHARS, 1)
        capture.add("stderr", "more", 2)
        progress.flush()
    finally:
        progress.sink, progress.interval = None, PROGRESS_INTERVAL_S
        progress.reset()
    assert capture.truncated and all(chunk["text"] for chunk in capture.chunks)
    assert sent and all(progress_news({"status": "progress", **news}) for news in sent)


def test_progress_comes_at_a_runs_pace_or_the_run_is_malformed(worker: Worker) -> None:
    """Red team 78: a frame a character, within every cap (1.15 M of them at 57 us of the
    parent's each), kept a core of the window busy all run. A run batches its news to
    PROGRESS_INTERVAL_S; past a first few, frames at more than twice that pace are forged."""
    from viz.isolation.progress import FRAMES_AHEAD, streaming, within_caps
    from viz.wire import MalformedMessage

    news = {"output": [{"stream": "stdout", "line": 1, "text": "x"}], "losses": []}
    streamed = streaming()
    with pytest.raises(MalformedMessage, match="more often than a run sends it"):
        for _ in range(FRAMES_AHEAD + 100):
            within_caps(news, streamed)
    assert streamed["frames"] <= FRAMES_AHEAD + 10
    # An honest run printing every millisecond for three seconds: batched, never refused.
    frames: list[int] = []
    trace = worker.run(TraceRequest("import time\nfor i in range(3000):\n    print(i)\n    time.sleep(0.001)\n"
                                    "x = torch.ones(1, requires_grad=True)\n(x * 2).sum()\n", time_limit_s=30),
                       lambda news: frames.append(len(news["output"])))
    assert trace.graph.number_of_nodes() and 10 <= len(frames) <= 100
