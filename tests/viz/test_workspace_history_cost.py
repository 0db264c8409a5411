"""A workspace's training history costs the window by its numbers (red team 73: 21
million one-digit numbers, 43.5 MB within every other cap, took the window to 3.5 GB,
each autosave 14-17 s, and a close during the read 51-94 s). It is held to
MAX_HISTORY_NUMBERS, its read stops when asked, and the recovery file is compact."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from tests.viz.test_workspace import a_history, a_workspace
from viz.errors import StudioError
from viz.io import workspace as workspace_module
from viz.io.workspace import MAX_MODEL_TEXT, ReadStopped, dumps, from_json, to_json
from viz.training.snapshots import HistoryRow


def _long(rows: int, layers_of: int = 2) -> dict:
    history = a_history()
    many = tuple(HistoryRow(step, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5, (0.25,) * layers_of) for step in range(1, rows + 1))
    info = replace(history.info, steps_total=rows)
    workspace = replace(a_workspace(), training_history=replace(history, info=info, rows=many))
    return to_json(workspace)


def test_a_history_of_more_numbers_than_a_workspace_keeps_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = _long(1001)  # written whole (the app would thin it: a file someone made)
    monkeypatch.setattr(workspace_module, "MAX_HISTORY_NUMBERS", 10 * 1000)
    assert from_json(_long(990)).training_history is not None  # 990 rows x (8 + 2) = 9,900
    with pytest.raises(StudioError, match="holds 1,001 rows of 2 layers, over the 10,000 numbers"):
        from_json(sent)


def test_reading_a_history_stops_between_rows_when_asked() -> None:
    data = _long(20_000)
    asked = []

    def stopped() -> bool:
        asked.append(1)
        return len(asked) > 1  # the first look goes on, the next stops

    with pytest.raises(ReadStopped):
        from_json(data, stopped=stopped)
    assert len(asked) == 2


def test_the_recovery_file_is_compact_and_a_long_model_text_is_cut(tmp_path: Path) -> None:
    history = a_history()
    long_text = replace(history, info=replace(history.info, model_text="\u00e9" * 100_000))
    workspace = replace(a_workspace(), training_history=long_text)
    compact, indented = dumps(workspace, compact=True), dumps(workspace)
    assert "\n" not in compact and len(compact.encode()) < len(indented.encode())
    back = from_json(json.loads(compact))
    assert back.training_history is not None and back.training_history.info.model_text == "\u00e9" * MAX_MODEL_TEXT
    assert math.isnan(back.training_history.rows[0].batch_loss)  # the same numbers either way


def test_a_path_longer_than_a_path_can_be_is_refused_before_the_window_resolves_it() -> None:
    """Red team 75: a 1.3 MB path of "a/" parts held the GUI thread 41-94 s in
    os.path.realpath (quadratic in its parts); it is refused as the file is read."""
    data = to_json(a_workspace())
    data["path"] = "/" + "a/" * 5_000 + "lesson.py"
    with pytest.raises(StudioError, match='"path" is 10,010 characters'):
        from_json(data)
    data["path"] = "/home/me/" + "a" * 3_000 + ".py"
    assert from_json(data).path == data["path"]


def test_a_lone_surrogate_in_a_sent_history_still_autosaves(tmp_path: Path) -> None:
    """Red team 75: the compact recovery file wrote a history's text as UTF-8, and a lone
    surrogate raised on every autosave (a crash report every 3 s, the user's edits not
    kept). Written ASCII, it saves and reads back."""
    from viz.io.workspace_file import read_workspace, write_workspace

    history = a_history()
    odd = replace(history, info=replace(history.info, model_text="Linear\udc80ReLU"))
    path = tmp_path / "recovery.json"
    write_workspace(path, replace(a_workspace(), training_history=odd), compact=True)
    back, _ = read_workspace(path)
    assert back.training_history is not None and back.training_history.info.model_text == "Linear\udc80ReLU"


def test_a_lab_run_longer_than_a_workspace_keeps_is_saved_thinned_and_opens_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab's longest runs hold twice MAX_HISTORY_NUMBERS: saved whole, the file was
    refused as it opened (the user's run lost). Evenly spaced rows are kept, the first
    and the last among them, each with its own numbers and histograms."""
    import numpy as np

    from viz.training.histograms import COLUMNS

    monkeypatch.setattr(workspace_module, "MAX_HISTORY_NUMBERS", 10 * 1000)
    history = a_history()
    layers = len(history.info.layer_names)
    grid = np.zeros((layers, COLUMNS), dtype=np.int64)
    rows = tuple(HistoryRow(step, 0.01 * step, 1.0 / step, 0.5, 0.5, 0.5, 0.5, (float(step),) * layers,
                            grad_histograms=grid + step if step % 50 == 0 else None)
                 for step in range(1, 5_001))
    long_run = replace(history, info=replace(history.info, steps_total=5_000, eval_every=1), rows=rows)
    back = from_json(to_json(replace(a_workspace(), training_history=long_run))).training_history
    assert back is not None
    kept = back.rows
    assert len(kept) * (8 + layers) <= 10 * 1000 and len(kept) > 10 * 1000 // (8 + layers) // 2
    assert kept[0].step == 1 and kept[-1].step == 5_000
    by_step = {row.step: row for row in rows}
    for row in kept:  # each kept row is the run's own, its histogram with it
        assert row.batch_loss == pytest.approx(1.0 / row.step) and row.grad_norms == (float(row.step),) * layers
        original = by_step[row.step].grad_histograms
        assert (row.grad_histograms is None) == (original is None)
        if original is not None:
            assert np.array_equal(row.grad_histograms, original)
    gaps = {later.step - earlier.step for earlier, later in zip(kept[:-2], kept[1:-1])}
    assert len(gaps) == 1  # evenly spaced (the last row apart)


def test_autosave_encodes_only_the_rows_it_has_not_written_and_writes_the_same_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Autosave wrote a lab run's whole history each time, on the GUI thread: 200,000
    rows at the cap took 1-2.9 s a write, a freeze after each keystroke. The rows' text
    is kept between writes; json.dumps of the whole workspace is the oracle for it."""
    import numpy as np

    from viz.io import workspace_rows
    from viz.io.workspace_rows import RowTexts
    from viz.training.histograms import COLUMNS

    encoded = []
    row_json = workspace_rows.row_json
    counted = lambda row: encoded.append(row.step) or row_json(row)  # noqa: E731
    monkeypatch.setattr(workspace_rows, "row_json", counted)  # the kept texts' encoder
    monkeypatch.setattr(workspace_module, "row_json", counted)  # and a whole write's
    monkeypatch.setattr(workspace_module, "MAX_HISTORY_NUMBERS", 10 * 1000)
    history = a_history()
    layers = len(history.info.layer_names)
    info = replace(history.info, steps_total=5_000, eval_every=1)
    grid = np.zeros((layers, COLUMNS), dtype=np.int64)
    rows = tuple(HistoryRow(step, 0.01 * step, 1.0 / step, math.nan, 0.5, 0.5, 0.5, (float(step),) * layers,
                            grad_histograms=grid + step if step % 50 == 0 else None) for step in range(1, 5_001))
    texts = RowTexts()

    def write(count: int, code: str = "x = 1\n", history_rows: tuple = rows) -> str:
        workspace = replace(a_workspace(), code=code,
                            training_history=replace(history, info=info, rows=history_rows[:count]))
        text, counted_so_far = dumps(workspace, compact=True, texts=texts), list(encoded)
        assert text == json.dumps(to_json(workspace), separators=(",", ":"), allow_nan=False)  # the oracle
        encoded[:] = counted_so_far  # what the oracle encoded is not the write's
        return text

    write(300)
    assert len(encoded) == 300
    encoded.clear()
    write(301)  # the run went on: one row more
    assert encoded == [301]
    encoded.clear()
    write(301, code="y = 2\n")  # a keystroke: no row encoded
    assert encoded == []
    write(300)  # one row fewer (the oracle in write: not the last write's text)
    write(301)
    write(1_500)  # past the cap: thinned, spaced rows and the last
    encoded.clear()
    write(1_501)
    assert encoded == [1_501]  # the spaced rows kept, only the new last one
    other = tuple(replace(row, batch_loss=2.0) for row in rows[:50])
    encoded.clear()
    write(50, history_rows=other)  # another run: all of it
    assert len(encoded) == 50
    # Red team 79: text ending like a mark kept in the JSON made every write encode the
    # whole history again; the kept texts go in by the structure, whatever the text.
    code, model_text = 'x = 1  # "\0histograms\0', 'Sequential()"\0rows\0'
    info = replace(info, model_text=model_text)
    write(50, code=code, history_rows=other)  # the new text encoded once...
    encoded.clear()
    back = from_json(json.loads(write(50, code=code + " ", history_rows=other)))  # ...and not its rows again
    assert encoded == [] and back.code == code + " " and back.training_history.info.model_text == model_text
