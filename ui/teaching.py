"""Teaching: the Narration panel, lesson mode and the user guide, added to a window
together (each module knows only its own part; this one knows all three)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from ui.narration import Narrator

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.playback.debugger import Debugger
    from ui.help_docs import UserGuide


class Teaching(QObject):
    """What ``install_narration`` adds: the panel, lesson mode and the user guide."""

    def __init__(self, window: MainWindow, debugger: Debugger) -> None:
        super().__init__(window)
        from ui.help_docs import install_user_guide  # loaded with the window, not before it
        from ui.lesson import Lesson

        self.narrator = Narrator(window, debugger)
        self.lesson = Lesson(window, debugger)
        self.guide: UserGuide = install_user_guide(window)
        self.narrator.panel.large_changed.connect(window.graph_view.failed_run.set_large)


def install_narration(window: MainWindow) -> Teaching:
    """Add the Narration panel, lesson mode (Ctrl+Shift+M) and Help > User Guide (F1)
    to a window that already has its ``debugger``."""
    return Teaching(window, window.debugger)  # type: ignore[attr-defined]
