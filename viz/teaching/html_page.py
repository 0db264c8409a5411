"""The lesson page's style and script (viz.teaching.html_export): inline, dependency-free.

The script reads the JSON block and writes text only through ``textContent``: node
labels, cards and narration come from the user's code. No ``//`` appears here, so the
page holds no URL of any kind.
"""

PAGE_STYLE = """
*{box-sizing:border-box}
html,body{margin:0;height:100%;font:14px system-ui,sans-serif;color:var(--text);background:var(--background)}
body{display:flex;flex-direction:column}
header{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:6px 10px;border-bottom:1px solid #ccc}
header nav{display:flex;gap:4px;align-items:center;margin-left:auto}
button{font:inherit;padding:2px 8px;cursor:pointer}
#counter{min-width:9em;text-align:center}
main{flex:1;display:flex;min-height:0}
#graph{flex:1;min-width:0;height:100%;cursor:grab;touch-action:none;user-select:none}
#graph.dragging{cursor:grabbing}
.paper{fill:var(--background)}
.edges polyline{fill:none;stroke:var(--edge);stroke-width:1.2}
marker path{fill:var(--edge)}
.node rect{stroke:var(--border);stroke-width:1;fill:var(--op)}
.node.leaf rect{fill:var(--leaf)}
.node.parameter rect{fill:var(--parameter)}
.node.output rect{fill:var(--output);stroke-width:2.2}
.node text{font-size:11px;text-anchor:middle;dominant-baseline:middle;fill:var(--text);pointer-events:none}
.node text.shape{font-size:9px;opacity:.75}
.pictured .node rect{fill:transparent;stroke:transparent}
.pictured .node text{display:none}
.node:hover rect{stroke:var(--selection);stroke-width:2}
.node.current rect{stroke-width:4}
.node.current.forward rect{stroke:var(--forward)}
.node.current.backward rect,.node.current.seed rect{stroke:var(--backward)}
#story{width:min(34em,40%);overflow:auto;padding:8px 14px;border-left:1px solid #ccc}
#story h2{font-size:15px;margin:4px 0 8px}
#text{font-size:15px;line-height:1.45}
#rule{font-style:italic;opacity:.85}
#source{white-space:pre-wrap;background:rgba(127,127,127,.12);padding:4px 6px}
#source:empty{display:none}
#card{position:fixed;max-width:28em;padding:8px 10px;border:1px solid #888;border-radius:4px;
 background:var(--background);box-shadow:0 2px 8px rgba(0,0,0,.25);pointer-events:none;font-size:13px}
#card p{margin:3px 0}
#card .k{font-weight:600}
"""

PAGE_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("lesson-data").textContent);
  var svg = document.getElementById("graph");
  var card = document.getElementById("card");
  var nodes = {}, boxes = {}, view = data.view.slice(), pos = -1, timer = null, drag = null;
  data.nodes.forEach(function (n) { nodes[n.id] = n; boxes[n.id] = document.getElementById("n" + n.index); });
  document.getElementById("where").textContent = data.title;

  function setView() { svg.setAttribute("viewBox", view.join(" ")); }
  function fit() { view = data.view.slice(); setView(); }
  function toGraph(x, y) {
    var p = svg.createSVGPoint(); p.x = x; p.y = y;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }
  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var p = toGraph(e.clientX, e.clientY), k = Math.pow(1.0015, e.deltaY);
    view = [p.x - (p.x - view[0]) * k, p.y - (p.y - view[1]) * k, view[2] * k, view[3] * k];
    setView();
  }, {passive: false});
  svg.addEventListener("pointerdown", function (e) {
    drag = {x: e.clientX, y: e.clientY, view: view.slice()};
    svg.classList.add("dragging");
  });
  window.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var r = svg.getBoundingClientRect();
    var s = Math.max(drag.view[2] / r.width, drag.view[3] / r.height);
    view = [drag.view[0] - (e.clientX - drag.x) * s, drag.view[1] - (e.clientY - drag.y) * s,
            drag.view[2], drag.view[3]];
    setView();
  });
  window.addEventListener("pointerup", function () { drag = null; svg.classList.remove("dragging"); });

  function line(parent, key, value) {
    var p = document.createElement("p");
    if (key) { var k = document.createElement("span"); k.className = "k"; k.textContent = key + " "; p.appendChild(k); }
    p.appendChild(document.createTextNode(value));
    parent.appendChild(p);
  }
  function told(s) {
    if (!s) return "none";
    var text = s.shape;
    if (s.numbers) text += ": " + s.numbers.join(", ") + (s.more ? ", \u2026 (" + s.more + " more)" : "");
    if (s.stats) text += " \u00b7 " + Object.keys(s.stats).map(function (k) { return k + " " + s.stats[k]; }).join(", ");
    return text;
  }
  function fillCard(n) {
    card.textContent = "";
    var title = document.createElement("p"); title.className = "k";
    title.textContent = n.label + " (" + n.kind + ")"; card.appendChild(title);
    if (n.grad_fn && n.grad_fn !== n.label) line(card, "node", n.grad_fn);
    if (n.card.title) line(card, "", n.card.title);
    if (n.card.forward) line(card, "computes:", n.card.forward);
    if (n.card.backward) line(card, "local derivative:", n.card.backward);
    if (n.card.intuition) line(card, "why:", n.card.intuition);
    line(card, "value:", told(n.value));
    line(card, "gradient:", told(n.grad));
    var where = [n.dtype, n.module && "in " + n.module, n.line && "line " + n.line].filter(Boolean);
    if (where.length) line(card, "", where.join(", "));
  }
  var overlay = document.getElementById("overlay");
  overlay.addEventListener("pointerover", function (e) {
    var g = e.target.closest(".node");
    if (!g || drag) return;
    fillCard(nodes[g.getAttribute("data-node")]);
    card.hidden = false;
  });
  overlay.addEventListener("pointermove", function (e) {
    var x = Math.min(e.clientX + 14, window.innerWidth - card.offsetWidth - 4);
    var y = Math.min(e.clientY + 14, window.innerHeight - card.offsetHeight - 4);
    card.style.left = Math.max(0, x) + "px"; card.style.top = Math.max(0, y) + "px";
  });
  overlay.addEventListener("pointerout", function (e) { if (e.target.closest(".node")) card.hidden = true; });

  function follow(box) {
    /* Zoomed in, the step's node may be off screen: the view moves to centre it, same zoom. */
    var r = box.querySelector("rect").getBBox();
    if (r.x >= view[0] && r.y >= view[1] && r.x + r.width <= view[0] + view[2]
        && r.y + r.height <= view[1] + view[3]) return;
    view = [r.x + r.width / 2 - view[2] / 2, r.y + r.height / 2 - view[3] / 2, view[2], view[3]];
    setView();
  }
  function show(i) {
    pos = Math.max(-1, Math.min(i, data.steps.length));
    Object.keys(boxes).forEach(function (id) { boxes[id].classList.remove("current", "forward", "seed", "backward"); });
    var step = data.steps[pos], said = pos < 0 ? data.intro : pos >= data.steps.length ? data.end : step;
    if (step && boxes[step.node]) { boxes[step.node].classList.add("current", step.kind); follow(boxes[step.node]); }
    said = said || {heading: "Nothing to play", text: "This trace has no steps.", rule: null, source: null};
    document.getElementById("heading").textContent = said.heading;
    document.getElementById("text").textContent = said.text;
    document.getElementById("rule").textContent = said.rule || "";
    document.getElementById("source").textContent = said.source || "";
    document.getElementById("counter").textContent = pos < 0 ? "start" : pos >= data.steps.length ? "end"
      : "step " + (pos + 1) + " of " + data.steps.length;
    document.body.setAttribute("data-step", String(pos));
    document.body.setAttribute("data-node", step ? step.node : "");
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } play.textContent = "\u25b6 Play"; }
  var play = document.getElementById("play");
  play.addEventListener("click", function () {
    if (timer) { stop(); return; }
    if (pos >= data.steps.length) show(-1);
    play.textContent = "\u275a\u275a Pause";
    timer = setInterval(function () { show(pos + 1); if (pos >= data.steps.length) stop(); }, 1500);
  });
  var moves = {first: function () { return -1; }, prev: function () { return pos - 1; },
               next: function () { return pos + 1; }, last: function () { return data.steps.length; }};
  Object.keys(moves).forEach(function (id) {
    document.getElementById(id).addEventListener("click", function () { stop(); show(moves[id]()); });
  });
  document.getElementById("fit").addEventListener("click", fit);
  document.addEventListener("keydown", function (e) {
    var keys = {ArrowRight: "next", ArrowLeft: "prev", Home: "first", End: "last"};
    if (keys[e.key]) { document.getElementById(keys[e.key]).click(); e.preventDefault(); }
    else if (e.key === " ") { play.click(); e.preventDefault(); }
    else if (e.key === "f" || e.key === "F") fit();
  });
  show(-1);
})();
"""
