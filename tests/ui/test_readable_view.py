"""What a newcomer could not read (newcomer round 20, M3): a small graph after Fit, and
the error banner under Large text."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.graphs import synthetic_trace
from tests.ui.test_main_window import make_window
from ui.graph_view import FIT_MOST, GraphView
from ui.themes import LARGE_BANNER_PT, THEMES


def test_fit_zooms_a_small_graph_in_past_its_old_cap(qtbot: QtBot) -> None:
    view = GraphView(THEMES["light"].graph)
    qtbot.addWidget(view)
    view.resize(1500, 1000)
    view.show()
    qtbot.waitExposed(view)
    view.show_trace(synthetic_trace(4))
    view.fit()
    assert 1.5 < view.scale_factor() <= FIT_MOST  # 1.5 left four boxes small on a big screen
    assert FIT_MOST <= 2.5  # and not the lesson's size


def test_large_text_reaches_the_error_banner(qtbot: QtBot, shared_worker: object) -> None:
    window = make_window(qtbot, shared_worker)
    with qtbot.waitSignal(window.runs.run_failed, timeout=60_000):
        window.documents.open_text("x = torch.ones(2, requires_grad=True)\ny = x * nope\n", "typo.py")
    banner = window.graph_view.failed_run.banner
    normal, band = banner.font().pointSizeF(), banner.height()
    assert normal < LARGE_BANNER_PT
    window.teaching.narrator.panel.large.setChecked(True)
    assert banner.font().pointSizeF() == LARGE_BANNER_PT
    assert banner.height() > band  # the band grew with its words
    window.teaching.narrator.panel.large.setChecked(False)
    assert banner.font().pointSizeF() == normal
