"""Laying out node labels whose lines change script at every letter (red team 54: 1,000
names of 200 characters cycling 50 scripts held the window 1.6-2.5 s at open) against
labels of the same length in one script, and against the same lines laid out whole
(what a box drew before ``ui.node_labels.drawn_line``).

    .venv/bin/python bench/label_scripts.py [--labels 1000]

Prints ms per label for each kind and the ratios, measured in one run (offscreen Qt).
The target: a line cycling scripts costs at most ~2x a Latin one of its length.
Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QRectF  # noqa: E402
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsRectItem  # noqa: E402

from ui.graph_items import label_sizes  # noqa: E402
from ui.node_labels import LineSizes, make_labels, place_labels  # noqa: E402
import ui.node_labels as node_labels  # noqa: E402

SCRIPTS = [0x0628, 0x05D0, 0x0915, 0x0E01, 0x4E00, 0x3042, 0x0410, 0x0391, 0x10D0, 0x0531, 0x1100, 0xAC00,
           0x0C15, 0x0B95, 0x0995, 0x0A15, 0x0A95, 0x0B15, 0x0C95, 0x0D15, 0x0D85, 0x1000, 0x1780, 0x0E81,
           0x0F40, 0x1200, 0x13A0, 0x1401, 0x1681, 0x16A0, 0x1820, 0x1900, 0x1950, 0x1980, 0x1A00, 0x1B05,
           0x1B83, 0x1BC0, 0x1C00, 0x1C5A, 0xA000, 0xA500, 0xA840, 0xA882, 0xA90A, 0xA930, 0xAA00, 0x2D30,
           0x07C0, 0x0800]
BOX = QRectF(0, 0, 200, 40)


def mixed(i: int) -> str:
    """200 characters, one letter of each script in turn, unique per ``i``."""
    letters = (chr(SCRIPTS[k % len(SCRIPTS)] + i % 7) for k in range(200))
    return (str(i) + "".join(c if c.isprintable() else "\u0628" for c in letters))[:200]


KINDS: dict[str, Callable[[int], str]] = {
    "latin": lambda i: (f"{i}" + "ab" * 100)[:200],
    "cjk": lambda i: f"{i}" + "".join(chr(0x4E00 + (i * 200 + k) % 20_000) for k in range(199)),
    "50 scripts": mixed,
}


def per_label_ms(text: Callable[[int], str], count: int, offset: int) -> float:
    sizes: LineSizes = label_sizes()
    node = QGraphicsRectItem(BOX)
    start = time.perf_counter()
    for i in range(count):
        items = make_labels(node, text(i + offset), sizes.font, True, QGraphicsItem.CacheMode.NoCache)
        place_labels(items, BOX, sizes)
    return (time.perf_counter() - start) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=int, default=1000)
    args = parser.parse_args()
    QApplication.instance() or QApplication([])
    for kind in KINDS.values():  # fonts found and cached once, before timing
        per_label_ms(kind, 20, 10**6)
    figures = {name: per_label_ms(kind, args.labels, 0) for name, kind in KINDS.items()}
    drawn = node_labels.drawn_line
    node_labels.drawn_line = lambda line: line  # each line laid out whole: the cost before
    whole = per_label_ms(mixed, args.labels, args.labels)
    node_labels.drawn_line = drawn
    for name, ms in figures.items():
        print(f"{name:>12}: {ms:.3f} ms/label ({ms / figures['latin']:.1f}x latin)")
    print(f"{'50, whole':>12}: {whole:.3f} ms/label ({whole / figures['latin']:.1f}x latin): lines not cut to their ends")
    print(f"{args.labels} labels cycling scripts: {figures['50 scripts'] * args.labels / 1000:.2f} s "
          f"(whole: {whole * args.labels / 1000:.2f} s)")


if __name__ == "__main__":
    main()
