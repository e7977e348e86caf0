// The articles editor: a newspaper page cut into articles. Cuts are drawn (x, a straight segment), their
// ends dragged, deleted (Del); the articles are coloured polygons numbered in reading order. The
// geometry (snapping onto gutters and rules, articles from cuts, merging) is computed by the server, in
// formats/articles/layout.py, the one implementation: the drag is drawn here, locally, and each finished
// edit is sent to POST /api/v1/items/<id>/articles/recompute/; its answer completes the same undo step.
// The page type by keys 1–6; the threshold slider previews the model's cuts at another threshold from the
// candidates the prediction stored (no new inference); merging two articles (m), reading order (e).
import { confidenceColor, svgEl } from "../svg.js";

const PAGE_TYPES = ["article", "ads", "tv", "shares", "sports", "other"];
const PALETTE = ["#4f8cff", "#f58231", "#3cb44b", "#e6194b", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
  "#469990", "#9a6324", "#800000", "#808000", "#000075", "#fabed4", "#ffd8b1", "#aaffc3"];
const DRAWN = "#2563eb";       // a cut the operator drew (the model has no confidence for it)
const GRAB_PX = 10;            // how close (screen pixels) a press must be to a cut's end to drag it
const PICK_PX = 8;             // how close a click must be to a cut to select it

const clone = (a) => JSON.parse(JSON.stringify(a));
const XY = ["x0", "y0", "x1", "y1"];
// whole page pixels, as PAGE XML stores them: an answer round-trips exactly
const plainCut = (c) => Object.fromEntries(XY.map((k) => [k, Math.round(c[k])]));
const sig = (cuts) => JSON.stringify((cuts || []).map(plainCut));
const withIds = (cuts) => cuts.map((c, i) => ({ ...plainCut(c), id: `c${i + 1}` }));

function normalize(annotation) {
  const a = clone(annotation || {});
  a.page_type = PAGE_TYPES.includes(a.page_type) ? a.page_type : "article";
  a.cuts = withIds(Array.isArray(a.cuts) ? a.cuts.filter((c) => c && XY.every((k) => Number.isFinite(c[k]))) : []);
  a.articles = (Array.isArray(a.articles) ? a.articles : []).filter((x) => x && Array.isArray(x.polygon))
    .map((x, i) => ({ id: String(x.id || `a${i + 1}`), polygon: x.polygon.map(([px, py]) => [Math.round(px), Math.round(py)]) }));
  // as given, the articles belong to these cuts; an article page without articles gets them computed
  if (a._layout === undefined) a._layout = a.page_type === "article" && !a.articles.length ? null : sig(a.cuts);
  return a;
}

function cutShape(c) {
  return { id: c.id, label: "cut", kind: "polyline", box: [Math.min(c.x0, c.x1), Math.min(c.y0, c.y1), Math.max(c.x0, c.x1), Math.max(c.y0, c.y1)],
    points: [[c.x0, c.y0], [c.x1, c.y1]] };
}

function candidatesOf(prediction) {
  const c = prediction && prediction.scores && prediction.scores.candidates;
  return Array.isArray(c) ? c : [];
}
function tauOf(prediction) {
  const t = prediction && prediction.scores && prediction.scores.tau;
  return typeof t === "number" ? t : 0.5;
}

let threshold = null;  // the slider's value (null: the prediction's own threshold)

function proposal(prediction) {
  if (!prediction) return [];
  const cands = candidatesOf(prediction);
  const t = threshold ?? tauOf(prediction);
  const cuts = cands.length ? cands.filter((c) => c.confidence >= t) : (prediction.payload.cuts || []);
  return cuts.map((c, j) => ({ ...cutShape({ ...c, id: `p${j}` }), confidence: c.confidence ?? c.score ?? null }));
}

function output(a) {
  const out = { page_type: a.page_type, cuts: a.cuts.map(plainCut), articles: [] };
  if (a.page_type === "article") out.articles = a.articles.map((x) => ({ id: x.id, polygon: x.polygon }));
  return out;
}

function check(a) {
  if (a.page_type !== "article" && a.cuts.length) return [`A page of type ${a.page_type} needs no cuts: press 1 for an article page, or delete them.`];
  if (a.page_type === "article" && (a._layout !== sig(a.cuts) || a._merge)) return ["The articles are being recomputed: submit again in a moment."];
  return [];
}

// A point inside an article for its number: the centre of its largest horizontal band.
function labelPoint(polygon) {
  const ys = [...new Set(polygon.map((p) => p[1]))].sort((p, q) => p - q);
  let best = null;
  for (let k = 0; k + 1 < ys.length; k++) {
    const y = (ys[k] + ys[k + 1]) / 2;
    const xs = [];
    for (let i = 0; i < polygon.length; i++) {
      const [x0, y0] = polygon[i], [x1, y1] = polygon[(i + 1) % polygon.length];
      if ((y0 > y) !== (y1 > y)) xs.push(x0 + (y - y0) * (x1 - x0) / (y1 - y0));
    }
    xs.sort((p, q) => p - q);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const area = (xs[i + 1] - xs[i]) * (ys[k + 1] - ys[k]);
      if (!best || area > best.area) best = { area, x: (xs[i] + xs[i + 1]) / 2, y };
    }
  }
  return best ? [best.x, best.y] : polygon[0];
}

function inside(x, y, polygon) {
  let inn = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i], [xj, yj] = polygon[j];
    if ((yi > y) !== (yj > y) && x < xi + (y - yi) * (xj - xi) / (yj - yi)) inn = !inn;
  }
  return inn;
}

function segDistance(px, py, c) {
  const dx = c.x1 - c.x0, dy = c.y1 - c.y0;
  const t = Math.max(0, Math.min(1, ((px - c.x0) * dx + (py - c.y0) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(px - (c.x0 + t * dx), py - (c.y0 + t * dy));
}

function mount(ws) {
  const $ = (id) => document.getElementById(id);
  const osd = ws.viewer.osd;
  let picked = [];          // articles picked for a merge (the last two clicked)
  let ordering = null;      // reading order being clicked: the ids in the order clicked
  let drag = null;          // {kind: "new" | "end", a, b, index, end}
  let line = null;          // the SVG line drawn while dragging
  let inflight = null;
  let frames = 0;           // drag redraws, for the frame-rate measurement
  const candidates = () => candidatesOf(ws.item.prediction);

  // ---- the server computes, the page draws
  function sync() {
    const a = ws.annotation();
    const pending = a.page_type === "article" && (a._layout !== sig(a.cuts) || a._merge);
    document.body.dataset.layout = pending || inflight ? "pending" : "synced";
    if (!pending || inflight || ws.readOnly()) return;
    inflight = recompute(a).finally(() => { inflight = null; sync(); });
  }
  async function recompute(a) {
    const body = { cuts: a.cuts.map(plainCut), articles: a.articles, snap: a._snap || [] };
    if (a._merge) body.merge = a._merge;
    const res = await Loupe.api("POST", Loupe.path`/api/v1/items/${ws.item.id}/articles/recompute/`, body);
    const now = ws.annotation();
    if (sig(now.cuts) !== sig(a.cuts) || JSON.stringify(now._merge) !== JSON.stringify(a._merge)) return;  // edited meanwhile
    const next = clone(now);
    delete next._snap; delete next._merge;
    if (res.ok) {
      next.cuts = withIds(res.data.cuts);
      next.articles = res.data.articles;
      ws.message("");
    } else {
      const d = res.data || {};
      ws.message([d.detail || `Recompute failed (${res.status})`, ...(d.errors || []).map((e) => `${e.path}: ${e.message}`)].join("\n"));
    }
    next._layout = sig(next.cuts);
    ws.commit(next, { amend: true });
  }
  function edit(mutate) {
    if (ws.readOnly()) return;
    ws.absorb();
    const a = clone(ws.annotation());
    if (mutate(a) === false) return;
    ws.commit(a);
  }

  // ---- pointer: draw a cut, drag a cut's end, pick cuts and articles
  const toImage = (pos) => {
    const p = osd.world.getItemAt(0).viewerElementToImageCoordinates(pos);
    return [p.x, p.y];
  };
  const px = () => 1 / ws.viewer.screenScale();  // one screen pixel in image pixels
  function nearestEnd(x, y) {
    let best = null;
    ws.annotation().cuts.forEach((c, index) => {
      for (const end of [0, 1]) {
        const d = Math.hypot(c[`x${end}`] - x, c[`y${end}`] - y);
        if (d <= GRAB_PX * px() && (!best || d < best.d)) best = { index, end, d };
      }
    });
    return best;
  }
  function showLine(a, b) {
    if (!line || !line.isConnected) line = svgEl("line", { class: "cut-drag", "vector-effect": "non-scaling-stroke" }, ws.viewer.root);
    line.setAttribute("x1", a[0]); line.setAttribute("y1", a[1]);
    line.setAttribute("x2", b[0]); line.setAttribute("y2", b[1]);
    frames += 1;
  }
  osd.addHandler("canvas-press", (e) => {
    if (ws.readOnly() || !osd.world.getItemAt(0) || ordering) return;
    const p = toImage(e.position);
    const tool = ws.tools.tool();
    const a = ws.annotation();
    if (tool === "cut" && a.page_type === "article") drag = { kind: "new", a: p, b: p };
    else if (tool === "select") {
      const hit = nearestEnd(p[0], p[1]);
      if (hit) {
        const c = a.cuts[hit.index];
        drag = { kind: "end", index: hit.index, end: hit.end, a: hit.end ? [c.x0, c.y0] : [c.x1, c.y1], b: p };
      }
    }
  });
  osd.addHandler("canvas-drag", (e) => {
    if (!drag) return;
    e.preventDefaultAction = true;  // no panning while drawing
    drag.b = toImage(e.position);
    drag.moved = true;
    showLine(drag.a, drag.b);
  });
  osd.addHandler("canvas-release", () => {
    const d = drag;
    drag = null;
    if (line) { line.remove(); line = null; }
    if (!d || !d.moved || Math.hypot(d.b[0] - d.a[0], d.b[1] - d.a[1]) < 6 * px()) return;
    const { width, height } = ws.viewer.asset();
    const clamp = ([x, y]) => [Math.max(0, Math.min(width, x)), Math.max(0, Math.min(height, y))];
    const [p, q] = [clamp(d.a), clamp(d.b)];
    edit((a) => {
      const cut = { x0: p[0], y0: p[1], x1: q[0], y1: q[1] };
      if (d.kind === "new") { a.cuts = withIds([...a.cuts, cut]); a._snap = [a.cuts.length - 1]; }
      else { a.cuts[d.index] = { ...cut, id: a.cuts[d.index].id }; a._snap = [d.index]; }
    });
  });
  osd.addHandler("canvas-click", (e) => {
    if (!e.quick || !osd.world.getItemAt(0) || ws.tools.tool() !== "select") return;
    const [x, y] = toImage(e.position);
    const a = ws.annotation();
    const art = a.articles.find((r) => inside(x, y, r.polygon));
    if (ordering) {
      if (art && !ordering.includes(art.id)) {
        ordering.push(art.id);
        edit((b) => { b.articles = [...ordering.map((id) => b.articles.find((r) => r.id === id)).filter(Boolean), ...b.articles.filter((r) => !ordering.includes(r.id))]; });
      }
      return;
    }
    const cut = a.cuts.map((c) => [segDistance(x, y, c), c]).filter(([dd]) => dd <= PICK_PX * px()).sort((m, n) => m[0] - n[0])[0];
    if (cut) { picked = []; ws.select(cut[1].id); return; }
    if (art) picked = [...picked.filter((id) => id !== art.id), art.id].slice(-2);
    else picked = [];
    ws.select(null);
  });

  // ---- keys and controls
  function setPageType(t) {
    edit((a) => {
      if (a.page_type === t) return false;
      a.page_type = t;
      if (t !== "article") { a.cuts = []; a.articles = []; a._layout = sig([]); }
    });
  }
  function merge() {
    if (picked.length !== 2) { ws.message("Click two neighbouring articles, then press m to merge them."); return; }
    const pair = [...picked];
    picked = [];
    edit((a) => { a._merge = pair; });
  }
  function toggleOrdering() {
    ordering = ordering ? null : [];
    render();
  }
  let slide = null;
  function setThreshold(t, { apply = true } = {}) {
    threshold = Math.round(Math.max(0.05, Math.min(0.95, t)) * 100) / 100;
    $("threshold").value = String(threshold);
    renderThreshold();
    if (!apply) return;
    clearTimeout(slide);  // the slider fires on every step: one edit when it rests
    slide = setTimeout(() => edit((a) => {
      if (a.page_type !== "article" || !candidates().length) return false;
      a.cuts = withIds(candidates().filter((c) => c.confidence >= threshold));
    }), 150);
  }
  $("threshold").addEventListener("input", () => setThreshold(+$("threshold").value));
  $("tool-cut").onclick = () => !ws.readOnly() && ws.tools.setTool("cut");
  document.querySelectorAll("#page-types button").forEach((b) => { b.onclick = () => setPageType(b.dataset.pageType); });

  const k = ws.keys;
  const group = { group: "Articles", when: () => !ws.readOnly() };
  k.add("x", "Cut tool: drag a straight cut (snapped to horizontal / vertical, gutters and rules)", () => ws.tools.setTool("cut"), group);
  k.add("m", "Merge the two articles clicked last (removes the cuts between them)", merge, group);
  k.add("e", "Reading order: click the articles in order (e again to finish)", toggleOrdering, group);
  k.add(",", "Threshold down (preview the model's cuts at a lower threshold)", () => setThreshold((threshold ?? tauOf(ws.item.prediction)) - 0.05), group);
  k.add(".", "Threshold up", () => setThreshold((threshold ?? tauOf(ws.item.prediction)) + 0.05), group);
  PAGE_TYPES.forEach((t, i) => k.add(String(i + 1), `Page type: ${t}${t === "article" ? "" : " (no cuts needed)"}`, () => setPageType(t), { group: "Page type", when: () => !ws.readOnly() }));

  function renderThreshold() {
    const p = ws.item && ws.item.prediction;
    const has = candidates().length > 0;
    $("threshold").disabled = !has || ws.readOnly();
    const t = threshold ?? tauOf(p);
    $("threshold-value").textContent = has ? `${t.toFixed(2)} · ${candidates().filter((c) => c.confidence >= t).length} cuts (publisher's ${tauOf(p).toFixed(2)})` : "no candidates stored";
  }

  function render() {
    const a = ws.annotation();
    document.querySelectorAll("#page-types button").forEach((b) => {
      b.classList.toggle("active", b.dataset.pageType === a.page_type);
      b.disabled = ws.readOnly();
    });
    $("article-info").textContent = a.page_type === "article"
      ? `${a.articles.length} articles · ${a.cuts.length} cuts${picked.length ? ` · picked ${picked.join(" + ")} (m merges)` : ""}`
      : `Page type ${a.page_type}: no cuts needed.`;
    $("ordering-hint").hidden = !ordering;
    document.body.dataset.ordering = ordering ? "on" : "off";
    renderThreshold();
    sync();
  }

  // ---- drawing the answer (the workspace calls this in its SVG layer)
  function draw(g, { selected }) {
    const a = ws.annotation();
    const cands = candidates();
    a.articles.forEach((art, i) => {
      const color = PALETTE[i % PALETTE.length];
      const cls = "article" + (picked.includes(art.id) ? " picked" : "");
      svgEl("polygon", { class: cls, "data-article": art.id, points: art.polygon.map((p) => p.join(",")).join(" "), fill: color, stroke: color }, g);
      const [x, y] = labelPoint(art.polygon);
      const label = svgEl("text", { class: "article-number", x, y, fill: color }, g);
      label.textContent = String(i + 1);
    });
    for (const c of a.cuts) {
      const cand = cands.find((d) => XY.every((key) => Math.abs(d[key] - c[key]) <= 2));
      const color = cand ? confidenceColor(cand.confidence) : DRAWN;
      svgEl("line", { class: "cut-line" + (c.id === selected ? " selected" : ""), "data-cut": c.id, x1: c.x0, y1: c.y0, x2: c.x1, y2: c.y1, stroke: color, "vector-effect": "non-scaling-stroke" }, g);
      for (const end of [0, 1]) svgEl("circle", { class: "cut-end", cx: c[`x${end}`], cy: c[`y${end}`], fill: color }, g);
    }
  }

  return {
    load(item) {
      threshold = null;
      picked = [];
      ordering = null;
      $("threshold").value = String(tauOf(item.prediction));
    },
    render,
    draw,
    frames: () => frames,
  };
}

// draws "answer": the articles and cuts are drawn and dragged here; the workspace selects and deletes cuts
// by id and draws the proposal and the review diff (static/js/workspace/contract.js)
const editor = {
  kind: "articles", draws: "answer", colors: { cut: DRAWN }, tools: ["select", "cut"],
  views: (item) => [{ asset: item.assets[0], title: "Page" }],
  normalize, output, check, proposal,
  shapes: (a) => a.cuts.map(cutShape),
  remove: (a, view, id) => ({ ...clone(a), cuts: a.cuts.filter((c) => c.id !== id) }),
  diffShape: (e) => (e && "x0" in e ? cutShape({ ...e, id: "" }) : null),
  mount(ws) { const ui = mount(ws); editor.frames = ui.frames; return ui; },
};
export default editor;
