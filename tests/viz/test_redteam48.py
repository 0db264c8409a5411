"""Red team 48: user code can give every node one shared card of 64K characters; the
wire sends a shared value once, so the reply stays small, but the command line's JSON
export wrote it once a node: 2.8 GB for a 20,000-step chain. An export now holds at
most MAX_CHARS characters of text in its nodes and edges, and says what it cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import viz.io.export
from viz.engine.engine import trace_code

CHAIN = """\
x = torch.ones(3, requires_grad=True)
y = x
for t in range(40):
    y = y * 1.5
y.sum()
"""


def test_an_export_holds_at_most_its_budget_of_text_and_says_so(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    trace = trace_code(CHAIN)
    honest = viz.io.export.trace_to_json_data(trace)
    assert not any("cut short" in note for note in honest["graph"]["notes"])
    card = {"title": "A" * 4_000, "lines": ["B" * 1_000] * 3}
    for _, attrs in trace.graph.nodes(data=True):
        attrs["card"] = card  # one dict, named by every node: as the wire may share it
    monkeypatch.setattr(viz.io.export, "MAX_CHARS", 50_000)
    for suffix in (".json", ".graphml"):
        viz.io.export.write_graph_file(trace, tmp_path / f"chain{suffix}")
    data = json.loads((tmp_path / "chain.json").read_text(encoding="utf-8"))
    nodes = len(data["nodes"])
    assert nodes > 40 and nodes * 7_000 > 3 * 50_000  # whole, the cards alone would be far over it

    def chars(value: object) -> int:
        if isinstance(value, str):
            return len(value)
        if isinstance(value, dict):
            return sum(len(k) + chars(v) for k, v in value.items())
        if isinstance(value, list):
            return sum(chars(v) for v in value)
        return 0

    cut = viz.io.export.CUT
    texts = sum(chars({k: v for k, v in item.items() if k not in ("value", "grad")})
                for item in [*data["nodes"], *data["edges"]])
    assert texts < 50_000 + (len(cut) + 10) * 8 * (nodes + len(data["edges"])) + 12 * 64 * nodes
    assert data["nodes"][0]["card"] == card  # the first nodes keep theirs whole
    assert data["nodes"][-1]["card"] == cut  # once the budget is spent, a text or a container is cut
    (note,) = [n for n in data["graph"]["notes"] if "cut short" in n]
    assert "at most 50,000 characters" in note
    graphml = (tmp_path / "chain.graphml").read_text(encoding="utf-8")
    assert "cut short" in graphml and len(graphml) < 400_000
    # Red team 49: a card of 2,000 short keys (each kept whole) is charged as well, and so
    # is a graph attribute naming one long text many times.
    keys = {f"k{n:062d}": "" for n in range(2_000)}
    for _, attrs in trace.graph.nodes(data=True):
        attrs["card"] = keys
    viz.io.export.write_graph_file(trace, tmp_path / "keys.json")
    bound = 4 * 50_000 + 600 * (nodes + len(data["edges"]))
    assert (tmp_path / "keys.json").stat().st_size < bound  # whole: 40 cards of 132,000 characters
    trace.graph.graph["steps"] = ["x" * 60_000] * 50
    viz.io.export.write_graph_file(trace, tmp_path / "graph.json")
    assert (tmp_path / "graph.json").stat().st_size < bound


def test_a_code_file_whose_lines_change_script_thousands_of_times_is_refused_by_its_line(tmp_path: Path) -> None:
    """33 lines alternating a Latin and an Arabic letter 5,000 times each (a 494 KB file,
    within the size and line caps) held the editor 2.4 s: it lays out each run of one
    script or direction apart. So did a Hebrew letter and a digit, or a letter and an emoji."""
    from viz.errors import StudioError
    from viz.io.code_file import MAX_SCRIPT_CHANGES, read_code_file, script_changes

    honest = [
        "# تعليق: هذا هو المتجه x with a few English words, و 3 أرقام 1 2 3",
        "# 日本語のコメント: テンソルの勾配を計算します (gradient) " * 20,
        "label = 'événement élevé, naïve café' " * 60,
        "emoji = '" + "😀😃😄😁" * 500 + "'",
        "arabic = '" + "بتث " * 2_000 + "'",
        "x = [" + ", ".join(str(k) for k in range(1_500)) + "]",
        "\t\tlabel = 'Tiếng Việt có dấu rất nhiều chữ, événement était élevé' " * 20,
    ]
    path = tmp_path / "honest.py"
    path.write_text("\n".join(honest) + "\n", encoding="utf-8")
    assert read_code_file(path)  # opened as it is
    # Red team 49: marks that take a direction though they are punctuation or format
    # characters (the Arabic question mark and date separator, the Hebrew maqaf, the
    # Syriac abbreviation mark), and two scripts whose names share a first word.
    for mixed in ("a\u0628", "\u05d11", "a\U0001F600", "a\u200f", "\u05d0\u0628", "a\u061f", "a\u060d",
                  "\u0561\u05be", "a\u070f", "\U00010300\U00010C00", "\u0628\U00011083", "\u0628\u0589",
                  "a\ufb00", "a\t", "a\u200d", "\u4e2d\u3042"):  # a ligature, a tab, a joiner, Han and kana
        line = "s = '" + mixed * 600 + "'"
        assert script_changes(line) > MAX_SCRIPT_CHANGES, mixed
        path = tmp_path / "sent.py"
        path.write_text("import torch\n" + "y = 1\n" + line + "\n", encoding="utf-8")
        with pytest.raises(StudioError) as caught:
            read_code_file(path)
        assert caught.value.line == 3 and "changes script or writing direction" in str(caught.value)
    assert script_changes("a\u0628" * 400) < MAX_SCRIPT_CHANGES  # a few hundred pass


def test_find_lower_cases_each_nodes_text_once_per_graph_and_only_its_head(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sent trace of 20,000 nodes named with 1,000 x "İ" (lower-cased slowly: 41 us a
    thousand) held the window 2.5 s at every keystroke of the find box, which lower-cased
    every node's fields again. Now once per graph, SEARCH_CHARS of each field; a keystroke
    tests each node's text. The matches are those of the whole words, as before."""
    import networkx as nx

    import ui.node_search
    from ui.node_search import SEARCH_CHARS, NodeSearch

    graph = nx.DiGraph()
    for k in range(50):
        graph.add_node(f"n{k}", kind="op", name=None, var="hid" if k % 2 else None, label="\u0130" * 1000 + "Mm",
                       grad_fn="MmBackward0", forward_index=50 - k)
    graph.add_node("leaf", kind="leaf", name="Weight", var=None, label="Weight", grad_fn="AccumulateGrad",
                   forward_index=100)
    made: list[str] = []
    real = ui.node_search._text
    monkeypatch.setattr(ui.node_search, "_text", lambda data: made.append("x") or real(data))
    search = NodeSearch()
    for query in ("we", "wei", "WEIGHT", "mmbackward", "hid", "accumulate"):
        found = search.find(graph, query)
        if query.lower().startswith("w"):
            assert found == ["leaf"]
        elif query == "mmbackward":
            assert found == [f"n{k}" for k in range(49, -1, -1)]  # forward order
        elif query == "hid":
            assert found == [f"n{k}" for k in range(49, -1, -1) if k % 2]
        else:
            assert found == []  # a leaf's AccumulateGrad is never shown, never searched
    assert len(made) == graph.number_of_nodes()  # once per node, not once a keystroke
    assert SEARCH_CHARS <= 200 and all(len(text) < 600 for _, text in search._texts)  # the heads of 1,000-char labels
    other = graph.copy()
    assert search.find(other, "weight") == ["leaf"] and len(made) == 2 * graph.number_of_nodes()


@pytest.mark.parametrize("apart", ["\x0c", "\x1c", "\x0b", "\x85"])
def test_a_line_is_measured_as_the_editor_lays_it_out(tmp_path: Path, apart: str) -> None:
    """Red team 49: form feeds (or \\x1c) end a line for str.splitlines, not for the editor:
    33 such 'lines' of 10,000 characters were one block of 329,000, laid out for 14-28 s."""
    from viz.errors import StudioError
    from viz.io.code_file import MAX_LINE_CHARS, read_code_file

    piece = "s = '" + "abcdefg " * 1_000 + "'"
    path = tmp_path / "sent.py"
    path.write_text("import torch\n" + apart.join([piece] * 33) + "\n", encoding="utf-8")
    with pytest.raises(StudioError) as caught:
        read_code_file(path)
    assert caught.value.line == 2 and f"code lines may have at most {MAX_LINE_CHARS:,}" in str(caught.value)
    path.write_text("import torch\n" + "\n".join([piece] * 33) + "\r" + piece + "\n", encoding="utf-8")
    assert read_code_file(path)  # lines the editor breaks, \r among them, are lines


def test_a_reply_whose_card_is_more_than_a_few_short_texts_is_malformed() -> None:
    """Red team 49: user code gave every op one shared card of 2,000 keys (the wire sends
    it once) and the CLI's export took 7.7 GB. A card is at most a few short texts, as
    viz.teaching.cards makes them; anything else is a malformed reply."""
    from viz.isolation.replies import MAX_CARD_CHARS, MAX_CARD_FIELDS, check_graph
    from viz.wire import MalformedMessage

    trace = trace_code(CHAIN, layout=True)
    check_graph(trace.graph)  # honest
    (op, data) = next((n, d) for n, d in trace.graph.nodes(data=True) if d.get("card"))
    honest = dict(data["card"])
    assert 0 < len(honest) <= MAX_CARD_FIELDS and all(len(text) <= MAX_CARD_CHARS for text in honest.values())
    for forged in ({f"k{n:062d}": "" for n in range(600)}, {"title": "A" * (MAX_CARD_CHARS + 1)},
                   {"title": ["a list"]}, ["title"], {"k" * 65: "a"}):
        data["card"] = forged
        with pytest.raises(MalformedMessage, match="card"):
            check_graph(trace.graph)
    data["card"] = honest
    check_graph(trace.graph)
