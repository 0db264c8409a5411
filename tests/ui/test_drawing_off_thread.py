"""A big graph's boxes and arrows are made off the GUI thread (issue 19): what the GUI
thread then puts on the scene is the very drawing it would have made itself, in the
scene's own colours, with its bounds known without walking 50,000 items."""

from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot

from tests.ui.graphs import synthetic_trace
from ui.drawing import Drawing, make_drawing
from ui.graph_items import LAZY_LABELS_FROM, GraphScene
from ui.themes import THEMES
from viz.engine.engine import trace_code

RNN = """\
W = (torch.randn(4, 4) * 0.25).requires_grad_()
U = (torch.randn(4, 2) * 0.5).requires_grad_()
h = torch.zeros(4)
for t in range(300):
    h = torch.tanh(W @ h + U @ torch.randn(2))
h.sum()
"""


def _made_on_a_thread(trace, colors) -> Drawing:
    made: list[Drawing] = []
    worker = threading.Thread(target=lambda: made.append(make_drawing(trace, colors)))
    worker.start()
    worker.join()
    return made[0]


def _looks(scene: GraphScene) -> dict:
    return {
        "nodes": {n: (i.rect().getCoords(), i.brush().color().name(), i.pen().color().name(), i.pen().widthF(),
                      i.zValue(), i.data(0)) for n, i in scene.nodes.items()},
        "edges": {k: (i.path().boundingRect().getCoords(), i.path().elementCount(), i.pen().color().name(),
                      i.pen().widthF(), i.zValue()) for k, i in scene.edges.items()},
        "rect": scene.sceneRect().getCoords(),
        "unlabelled": sorted(scene._unlabelled),
    }


def test_a_drawing_made_on_another_thread_is_the_one_the_scene_makes(qtbot: QtBot) -> None:
    trace = trace_code(RNN)
    assert trace.graph.number_of_nodes() > LAZY_LABELS_FROM  # text made where it is looked at
    colors = THEMES["light"].graph
    own, given = GraphScene(colors, lazy_labels=True), GraphScene(colors, lazy_labels=True)
    own.set_trace(trace)
    given.set_trace(trace, _made_on_a_thread(trace, colors))
    assert _looks(given) == _looks(own)
    # Its bounds came from the drawing; the scene's own sum over its items agrees.
    assert given.sceneRect() == given.itemsBoundingRect().adjusted(-40, -40, 40, 40)
    assert given.labels_pending() and not given.labels


def test_its_bounds_take_in_an_arrow_drawn_beyond_every_box(qtbot: QtBot) -> None:
    trace = synthetic_trace(LAZY_LABELS_FROM + 200)
    src, dst, points = next(iter(trace.graph.edges(data="points")))
    (x0, y0), (x1, y1) = points[0], points[-1]
    trace.graph.edges[src, dst]["points"] = [[x0, y0], [-900.0, y0], [-900.0, y1 + 5000.0], [x1, y1]]
    colors = THEMES["light"].graph
    scene = GraphScene(colors, lazy_labels=True)
    scene.set_trace(trace, _made_on_a_thread(trace, colors))
    assert scene.sceneRect().left() < -900 and scene.sceneRect().bottom() > y1 + 5000
    assert scene.sceneRect() == scene.itemsBoundingRect().adjusted(-40, -40, 40, 40)


def test_a_drawing_in_other_colours_takes_the_scenes(qtbot: QtBot) -> None:
    trace = trace_code(RNN)
    dark = THEMES["dark"].graph
    scene = GraphScene(dark, lazy_labels=True)
    scene.set_trace(trace, _made_on_a_thread(trace, THEMES["light"].graph))  # the theme changed meanwhile
    own = GraphScene(dark, lazy_labels=True)
    own.set_trace(trace)
    assert _looks(scene) == _looks(own)
    assert {i.brush().color().name() for i in scene.nodes.values()} <= \
        {dark.leaf.lower(), dark.parameter.lower(), dark.op.lower(), dark.output.lower()}


def test_another_traces_drawing_is_not_used(qtbot: QtBot) -> None:
    first, second = trace_code(RNN), trace_code("x = torch.ones(2, requires_grad=True)\n(x * 3).sum()\n")
    colors = THEMES["light"].graph
    scene = GraphScene(colors, lazy_labels=True)
    scene.set_trace(second, _made_on_a_thread(first, colors))
    assert set(scene.nodes) == {str(n) for n in second.graph.nodes}
    assert scene.sceneRect() == scene.itemsBoundingRect().adjusted(-40, -40, 40, 40)


def test_the_window_makes_a_big_runs_drawing_off_the_gui_thread(qtbot: QtBot, shared_worker: object,
                                                                 monkeypatch) -> None:  # noqa: ANN001
    """A real run through the window: its items are made on the run's thread, and the
    scene shows those very items."""
    import ui.graph_view
    from tests.ui.test_main_window import make_window, run_and_wait

    made: list[tuple[threading.Thread, Drawing]] = []

    def spy(trace, colors, same_as=None):  # noqa: ANN001, ANN202
        drawing = make_drawing(trace, colors, same_as)
        made.append((threading.current_thread(), drawing))
        return drawing

    monkeypatch.setattr(ui.graph_view, "make_drawing", spy)
    window = make_window(qtbot, shared_worker)
    trace = run_and_wait(qtbot, window, RNN)
    assert [d.trace for _, d in made] == [trace]
    thread, drawing = made[0]
    assert thread is not threading.main_thread()
    scene = window.graph_view.graph_scene
    assert all(scene.nodes[n] is item for n, item in drawing.nodes.items())
    small = run_and_wait(qtbot, window, "x = torch.ones(2, requires_grad=True)\n(x * 3).sum()\n")
    assert [d.trace for _, d in made] == [trace]  # a small graph is drawn whole when shown
    assert set(scene.nodes) == {str(n) for n in small.graph.nodes}


def test_a_run_of_the_same_drawing_keeps_the_scenes_items(qtbot: QtBot, shared_worker: object) -> None:
    """Running a big graph again, or with other numbers, shows the same boxes: the scene
    keeps its 50,000 items (0.4 s of the GUI thread to replace) and takes the new trace,
    whose numbers the Inspector then shows. Another shape gets items of its own."""
    import numpy as np

    from tests.ui.test_main_window import make_window, run_and_wait

    window = make_window(qtbot, shared_worker)
    scene = window.graph_view.graph_scene
    first = run_and_wait(qtbot, window, RNN)
    items = dict(scene.nodes)
    leaf = first.leaf_named("W")
    window.graph_view.select_node(leaf)
    again = run_and_wait(qtbot, window, RNN.replace("* 0.25", "* 0.5"))  # other numbers, the same graph
    assert again is not first and scene.trace is again
    assert all(scene.nodes[n] is item for n, item in items.items()) and set(scene.nodes) == set(items)
    assert scene.selected_node() is None  # the old run's selection went with it
    window.graph_view.select_node(leaf)
    shown = window.inspector.value_view.table
    values = np.array([[float(shown.item(r, c).text()) for c in range(shown.columnCount())]
                       for r in range(shown.rowCount())])
    np.testing.assert_allclose(values, again.graph.nodes[leaf]["value"], rtol=1e-3)
    assert not np.allclose(again.graph.nodes[leaf]["value"], first.graph.nodes[leaf]["value"])
    other = run_and_wait(qtbot, window, RNN.replace("range(300)", "range(299)"))
    assert scene.trace is other and not any(scene.nodes.get(n) is item for n, item in items.items())


def test_a_big_drawings_objects_are_held_out_of_collections_while_it_is_shown(qtbot: QtBot) -> None:
    """The collector's first pass over a 20,000-node drawing's new objects blocked the GUI
    thread 160 ms: they live until the next trace, so the passes leave them out until then."""
    import gc

    from tests.ui.graphs import synthetic_trace
    from ui.drawing import BIG_SCENE_ITEMS

    big = synthetic_trace(BIG_SCENE_ITEMS // 2 + 100)
    scene = GraphScene(THEMES["light"].graph, lazy_labels=True)
    gc.collect()  # whatever an earlier test gave back is collected: holding out is allowed
    before = gc.get_freeze_count()
    scene.set_trace(big)
    assert len(scene.nodes) + len(scene.edges) > BIG_SCENE_ITEMS
    assert gc.get_freeze_count() > before
    scene.set_trace(trace_code("x = torch.ones(2, requires_grad=True)\n(x * 3).sum()\n"))
    assert gc.get_freeze_count() == 0  # released with the drawing; a small one holds nothing out


def test_what_a_drawing_gave_back_is_collected_before_anything_is_held_out_again(qtbot: QtBot) -> None:
    """Red team 32: held out anew on each arrival, every old trace's cycles (a trace's
    graph is freed by the collector, not by reference counts) stayed held out for good,
    97 MB a run. After a drawing is given back, nothing is held out until a full
    collection has run."""
    import gc
    import weakref

    from ui.drawing import BIG_SCENE_ITEMS

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    scene = GraphScene(THEMES["light"].graph, lazy_labels=True)
    gc.collect()
    garbage = Cycle()
    gone = weakref.ref(garbage)
    scene.set_trace(synthetic_trace(BIG_SCENE_ITEMS // 2 + 100))
    assert gc.get_freeze_count() > 0  # held out, the cycle with it
    del garbage  # garbage now, but only a collection can free it
    scene.set_trace(synthetic_trace(BIG_SCENE_ITEMS // 2 + 101))  # another big drawing
    assert gc.get_freeze_count() == 0  # not held out again before a full pass
    gc.collect()
    assert gone() is None
    scene.set_trace(synthetic_trace(BIG_SCENE_ITEMS // 2 + 102))
    assert gc.get_freeze_count() > 0  # after the full pass, held out again
    scene.set_trace(trace_code("x = torch.ones(2, requires_grad=True)\n(x * 3).sum()\n"))


class _Reads(dict):
    """A node's data that notes which fields are read."""

    def __init__(self, data: dict, read: set) -> None:
        super().__init__(data)
        self.read = read

    def get(self, key, default=None):  # noqa: ANN001, ANN201
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):  # noqa: ANN001, ANN204
        self.read.add(key)
        return super().__getitem__(key)


def test_a_signature_covers_every_field_a_nodes_items_show() -> None:
    """The signature hashes the fields the text is made from, not the text (issue 19:
    making it was 170 ms of a 20k graph's arrival): whatever the text, kind and card
    read is among them, and a change to any of them, or to a route, is another drawing."""
    import copy

    from ui.drawing import SIGNED_FIELDS, SIGNED_FROM, signature
    from ui.node_text import card_html, node_text, style_kind

    trace = synthetic_trace(SIGNED_FROM + 10)
    graph = trace.graph
    read: set = set()
    for _, data in list(graph.nodes(data=True))[:50]:
        wrapped = _Reads({**data, "var": "h", "module": "m"}, read)
        node_text(wrapped), style_kind(wrapped), card_html({k: v for k, v in wrapped.items() if k != "card"})
    assert read - {"card"} <= {*SIGNED_FIELDS, "shape"}, read - {*SIGNED_FIELDS, "shape"}
    same = signature(graph)
    assert same is not None and signature(copy.deepcopy(graph)) == same
    node = next(iter(graph.nodes))
    for field, value in [*((f, "other") for f in SIGNED_FIELDS), ("shape", [7, 7])]:
        changed = copy.deepcopy(graph)
        changed.nodes[node][field] = value
        assert signature(changed) != same, field
    moved = copy.deepcopy(graph)
    u, v, points = next(iter(moved.edges(data="points")))
    moved.edges[u, v]["points"] = [*points[:-1], (points[-1][0] + 1, points[-1][1])]
    assert signature(moved) != same
    odd = copy.deepcopy(graph)
    odd.nodes[node]["label"] = ["a", "list"]
    assert signature(odd) is None  # never taken for the same drawing
