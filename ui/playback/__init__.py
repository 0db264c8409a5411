"""Animated forward and backward passes, the step-through gradient debugger, GIF export.

``install_debugger(window)`` is the one entry point the main window needs.
"""

from ui.playback.debugger import Debugger, install_debugger

__all__ = ["Debugger", "install_debugger"]
