"""Nothing in the folder the app is started from runs in the app's own processes.

A lesson folder someone sent may hold Python packages named like the standard
library's or the app's. multiprocessing starts the worker, its resource tracker and
the training worker as ``python -c``, which puts the current folder first on the
path; ``autograd-studio run --trust`` runs ``python -m viz.engine.own_script``, which does
the same. Here the folder's packages write a marker (and then hand over to the real
module, so that a process that imported them still works and only the marker tells).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from viz.isolation.worker import TraceRequest, Worker

ROOT = Path(__file__).resolve().parent.parent


def _hijacking_folder(folder: Path, marker: Path) -> Path:
    """A folder with its own ``multiprocessing`` (which defers to the real one) and
    ``viz`` (which does not), each writing ``marker`` when imported."""
    real = Path(os.__file__).parent / "multiprocessing"
    (folder / "multiprocessing").mkdir(parents=True)
    (folder / "multiprocessing" / "__init__.py").write_text(textwrap.dedent(f"""\
        import os
        with open({str(marker)!r}, "a") as f:
            f.write(f"multiprocessing from the folder in {{os.getpid()}}\\n")
        __path__ = [{str(real)!r}]
        __file__ = {str(real / "__init__.py")!r}
        exec(compile(open(__file__).read(), __file__, "exec"))
        """))
    (folder / "viz").mkdir()
    (folder / "viz" / "__init__.py").write_text(
        f"with open({str(marker)!r}, 'a') as f:\n    f.write('viz from the folder\\n')\n")
    (folder / "viz" / "engine").mkdir()
    (folder / "viz" / "engine" / "__init__.py").write_text("")
    (folder / "viz" / "engine" / "own_script.py").write_text("raise SystemExit(0)\n")
    return folder


def test_the_worker_and_its_tracker_import_nothing_from_the_start_folder(tmp_path, monkeypatch) -> None:
    marker = tmp_path / "marker.txt"
    monkeypatch.chdir(_hijacking_folder(tmp_path / "lesson", marker))
    with Worker() as worker:
        trace = worker.run(TraceRequest(code="x = torch.ones(2, requires_grad=True)\n(x * 3).sum()\n"))
    assert trace.graph.number_of_nodes() >= 3
    assert not marker.exists(), marker.read_text()


def test_the_training_worker_imports_nothing_from_the_start_folder(tmp_path, monkeypatch) -> None:
    from viz.training import TrainConfig
    from viz.training.worker import TrainingWorker

    marker = tmp_path / "marker.txt"
    monkeypatch.chdir(_hijacking_folder(tmp_path / "lesson", marker))
    worker = TrainingWorker()
    try:
        worker.start(TrainConfig(samples=50, steps=5, eval_every=5))
        deadline, kinds = time.monotonic() + 60, []
        while "finished" not in kinds and time.monotonic() < deadline:
            kinds += [message[0] for message in worker.receive(timeout=0.5)]
        assert "finished" in kinds, kinds
    finally:
        worker.shutdown()
    assert not marker.exists(), marker.read_text()


def test_a_trusted_run_imports_the_apps_viz_not_the_folders(tmp_path) -> None:
    marker = tmp_path / "marker.txt"
    folder = _hijacking_folder(tmp_path / "downloads", marker)
    script = tmp_path / "mine" / "train.py"
    script.parent.mkdir()
    (script.parent / "helpers.py").write_text("SCALE = 3.0\n")  # the script's own neighbour still imports
    script.write_text("import torch\nfrom helpers import SCALE\n"
                      "w = torch.ones(2, requires_grad=True)\n(w * SCALE).sum().backward()\n")
    out = tmp_path / "trace.json"
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", str(script), "--trust", "-o", str(out)],
                          cwd=folder, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    assert out.exists()
    assert not marker.exists(), marker.read_text()


def test_the_flag_is_set_only_while_a_child_starts(monkeypatch) -> None:
    from viz.isolation.spawning import safe_path

    monkeypatch.delenv("PYTHONSAFEPATH", raising=False)
    with safe_path():
        assert os.environ["PYTHONSAFEPATH"] == "1"
    assert "PYTHONSAFEPATH" not in os.environ  # a user's own later `python script.py` is unchanged
    monkeypatch.setenv("PYTHONSAFEPATH", "x")
    with safe_path():
        pass
    assert os.environ["PYTHONSAFEPATH"] == "x"
