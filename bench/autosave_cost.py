"""An autosave's write of a workspace holding a lab run at the history cap: its text,
made on the GUI thread (the first write, the next ones: a keystroke, the rows' text
kept; and the whole text encoded each time, what autosave did before it kept them),
then the file's write, fsync and rename, which the timer's save does on a thread of
its own (ui.autosave: on the GUI thread, a busy disk held the window 87-316 ms).

    .venv/bin/python bench/autosave_cost.py

Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.viz.test_workspace import a_history, a_workspace  # noqa: E402
from viz.io.workspace import MAX_HISTORY_NUMBERS, dumps  # noqa: E402
from viz.io.workspace_file import atomic_write_text  # noqa: E402
from viz.io.workspace_rows import RowTexts  # noqa: E402
from viz.training.snapshots import HistoryRow  # noqa: E402


def main() -> None:
    history = a_history()
    layers = len(history.info.layer_names)
    count = MAX_HISTORY_NUMBERS // (8 + layers)
    rows = tuple(HistoryRow(step, 0.01 * step, 1.0 / step, 0.5, 0.5, 0.5, 0.5, (0.25,) * layers)
                 for step in range(1, count + 1))
    workspace = replace(a_workspace(), training_history=replace(
        history, info=replace(history.info, steps_total=count), rows=rows))
    texts = RowTexts()
    started = time.perf_counter()
    size = len(dumps(workspace, compact=True, texts=texts))
    first = time.perf_counter() - started
    kept, whole = [], []
    for i in range(5):
        edited = replace(workspace, code=f"x = {i}\n")
        started = time.perf_counter()
        dumps(edited, compact=True, texts=texts)
        kept.append(time.perf_counter() - started)
        started = time.perf_counter()
        dumps(edited, compact=True)
        whole.append(time.perf_counter() - started)
    print(f"history of {count:,} rows x {layers} layers ({size / 1e6:.1f} MB of JSON)")
    print(f"first write {first * 1000:.0f} ms; next writes median {statistics.median(kept) * 1000:.0f} ms "
          f"(rows kept) vs {statistics.median(whole) * 1000:.0f} ms (all encoded)")
    text = dumps(workspace, compact=True, texts=texts)
    written = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(3):
            started = time.perf_counter()
            atomic_write_text(Path(folder) / "recovery.json", text)
            written.append(time.perf_counter() - started)
    print(f"the file's write, fsync and rename: median {statistics.median(written) * 1000:.0f} ms "
          "(on the autosave's own thread, not the GUI thread)")


if __name__ == "__main__":
    main()
