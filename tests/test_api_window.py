"""The window from your own code, as separate processes: ``show(t).open()`` returns at
once and a window comes up on the trace with its title; ``inspect(loss)`` in a training
loop stops the loop until the window goes (the window closes on SIGTERM as on its close
button, and its Continue button closes it: tests/ui/test_open_trace.py). Each window
tells it is up with one line on stdout (ui/trace_window.py)."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import main
from ui.trace_window import READY_PREFIX

ROOT = Path(__file__).resolve().parent.parent
WINDOW_UP_S = 120  # a window process imports Qt and torch and starts its worker, on two shared cores
READY = re.compile(re.escape(READY_PREFIX) + r' "(?P<title>[^"]*)": (?P<nodes>\d+) nodes, in process (?P<pid>\d+)')


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's windows only: no other test's (or the user's) window takes its graphs.
    Short, as a socket's path must be (tmp_path is too deep)."""
    runtime = Path(tempfile.mkdtemp(prefix="ags-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield runtime
    shutil.rmtree(runtime, ignore_errors=True)


class Lines:
    """A process's stdout, line by line, each waited for with a timeout (no polling)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next(self, timeout: float = WINDOW_UP_S) -> str | None:
        return self._lines.get(timeout=timeout)


def _script(tmp_path: Path, body: str, stdin: int = subprocess.DEVNULL,
            display: str | None = None) -> subprocess.Popen[str]:
    """``body`` as a script of the user's; with ``display``, as on a desktop (the window
    itself still draws offscreen)."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body), encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if name not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if display is not None:
        env["DISPLAY"] = display
    env = {**env, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
           "AUTOGRAD_STUDIO_SETTINGS": str(tmp_path / "settings.ini")}
    return subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin,
                            preexec_fn=_as_in_a_terminal)


def _as_in_a_terminal() -> None:
    """Ctrl+C as a terminal's script gets it. A suite started in the background without job
    control (``nohup make test &``) ignores SIGINT, its children inherit that, and Python
    then never raises KeyboardInterrupt: the Ctrl+C test waited its 120 s out."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _errors(process: subprocess.Popen[str]) -> str:
    """What the script printed on stderr (it is ended first: reading waits for the end)."""
    if process.poll() is None:
        process.kill()
        process.wait()
    if process.stderr is None:
        return ""
    os.set_blocking(process.stderr.fileno(), False)  # a window it started may hold the pipe open
    return process.stderr.read() or ""


def _finish(process: subprocess.Popen[str], window_pid: int | None) -> None:
    if window_pid is not None:  # a failed test must not leave a window behind
        try:
            os.kill(window_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()


def test_open_returns_at_once_and_a_window_shows_the_trace_with_its_title(tmp_path: Path) -> None:
    process = _script(tmp_path, """
        import time
        from pathlib import Path
        import torch
        import autograd_studio

        w = torch.tensor([1.0, -2.0], requires_grad=True)
        loss = (w * w).sum().tanh()
        handle = autograd_studio.show(loss, title="my step")
        started = time.perf_counter()
        window = handle.open()
        print(f"returned {window.pid} {time.perf_counter() - started:.2f}", flush=True)
        args = window.process.args
        print(f"file {args[args.index('--trace') + 1]}", flush=True)
        print(f"nodes {handle.trace.graph.number_of_nodes()}", flush=True)
        window.wait()
        print(f"closed {window.process.returncode}", flush=True)
    """)
    lines, window_pid = Lines(process), None
    try:
        returned = lines.next()
        assert returned is not None and returned.startswith("returned "), _errors(process)
        window_pid, seconds = int(returned.split()[1]), float(returned.split()[2])
        assert seconds < 5  # the window takes seconds to come up: open() did not wait for it
        trace_file = Path(str(lines.next()).removeprefix("file "))
        nodes = int(str(lines.next()).removeprefix("nodes "))
        ready = READY.match(str(lines.next()))
        assert ready is not None and int(ready["pid"]) == window_pid
        assert ready["title"] == "Autograd Studio \u2014 my step (from your own code)"
        assert int(ready["nodes"]) == nodes
        assert not trace_file.exists()  # the window read its temporary file, then removed it
        os.kill(window_pid, signal.SIGTERM)
        assert lines.next() == "closed 0"  # SIGTERM closes it as its close button does
        window_pid = None
    finally:
        _finish(process, window_pid)
    assert process.returncode == 0


def test_the_next_open_shows_its_graph_in_the_window_already_open(tmp_path: Path, runtime_dir: Path) -> None:
    process = _script(tmp_path, """
        import sys
        import torch
        import autograd_studio

        w = torch.tensor([1.0, -2.0], requires_grad=True)
        first = autograd_studio.show((w * w).sum(), title="step 1").open()
        print(f"first {first.pid} {first.reused}", flush=True)
        sys.stdin.readline()  # the test saw the window come up
        handle = autograd_studio.show(((w * w).sum().tanh() * 3).exp(), title="step 2")
        second = handle.open()
        print(f"second {second.pid} {second.reused} {handle.trace.graph.number_of_nodes()}", flush=True)
        print(second.shown, flush=True)
        second.close()
        print(f"closed {second.wait(60)} {first.wait(60)} {first.process.returncode}", flush=True)
    """, stdin=subprocess.PIPE)
    lines, window_pid = Lines(process), None
    try:
        first = str(lines.next())
        assert first.startswith("first "), _errors(process)
        window_pid = int(first.split()[1])
        assert first.split()[2] == "False"  # no window was open: this one is new
        ready = READY.match(str(lines.next()))
        assert ready is not None and int(ready["pid"]) == window_pid and ready["nodes"] == "4"
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        second = str(lines.next()).split()
        assert second[:3] == ["second", str(window_pid), "True"], _errors(process)  # the same window took it
        shown = READY.match(str(lines.next()))
        assert shown is not None, _errors(process)
        assert shown["title"] == "Autograd Studio \u2014 step 2 (from your own code)"
        assert shown["nodes"] == second[3] != "4" and int(shown["pid"]) == window_pid
        assert lines.next() == "closed True True 0"  # closing the reused window closed the one process
        window_pid = None
        assert not list((runtime_dir / "autograd-studio").iterdir())  # its socket went with it
    finally:
        _finish(process, window_pid)
    assert process.returncode == 0


def test_show_in_a_script_on_a_desktop_opens_the_window_and_then_updates_it(tmp_path: Path) -> None:
    process = _script(tmp_path, """
        import sys
        import torch
        import autograd_studio

        w = torch.tensor([1.0, -2.0], requires_grad=True)
        first = autograd_studio.show((w * w).sum(), title="step 1")  # no .open(): a script on a desktop
        print(f"first {first.window.pid} {first.window.reused}", flush=True)
        assert first.open() is first.window  # already open: not a second window
        sys.stdin.readline()
        second = autograd_studio.show((w * w).sum().tanh(), title="step 2")
        print(f"second {second.window.pid} {second.window.reused}", flush=True)
        second.window.close()
        print(f"closed {first.window.wait(60)}", flush=True)
    """, stdin=subprocess.PIPE, display=":99")
    lines, window_pid = Lines(process), None
    try:
        first = str(lines.next()).split()
        assert first[0] == "first" and first[2] == "False", _errors(process)
        window_pid = int(first[1])
        ready = READY.match(str(lines.next()))
        assert ready is not None and int(ready["pid"]) == window_pid and ready["title"].endswith("step 1 (from your own code)")
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        assert str(lines.next()).split() == ["second", str(window_pid), "True"], _errors(process)
        assert lines.next() == "closed True"
        window_pid = None
    finally:
        _finish(process, window_pid)
    assert process.returncode == 0


def test_inspect_in_a_training_loop_waits_for_the_window_then_the_loop_goes_on(tmp_path: Path) -> None:
    process = _script(tmp_path, """
        import torch
        import autograd_studio

        w = torch.tensor([0.5, -1.0], requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.1)
        for step in range(1, 6):
            opt.zero_grad()
            loss = (w * w).sum()
            print(f"step {step}", flush=True)
            if step == 3:
                autograd_studio.inspect(loss)
                print("resumed", flush=True)
            loss.backward()
            opt.step()
        print("done", flush=True)
    """)
    lines, window_pid = Lines(process), None
    try:
        assert [lines.next() for _ in range(3)] == ["step 1", "step 2", "step 3"]
        # The next line is the window's: the loop did not go on while the window came up.
        ready = READY.match(str(lines.next()))
        assert ready is not None, _errors(process)
        window_pid = int(ready["pid"])
        assert ready["title"] == "Autograd Studio \u2014 inspect() at train.py:12 (from your own code)"
        assert "press Continue (F5)" in str(ready.string)
        os.kill(window_pid, signal.SIGTERM)
        window_pid = None
        assert [lines.next() for _ in range(4)] == ["resumed", "step 4", "step 5", "done"]
    finally:
        _finish(process, window_pid)
    assert process.returncode == 0


def test_open_without_a_display_says_so_and_leaves_no_file(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    import tempfile

    import torch

    import autograd_studio

    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is Linux's")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    w = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no display"):
        autograd_studio.show(w * 2).open()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["--trace", "t.agtrace", "--expr", "1"], ["--trace", "t.agtrace", "f.py"],
                                  ["--title", "x"], ["--inspect"]])
def test_trace_options_that_clash_are_one_error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: <command line>") and err.count("\n") == 1


def test_ctrl_c_while_inspect_waits_closes_the_window_and_stops_the_script(tmp_path: Path) -> None:
    process = _script(tmp_path, """
        import torch
        import autograd_studio

        w = torch.tensor([0.5, -1.0], requires_grad=True)
        print("before", flush=True)
        autograd_studio.inspect((w * w).sum())
        print("after", flush=True)
    """)
    lines, window_pid = Lines(process), None
    try:
        assert lines.next() == "before"
        ready = READY.match(str(lines.next()))
        assert ready is not None, _errors(process)
        window_pid = int(ready["pid"])
        process.send_signal(signal.SIGINT)  # what Ctrl+C in the script's terminal sends it
        # The window shares the script's stdout: its end closes the stream (no "after").
        assert lines.next() is None
        window_pid = None
    finally:
        _finish(process, window_pid)
    # Python ends on an uncaught KeyboardInterrupt by SIGINT itself, so a shell sees it.
    assert process.returncode == -signal.SIGINT
    assert "KeyboardInterrupt" in _errors(process)


def test_a_window_that_does_not_close_after_ctrl_c_is_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl+C in a script that waits on inspect() closes its window; one that does not
    close in time (a loaded machine: CI waited 120 s once) is ended."""
    from autograd_studio import window as window_module

    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, sys, time\n"
                                 "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('up', flush=True)\ntime.sleep(120)\n"],
                                stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout is not None and stubborn.stdout.readline().strip() == "up"
    monkeypatch.setattr(window_module, "CLOSE_GRACE_S", 0.5)
    window_module.close_now(window_module.Window(stubborn.pid, stubborn))
    assert stubborn.poll() == -signal.SIGKILL
