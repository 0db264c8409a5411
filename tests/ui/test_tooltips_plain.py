"""Every tooltip the window sets is text it wrote itself, or escaped (red teams 103, 104).

Qt shows a tooltip as rich text when it "might be" HTML, and rich text obeys tags: a
leaf named ``<img src=/dev/zero>`` put unescaped into one tab's tooltip made the
window read /dev/zero when the mouse rested there. This reads the window's source:
each tooltip, status tip or "What's this" text set must be a literal, a constant, or
pass through an escaping function, or be a call site reviewed below (and said why).
A new one that is none of these fails here until it is escaped or reviewed. The same
for the texts of Qt's own dialogs (a progress dialog's label, a message box's informative
and detailed texts), and every progress dialog gets a plain label of the app's first:
a sent trace's file name in "Exporting NAME" read /dev/zero so (red team 104).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTERS = {"setToolTip", "setTabToolTip", "setStatusTip", "setWhatsThis", "setTabWhatsThis", "setLabelText",
           "setInformativeText", "setDetailedText"}
ESCAPING = {"plain_tip", "card_html", "convertFromPlainText", "toolTip"}  # toolTip(): one already set
ITERABLES = {"enumerate", "zip", "items", "values", "keys"}
# (file, function): why the text is the app's own, whatever a trace holds.
REVIEWED = {
    ("ui/graph_items.py", "helpEvent"): "TipsByPlace.tip_at: node cards (card_html) and marks' plain_tip",
    ("ui/main_window.py", "_fill_examples_menu"): "the built-in examples' own explanations (viz.teaching.examples)",
    ("ui/status.py", "set_worker_state"): "WORKER_STATES' tips, or '' for a state it does not know",
    ("ui/training/actions.py", "attach"): "the lab's own buttons' tips and their actions' names and shortcuts",
    ("ui/export_jobs.py", "_show_dialog"): "the progress dialog's label is plain_label's (checked below)",
    ("ui/export_jobs.py", "_on_progress"): "the same dialog's plain label",
}


def _unsafe(node: ast.AST, names: dict[str, list[ast.AST | None]]) -> bool:
    """Whether ``node`` may hold text from outside the app (None: a loop over constants)."""
    if isinstance(node, ast.Constant):
        return False
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) and _unsafe(part.value, names) for part in node.values)
    if isinstance(node, ast.Call):
        called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if called in ESCAPING:
            return False
        return not (called == "replace" and isinstance(node.func, ast.Attribute)
                    and not _unsafe(node.func.value, names))
    if isinstance(node, ast.BinOp):
        return _unsafe(node.left, names) or _unsafe(node.right, names)
    if isinstance(node, (ast.IfExp, ast.BoolOp)):
        parts = [node.body, node.orelse] if isinstance(node, ast.IfExp) else node.values
        return any(_unsafe(part, names) for part in parts)
    if isinstance(node, ast.Attribute) and node.attr == "text" and isinstance(node.value, ast.Subscript):
        return True
    if isinstance(node, ast.Name):
        if node.id.isupper():
            return False
        bound = names.get(node.id, [])
        return not bound or any(value is not None and _unsafe(value, names) for value in bound)
    return True


def _constant_loop(iterable: ast.AST) -> bool:
    """A loop over the app's constants: a literal tuple or list of literals, an
    UPPER_CASE name, or enumerate/zip/items of those."""
    if isinstance(iterable, (ast.Tuple, ast.List)):
        return all(isinstance(item, (ast.Tuple, ast.Constant, ast.Name, ast.Attribute)) and
                   all(not isinstance(leaf, ast.Constant) or isinstance(leaf.value, str | int | float)
                       for leaf in ast.walk(item)) for item in iterable.elts)
    if isinstance(iterable, ast.Name):
        return iterable.id.isupper()
    if isinstance(iterable, ast.Call):
        called = iterable.func.id if isinstance(iterable.func, ast.Name) else getattr(iterable.func, "attr", "")
        inner = list(iterable.args) + ([iterable.func.value] if isinstance(iterable.func, ast.Attribute) else [])
        return called in ITERABLES and all(_constant_loop(arg) for arg in inner)
    return False


def _bindings(function: ast.AST) -> dict[str, list[ast.AST | None]]:
    names: dict[str, list[ast.AST | None]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names.setdefault(target.id, []).append(node.value)
                elif isinstance(target, ast.Tuple):  # unpacked: checked as a whole, never proved safe
                    for name in target.elts:
                        if isinstance(name, ast.Name):
                            names.setdefault(name.id, []).append(ast.Name(id="_unpacked"))
        elif isinstance(node, ast.For):
            safe = _constant_loop(node.iter)
            for name in ast.walk(node.target):
                if isinstance(name, ast.Name):
                    names.setdefault(name.id, []).append(None if safe else ast.Name(id="_looped"))
    return names


def unescaped_tips(root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted([*root.glob("ui/**/*.py"), *root.glob("autograd_studio/*.py")]):
        where = path.relative_to(root).as_posix()
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef) or (where, function.name) in REVIEWED:
                continue
            names = _bindings(function)
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
                    continue
                text = None
                if call.func.attr in SETTERS and call.args:
                    text = call.args[-1]
                elif call.func.attr == "setItemData" and len(call.args) >= 3 and "ToolTip" in ast.unparse(call.args[2]):
                    text = call.args[1]
                if text is not None and _unsafe(text, names):
                    found.append(f"{where}:{call.lineno} in {function.name}: {ast.unparse(text)[:100]}")
    return found


def test_every_tooltip_the_window_sets_is_its_own_text_or_escaped() -> None:
    assert unescaped_tips() == []


def progress_dialogs_without_a_plain_label(root: Path = ROOT) -> list[str]:
    """Each function that makes a QProgressDialog gives it no text but a literal and sets
    a label of ``plain_label``'s before any other."""
    found = []
    for path in sorted([*root.glob("ui/**/*.py"), *root.glob("autograd_studio/*.py")]):
        where = path.relative_to(root).as_posix()
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef):
                continue
            made = [call for call in ast.walk(function) if isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name) and call.func.id == "QProgressDialog"]
            plain = any(isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "setLabel"
                        and "plain_label(" in ast.unparse(call) for call in ast.walk(function))
            for call in made:
                if not plain or (call.args and not isinstance(call.args[0], ast.Constant)):
                    found.append(f"{where}:{call.lineno} in {function.name}")
    return found


def test_every_progress_dialog_has_a_plain_label() -> None:
    assert progress_dialogs_without_a_plain_label() == []


def test_the_check_finds_a_name_put_into_a_tooltip(tmp_path: Path) -> None:
    (tmp_path / "ui").mkdir()
    (tmp_path / "ui" / "tab.py").write_text(
        "def show(self, data):\n"
        "    name = data.get('name')\n"
        "    self.tabs.setTabToolTip(2, f'{name}.grad when the code finished')\n"
        "    self.tabs.setTabToolTip(2, plain_tip(f'{name}.grad'))\n"
        "    for tip in ('Run', 'Stop'):\n        self.button.setToolTip(tip)\n"
        "    for node in data:\n        self.button.setToolTip(node)\n", encoding="utf-8")
    assert [line.split(" in ")[0] for line in unescaped_tips(tmp_path)] == ["ui/tab.py:3", "ui/tab.py:8"]
    (tmp_path / "ui" / "progress.py").write_text(
        "def show(self, path):\n    dialog = QProgressDialog(f'Exporting {path.name}', 'Cancel', 0, 0)\n"
        "def plain(self, path):\n    dialog = QProgressDialog('', 'Cancel', 0, 0)\n"
        "    dialog.setLabel(plain_label(QLabel()))\n", encoding="utf-8")
    assert [line.split(" in ")[0] for line in progress_dialogs_without_a_plain_label(tmp_path)] == ["ui/progress.py:2"]


# Widgets that read rich text whatever the app's style does (red team 117): QErrorMessage
# shows its messages (Qt's own warnings, with qtHandler) as rich text; QWhatsThis guesses.
RICH_ALWAYS = ("QErrorMessage", "qtHandler", "QWhatsThis", "setWhatsThis")


def rich_text_widgets(root: Path = ROOT) -> list[str]:
    """Uses of a widget in RICH_ALWAYS in the window's code."""
    found = []
    for path in sorted([*root.glob("ui/**/*.py"), *root.glob("autograd_studio/*.py")]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(name in line for name in RICH_ALWAYS):
                found.append(f"{path.relative_to(root).as_posix()}:{number}")
    return found


def test_no_widget_that_reads_rich_text_whatever_the_style_is_used(tmp_path: Path) -> None:
    assert rich_text_widgets() == []
    (tmp_path / "ui").mkdir()
    (tmp_path / "ui" / "boxes.py").write_text("from PySide6.QtWidgets import QErrorMessage\n", encoding="utf-8")
    assert rich_text_widgets(tmp_path) == ["ui/boxes.py:1"]
