"""File > Open Script (Trusted)…: a two-file project of the user's own runs with full
Python (``from model import Net``) and its trace is shown read-only, with torch's
gradients; Cancel runs nothing; the warning comes once per script; a script that
raises is one line in the status bar and the window stays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from tests.ui.inprocess import in_process_window
from ui import trusted_script
from ui.main_window import MainWindow

MODEL = """\
import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x):
        return torch.tanh(self.fc(x))
"""
TRAIN = """\
import torch
from model import Net

torch.manual_seed(0)
net = Net()
x = torch.linspace(-1, 1, 12).reshape(4, 3)
loss = net(x).pow(2).mean()
loss.backward()
open("marker.txt", "w").write("ran")
"""
RUN_S = 120_000  # a child Python that imports torch


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    return in_process_window(qtbot)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "model.py").write_text(MODEL, encoding="utf-8")
    (tmp_path / "train.py").write_text(TRAIN, encoding="utf-8")
    return tmp_path / "train.py"


class Warning_:
    """The warning box's stand-in: its answer, and each script it was asked about."""

    def __init__(self) -> None:
        self.run = True
        self.asked: list[str] = []

    def __call__(self, parent: object, script: str) -> bool:
        self.asked.append(script)
        return self.run


@pytest.fixture
def warning(monkeypatch: pytest.MonkeyPatch) -> Warning_:
    box = Warning_()
    monkeypatch.setattr(trusted_script, "ask_trust", box)
    return box


def _choose(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))


def _open(qtbot: QtBot, window: MainWindow) -> bool:
    with qtbot.waitSignal(window.trusted_script.finished, timeout=RUN_S) as done:
        window.actions_["open_script_trusted"].trigger()
    return bool(done.args[0])


def _torch_grads() -> dict[str, np.ndarray]:
    torch.manual_seed(0)
    fc = torch.nn.Linear(3, 2)
    x = torch.linspace(-1, 1, 12).reshape(4, 3)
    torch.tanh(fc(x)).pow(2).mean().backward()
    return {"net.fc.weight": fc.weight.grad.numpy(), "net.fc.bias": fc.bias.grad.numpy()}


def test_a_two_file_project_runs_trusted_and_its_trace_is_shown_read_only(
        qtbot: QtBot, window: MainWindow, project: Path, warning: Warning_,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _choose(monkeypatch, project)
    outs: list[str] = []
    command = trusted_script.child_command
    monkeypatch.setattr(trusted_script, "child_command", lambda script, out: outs.append(out) or command(script, out))
    with qtbot.waitSignal(window.runs.trace_ready, timeout=RUN_S) as shown:
        assert _open(qtbot, window)
    trace = shown.args[0]
    assert warning.asked == [str(project.resolve())]
    assert (project.parent / "marker.txt").read_text() == "ran"  # full Python, in the script's folder
    assert trace.graph.number_of_nodes() > 0
    assert len(window.graph_view.graph_scene.nodes) == trace.graph.number_of_nodes()
    leaves = {data["name"]: data for _, data in trace.graph.nodes(data=True) if data["kind"] == "leaf"}
    for name, grad in _torch_grads().items():
        assert name in leaves, sorted(leaves)
        np.testing.assert_allclose(leaves[name]["grad"], grad, rtol=1e-6, atol=1e-7)
    assert window.editor.isReadOnly() and "from model import Net" in window.editor.code()
    assert not window.actions_["run"].isEnabled()  # shown, never re-run in the sandbox
    assert outs and not Path(outs[0]).exists()  # the temporary trace file is gone


def test_cancel_runs_nothing(qtbot: QtBot, window: MainWindow, project: Path, warning: Warning_,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    warning.run = False
    _choose(monkeypatch, project)
    code = window.editor.code()
    window.actions_["open_script_trusted"].trigger()
    assert len(warning.asked) == 1 and not window.trusted_script.is_running()
    assert not (project.parent / "marker.txt").exists()
    assert window.editor.code() == code and not window.editor.isReadOnly()


def test_the_warning_is_asked_once_per_script(qtbot: QtBot, window: MainWindow, project: Path,
                                              warning: Warning_, monkeypatch: pytest.MonkeyPatch) -> None:
    other = project.parent / "again.py"
    other.write_text("import torch\nt = torch.ones(2, requires_grad=True)\n(t * 3).sum().backward()\n",
                     encoding="utf-8")
    _choose(monkeypatch, project)
    assert _open(qtbot, window)
    assert _open(qtbot, window)
    assert warning.asked == [str(project.resolve())]
    _choose(monkeypatch, other)
    assert _open(qtbot, window)
    assert warning.asked == [str(project.resolve()), str(other.resolve())]


def test_a_script_that_raises_is_one_line_and_the_window_stays(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, warning: Warning_,
        monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nprint('noise')\nraise ValueError('the data folder is missing')\n",
                   encoding="utf-8")
    _choose(monkeypatch, bad)
    code = window.editor.code()
    assert not _open(qtbot, window)
    message = window.status.message.toolTip().replace("\xa0", " ")  # the whole line, as rich text
    assert "bad.py:3:1: ValueError: the data folder is missing" in message
    assert "noise" not in message and "Traceback" not in message and "<br" not in message
    assert window.isVisible() and window.editor.code() == code and not window.editor.isReadOnly()


def test_a_second_script_stops_the_first(qtbot: QtBot, window: MainWindow, tmp_path: Path,
                                         project: Path, warning: Warning_,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(60)\n", encoding="utf-8")
    with qtbot.waitSignal(window.trusted_script.started, timeout=10_000):
        window.trusted_script.open_path(slow)
    assert window.trusted_script.is_running()
    _choose(monkeypatch, project)
    with qtbot.waitSignal(window.runs.trace_ready, timeout=RUN_S) as shown:
        assert _open(qtbot, window)
    assert "from model import Net" in shown.args[0].code


def test_the_warning_names_the_file_whole_however_deep_its_folder(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 13: the path was cut after 200 characters, so a deep folder hid the name."""
    from PySide6.QtWidgets import QMessageBox, QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append((box.text(), box.defaultButton().text())) or 0)
    script = "/home/me/" + "lessons/" * 60 + "not_what_it_seems.py"
    assert trusted_script.ask_trust(parent, script) is False  # nothing clicked: nothing runs
    text, default = shown[0]
    assert text.startswith("Run not_what_it_seems.py as a trusted script?")
    assert "/home/me/lessons" in text and text.rstrip().endswith("lessons") and len(text) < 300
    assert default == "Cancel"


def test_cancel_stops_a_running_script_and_the_graph_stays(qtbot: QtBot, window: MainWindow, tmp_path: Path,
                                                           warning: Warning_) -> None:
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(60)\nopen('marker.txt', 'w').write('ran')\n", encoding="utf-8")
    cancel = window.actions_["cancel"]
    assert not cancel.isEnabled()
    nodes, code = set(window.graph_view.graph_scene.nodes), window.editor.code()
    with qtbot.waitSignal(window.trusted_script.started, timeout=10_000):
        window.trusted_script.open_path(slow)
    assert cancel.isEnabled() and "Esc stops it" in window.status.message.text()
    pid = window.trusted_script._process.processId()
    cancel.trigger()
    assert not window.trusted_script.is_running() and not cancel.isEnabled()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    assert "Stopped slow.py" in window.status.message.text()
    assert set(window.graph_view.graph_scene.nodes) == nodes and window.editor.code() == code
    assert not (tmp_path / "marker.txt").exists()


def test_a_script_that_writes_much_to_stderr_keeps_only_its_end(qtbot: QtBot, window: MainWindow, tmp_path: Path,
                                                                 warning: Warning_) -> None:
    """Red team 23: 1.5 GB of a script's stderr (tqdm, a warning in a loop) was kept whole
    in the window's memory. Only the end is kept, which holds the error line shown."""
    noisy = tmp_path / "noisy.py"
    noisy.write_text("import sys\nfor i in range(4000):\n    sys.stderr.write('progress ' * 100 + '\\n')\n"
                     "raise ValueError('the data folder is missing')\n", encoding="utf-8")
    with qtbot.waitSignal(window.trusted_script.finished, timeout=RUN_S) as done:
        window.trusted_script.open_path(noisy)
    assert done.args == [False]
    assert "ValueError: the data folder is missing" in window.status.message.toolTip().replace("\xa0", " ")
    assert len(window.trusted_script._stderr) <= trusted_script.STDERR_KEPT  # 4 MB written, 64 KB kept
