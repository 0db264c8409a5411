"""Every menu action with its shortcut, declared once; Help lists them from here."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from ui.themes import THEME_NAMES

# name: (menu, text, shortcut or "")
ACTIONS: dict[str, tuple[str, str, str]] = {
    "open": ("&File", "&Open\u2026", "Ctrl+O"),
    # A trace your own code saved (autograd_studio): shown, not run (ui/opened_trace.py).
    "open_trace": ("&File", "Open &Trace\u2026", ""),
    # Your own script, run with full Python (not sandboxed), then shown as a trace (ui/trusted_script.py).
    "open_script_trusted": ("&File", "Open Scr&ipt (Trusted)\u2026", ""),
    "save": ("&File", "&Save", "Ctrl+S"),
    "save_as": ("&File", "Save &As\u2026", "Ctrl+Shift+S"),
    # Code, settings and the training lab in one .json (ui/workspace.py).
    "open_workspace": ("&File", "Open &Workspace\u2026", "Ctrl+Alt+O"),
    "save_workspace": ("&File", "Save Wor&kspace\u2026", "Ctrl+Alt+S"),
    "export_png": ("&File", "Export Graph as &PNG\u2026", "Ctrl+E"),
    "export_svg": ("&File", "Export Graph as S&VG\u2026", "Ctrl+Shift+E"),
    "export_pdf": ("&File", "Export Graph as P&DF\u2026", "Ctrl+Alt+E"),
    "export_html": ("&File", "Export Interactive &HTML\u2026", ""),  # one-file lesson (ui/export.py)
    "copy_image": ("&File", "&Copy Graph Image", "Ctrl+Shift+C"),
    "screenshot": ("&File", "Save &Window Screenshot\u2026", "Ctrl+Shift+W"),
    "quit": ("&File", "&Quit", "Ctrl+Q"),
    "undo": ("&Edit", "&Undo", "Ctrl+Z"),
    "redo": ("&Edit", "&Redo", "Ctrl+Shift+Z"),
    "find_node": ("&Edit", "&Find Node", "Ctrl+F"),
    "find_next": ("&Edit", "Find Ne&xt Match", "F3"),
    "preferences": ("&Edit", "&Preferences\u2026", "Ctrl+,"),
    "run": ("&Run", "&Run", "Ctrl+Return"),
    "cancel": ("&Run", "&Cancel", "Esc"),
    # Keep the graph on screen as run A; the next run is drawn beside it, marked (ui/compare).
    "compare_pin": ("&Run", "&Pin for Compare", "Ctrl+Shift+D"),
    "zoom_in": ("&View", "Zoom &In", "Ctrl++"),
    "zoom_out": ("&View", "Zoom &Out", "Ctrl+-"),
    "fit": ("&View", "&Fit Graph (F in the graph)", "Ctrl+0"),
    "collapse_groups": ("&View", "&Collapse Module Groups", "Ctrl+["),
    "expand_groups": ("&View", "&Expand Module Groups", "Ctrl+]"),
    "show_legend": ("&View", "Show &Legend", "Ctrl+L"),
    # torchviz's orange boxes: what each op saved for backward (ui/saved_overlay.py).
    "show_saved": ("&View", "Show &Saved Tensors", "Ctrl+Shift+A"),
    "show_findings": ("&View", "Show Gradient &Findings", "Ctrl+Shift+H"),  # ui/findings.py
    # Nodes and edges coloured by their gradient's norm, per decade (ui/grad_overlay.py).
    "color_grad_norm": ("&View", "Colo&r by Gradient Norm", "Ctrl+Shift+G"),
    "focus_code": ("&View", "Go to the &Code", "Ctrl+1"),
    "focus_graph": ("&View", "Go to the &Graph", "Ctrl+2"),
    "next_theme": ("&View", "&Next Theme", "Ctrl+Shift+T"),
    "reset_layout": ("&View", "Reset Window &Layout", ""),
    "shortcuts": ("&Help", "&Keyboard Shortcuts", "Shift+F1"),  # F1: the User Guide
    "about": ("&Help", "&About Autograd Studio", ""),
}
CHECKABLE = {"show_legend", "show_saved", "color_grad_norm", "compare_pin"}
ICON_TEXT = {"fit": "Fit"}  # what a toolbar button says when the menu text is long
MENUS = ("&File", "&Edit", "&Run", "&View", "E&xamples", "&Help")
# Shortcuts handled by a widget itself rather than by an action.
WIDGET_KEYS = [("F", "Fit the graph (graph view focused)"),
               ("Mouse wheel / drag", "Zoom / pan the graph"),
               ("Ctrl+wheel, Ctrl++ / Ctrl+- in the code", "Larger / smaller code text (for a projector)"),
               ("Tab / Shift+Tab in the code", "Indent / dedent the line or the selected lines (4 spaces)"),
               ("Return in the code", "New line, indented as Python needs (one step more after a colon)"),
               ("Click a node / empty space", "Select it and inspect it / clear"),
               ("Double-click a module box", "Collapse or expand it"),
               ("Enter in the search box", "Next match"),
               ("Esc in compared graphs", "Leave compare (unpin A)")]


class Actions:
    """The QActions, the menus and the theme group; nothing here knows what they do."""

    def __init__(self, window: QMainWindow) -> None:
        self.by_name: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {title: window.menuBar().addMenu(title) for title in MENUS}
        for name, (menu, text, shortcut) in ACTIONS.items():
            action = QAction(text, window)
            action.setObjectName(name)
            action.setCheckable(name in CHECKABLE)
            if name in ICON_TEXT:
                action.setIconText(ICON_TEXT[name])
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            self.by_name[name] = action
            if name == "quit":
                self.recent_menu = self.menus[menu].addMenu("Open &Recent")
                self.menus[menu].addSeparator()
            if name in ("open_workspace", "export_png", "preferences", "show_legend", "next_theme"):
                self.menus[menu].addSeparator()
            if name == "reset_layout":
                self.theme_menu = self.menus[menu].addMenu("&Theme")
            self.menus[menu].addAction(action)
        self.theme_group = QActionGroup(window)
        self.themes: dict[str, QAction] = {}
        for theme in THEME_NAMES:
            action = QAction(theme.replace("-", " ").title() if theme != "system"
                             else "Follow System", window, checkable=True)
            action.setData(theme)
            self.theme_group.addAction(action)
            self.theme_menu.addAction(action)
            self.themes[theme] = action
        self.examples_menu = self.menus["E&xamples"]
        self._window = window

    def register(self, name: str, action: QAction, menu: str | None = None, first: bool = False) -> None:
        """A feature's own action: named (Help > Keyboard Shortcuts lists it, tests find
        it) and, with ``menu``, in that menu (or one a feature added), at its top with ``first``."""
        action.setObjectName(name)
        self.by_name[name] = action
        if menu is not None:
            actions = self.menus[menu].actions()
            if first and actions:
                self.menus[menu].insertAction(actions[0], action)
            else:
                self.menus[menu].addAction(action)

    def add_menu(self, title: str) -> QMenu:
        """A feature's own menu (Debug, Training), placed before Help: Help stays last."""
        menu = QMenu(title, self._window)
        self._window.menuBar().insertMenu(self.menus["&Help"].menuAction(), menu)
        self.menus[title] = menu
        return menu

    def __getitem__(self, name: str) -> QAction:
        return self.by_name[name]

    def next_theme(self) -> None:
        """Trigger the theme after the checked one (a projector may need high contrast)."""
        actions = list(self.themes.values())
        current = next((i for i, a in enumerate(actions) if a.isChecked()), -1)
        actions[(current + 1) % len(actions)].trigger()

    def shortcut_rows(self) -> list[tuple[str, str]]:
        rows = [(a.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
                 a.text().replace("&", "").replace("\u2026", ""))
                for a in self.by_name.values() if not a.shortcut().isEmpty()]
        return rows + WIDGET_KEYS
