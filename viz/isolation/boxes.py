"""A trace's node boxes lie apart, as the layout draws them (red team 32).

The layout never puts one node's box over another's. A forged trace that stacks them
(20,000 nodes on one spot) is a tiny drawing the window zooms into as far as it goes,
and whose first paint makes and draws the text of every node at once: 6 s of the GUI
thread a paint. So the parent refuses boxes that overlap, found through a grid: each
box, at most the layout's size (larger ones are refused first), is filed in the one to
four cells it covers, and only boxes sharing a cell are compared, in numpy. Linear in
the nodes; a cell packed past what non-overlapping boxes can fill is refused as it is.
"""

from __future__ import annotations

import numpy as np

from viz.layout.sizing import LINE_HEIGHT, MAX_WIDTH, PAD_Y

CELL = 520.0  # twice the widest box the layout makes (viz.layout.sizing.MAX_WIDTH)
MAX_PER_CELL = 256  # boxes at least 48 units wide, apart: far fewer fit in a cell
TOUCH = 1.0  # boxes that share less than this (units) on both axes do not overlap
# A node's box is at most MAX_WIDTH wide and a few lines tall (viz.layout.sizing).
MAX_NODE_WIDTH = MAX_WIDTH + 1.0
MAX_NODE_HEIGHT = 4 * LINE_HEIGHT + 2 * PAD_Y + 1.0


def boxes_overlap(boxes: np.ndarray) -> str | None:
    """Why the boxes (rows of left, top, right, bottom) are not laid out apart, or None."""
    n = len(boxes)
    sizes = boxes[:, 2:] - boxes[:, :2]
    if n and (np.any(sizes[:, 0] > MAX_NODE_WIDTH) or np.any(sizes[:, 1] > MAX_NODE_HEIGHT)):
        return "its node boxes are larger than the layout draws"  # 1,039 units wide tiled: 1-2 s (red team 33)
    if n < 2:
        return None
    first = np.floor(boxes[:, :2] / CELL).astype(np.int64)
    last = np.floor(boxes[:, 2:] / CELL).astype(np.int64)
    spans = last - first + 1
    counts = spans[:, 0] * spans[:, 1]  # at most four: a box is at most half a cell on each side
    # Every (box, cell) filing: a box repeated once per cell it covers.
    owner = np.repeat(np.arange(n), counts)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    width = np.repeat(spans[:, 0], counts)
    cx = np.repeat(first[:, 0], counts) + k % width
    cy = np.repeat(first[:, 1], counts) + k // width
    order = np.lexsort((owner, cy, cx))
    cx, cy, owner = cx[order], cy[order], owner[order]
    starts = np.flatnonzero(np.r_[True, (cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1])])
    sizes = np.diff(np.r_[starts, len(owner)])
    if sizes.max() > MAX_PER_CELL:
        return "its node boxes are packed tighter than the layout draws them"
    # Each pair of filings within a cell: (a, b) with a before b.
    for offset in range(1, int(sizes.max())):
        a = np.flatnonzero(np.repeat(sizes > offset, sizes) & (np.arange(len(owner)) - np.repeat(starts, sizes) + offset
                                                              < np.repeat(sizes, sizes)))
        if not len(a):
            break
        i, j = owner[a], owner[a + offset]
        wide = np.minimum(boxes[i, 2], boxes[j, 2]) - np.maximum(boxes[i, 0], boxes[j, 0])
        tall = np.minimum(boxes[i, 3], boxes[j, 3]) - np.maximum(boxes[i, 1], boxes[j, 1])
        if np.any((wide > TOUCH) & (tall > TOUCH)):
            return "two of its node boxes lie on each other"
    return None
