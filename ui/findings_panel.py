"""The Findings panel: what ``viz.debugger.health`` found in the shown trace, worst first.

Only widgets and signals: ``ui.findings`` decides what a finding's click and its
Debugger button do. A row is one finding: its severity (an icon whose shape and colour
say it), the line, the node as the graph labels it, and the finding in plain words; the
row's tooltip and the pane under the table hold the whole text and the hint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPalette, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from ui.node_text import node_title
from ui.plain_text import cut, plain_tip, WrapLabel
from ui.themes import Theme, show_as_error, theme_of

if TYPE_CHECKING:
    from viz.engine.trace import Trace
    from viz.debugger.health import Finding, HealthReport

IDLE_TEXT = "Run code: its gradients are checked for problems here."
CHECKING_TEXT = "Checking the gradients\u2026"
FAILED_TEXT = "The run failed: nothing to check until the code runs."
CHECKED = ("vanishing and exploding gradients, huge gradients, dead ReLUs, saturated sigmoid/tanh, "
           "NaN/Inf, and parameters whose gradient is None or zero")
HEALTHY_TEXT = (f"No problems found. Checked: {CHECKED}. Each backward against finite differences: "
                "the gradient check (Ctrl+G), whose failures show here too.")
COLUMNS = ("", "line", "node", "finding")
COLUMN_TIPS = ("How bad: error, warning or info (worth a look)", "The line of your code that made the node",
               "The node as the graph labels it", "What looks wrong, in plain words")
ICON_COLUMN, LINE_COLUMN, NODE_COLUMN, WHAT_COLUMN = range(len(COLUMNS))
SEE_BUTTONS = {"nan-trace": "First NaN/Inf", "why-none": "Why None/zero?"}
ICON_PX = 14
MAX_ROWS = 12  # rows shown before the table scrolls
# Rows listed at most, worst first; the rest are counted in a last row. 19,991 findings
# of honest code (a chain of dead ReLUs) were as many rows, made and painted on the GUI
# thread: 1.6-1.8 s, and 2.5-4.3 s opening such a trace (red team 44).
MAX_LISTED = 500
# Findings of one rule at one line of the code, from this many on, are one row (the
# first) whose others open under it: a 20,000-node RNN's 976 "saturated Tanh" warnings,
# all of line 6, filled the table with one line told 500 times (newcomer, session 18).
GROUP_FROM = 3
FINDING_ROLE = Qt.ItemDataRole.UserRole  # a row's index into the report's findings


def severity_colors(theme: Theme) -> dict[str, str]:
    """Each severity's icon and text colour: ui.contrast measures them on the field colour."""
    return {"error": theme.error, "warning": theme.warning_text, "info": theme.accent}


def severity_icon(severity: str, color: QColor | str, selected: QColor | str) -> QIcon:
    """An error is a disc, a warning a triangle, an info a ring: the shape says it without
    the colour. On a selected row (the accent behind it) it is drawn in ``selected``."""
    icon = QIcon(_severity_pixmap(severity, QColor(color)))
    icon.addPixmap(_severity_pixmap(severity, QColor(selected)), QIcon.Mode.Selected)
    return icon


def _severity_pixmap(severity: str, color: QColor) -> QPixmap:
    pixmap = QPixmap(ICON_PX, ICON_PX)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    edge = ICON_PX - 1.5
    if severity == "warning":
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(color))
        painter.drawPolygon(QPolygonF([QPointF(ICON_PX / 2, 1.0), QPointF(edge, edge), QPointF(1.5, edge)]))
    elif severity == "error":
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(color))
        painter.drawEllipse(QPointF(ICON_PX / 2, ICON_PX / 2), ICON_PX / 2 - 1, ICON_PX / 2 - 1)
    else:
        painter.setPen(QPen(color, 2.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(QPointF(ICON_PX / 2, ICON_PX / 2), ICON_PX / 2 - 2, ICON_PX / 2 - 2)
    painter.end()
    return pixmap


def summary_text(report: HealthReport) -> str:
    counts = [f"{n} {level}{'s' if n > 1 else ''}" for level, n in reversed(report.counts().items()) if n]
    if not report.findings:
        text = HEALTHY_TEXT
    elif report.healthy:
        text = f"Nothing alarming; {', '.join(counts)} worth a look. Click one to see its node."
    else:
        text = f"{', '.join(counts).capitalize()}: click one to see its node and line."
    return " ".join([text, *(f"Note: {note}." for note in report.notes)])


class FindingsPanel(QWidget):
    finding_chosen = Signal(int)  # index into the shown report's findings: click or Enter
    see_requested = Signal(int)  # its Debugger tool (First NaN/Inf, Why None)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findingsPanel")
        self.summary = WrapLabel(IDLE_TEXT)  # notes may name the code's tensors
        self.summary.setObjectName("findingsSummary")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTreeWidget()
        self.table.setObjectName("findingsTable")
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHeaderLabels(list(COLUMNS))
        header_item = self.table.headerItem()
        for c, tip in enumerate(COLUMN_TIPS):
            header_item.setToolTip(c, tip)
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.header()
        header.setStretchLastSection(False)
        self._size_columns()
        header.setMinimumSectionSize(ICON_PX + 8)
        self.detail = WrapLabel()  # the current finding whole, and its hint
        self.detail.setObjectName("findingDetail")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.see_button = QPushButton()
        self.see_button.setObjectName("findingSee")
        self.see_button.hide()
        see_row = QHBoxLayout()
        see_row.addWidget(self.see_button)
        see_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addWidget(self.detail)
        layout.addLayout(see_row)
        layout.addStretch(1)
        self.table.clicked.connect(self._chosen)
        self.table.activated.connect(self._chosen)  # Enter (and a double-click) on a row
        self.table.currentItemChanged.connect(lambda item, _old: self._show_detail(item))
        self.table.itemExpanded.connect(lambda _item: self._fit_rows())  # a group opened: its rows show
        self.table.itemCollapsed.connect(lambda _item: self._fit_rows())
        self.see_button.clicked.connect(self._see_clicked)
        self.report: HealthReport | None = None
        self._group_sizes: dict[int, int] = {}  # a group's first finding: how many the group holds

    # --- showing ------------------------------------------------------------------
    def clear(self, text: str = IDLE_TEXT, error: bool = False) -> None:
        """No rows: what was found belongs to the trace it was found in."""
        self.report = None
        self.table.clear()
        self.table.hide()  # "No problems found" needs no empty table under it
        self._show_detail(None)
        show_as_error(self.summary, error)
        self.summary.setText(text)

    def show_report(self, report: HealthReport, trace: Trace) -> None:
        """One row per finding, in the report's order (worst first), but GROUP_FROM or
        more of one rule at one line: one row, the first of them, the others under it.
        Up to MAX_LISTED findings in all; then a row saying how many more (the command
        line's ``health`` lists them all)."""
        self.clear(summary_text(report))
        self.report = report
        groups: dict[tuple[str, str, int | None], list[int]] = {}
        for index, finding in enumerate(report.findings):
            groups.setdefault((finding.rule, finding.severity, finding.line), []).append(index)
        rows, listed = [], 0
        self._group_sizes = {}
        for index, finding in enumerate(report.findings):
            if listed >= MAX_LISTED:
                break
            indices = groups[finding.rule, finding.severity, finding.line]
            if len(indices) < GROUP_FROM:
                rows.append(self._row(report, trace, index))
                listed += 1
            elif index == indices[0]:  # a group's first: its row, the others under it
                head = self._row(report, trace, index)
                others = indices[1:MAX_LISTED - listed]
                head.setText(WHAT_COLUMN, f"{len(indices):,} at this line: {head.text(WHAT_COLUMN)}")
                self._group_sizes[index] = len(indices)
                head.addChildren([self._row(report, trace, other) for other in others])
                rows.append(head)
                listed += 1 + len(others)
        self.table.setRootIsDecorated(any(row.childCount() for row in rows))  # the arrows open a group
        if len(report.findings) > listed:
            more = len(report.findings) - listed
            item = QTreeWidgetItem(["", "", "", f"\u2026 and {more:,} more like these (autograd-studio health "
                                                "FILE lists them all)"])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not a finding: nothing to choose
            rows.append(item)
        self.table.addTopLevelItems(rows)  # one change: the header measures the columns once
        self._color_rows()
        if report.findings:
            self.table.show()
            self._fit_rows()
            self.table.setCurrentItem(self.table.topLevelItem(0))

    @staticmethod
    def _row(report: HealthReport, trace: Trace, index: int) -> QTreeWidgetItem:
        finding = report.findings[index]
        data = trace.graph.nodes[finding.node] if finding.node in trace.graph else {}
        line = str(finding.line) if finding.line is not None else "-"
        item = QTreeWidgetItem(["", line, node_title(data) if data else cut(finding.label, 200),
                                cut(finding.what, 400)])
        item.setData(ICON_COLUMN, FINDING_ROLE, index)
        item.setTextAlignment(LINE_COLUMN, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tip = plain_tip(_whole(finding))
        for c in range(len(COLUMNS)):
            item.setToolTip(c, tip)
        item.setData(ICON_COLUMN, Qt.ItemDataRole.AccessibleTextRole, finding.severity)
        return item

    def rows(self) -> list[QTreeWidgetItem]:
        """Every row, a group's under it, in the table's order."""
        found = []
        for top in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(top)
            found.append(item)
            found += [item.child(k) for k in range(item.childCount())]
        return found

    def _fit_rows(self) -> None:
        """As tall as its rows, up to MAX_ROWS of them: the finding's text follows right under."""
        tops = [self.table.topLevelItem(k) for k in range(self.table.topLevelItemCount())]
        shown = len(tops) + sum(top.childCount() for top in tops if top.isExpanded())  # and opened groups' rows
        rows = min(shown, MAX_ROWS)
        row_px = self.table.sizeHintForRow(0) if rows else 0
        frame = 2 * self.table.frameWidth()
        self.table.setFixedHeight(self.table.header().sizeHint().height() + rows * row_px + frame)

    def _color_rows(self) -> None:
        if self.report is None:
            return
        colors = severity_colors(theme_of(self.palette()))
        selected = self.palette().color(QPalette.ColorRole.HighlightedText)
        icons: dict[str, QIcon] = {}  # one a severity, not two pixmaps painted a row
        # Each row's change made the header measure its columns' contents again, every
        # row's: a theme's change took 14 s over a 20,000-node graph's 2,208 findings
        # (newcomer, session 17). Measured once, after.
        header = self.table.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        try:
            for item in self.rows():
                finding = self._finding(item)
                if finding is None:
                    continue
                color = colors.get(finding.severity, colors["info"])
                if finding.severity not in icons:
                    icons[finding.severity] = severity_icon(finding.severity, color, selected)
                item.setIcon(ICON_COLUMN, icons[finding.severity])
                item.setForeground(WHAT_COLUMN, QColor(color))
        finally:
            self._size_columns()

    def _size_columns(self) -> None:
        header = self.table.header()
        for c in (ICON_COLUMN, LINE_COLUMN, NODE_COLUMN):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(WHAT_COLUMN, QHeaderView.ResizeMode.Stretch)

    def _show_detail(self, item: QTreeWidgetItem | None) -> None:
        finding = self._finding(item)
        text = _whole(finding) if finding is not None else ""
        same = self._group_sizes.get(_index(item), 0) if item is not None and item.childCount() else 0
        if same:
            text += (f"\n{same - 1:,} more like it on this line: open the row "
                     "(\u25b8, or the Right arrow key) to list them.")
        self.detail.setText(text)
        see = finding.see if finding is not None else None
        self.see_button.setVisible(see in SEE_BUTTONS)
        if see in SEE_BUTTONS:
            self.see_button.setText(SEE_BUTTONS[see])
            self.see_button.setToolTip(plain_tip(f"Ask the Debugger about {finding.label}"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a new theme: its severity colours
            self._color_rows()

    # --- input --------------------------------------------------------------------
    def current_index(self) -> int | None:
        return _index(self.table.currentItem())

    def _finding(self, item: QTreeWidgetItem | None) -> Finding | None:
        index = _index(item)
        return None if index is None or self.report is None else self.report.findings[index]

    def _chosen(self, index: QModelIndex) -> None:
        chosen = _index(self.table.itemFromIndex(index))
        if chosen is not None:
            self.finding_chosen.emit(chosen)

    def _see_clicked(self) -> None:
        index = self.current_index()
        if index is not None:
            self.see_requested.emit(index)


def _index(item: QTreeWidgetItem | None) -> int | None:
    """The finding a row shows (None: no row, or the row counting those not listed)."""
    index = None if item is None else item.data(ICON_COLUMN, FINDING_ROLE)
    return None if index is None else int(index)


def _whole(finding: Finding) -> str:
    where = f"line {finding.line}" if finding.line is not None else "no line"
    module = f", in {finding.module}" if finding.module else ""
    return cut(f"{finding.severity} ({where}{module}): {finding.what}.\nHint: {finding.hint}.")
