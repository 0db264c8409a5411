"""Node box sizes from the text the view draws, shared by the layout and the GUI.

The view draws two centred lines in a 10 pt sans font: the label, then the shape
("3×4", "scalar"). The layout cannot measure a font (viz never imports Qt), so it
estimates: ~7 px per character, ~16 px per line, plus padding. The GUI elides text
that turns out wider than the estimate, so a rough guess never breaks the picture.
"""

from __future__ import annotations

CHAR_WIDTH = 7.0
LINE_HEIGHT = 16.0
PAD_X = 12.0
PAD_Y = 8.0
MIN_WIDTH = 48.0
# Very long labels (a user's long variable name) would widen a whole row; the
# GUI elides beyond this.
MAX_WIDTH = 260.0


def shape_text(shape: list[int] | tuple[int, ...] | None) -> str | None:
    """The second line of a node box: "3×4", "scalar" for (), "3 values" for (3,) (a
    bare "3" reads as the tensor's value), None when unknown."""
    if shape is None:
        return None
    if len(shape) == 0:
        return "scalar"
    if len(shape) == 1:
        return f"{int(shape[0])} value{'' if int(shape[0]) == 1 else 's'}"
    return "×".join(str(int(d)) for d in shape)


def box_title(label: str, var: str | None = None) -> str:
    """A box's first line: the op's label, after the variable the code put its result
    in when it named it (``h = Tanh``: viz.engine.value_names)."""
    return f"{var} = {label}" if var else label


def node_box_size(label: str, shape: list[int] | None) -> tuple[float, float]:
    """(width, height) in scene pixels of the box that shows ``label`` and ``shape``."""
    lines = [str(label) if label is not None else ""]
    second = shape_text(shape)
    if second is not None:
        lines.append(second)
    return lines_box_size(lines)


def group_box_size(module: str, members: int) -> tuple[float, float]:
    """The box of a collapsed module: its path and how many nodes it holds, the two
    lines the window writes in it (ui.module_groups)."""
    return lines_box_size([f"\u25b8 {module}", f"({members} nodes)"])


def lines_box_size(lines: list[str]) -> tuple[float, float]:
    longest = max(len(line) for line in lines)
    width = min(MAX_WIDTH, max(MIN_WIDTH, longest * CHAR_WIDTH + 2 * PAD_X))
    height = len(lines) * LINE_HEIGHT + 2 * PAD_Y
    return float(width), float(height)
