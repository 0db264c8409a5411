from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray

from ui.settings import DEVICE, GEOMETRY, MAX_RECENT, RECENT_FILES, THEME, Settings


def test_defaults_come_from_the_declarations(isolated_settings: Path) -> None:
    settings = Settings()
    assert settings.get(THEME) == "system"
    assert settings.get(DEVICE) == "cpu"
    assert settings.get(RECENT_FILES) == []
    assert settings.get(GEOMETRY).isEmpty()


def test_values_survive_a_new_settings_object_in_the_isolated_file(isolated_settings: Path) -> None:
    first = Settings()
    first.set(THEME, "dark")
    first.set(GEOMETRY, QByteArray(b"\x01\x02geometry"))
    first.add_recent_file("/tmp/a.py")
    first.sync()
    assert isolated_settings.exists()
    second = Settings()
    assert second.get(THEME) == "dark"
    assert bytes(second.get(GEOMETRY)) == b"\x01\x02geometry"
    assert second.get(RECENT_FILES) == ["/tmp/a.py"]  # a one-element list stays a list


def test_recent_files_are_most_recent_first_unique_and_bounded() -> None:
    settings = Settings()
    for i in range(MAX_RECENT + 3):
        settings.add_recent_file(f"/tmp/f{i}.py")
    files = settings.add_recent_file("/tmp/f5.py")
    assert files[0] == "/tmp/f5.py"
    assert len(files) == MAX_RECENT
    assert len(set(files)) == len(files)
