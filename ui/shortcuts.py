"""Help -> Keyboard Shortcuts: a table built from the declared actions."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget


class ShortcutsDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (keys, text) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        # Wide enough for both columns whole (newcomer 18: the Action column was cut, with a
        # horizontal scroll bar), tall enough for most rows; within the screen.
        header = self.table.horizontalHeader()
        wanted = header.sectionSize(0) + header.sectionSize(1) + self.table.verticalScrollBar().sizeHint().width() + 40
        screen = (parent.screen() if parent is not None else self.screen()).availableGeometry()
        self.resize(min(max(460, wanted), int(screen.width() * 0.9)), min(640, int(screen.height() * 0.85)))
