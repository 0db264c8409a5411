"""``autograd-studio export CODE -o g.png --scale S``: the PNG written is S times the size
of the one written without --scale, in real pixels as Pillow reads them from the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent

CODE = """import torch
w = torch.randn(3, requires_grad=True)
loss = torch.tanh(w * 2).sum()
"""


def export_png(tmp_path: Path, name: str, *options: str) -> tuple[int, int]:
    out = tmp_path / name
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", "--expr", CODE, "-o", str(out),
                           *options], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    with Image.open(out) as image:
        assert image.format == "PNG"
        return image.size


def test_export_scale_3_writes_a_png_three_times_as_wide_and_tall(tmp_path: Path) -> None:
    width, height = export_png(tmp_path, "plain.png")
    assert width > 50 and height > 50
    assert export_png(tmp_path, "one.png", "--scale", "1") == (width, height)
    big_width, big_height = export_png(tmp_path, "big.png", "--scale", "3")
    # Rendering rounds each side to whole pixels: within one pixel of three times.
    assert abs(big_width - 3 * width) <= 1 and abs(big_height - 3 * height) <= 1, \
        ((width, height), (big_width, big_height))
