"""docs/shortcuts.md's table is the app's own list of shortcuts (make docs writes it)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.ui.test_main_window import make_window

SHORTCUTS_MD = Path(__file__).resolve().parents[2] / "docs" / "shortcuts.md"


def test_the_guides_shortcut_table_matches_the_window(qtbot: QtBot, shared_worker: object) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_images", SHORTCUTS_MD.parent / "make_images.py")
    assert spec is not None and spec.loader is not None
    make_images = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_images)
    window = make_window(qtbot, shared_worker)
    table = make_images.shortcut_table(window.actions_.shortcut_rows())
    text = SHORTCUTS_MD.read_text(encoding="utf-8")
    assert make_images.with_table(text, table) == text, "docs/shortcuts.md is stale: run make docs"
    assert "| F1 | User Guide |" in text
