"""End to end: `python main.py --expr ...` in a real window on a virtual X screen (Xvfb)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from ui.app import READY_ENV, READY_LINE
from ui.themes import THEMES

ROOT = Path(__file__).resolve().parents[2]
CODE = ("x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
        "w = torch.randn(3, requires_grad=True)\n"
        "y = (x * w).tanh().sum()\ny\n")

pytestmark = pytest.mark.xvfb


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb on a free display number (Xvfb picks it and writes it to a pipe)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (Debian: xvfb libxcb-icccm4 libxcb-keysyms1)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24",
                               "-nolisten", "tcp"], pass_fds=(write_fd,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 20)
        number = os.read(read_fd, 16).decode().strip() if ready else ""
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        os.close(read_fd)
        server.terminate()
        server.wait(10)


def test_main_py_shows_the_graph_in_a_real_window(display: str, tmp_path: Path) -> None:
    shot = tmp_path / "screen.png"
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", **{READY_ENV: str(shot)})
    done = subprocess.run([sys.executable, "main.py", "--expr", CODE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    ready = [line for line in done.stdout.splitlines() if line.startswith(READY_LINE)]
    assert ready and "nodes=" in ready[0], done.stdout + done.stderr[-2000:]
    image = QImage(str(shot))
    assert image.width() == 1280 and image.height() == 800
    colors = {image.pixel(x, y) for x in range(0, 1280, 4) for y in range(0, 800, 4)}
    assert len(colors) > 50  # text, boxes, widgets: not a blank or single-colour screen
    leaf = QColor(THEMES["light"].graph.leaf).rgb() & 0xFFFFFF
    dark_leaf = QColor(THEMES["dark"].graph.leaf).rgb() & 0xFFFFFF
    assert any((c & 0xFFFFFF) in (leaf, dark_leaf) for c in colors)  # a leaf box was drawn
