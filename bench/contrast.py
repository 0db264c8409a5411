"""WCAG contrast of every text role and mark in every theme (no display needed).

    .venv/bin/python bench/contrast.py [--all]

Each pair (a text or mark colour, the background it is drawn on, composited where
translucent) comes from ``ui.contrast``, which reads the colours where the app takes
them. Floors: 4.5:1 for text, 3:1 for large text and marks (WCAG AA); 7:1 for text in
the high-contrast theme (AAA). Prints every pair under its floor, then the worst pair
of each theme (nearest its floor) and how many pairs it has, then any colour a theme
defines that no pair measures; ``--all`` prints every pair. Exits 0 either way:
``tests/ui/test_contrast.py`` is what fails.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ui.contrast import all_pairs, colour_fields, failing, measured_fields, worst  # noqa: E402
from ui.themes import THEMES  # noqa: E402


def main(show_all: bool) -> None:
    themes = all_pairs()
    below = 0
    for name, pairs in themes.items():
        shown = pairs if show_all else failing(pairs)
        if shown:
            print(f"{name}:")
        for pair in sorted(shown, key=lambda p: p.ratio / p.floor):
            mark = "  " if pair.passes() else "! "
            print(f"  {mark}{pair.describe()}")
        below += len(failing(pairs))
    print(f"pairs under their floor: {below} of {sum(len(p) for p in themes.values())}")
    for name, pairs in themes.items():
        print(f"worst in {name:<13} ({len(pairs)} pairs) {worst(pairs).describe()}")
    for name, theme in THEMES.items():
        unmeasured = sorted(colour_fields(theme) - measured_fields(theme))
        if unmeasured:
            print(f"colours of {name} no pair measures: {', '.join(unmeasured)}")


if __name__ == "__main__":
    main("--all" in sys.argv[1:])
