"""A lesson as one HTML file (issue 20): `export -o lesson.html` and File > Export >
Interactive HTML write one self-contained page — every node, the narrated steps in
trace order, nothing fetched, a hostile label only as text.

The page is parsed with html.parser. Where a Python with Qt WebEngine is at hand (this
one, or ``AUTOGRAD_STUDIO_BROWSER_PYTHON``), a real browser also loads it and plays it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from viz.io.export import ExportRefused
from viz import wire
from viz.engine.engine import trace_code
from viz.teaching.examples import load_example
from viz.teaching.html_export import MAX_LABEL, lesson_html
from viz.teaching.narration import narrate
from viz.debugger.timeline import Timeline
from viz.engine.trace import Trace

EXAMPLES = ("01_first_tensor", "07_mlp_sequential", "16_exploding_rnn")
HOSTILE = "</script><script>alert(1)</script><!-- http://evil.example/"


class Page(HTMLParser):
    """What a DOM check needs: overlay nodes (id -> label), script blocks, the data."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: dict[str, str] = {}
        self.scripts: list[tuple[str, str]] = []  # (type, text)
        self._node: str | None = None
        self._texts = 0
        self._script: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "g" and found.get("data-node") is not None:
            self._node, self._texts = found["data-node"], 0
            self.nodes[self._node] = ""
        elif tag == "text" and self._node is not None:
            self._texts += 1
        elif tag == "script":
            self._script = found.get("type") or "text/javascript"
            self.scripts.append((self._script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "g":
            self._node = None
        elif tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            kind, text = self.scripts[-1]
            self.scripts[-1] = (kind, text + data)
        elif self._node is not None and self._texts == 1:
            self.nodes[self._node] += data

    @property
    def data(self) -> dict[str, Any]:
        blocks = [text for kind, text in self.scripts if kind == "application/json"]
        assert len(blocks) == 1
        return json.loads(blocks[0])


def example_trace(name: str) -> Trace:
    example = load_example(name)
    return trace_code(example.code, example.file_name)


def export(trace: Trace, path: Path) -> str:
    from ui.export import export_lesson

    export_lesson(trace, path)
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module", params=EXAMPLES)
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             qapp: Any) -> tuple[Trace, str]:
    trace = example_trace(request.param)
    return trace, export(trace, tmp_path_factory.mktemp("lesson") / f"{request.param}.html")


def check_self_contained(text: str) -> None:
    from viz.teaching.html_page import PAGE_SCRIPT, PAGE_STYLE

    assert "//" not in PAGE_SCRIPT + PAGE_STYLE  # as html_page says: no URL of any kind, by construction
    assert "http://" not in text and "https://" not in text
    assert len(re.findall(r"<script", text, re.I)) == 2  # the data block and the player
    assert not re.search(r"<(link|img|iframe|object|embed|image)\b|\bsrc=|@import|url\((?!#)", text, re.I)


def test_every_node_is_there_with_its_label(exported: tuple[Trace, str]) -> None:
    trace, text = exported
    page = Page(text)
    labels = {str(n): d["label"][:MAX_LABEL] for n, d in trace.graph.nodes(data=True)}
    assert page.nodes == labels
    assert {n["id"]: n["label"] for n in page.data["nodes"]} == labels
    assert '<g id="picture">' in text  # the app's own drawing, under the overlay


def test_steps_are_the_trace_events_in_order_with_the_apps_narration(exported: tuple[Trace, str]) -> None:
    trace, text = exported
    steps = Page(text).data["steps"]
    assert [s["node"] for s in steps if s["kind"] == "forward"] == [e.node for e in trace.forward]
    assert [s["node"] for s in steps if s["kind"] == "backward"] == [e.node for e in trace.backward]
    kinds = [s["kind"] for s in steps]
    assert kinds == sorted(kinds, key=("forward", "seed", "backward").index)  # forward, then backward
    assert "backward" in kinds
    timeline = Timeline.from_trace(trace)
    assert [(s["kind"], s["node"], s["text"]) for s in steps] == [
        (step.kind, step.node, narrate(trace, timeline, k).text) for k, step in enumerate(timeline.steps)]


def test_cards_carry_values_gradients_and_the_op_card(exported: tuple[Trace, str]) -> None:
    trace, text = exported
    nodes = {n["id"]: n for n in Page(text).data["nodes"]}
    for node, data in trace.graph.nodes(data=True):
        shown = nodes[str(node)]
        if data["kind"] == "op" and (data.get("card") or {}).get("title"):
            assert shown["card"]["title"] == data["card"]["title"]
        if data.get("value") is not None:
            flat = data["value"].reshape(-1)
            assert shown["value"]["numbers"][0] == f"{float(flat[0]):.4g}"
            assert shown["value"]["stats"]["norm"] == f"{data['stats']['norm']:.4g}"
        if data["kind"] == "leaf":
            assert shown["grad"] is not None


def test_nothing_is_fetched(exported: tuple[Trace, str]) -> None:
    check_self_contained(exported[1])


def hostile_trace() -> Trace:
    """A trace as the worker could forge it (through the wire): its labels and names
    try to close the script block and to fetch something."""
    code = "x = torch.tensor([1.0, 2.0], requires_grad=True)\nloss = (x * 3).sum()\n"
    trace = wire.build(wire.decode(wire.encode(trace_code(code, "lesson.py"))), Trace, "test")
    for node, data in trace.graph.nodes(data=True):
        data["label"] = HOSTILE + data["label"]
        if data["kind"] == "leaf":
            data["name"] = HOSTILE
            data["module"] = "https://evil.example/x.js"
    return trace


@pytest.mark.parametrize("pictured", [True, False], ids=["app-picture", "drawn-here"])
def test_a_hostile_label_is_only_text(tmp_path: Path, pictured: bool, qapp: Any) -> None:
    trace = hostile_trace()
    text = export(trace, tmp_path / "x.html") if pictured else lesson_html(trace)
    check_self_contained(text)
    assert ('<g id="picture">' in text) == pictured  # the app's drawing, its group titles escaped
    assert "<!--" not in text and "alert(1)</" not in text
    page = Page(text)
    assert set(page.nodes.values()) == {d["label"] for _, d in trace.graph.nodes(data=True)}
    assert {n["label"] for n in page.data["nodes"]} == set(page.nodes.values())
    assert [kind for kind, _ in page.scripts] == ["application/json", "text/javascript"]


def test_the_player_writes_text_not_markup() -> None:
    from viz.teaching.html_page import PAGE_SCRIPT

    assert "innerHTML" not in PAGE_SCRIPT and "insertAdjacentHTML" not in PAGE_SCRIPT
    assert "eval(" not in PAGE_SCRIPT and "document.write" not in PAGE_SCRIPT


def test_the_cli_writes_a_lesson(tmp_path: Path) -> None:
    source = tmp_path / "lesson.py"
    source.write_text("x = torch.tensor([2.0], requires_grad=True)\ny = (x * x).sum()\n")
    out = tmp_path / "lesson.html"
    done = subprocess.run([sys.executable, "main.py", "export", str(source), "-o", str(out)],
                          capture_output=True, text=True, cwd=Path(__file__).parent.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    page = Page(out.read_text(encoding="utf-8"))
    assert sorted(page.nodes.values()) == ["Mul", "Sum", "x", "y"]
    assert len(page.data["steps"]) > 4


def test_the_window_exports_a_lesson(qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QWidget

    from ui.exporter import Exporter
    from ui.graph_items import GraphScene
    from ui.themes import THEMES

    window = QWidget()
    qtbot.addWidget(window)
    scene = GraphScene(THEMES["dark"].graph)
    exporter = Exporter(scene, window)
    with qtbot.waitSignal(exporter.failed, timeout=5000):
        exporter.export_to(tmp_path / "none.html")  # no trace yet: one clear message
    scene.set_trace(example_trace("01_first_tensor"))
    with qtbot.waitSignal(exporter.done, timeout=30000):
        exporter.export_to(tmp_path / "lesson.html")
    text = (tmp_path / "lesson.html").read_text(encoding="utf-8")
    assert f"--background:{THEMES['dark'].graph.background}" in text  # the window's theme
    check_self_contained(text)


BROWSER = r"""
import json, sys
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWidgets import QApplication
from PySide6.QtWebEngineWidgets import QWebEngineView
app = QApplication(["lesson"])
view = QWebEngineView()
view.resize(1200, 800)
PROBE = '''(function () {
  var seen = [document.body.getAttribute("data-step")], nodes = [];
  for (var i = 0; i < %d; i++) {
    document.getElementById("next").click();
    seen.push(document.getElementById("text").textContent);
    nodes.push(document.body.getAttribute("data-node"));
  }
  var svg = document.getElementById("graph"), views = [svg.getAttribute("viewBox")];
  svg.dispatchEvent(new WheelEvent("wheel", {deltaY: -400, clientX: 300, clientY: 300, bubbles: true, cancelable: true}));
  views.push(svg.getAttribute("viewBox"));
  svg.dispatchEvent(new PointerEvent("pointerdown", {clientX: 300, clientY: 300, bubbles: true}));
  window.dispatchEvent(new PointerEvent("pointermove", {clientX: 360, clientY: 330}));
  window.dispatchEvent(new PointerEvent("pointerup", {}));
  views.push(svg.getAttribute("viewBox"));
  svg.dispatchEvent(new WheelEvent("wheel", {deltaY: -2000, clientX: 2, clientY: 2, bubbles: true, cancelable: true}));
  var corner = svg.getAttribute("viewBox");  // zoomed in twenty times on the top left corner
  document.getElementById("last").click(); document.getElementById("prev").click();  // the last step's node
  var shown = document.querySelector(".node.current rect").getBBox(), box = svg.getAttribute("viewBox").split(" ").map(Number);
  views.push(corner, svg.getAttribute("viewBox"));
  var followed = shown.x + shown.width / 2 >= box[0] && shown.x + shown.width / 2 <= box[0] + box[2]
    && shown.y + shown.height / 2 >= box[1] && shown.y + shown.height / 2 <= box[1] + box[3];
  var g = document.querySelector("#overlay .node");
  g.dispatchEvent(new PointerEvent("pointerover", {bubbles: true}));
  return JSON.stringify({overlay: Array.prototype.map.call(document.querySelectorAll("#overlay .node"),
    function (g) { return g.getAttribute("data-node"); }), seen: seen, nodes: nodes,
    card: document.getElementById("card").textContent, alerted: !!window.alerted,
    current: document.querySelectorAll(".node.current").length, views: views, followed: followed,
    zoom: box[2]});
})()''' % int(sys.argv[2])
def probe(ok):
    view.page().runJavaScript(PROBE, 0, lambda result: (print(result), app.quit()))
view.loadFinished.connect(probe)
view.page().loadStarted.connect(lambda: view.page().runJavaScript("window.alert = function () { window.alerted = true; };"))
view.load(QUrl.fromLocalFile(sys.argv[1]))
QTimer.singleShot(60000, app.quit)
app.exec()
"""


def browser_python() -> str:
    """A Python with Qt WebEngine (PySide6-Addons, a test dependency): this one, or the
    one the environment names. Without one the page's script is untested: a failure."""
    candidates = [sys.executable, os.environ.get("AUTOGRAD_STUDIO_BROWSER_PYTHON", "")]
    for python in filter(None, candidates):
        probe = subprocess.run([python, "-c", "import PySide6.QtWebEngineWidgets"], capture_output=True)
        if probe.returncode == 0:
            return python
    pytest.fail("no headless browser: Qt WebEngine is not installed (PySide6-Addons, in the test extras: "
                "make setup) and AUTOGRAD_STUDIO_BROWSER_PYTHON names no Python that has it")


@pytest.mark.parametrize("hostile", [False, True], ids=["example", "hostile"])
def test_a_browser_loads_it_and_plays_it(tmp_path: Path, hostile: bool, qapp: Any) -> None:
    python = browser_python()
    trace = hostile_trace() if hostile else example_trace("07_mlp_sequential")
    path = tmp_path / "lesson.html"
    steps = Page(export(trace, path)).data["steps"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu --disable-dev-shm-usage"}
    done = subprocess.run([python, "-c", BROWSER, str(path), str(len(steps))], capture_output=True,
                          text=True, env=env, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout + done.stderr
    shown = json.loads(lines[-1])
    assert sorted(shown["overlay"]) == sorted(str(n) for n in trace.graph.nodes)
    assert shown["nodes"] == [s["node"] for s in steps]
    assert shown["seen"][1:] == [s["text"] for s in steps]
    assert shown["current"] == 1 and shown["card"] and not shown["alerted"]
    (x0, y0, w0, _), (x1, y1, w1, _), (x2, y2, w2, _) = ([float(v) for v in view.split()] for view in shown["views"][:3])
    assert w1 < w0 and w2 == w1 and x2 < x1 and y2 < y1  # the wheel zoomed in, the drag panned
    (_, _, w3, _), view4 = ([float(v) for v in view.split()] for view in shown["views"][3:5])
    assert shown["followed"] and w3 < w1 / 10 and view4[2] == w3  # zoomed in, the step's node is brought into view
    assert view4[:2] != [float(v) for v in shown["views"][3].split()][:2]  # it was off screen: the view moved


def test_a_lesson_too_large_for_one_page_is_refused_before_it_is_written(tmp_path: Path, monkeypatch) -> None:
    """Red team 16: a 9,000-character name repeated in every step's narration made a
    195 MB page (2 GB to write). Past the page's budget the export says so, early."""
    import viz.teaching.html_export as html_export

    code = "x = torch.ones(2, requires_grad=True)\ny = x\nfor i in range(30):\n    y = y * 1.01\ny.sum()\n"
    trace = trace_code(code, "long.py")
    whole = sum(len(text) for step in html_export.lesson_data(trace)["steps"] for text in step.values()
                if isinstance(text, str))
    monkeypatch.setattr(html_export, "MAX_PAGE_CHARS", whole // 2)
    out = tmp_path / "lesson.html"
    with pytest.raises(ExportRefused, match="million characters"):
        html_export.write_lesson(trace, out)
    assert not out.exists()


def test_every_step_is_narrated_by_one_narrator_reading_the_code_once(monkeypatch) -> None:
    """Red team 16: a narrator per step re-split 512 KB of code 40,000 times."""
    import viz.teaching.narration as narration

    trace = trace_code("x = torch.ones(2, requires_grad=True)\ny = (x * 3).exp().sum()\ny\n" + "#\n" * 1000,
                       "padded.py")
    made: list[int] = []
    real = narration._Narrator.__init__
    monkeypatch.setattr(narration._Narrator, "__init__", lambda self, *a: made.append(1) or real(self, *a))
    import viz.teaching.html_export as html_export

    data = html_export.lesson_data(trace)
    assert len(data["steps"]) > 4 and len(made) <= 3  # the steps' narrator, the introduction's, the end's
