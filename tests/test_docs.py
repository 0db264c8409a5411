"""The user guide: every picture it shows exists (drawn by `make docs`), every page it
links to exists, and it documents every command-line subcommand."""

from __future__ import annotations

import re
from pathlib import Path

import main

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = ("index.md", "first-steps.md", "debugger.md", "training-lab.md", "shortcuts.md",
         "command-line.md", "json-format.md", "from-your-own-code.md")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _links(page: Path) -> list[str]:
    return [target for target in LINK.findall(page.read_text(encoding="utf-8"))
            if "://" not in target]


def test_every_page_exists_and_every_link_and_picture_resolves() -> None:
    pictures = []
    for name in PAGES:
        page = DOCS / name
        assert page.is_file(), name
        for target in _links(page):
            assert (DOCS / target).is_file(), f"{name} links to missing {target}"
            if target.startswith("images/"):
                pictures.append(target)
    assert len(set(pictures)) >= 5
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    for target in LINK.findall(readme):
        if target.startswith("docs/"):
            assert (DOCS.parent / target).is_file(), f"README links to missing {target}"


def test_pictures_are_small_and_all_made_by_the_script() -> None:
    script = (DOCS / "make_images.py").read_text(encoding="utf-8")
    for picture in (DOCS / "images").iterdir():
        assert picture.stat().st_size <= 200 * 1024, picture.name
        assert f'"{picture.name}"' in script, f"{picture.name} is not drawn by make_images.py"


def test_the_command_line_page_covers_every_subcommand() -> None:
    text = (DOCS / "command-line.md").read_text(encoding="utf-8")
    for command in main.COMMANDS:
        assert f"## {command}" in text, command
        assert f"autograd-studio {command}" in text, command


def _table_keys(markdown: str, heading: str) -> set[str]:
    """The backquoted keys in the first column of the table under ``heading``."""
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    keys: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            keys.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return keys


def test_the_json_page_lists_every_graph_and_node_attribute_an_export_writes() -> None:
    from viz.engine.engine import trace_code
    from viz.io.export import trace_to_json_data

    data = trace_to_json_data(trace_code(
        "model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())\nmodel(torch.randn(1, 2)).sum()\n"))
    page = (DOCS / "json-format.md").read_text(encoding="utf-8")
    assert set(data["graph"]) <= _table_keys(page, "Graph attributes")
    for part, heading, own in (("nodes", "Nodes", {"id"}), ("edges", "Edges", {"source", "target"})):
        written = {key for item in data[part] for key in item} - own
        assert written <= _table_keys(page, heading), written - _table_keys(page, heading)
