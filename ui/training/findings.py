"""The lab's live findings as one line beside the export buttons.

``viz.training.findings`` decides what is wrong with which layer; this shows it:
each finding's layer, what it is and the step it began, one after another, cut to
the room there is (the lab sits under the graph and every pixel of height is the
plots'); the whole sentences, with the numbers and what to do, in its tooltip and for
a screen reader. The gradient heat map marks the same layers (a warning sign by
their names).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ui.plain_text import cut, plain_label
from viz.training.findings import LayerFinding, LiveFindings

NONE_TEXT = "No gradient findings"
NONE_TIP = ("While it trains, the lab watches each layer's gradient: vanishing, exploding, "
            "dead (all zero) or NaN/Inf, with the thresholds of the window's Findings.")


def summary(findings: LiveFindings) -> list[str]:
    """One phrase per rule, its layers in the order they were found and its first
    step: a deep net's "vanishing gradient" in four layers is one phrase, not four."""
    groups: dict[tuple[str, bool], list[LayerFinding]] = {}
    for finding in findings.findings:
        groups.setdefault((finding.rule, finding.layer is None), []).append(finding)
    phrases = []
    for group in groups.values():
        names = ", ".join(f.name for f in group)
        phrases.append(f"{group[0].words} in {names} (from step {min(f.since for f in group)})"
                       if group[0].layer is not None else f"{group[0].words} in the loss at step {group[0].since}")
    return phrases


class FindingsStrip(QLabel):
    """One elided line of findings (plain text: it names layers a file may carry)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        plain_label(self)
        self.setObjectName("trainingFindings")
        # Eliding, not wrapping: the strip never asks the lab for more width or height.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(120)
        self.full = NONE_TEXT
        self.sentences: list[str] = []
        self.show_findings(LiveFindings(()))

    def show_findings(self, findings: LiveFindings) -> None:
        self.sentences = [f"{line}\n    what to do: {f.hint}"
                          for line, f in zip(findings.lines(), findings.findings)]
        if findings.findings:
            self.full = "\u26a0 " + "  \u00b7  ".join(summary(findings))
            tip = "\n".join(self.sentences)
        else:
            self.full, tip = NONE_TEXT, NONE_TIP
        self.setEnabled(bool(findings.findings))  # "none" greys out
        # Escaped as ui.plain_text.plain_tip escapes, but free to wrap: the sentences are long.
        self.setToolTip(GuiQt.convertFromPlainText(cut(tip), Qt.WhiteSpaceMode.WhiteSpaceNormal))
        self.setAccessibleDescription(tip)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight,
                                                   max(0, self.width() - 4)))
