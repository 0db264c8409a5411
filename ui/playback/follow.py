"""Where the view goes for a step: its node, its badge, and as many of its value labels
as fit, nearest first.

Scrolling only to the node and its badge left the labels on its edges cut at the view's
edge (``ensor[2×4] (norm 0.3455)`` stepping the MLP with →: acceptance review of issue
17). The rectangle kept in view grows by each label, nearest the node first, while it
still fits the viewport with its margin; labels on edges too long to fit stay where
they are (a leader points at them).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSizeF, QTimer
from PySide6.QtWidgets import QGraphicsView

MARGIN = 24  # pixels kept around what is brought into view


def room(view: QGraphicsView) -> QSizeF:
    """What ``view`` shows, in scene units, less its margin on each side."""
    scale = view.transform().m11() or 1.0
    return QSizeF((view.viewport().width() - 2 * MARGIN) / scale, (view.viewport().height() - 2 * MARGIN) / scale)


def seen(view: QGraphicsView) -> QRectF:
    """The scene rectangle ``view`` shows now, less its margin on each side."""
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    margin = MARGIN / (view.transform().m11() or 1.0)
    return shown.adjusted(margin, margin, -margin, -margin)


def in_view(view: QGraphicsView, node: QRectF, badge: QRectF | None, labels: list[QRectF]) -> QRectF:
    """The scene rectangle to keep in view: ``node`` (with ``badge`` when both fit),
    grown by each of ``labels`` nearest first while it fits ``view``'s viewport."""
    space = room(view)

    def fits(rect: QRectF) -> bool:
        return rect.width() <= space.width() and rect.height() <= space.height()

    kept = QRectF(node)
    if badge is not None and fits(kept.united(badge)):
        kept = kept.united(badge)
    centre = node.center()
    for label in sorted(labels, key=lambda r: (r.center() - centre).manhattanLength()):
        grown = kept.united(label)
        if fits(grown):
            kept = grown
    return kept


def follow(view: QGraphicsView, node: QRectF, badge: QRectF | None, labels: list[QRectF]) -> None:
    """Scroll ``view`` (no zoom) so the step's node and what of its text fits are shown:
    now, and again once the view has settled (a label beyond the drawing grows the
    scroll area, a scroll bar may come and narrow the viewport, which then shifts)."""
    _scroll(view, node, badge, labels)
    QTimer.singleShot(0, view, lambda: _scroll(view, node, badge, labels))


def _scroll(view: QGraphicsView, node: QRectF, badge: QRectF | None, labels: list[QRectF]) -> None:
    kept = in_view(view, node, badge, labels)
    view.ensureVisible(kept, MARGIN, MARGIN)
    view.ensureVisible(node, MARGIN, MARGIN)  # the node itself, whatever else did not fit
    rest = [label for label in labels if not kept.contains(label)]
    if not rest:
        return
    # The labels that did not fit: where the view has room to spare around what it
    # keeps, it slides so none is cut by its edge (wholly shown, or wholly beyond).
    # (What it keeps may then touch the edge: the margin is what it gives up.)
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    pixel = 1 / (view.transform().m11() or 1.0)  # the view scrolls by whole pixels: a pixel to spare
    x = _least_cut(seen.left(), kept.right() - seen.width(), kept.left(), seen.width(),
                   [(r.left() - 2 * pixel, r.right() + 2 * pixel) for r in rest])
    y = _least_cut(seen.top(), kept.bottom() - seen.height(), kept.top(), seen.height(),
                   [(r.top() - 2 * pixel, r.bottom() + 2 * pixel) for r in rest])
    if (x, y) != (seen.left(), seen.top()):
        view.centerOn(x + seen.width() / 2, y + seen.height() / 2)


def _least_cut(now: float, low: float, high: float, size: float, spans: list[tuple[float, float]]) -> float:
    """Where a window ``size`` long should start, between ``low`` and ``high``, to cut
    the fewest ``spans`` (a span is cut when the window shows some of it, not all);
    of those, the start nearest ``now``."""
    if low > high:
        return now

    def cuts(start: float) -> int:
        end = start + size
        return sum(1 for a, b in spans if a < end and start < b and not (start <= a and b <= end))

    starts = {min(max(c, low), high) for a, b in spans for c in (a, b, a - size, b - size)}
    starts |= {min(max(now, low), high), low, high}
    return min(starts, key=lambda start: (cuts(start), abs(start - now)))
