"""The gallery's explanation of an example is its docstring's paragraph re-flowed: the
same words in the same order, the lines joined with spaces, none glued to the next.
The shipped examples each keep their paragraph on one line, so a wrapped one is made
here too: the next example written may wrap its paragraph."""

from __future__ import annotations

import ast
from importlib import resources

import pytest

from viz.teaching import examples
from viz.teaching.examples import list_examples, load_example

FILES = sorted(entry.name for entry in resources.files("resources.examples").iterdir()
               if entry.name.endswith(".py") and not entry.name.startswith("_"))


@pytest.mark.parametrize("file_name", FILES)
def test_the_explanation_has_the_docstrings_words(file_name: str) -> None:
    text = resources.files("resources.examples").joinpath(file_name).read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(text)) or ""
    title, _, body = docstring.partition("\n")
    (example,) = [e for e in list_examples() if e.file_name == file_name]
    assert example.title == title.strip()
    assert example.explanation.split() == body.split()
    assert "\n" not in example.explanation



WRAPPED = '''"""A wrapped example

Its paragraph is wrapped at a
comfortable width, as an editor
wraps it: the gallery shows one paragraph.
"""
import torch

x = torch.ones(2, requires_grad=True)
'''


def test_a_paragraph_wrapped_over_lines_is_joined_with_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(examples, "_example_files", lambda: (("99_wrapped", WRAPPED),))
    example = load_example("99_wrapped")
    body = WRAPPED.split('"""')[1].partition("\n\n")[2]
    assert example.title == "A wrapped example"
    assert example.explanation.split() == body.split()
    assert example.explanation == " ".join(body.split())
