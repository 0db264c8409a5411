"""The CLI's ``--plot``: loss and accuracy curves as a PNG, drawn with pillow.

The engine stays Qt-free, so this is a small chart of its own rather than the
panel's pyqtgraph plots: two stacked panes, loss on a log scale (train, test) and
accuracy (train, test) for classification or the mini-batch loss for regression.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

from viz.errors import StudioError
from viz.io.files import written_whole
from viz.training.snapshots import HistoryRow

WIDTH, PANE_HEIGHT = 900, 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 20, 30, 36
TRAIN_COLOUR, TEST_COLOUR, BATCH_COLOUR = (31, 119, 180), (255, 127, 14), (150, 150, 150)
AXIS_COLOUR, GRID_COLOUR, TEXT_COLOUR = (60, 60, 60), (225, 225, 225), (20, 20, 20)
KEY_LINE = 20  # pixels: a curve's sample in the key
FONT_PIXELS = 12  # the curves' titles, keys and ticks

Series = tuple[str, tuple[int, int, int], list[tuple[float, float]]]


def check_plot_path(path: str | Path) -> None:
    if Path(path).suffix.lower() != ".png":
        raise StudioError("option", f"--plot writes PNG files, not {Path(path).suffix!r}",
                          where="--plot", hint="e.g. --plot curves.png")


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans (make system-deps installs it; Qt draws the window with it): Pillow's
    own default drew "mlp on moons" as "mlpon moons" (acceptance review of issue 17)."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", FONT_PIXELS)
    except OSError:
        return ImageFont.load_default()


def write_curves_png(path: str | Path, rows: Sequence[HistoryRow], title: str) -> None:
    """Draw the history's curves; a file that cannot be written is a StudioError."""
    check_plot_path(path)
    image = Image.new("RGB", (WIDTH, 2 * PANE_HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = _font()
    steps = [float(r.step) for r in rows]
    losses: list[Series] = [
        ("train loss", TRAIN_COLOUR, _points(steps, [r.train_loss for r in rows])),
        ("test loss", TEST_COLOUR, _points(steps, [r.test_loss for r in rows])),
    ]
    _pane(draw, font, 0, f"{title}: loss (log scale)", losses, log=True)
    if rows and rows[0].train_accuracy is not None:
        lower: list[Series] = [
            ("train accuracy", TRAIN_COLOUR, _points(steps, [r.train_accuracy for r in rows])),
            ("test accuracy", TEST_COLOUR, _points(steps, [r.test_accuracy for r in rows])),
        ]
        _pane(draw, font, PANE_HEIGHT, "accuracy", lower, log=False, y_range=(0.0, 1.0))
    else:
        lower = [("mini-batch loss", BATCH_COLOUR, _points(steps, [r.batch_loss for r in rows]))]
        _pane(draw, font, PANE_HEIGHT, "mini-batch loss (log scale)", lower, log=True)
    try:
        with written_whole(path) as temp:
            image.save(temp, format="PNG")
    except OSError as exc:
        raise StudioError("io", f"cannot write the plot: {exc.strerror or exc}",
                          where=str(path)) from exc


def _points(xs: list[float], ys: Sequence[float | None]) -> list[tuple[float, float]]:
    return [(x, float(y)) for x, y in zip(xs, ys) if y is not None and math.isfinite(y)]


def _pane(draw: ImageDraw.ImageDraw, font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
          top: int, title: str, series: list[Series], log: bool,
          y_range: tuple[float, float] | None = None) -> None:
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    y_top, y_bottom = top + MARGIN_TOP, top + PANE_HEIGHT - MARGIN_BOTTOM
    draw.text((left, top + 8), title, fill=TEXT_COLOUR, font=font)
    points = [p for _, _, pts in series for p in pts if not log or p[1] > 0]
    if not points:
        draw.text((left + 10, (y_top + y_bottom) // 2), "no data", fill=TEXT_COLOUR, font=font)
        return
    x_low, x_high = min(p[0] for p in points), max(p[0] for p in points)
    if y_range is None:
        values = [math.log10(p[1]) if log else p[1] for p in points]
        y_low, y_high = min(values), max(values)
    else:
        y_low, y_high = y_range
    if x_high == x_low:
        x_high = x_low + 1
    if y_high - y_low < 1e-9:
        y_low, y_high = y_low - 0.5, y_high + 0.5

    def to_pixel(x: float, y: float) -> tuple[float, float]:
        value = math.log10(y) if log else y
        px = left + (x - x_low) / (x_high - x_low) * (right - left)
        py = y_bottom - (value - y_low) / (y_high - y_low) * (y_bottom - y_top)
        return px, py

    for i in range(5):  # horizontal grid lines with their values
        fraction = i / 4
        py = y_bottom - fraction * (y_bottom - y_top)
        value = y_low + fraction * (y_high - y_low)
        label = f"{10 ** value:.3g}" if log else f"{value:.3g}"
        draw.line([(left, py), (right, py)], fill=GRID_COLOUR)
        draw.text((4, py - 6), label, fill=TEXT_COLOUR, font=font)
    draw.rectangle([left, y_top, right, y_bottom], outline=AXIS_COLOUR)
    draw.text((left, y_bottom + 6), f"step {x_low:g}", fill=TEXT_COLOUR, font=font)
    draw.text((right - 80, y_bottom + 6), f"step {x_high:g}", fill=TEXT_COLOUR, font=font)
    for name, colour, pts in series:
        usable = [p for p in pts if not log or p[1] > 0]
        if len(usable) > 1:
            draw.line([to_pixel(x, y) for x, y in usable], fill=colour, width=2)
        elif usable:
            px, py = to_pixel(*usable[0])
            draw.ellipse([px - 2, py - 2, px + 2, py + 2], fill=colour)
    _key(draw, font, top + 8, right, series)


def _key(draw: ImageDraw.ImageDraw, font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
         y: int, right: int, series: list[Series]) -> None:
    """Each curve's colour and name on the title's line, ending at the pane's right edge:
    above the plot, so no curve runs through it (docs/images/training.png, issue 17)."""
    x = right
    for name, colour, _ in reversed(series):
        x -= int(draw.textlength(name, font=font))
        draw.text((x, y), name, fill=TEXT_COLOUR, font=font)
        x -= KEY_LINE + 6
        draw.line([(x, y + 6), (x + KEY_LINE, y + 6)], fill=colour, width=2)
        x -= 16
