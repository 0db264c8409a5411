"""Names a history carries reach the lab's plots as text, never as markup.

pyqtgraph's titles are Qt rich text: red team round 11 (r01/r01b) put
``<img src="/dev/zero">`` in a workspace's layer and loss names, and Qt read the
"image" until the window died (4.5 GB). The workspace reader now refuses such names
(tests/viz/test_workspace_limits.py); these tests hand the plots such names directly,
so that any later path to a title is escaped too. The image here is a sparse file of
FAKE_IMAGE_MB in tmp_path: a title that loads it shows as an RSS jump, not a crash.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from tests.viz.test_workspace_limits import rss_mb
from ui.themes import THEMES
from ui.training.form import TrainingForm
from ui.training.plots import TrainingPlots
from viz.errors import StudioError
from viz.training import RunInfo

FAKE_IMAGE_MB = 400


def markup(tmp_path: Path) -> str:
    image = tmp_path / "huge.png"
    with image.open("wb") as out:
        out.truncate(FAKE_IMAGE_MB * 2**20)  # sparse: costs no disk, but a read fills memory
    return f"<b>bold</b><img src=\"{image}\">"


def an_info(layer_names: tuple[str, ...], loss_name: str) -> RunInfo:
    points = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], np.float32)
    return RunInfo(task="binary", classes=2, loss_name=loss_name, device="cpu",
                   layer_names=layer_names, parameters=9, steps_total=10, eval_every=5,
                   extent=(-1.0, 2.0, -1.0, 2.0), x_train=points, y_train=np.array([0, 1, 1, 0]),
                   x_test=points[:1], y_test=np.array([0]), model_text="")


def title(item: object) -> str:
    """What a pyqtgraph title shows, as plain text."""
    return item.titleLabel.item.toPlainText()  # type: ignore[attr-defined]


@pytest.mark.timeout(120)
def test_markup_in_layer_and_loss_names_shows_as_itself_and_loads_nothing(
        qtbot: QtBot, tmp_path: Path) -> None:
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(1000, 700)
    plots.show()
    qtbot.waitExposed(plots)
    name = markup(tmp_path)
    before = rss_mb()
    plots.reset(an_info(("layer 1", name), name))
    plots.redraw()
    qtbot.wait(50)  # one paint of the titles
    assert rss_mb() - before < FAKE_IMAGE_MB / 4
    assert name in title(plots.grad_plot) and "\u25a01 " in title(plots.grad_plot)  # "layer 1" keyed as 1
    assert f"loss ({name})" in title(plots.loss_plot)
    layers = plots.weights.layers
    assert [title(layer.plot) for layer in layers] == ["layer 1", name]
    # A big layer's title gains its count once its statistics arrive.
    layers[1].show({"shape": [300, 2], "norm": 1.0, "mean": 0.0, "std": 1.0, "min": -1.0,
                    "max": 1.0}, None)
    assert title(layers[1].plot) == f"{name}: 600 weights"
    plots.set_colors(THEMES["dark"].graph)  # re-sets every title in the theme's colour
    assert name in title(plots.grad_plot) and title(layers[1].plot) == f"{name}: 600 weights"
    assert rss_mb() - before < FAKE_IMAGE_MB / 4


def test_the_forms_hidden_box_refuses_ten_thousand_layers_in_one_line(qtbot: QtBot) -> None:
    form = TrainingForm()
    qtbot.addWidget(form)
    form.model.setCurrentText("mlp")
    form.hidden.setText(",".join(["16"] * 10_000))
    with pytest.raises(StudioError) as caught:
        form.config()
    assert caught.value.one_line() == (
        "error: --hidden:0:0: at most 32 hidden layers, got 10,000 (an MLP takes 1 to 32 "
        "hidden layers of 1 to 4,096 units, e.g. --hidden 16,16)")
    form.hidden.setText(",".join(["4096"] * 32))  # each size in range, 520 million weights in all
    with pytest.raises(StudioError) as caught:
        form.config()
    assert "weights; the lab trains at most 64,000,000" in caught.value.one_line()
    form.hidden.setText(",".join(["64"] * 32))
    assert form.config().hidden == (64,) * 32


def test_the_sparse_image_is_what_a_planted_bug_would_read(tmp_path: Path) -> None:
    """The fake image is as big as the bound assumes, and costs no disk."""
    image = Path(markup(tmp_path).split('src="')[1].split('"')[0])
    assert image.stat().st_size == FAKE_IMAGE_MB * 2**20
    assert os.stat(image).st_blocks * 512 < 2**20


def test_rows_out_of_step_order_never_reach_the_curves() -> None:
    """Red team 40: steps out of order stopped pyqtgraph thinning a curve (every point
    drawn at every repaint of the lab, 3-7 s). The workspace reader refuses them; the
    plots' columns also keep only rows past the last step, wherever rows come from."""
    from ui.training.plots import _Columns
    from viz.training import HistoryRow

    columns = _Columns(layers=1)
    steps = [0, 10, 20, 0, 5, 20, 30]
    columns.extend([HistoryRow(s, 1.0, 1.0, 0.5, s / 100, 0.5, None if s == 10 else 0.75, (0.25,) if s else ())
                    for s in steps])
    assert columns.get("step").tolist() == [0, 10, 20, 30]
    assert np.isnan(columns.get("grad0")[0]) and columns.get("grad0")[1:].tolist() == [0.25, 0.25, 0.25]
    assert columns.get("test_loss").tolist() == [0, 0.1, 0.2, 0.3]
    accuracy = columns.get("test_accuracy")
    assert np.isnan(accuracy[1]) and accuracy[[0, 2, 3]].tolist() == [0.75] * 3
    columns.extend([HistoryRow(s, 1.0, 1.0, 0.5, 0.5, None, None, (0.5,)) for s in range(25, 400)])  # grows
    assert columns.get("step").tolist() == [0, 10, 20, 30, *range(31, 400)]
