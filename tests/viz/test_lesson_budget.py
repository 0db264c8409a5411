"""A lesson's narration costs a step's own work, whatever the names around it, and its
making stops when asked (red team 68: a lesson of 20,000 named values took 40 s to
narrate, and a window's close waited for the HTML export all that time)."""

from __future__ import annotations

import threading

import pytest

from viz.debugger.timeline import Timeline, TimelineStopped
from viz.engine.engine import trace_code
from viz.teaching import html_export, narration

NAMED = ("import torch.nn as nn\nps = nn.ParameterList([nn.Parameter(torch.ones(2)) for _ in range(300)])\n"
         "loss = torch.stack(list(ps)).sum()\n")


@pytest.fixture(scope="module")
def named_trace() -> object:
    return trace_code(NAMED)


def test_the_lessons_names_are_gathered_once_not_at_every_step(named_trace, monkeypatch) -> None:  # noqa: ANN001
    timeline = Timeline.from_trace(named_trace)
    assert len(timeline.names) > 300
    seen = []
    plain = narration.rule_letters

    def watched(names, rule=None):  # noqa: ANN001, ANN202
        seen.append(names)
        return plain(names, rule)

    monkeypatch.setattr(narration, "rule_letters", watched)
    told = list(narration.narrate_each(named_trace, timeline))
    assert len(told) == len(timeline.steps) and len(seen) == len(told)
    assert isinstance(seen[0], frozenset) and all(names is seen[0] for names in seen)


def test_rule_letters_are_the_same_whatever_the_names_come_as() -> None:
    for names in ([], ["x"], ["x", "y", "z", "a"], ["x", "u"]):
        for rule in (None, "d(x·y)/dx = y", "d(u+v)/du = 1"):
            assert narration.rule_letters(frozenset(names), rule) == narration.rule_letters(iter(names), rule)


def test_the_lesson_page_stops_between_steps_once_asked(named_trace, monkeypatch) -> None:  # noqa: ANN001
    stop = threading.Event()
    assert html_export.lesson_data(named_trace, stop=stop)["steps"]  # not set: the whole page
    stop.set()
    with pytest.raises(TimelineStopped):
        html_export.lesson_data(named_trace, stop=stop)
    stop.clear()
    plain = html_export.narrate_each
    told = []

    def stopping(trace, timeline):  # noqa: ANN001, ANN202 - the close comes after the first step
        for narrated in plain(trace, timeline):
            told.append(narrated)
            stop.set()
            yield narrated

    monkeypatch.setattr(html_export, "narrate_each", stopping)
    with pytest.raises(TimelineStopped):
        html_export.lesson_data(named_trace, stop=stop)
    assert len(told) <= 2


def test_an_html_export_stopped_while_it_narrates_is_cancelled_and_writes_nothing(
        named_trace, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    from ui.export import export_lesson
    from ui.export_task import ExportCancelled, ExportTask
    from ui.render import ensure_application

    ensure_application()
    stop = threading.Event()
    plain = html_export.narrate_each

    def stopping(trace, timeline):  # noqa: ANN001, ANN202 - the window closes as the steps are told
        for narrated in plain(trace, timeline):
            stop.set()
            yield narrated

    monkeypatch.setattr(html_export, "narrate_each", stopping)
    with pytest.raises(ExportCancelled):
        export_lesson(named_trace, tmp_path / "lesson.html", task=ExportTask(stop=stop))
    assert not (tmp_path / "lesson.html").exists()
