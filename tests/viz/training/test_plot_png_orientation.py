"""``train --plot``'s loss pane: a falling loss is drawn falling, high on the left and low
on the right (the log axis grows upwards, as its labels say).

The losses are plain torch's, fitting y = 2x by gradient descent; the picture is read
back with Pillow, finding the train curve's colour in the pane's first and last columns."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from PIL import Image

from viz.training.plot import (KEY_LINE, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, PANE_HEIGHT,
                               TEST_COLOUR, TRAIN_COLOUR, WIDTH, write_curves_png)
from viz.training.snapshots import HistoryRow

STEPS = 30


def torch_losses() -> list[float]:
    torch.manual_seed(0)
    x = torch.linspace(-1.0, 1.0, 32).reshape(-1, 1)
    y = 2.0 * x
    w = torch.zeros(1, 1, requires_grad=True)
    losses = []
    for _ in range(STEPS):
        loss = ((x @ w - y) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= 0.3 * w.grad
        w.grad = None
    return losses


def _rows_of_colour(image: Image.Image, column: int, top: int, bottom: int) -> list[int]:
    return [row for row in range(top, bottom + 1) if image.getpixel((column, row)) == TRAIN_COLOUR]


def test_a_falling_loss_is_drawn_from_the_top_left_to_the_bottom_right(tmp_path: Path) -> None:
    losses = torch_losses()
    assert losses[0] == max(losses) and losses[-1] == min(losses) and losses[0] > 10 * losses[-1]
    rows = [HistoryRow(step, 0.0, math.nan, loss, math.nan, None, None, ())
            for step, loss in enumerate(losses)]
    path = tmp_path / "curves.png"
    write_curves_png(path, rows, "fit")
    top, bottom = MARGIN_TOP, PANE_HEIGHT - MARGIN_BOTTOM  # the loss pane's plot area
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    with Image.open(path) as picture:
        image = picture.convert("RGB")
        first = _rows_of_colour(image, left + 2, top, bottom)  # step 0: torch's largest loss
        last = _rows_of_colour(image, right - 2, top, bottom)  # the last step: its smallest
    assert first and last, "the train curve is not at the pane's two ends"
    height = bottom - top
    assert min(first) - top < 0.1 * height, f"the largest loss is drawn at y={min(first)}, not at the top {top}"
    assert bottom - max(last) < 0.1 * height, f"the smallest loss is drawn at y={max(last)}, not at the bottom {bottom}"


def test_the_key_is_on_the_title_line_not_over_the_curves(tmp_path: Path) -> None:
    """Each curve's sample line in the key sits in the band above the plot (the key in
    the plot's corner had the accuracy curves run through it, docs/images/training.png)."""
    losses = torch_losses()
    rows = [HistoryRow(step, 0.0, loss * 1.1, loss, loss * 1.2, 0.5, 0.6, ())
            for step, loss in enumerate(losses)]
    path = tmp_path / "curves.png"
    write_curves_png(path, rows, "fit")
    with Image.open(path) as picture:
        image = picture.convert("RGB")
    for pane in (0, PANE_HEIGHT):
        for colour in (TRAIN_COLOUR, TEST_COLOUR):
            band = [(x, y) for x in range(WIDTH // 2, WIDTH) for y in range(pane, pane + MARGIN_TOP)
                    if image.getpixel((x, y)) == colour]
            assert len(band) >= KEY_LINE, (pane, colour)  # the sample line, whole, above the plot


def test_the_curves_words_are_drawn_apart() -> None:
    """Acceptance review of issue 17: Pillow's own font drew "mlp on moons" as "mlpon
    moons". The curves' text is DejaVu Sans (installed with the system's packages), its
    space a space."""
    from PIL import ImageFont

    from viz.training.plot import FONT_PIXELS, _font

    font = _font()
    assert isinstance(font, ImageFont.FreeTypeFont) and font.size == FONT_PIXELS
    assert font.getlength("mlp on") - font.getlength("mlpon") >= FONT_PIXELS / 4
