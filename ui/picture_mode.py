"""A graph scene drawn as a picture: what an export shows, whatever the view shows.

Every label is drawn, as text (vector in SVG and PDF), not as the view's pixmaps, even
where the view is zoomed out past reading them; no selection or search marks (a slide
of blank boxes with an orange hit was what "Fit, then export" gave). Only the items in
the area painted are changed for it, and they are put back as the view had them right
after: a big picture is painted a band at a time between the window's events
(ui.export.painting), and changing every label and box for each band cost seconds at
20,000 nodes; the view, repainted between two bands, sees what it had.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem

from ui.drawing import NODE_ID

if TYPE_CHECKING:
    from ui.graph_items import GraphScene

NO_CACHE = QGraphicsItem.CacheMode.NoCache


@contextlib.contextmanager
def as_picture(scene: GraphScene, area: QRectF, items: Sequence[QGraphicsItem] | None = None) -> Iterator[None]:
    """Within the block, ``scene``'s items in ``area`` (scene units; or just ``items``,
    of those its nodes' boxes) look as a picture shows them (see the module's text)."""
    hidden, cached = not scene._labels_visible, scene._label_cache != NO_CACHE
    selected, matches = scene._selected, set(scene._matches)
    marked = ({selected} if selected is not None else set()) | matches
    if not (hidden or cached or marked):  # as a picture already (an export's own scene)
        yield
        return
    met = scene.items(area) if items is None else items
    in_area = [str(item.data(NODE_ID)) for item in met if item.data(NODE_ID) is not None]
    labels = [label for node_id in in_area for label in scene.labels.get(node_id, ())]
    titles = [group.title for group in scene.groups.values()] if hidden else []
    for label in labels:
        label.setCacheMode(NO_CACHE)
        label.setVisible(True)
    for title in titles:
        title.setVisible(True)
    if marked:
        scene._selected, scene._matches = None, set()
        scene._restyle_selection(marked)
    try:
        yield
    finally:
        if marked:
            scene._selected, scene._matches = selected, matches
            scene._restyle_selection(marked)
        for label in labels:
            label.setVisible(not hidden)
            label.setCacheMode(scene._label_cache)
        for title in titles:
            title.setVisible(False)
