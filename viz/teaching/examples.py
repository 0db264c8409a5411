"""The example gallery: the plain PyTorch files under ``resources/examples/``.

Each file is code a student could paste. Its module docstring carries what the
gallery shows: the first line is the title, then a blank line, then one paragraph
saying what to look at in the graph. A comment line starting ``# expects-error``
marks an example that fails on purpose (the in-place gotcha): the gallery and the
tests expect an error from it instead of a trace.

Nothing here runs an example: the files are parsed, never imported, so listing the
gallery is cheap and safe.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from viz.errors import StudioError

_PACKAGE = "resources.examples"
_EXPECTS_ERROR = re.compile(r"^#\s*expects-error\b", re.MULTILINE)


@dataclass(frozen=True)
class Example:
    """One gallery entry. ``code`` is the file without its docstring (for showing the
    title and explanation apart); ``source`` is the whole file, as the editor opens it."""

    name: str
    title: str
    explanation: str
    code: str
    expects_error: bool
    source: str = ""

    @property
    def file_name(self) -> str:
        return f"{self.name}.py"


def list_examples() -> list[Example]:
    """Every example, in file-name order (the two-digit prefix is the lesson order)."""
    return [_parse(name, text) for name, text in _example_files()]


def load_example(name: str) -> Example:
    """The example called ``name`` (the file stem, e.g. ``01_first_tensor``; a
    trailing ``.py`` is accepted)."""
    stem = name[:-3] if name.endswith(".py") else name
    for file_stem, text in _example_files():
        if file_stem == stem:
            return _parse(file_stem, text)
    known = ", ".join(file_stem for file_stem, _ in _example_files())
    raise StudioError("option", f"no example named {name!r}", hint=f"known: {known}")


@cache
def _example_files() -> tuple[tuple[str, str], ...]:
    folder = resources.files(_PACKAGE)
    files = sorted(
        (entry.name, entry)
        for entry in folder.iterdir()
        if entry.name.endswith(".py") and not entry.name.startswith("_")
    )
    return tuple((file_name[:-3], entry.read_text(encoding="utf-8")) for file_name, entry in files)


def _parse(name: str, text: str) -> Example:
    module = ast.parse(text, filename=f"{name}.py")
    docstring = ast.get_docstring(module, clean=True)
    if not docstring:
        raise StudioError("io", f"example {name} has no docstring", where=f"{name}.py", line=1)
    title, _, body = docstring.partition("\n")
    # The body is one paragraph; joining its lines lets the view re-wrap it.
    explanation = " ".join(line.strip() for line in body.strip().splitlines())
    return Example(
        name=name,
        title=title.strip(),
        explanation=explanation,
        code=_without_docstring(text, module),
        expects_error=bool(_EXPECTS_ERROR.search(text)),
        source=text,
    )


def _without_docstring(text: str, module: ast.Module) -> str:
    first = module.body[0]
    assert first.end_lineno is not None  # set by ast.parse
    rest = text.splitlines(keepends=True)[first.end_lineno:]
    return "".join(rest).lstrip("\n")
