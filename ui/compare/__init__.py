"""Compare two runs in the window: pin a trace as A, run changed code as B, see both.

``install_compare(window)`` is the one entry point the main window needs.
"""

from ui.compare.compare import Compare, install_compare

__all__ = ["Compare", "install_compare"]
