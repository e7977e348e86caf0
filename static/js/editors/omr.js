// The OMR alignment editor: the original (left, the workspace's viewer) and the photo (right) side by
// side with linked zoom and pan; the rectified photo over the original as blend / checkerboard /
// difference (1 2 3, 4 off); the inlier matches as lines (m); the original's symbols moved onto the photo
// (s) and the detector's own boxes beside them (d); the metrics with the verdict and its reasons; accept
// (e), reject with a reason (x), or fix: place point pairs with the pair tool (t; a click on one image,
// then its twin on the other), recompute on the server (u) and read the new metrics before submitting.
import { svgEl } from "../svg.js";
import { MODES, applyH, compose, drawMatchLines, linkViewers, loadGrey, rectify } from "./omr_view.js";
import { renderMetricsTable } from "./omr_metrics.js";

const STATUSES = ["accepted", "rejected", "fixed"];
const clone = (a) => JSON.parse(JSON.stringify(a));
const isMatrix = (h) => Array.isArray(h) && h.length === 3 && h.every((r) => Array.isArray(r) && r.length === 3 && r.every(Number.isFinite));
const isPoint = (p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite);
const round = (v) => Math.round(v * 10) / 10;

function normalize(annotation) {
  const a = clone(annotation || {});
  if (!STATUSES.includes(a.status)) a.status = "rejected";
  a.homography = isMatrix(a.homography) ? a.homography : null;
  a.point_pairs = (Array.isArray(a.point_pairs) ? a.point_pairs : []).filter((p) => Array.isArray(p) && p.length === 2 && isPoint(p[0]) && isPoint(p[1]));
  a.reasons = (Array.isArray(a.reasons) ? a.reasons : []).filter((r) => typeof r === "string");
  return a;
}

function check(a) {
  if (a.status === "fixed" && a.point_pairs.length < 4) return [`A fix needs at least 4 point pairs (${a.point_pairs.length} placed): press t and click pairs.`];
  if (a.status === "fixed" && !a.homography) return ["Recompute the fix (u) before submitting."];
  if (a.status === "accepted" && !a.homography) return ["There is no homography to accept: fix it with point pairs or reject."];
  if (a.status === "rejected" && !a.reasons.length) return ["Say why it is rejected (pick a reason, then x)."];
  return [];
}

function roleAssets(item) {
  const by = Object.fromEntries(item.assets.map((a) => [a.role, a]));
  return { original: by.original || item.assets[0], photo: by.photo || item.assets[1] };
}

function mount(ws) {
  const $ = (id) => document.getElementById(id);
  const reasons = JSON.parse($("omr-reasons").textContent);
  const wrap = document.querySelector(".viewer-wrap");
  wrap.classList.add("omr-pair");
  const photoEl = document.createElement("div");
  photoEl.id = "photo-view";
  photoEl.className = "ws-viewer photo-view";
  wrap.insertBefore(photoEl, $("conflict-view"));
  const photo = ws.createViewer(photoEl);
  const lines = svgEl("svg", { class: "match-lines", id: "match-lines" }, wrap);
  const select = $("omr-reason");
  for (const r of reasons) select.append(new Option(r, r));

  let item = null, assets = null, mode = "blend", show = { matches: true, symbols: true, detections: true };
  let pending = null;       // half a pair: {side: "original"|"photo", point}
  let fix = null;           // the last recompute: {request, state, pairs, result}
  let images = null;        // {original, photo} grey working copies
  let overlayKey = "", overlay = null, composedKey = "", placed = false;
  const canvas = document.createElement("canvas");
  canvas.className = "omr-composite";

  const proposalH = () => (item.prediction && isMatrix(item.prediction.payload.homography) ? item.prediction.payload.homography : null);
  const currentH = () => ws.annotation().homography || proposalH();
  const sizes = () => ({ original: { width: assets.original.width, height: assets.original.height }, photo: { width: assets.photo.width, height: assets.photo.height } });
  const link = linkViewers(ws.viewer, photo, currentH, () => sizes().original, () => sizes().photo);

  // ---- the composite over the original
  // The canvas rides on the original viewer as an OpenSeadragon overlay (it zooms and pans with the image);
  // opening an image drops overlays, so `reopened` puts it back.
  function placeOverlay(reopened = false) {
    const base = ws.viewer.osd.world.getItemAt(0);
    const want = !!(base && overlay && mode !== "off");
    if (reopened) placed = false;
    if (want && !placed) {
      ws.viewer.osd.addOverlay({ element: canvas, location: base.imageToViewportRectangle(0, 0, assets.original.width, assets.original.height) });
    } else if (!want && placed) ws.viewer.osd.removeOverlay(canvas);
    placed = want;
    document.body.dataset.omrMode = mode;
  }
  function refreshComposite() {
    const h = currentH();
    if (!images || !h) { overlay = null; overlayKey = composedKey = ""; placeOverlay(); return; }
    const key = JSON.stringify(h);
    if (key !== overlayKey) { overlay = rectify(images.original, images.photo, h, sizes()); overlayKey = key; }
    if (mode !== "off" && composedKey !== key + mode) { compose(images.original, overlay, mode, canvas); composedKey = key + mode; }
    canvas.dataset.mode = mode;
    placeOverlay();
  }
  function setMode(m) {
    mode = m;
    document.querySelectorAll("[data-omr-mode]").forEach((b) => b.classList.toggle("on", b.dataset.omrMode === m));
    refreshComposite();
  }

  // ---- what is drawn on the two viewers
  function drawPairs() {
    const a = ws.annotation();
    const roots = { original: ws.viewer.root, photo: photo.root };
    for (const [side, root] of Object.entries(roots)) {
      root.querySelectorAll(".omr-pairs").forEach((n) => n.remove());
      const g = svgEl("g", { class: "omr-pairs" }, root);
      a.point_pairs.forEach((pair, i) => {
        const [x, y] = pair[side === "original" ? 0 : 1];
        svgEl("circle", { cx: x, cy: y, class: "pair-point", "data-pair": i }, g);
        svgEl("text", { x, y, class: "pair-label" }, g).textContent = String(i + 1);
      });
      if (pending && pending.side === side) svgEl("circle", { cx: pending.point[0], cy: pending.point[1], class: "pair-point pending" }, g);
    }
  }
  function drawBoxes() {
    photo.root.querySelectorAll(".omr-symbols, .omr-detections").forEach((n) => n.remove());
    const h = currentH();
    const symbols = item.meta && Array.isArray(item.meta.symbols) ? item.meta.symbols : null;
    if (show.symbols && h && symbols) {   // moved through the homography now shown, so a fix moves them too
      const g = svgEl("g", { class: "omr-symbols" }, photo.root);
      for (const s of symbols) {
        const [x0, y0, x1, y1] = s.bbox;
        const pts = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]].map(([x, y]) => applyH(h, x, y));
        svgEl("polygon", { points: pts.map((p) => p.join(",")).join(" "), class: "symbol-box" }, g);
      }
      g.dataset.count = String(symbols.length);
    } else if (show.symbols && item.prediction && item.prediction.scores.symbols) {
      const g = svgEl("g", { class: "omr-symbols" }, photo.root);
      for (const s of item.prediction.scores.symbols) {
        const [x0, y0, x1, y1] = s.bbox;
        svgEl("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, class: "symbol-box" }, g);
      }
      g.dataset.count = String(item.prediction.scores.symbols.length);
    }
    const dets = item.prediction && item.prediction.scores.detections;
    if (show.detections && dets) {
      const g = svgEl("g", { class: "omr-detections" }, photo.root);
      for (const d of dets) {
        const [x0, y0, x1, y1] = d.bbox;
        svgEl("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, class: "detection-box" }, g);
      }
      g.dataset.count = String(dets.length);
    }
  }
  function matches() {
    if (fix && fix.result && fix.result.matches && JSON.stringify(fix.pairs) === JSON.stringify(ws.annotation().point_pairs)) return fix.result.matches;
    return item.prediction && item.prediction.scores.matches;
  }
  const redrawLines = () => drawMatchLines(lines, wrap, ws.viewer, photo, show.matches ? matches() : []);
  for (const v of [ws.viewer, photo]) { v.osd.addHandler("animation", redrawLines); v.osd.addHandler("animation-finish", redrawLines); v.osd.addHandler("resize", redrawLines); }

  // ---- the panel: status, metrics (the proposal's and the fix's, or those stored with the answer), pairs
  function renderMetrics() {
    const prop = item.prediction ? item.prediction.scores : null;
    // A reviewer reads the answer under review with the figures the server stored when it was submitted.
    if (ws.readOnly() && !fix) {
      const stored = item.current ? item.current.metrics || null : null;
      renderMetricsTable($("omr-metrics"), { prop, title: "The answer", stored });
    } else renderMetricsTable($("omr-metrics"), { prop, title: ws.readOnly() ? "The answer" : "Your fix", fix });
  }
  function renderPairs() {
    const list = $("omr-pairs");
    list.replaceChildren();
    ws.annotation().point_pairs.forEach((pair, i) => {
      const li = document.createElement("li");
      li.dataset.pair = String(i);
      li.textContent = `(${pair[0].map(Math.round).join(", ")}) → (${pair[1].map(Math.round).join(", ")}) `;
      const del = document.createElement("button");
      del.textContent = "×";
      del.title = "Remove this pair";
      del.disabled = ws.readOnly();
      del.onclick = () => removePair(i);
      li.append(del);
      list.append(li);
    });
    const n = ws.annotation().point_pairs.length;
    $("omr-pair-hint").textContent = pending ? `Now click the same spot on the ${pending.side === "original" ? "photo" : "original"}.`
      : n < 4 ? `${n} of at least 4 pairs.` : `${n} pairs: recompute (u).`;
    $("omr-recompute").disabled = ws.readOnly() || n < 4;
  }
  function renderStatus() {
    const a = ws.annotation();
    const el = $("omr-status");
    el.dataset.status = a.status;
    el.className = `omr-status s-${a.status}`;
    el.textContent = { accepted: "Accepted", rejected: "Rejected", fixed: "Fixed" }[a.status] + (a.reasons.length ? ` · ${a.reasons.join(", ")}` : "");
    for (const id of ["omr-accept", "omr-reject"]) $(id).disabled = ws.readOnly();
    // how far the answer's homography moves the page's corners against the proposal's
    const hp = proposalH(), ha = a.homography, { width: W, height: H } = assets.original;
    let moved = "";
    if (hp && ha && JSON.stringify(hp) !== JSON.stringify(ha)) {
      const d = [[0, 0], [W, 0], [W, H], [0, H]].map(([x, y]) => { const [u, v] = applyH(hp, x, y), [s, t] = applyH(ha, x, y); return Math.hypot(u - s, v - t); });
      moved = `This answer moves the page corners by up to ${Math.max(...d).toFixed(1)} px against the proposal.`;
    }
    $("omr-moved").textContent = moved;
  }

  // ---- edits (each one undoable through the workspace)
  function setAnnotation(change) {
    if (ws.readOnly()) return;
    ws.commit({ ...clone(ws.annotation()), ...change });
  }
  function accept() {
    const h = currentH();
    if (!h) { ws.message("There is no homography to accept: fix it with point pairs or reject."); return; }
    setAnnotation({ status: "accepted", homography: h, reasons: [] });
  }
  function reject() { setAnnotation({ status: "rejected", reasons: [select.value] }); }
  function addPair(pair) { setAnnotation({ point_pairs: [...ws.annotation().point_pairs, pair.map((p) => p.map(round))] }); }
  function removePair(i) { pending = null; setAnnotation({ point_pairs: ws.annotation().point_pairs.filter((_, k) => k !== i) }); }

  function place(side, viewer, ev) {
    if (ws.tools.tool() !== "pair" || !ev.quick || ws.readOnly()) return;
    ev.preventDefaultAction = true;
    const base = viewer.osd.world.getItemAt(0);
    if (!base) return;
    const p = base.viewerElementToImageCoordinates(ev.position);
    const a = assets[side];
    if (p.x < 0 || p.y < 0 || p.x > a.width || p.y > a.height) return;
    if (pending && pending.side !== side) {
      const pair = side === "photo" ? [pending.point, [p.x, p.y]] : [[p.x, p.y], pending.point];
      pending = null;
      addPair(pair);
    } else {
      pending = { side, point: [p.x, p.y] };
      ws.render();
    }
  }
  ws.viewer.osd.addHandler("canvas-click", (ev) => place("original", ws.viewer, ev));
  photo.osd.addHandler("canvas-click", (ev) => place("photo", photo, ev));

  // ---- recompute on the server: the pairs' own homography at once, the worker's refined one as an event
  async function recompute() {
    const pairs = clone(ws.annotation().point_pairs);
    if (ws.readOnly() || pairs.length < 4) return;
    const res = await Loupe.api("POST", Loupe.path`/api/v1/items/${item.id}/omr/recompute/`, { point_pairs: pairs });
    if (res.status !== 202) {
      const d = res.data || {};
      ws.message([d.detail || `Recompute refused (${res.status})`, ...(d.errors || []).map((e) => `${e.path}: ${e.message}`),
        ...Object.entries(d).filter(([k]) => !["detail", "errors", "code"].includes(k)).map(([k, v]) => `${k}: ${v}`)].join("\n"));
      return;
    }
    ws.message("");
    fix = { request: res.data.request, pairs, result: null };
    document.body.dataset.recompute = "pending";
    setAnnotation({ status: "fixed", homography: res.data.homography });
    if (arrived.has(fix.request)) applyResult(arrived.get(fix.request), "socket");   // a worker faster than our POST's answer
    // The answer comes over the project's socket; a socket that was down meanwhile is covered by reading
    // the result once later.
    setTimeout(() => fix && fix.request === res.data.request && !fix.result && fetchResult(res.data.request), 15000);
  }
  async function fetchResult(request) {
    const res = await Loupe.api("GET", Loupe.path`/api/v1/items/${item.id}/omr/recompute/${request}/`);
    if (res.ok && res.data.state !== "pending") applyResult(res.data, "fetch");
  }
  function applyResult(body, via) {
    if (!fix || body.request !== fix.request || fix.result) return;
    fix.result = body;
    document.body.dataset.recomputeVia = via;
    document.body.dataset.recompute = body.state;
    const same = JSON.stringify(fix.pairs) === JSON.stringify(ws.annotation().point_pairs);
    if (body.state === "done" && same) setAnnotation({ status: "fixed", homography: body.homography, reasons: body.annotation_reasons || [] });
    else if (body.state === "done") ws.message("The pairs changed while the fix was computed: recompute (u) again.");
    else ws.message(`Recompute failed: ${body.detail}`);
    ws.render();
  }
  const arrived = new Map();   // results by request id, kept in case one comes before the POST's own answer
  document.addEventListener("loupe:event", (e) => {
    if (!e.detail || e.detail.event !== "omr.recomputed" || e.detail.payload.item !== item.id) return;
    arrived.set(e.detail.payload.request, e.detail.payload);
    applyResult(e.detail.payload, "socket");
  });

  // ---- controls and keys
  document.querySelectorAll("[data-omr-mode]").forEach((b) => { b.onclick = () => setMode(b.dataset.omrMode); });
  document.querySelectorAll("[data-omr-layer]").forEach((b) => {
    b.onclick = () => { show[b.dataset.omrLayer] = !show[b.dataset.omrLayer]; ws.render(); };
  });
  $("omr-accept").onclick = accept;
  $("omr-reject").onclick = reject;
  $("omr-recompute").onclick = recompute;
  const k = ws.keys, group = { group: "Alignment" };
  MODES.forEach((m, i) => k.add(String(i + 1), `View: ${m === "off" ? "the original alone" : m === "checker" ? "checkerboard" : m} of the rectified photo over the original`, () => setMode(m), group));
  k.add("t", "Point-pair tool: click a spot on one image, then the same spot on the other", () => !ws.readOnly() && ws.tools.setTool("pair"), group);
  k.add("u", "Recompute the homography from the point pairs (on the server)", recompute, group);
  k.add("w", "Remove the last point pair", () => ws.annotation().point_pairs.length && removePair(ws.annotation().point_pairs.length - 1), { ...group, when: () => !ws.readOnly() });
  k.add("e", "Accept the alignment shown", accept, { ...group, when: () => !ws.readOnly() });
  k.add("x", "Reject with the reason picked in the panel", reject, { ...group, when: () => !ws.readOnly() });
  k.add("m", "Matches as lines (on / off)", () => { show.matches = !show.matches; ws.render(); }, group);
  k.add("s", "Symbols moved onto the photo (on / off)", () => { show.symbols = !show.symbols; ws.render(); }, group);
  k.add("d", "The detector's own boxes (on / off)", () => { show.detections = !show.detections; ws.render(); }, group);
  // The original's viewer was made full width before this editor split the space: it measures itself again
  // before fitting the page, then the photo follows it.
  document.addEventListener("workspace:view", () => {
    placeOverlay(true);
    const osd = ws.viewer.osd;
    const fit = () => { osd.viewport.goHome(true); link.sync(); redrawLines(); };
    if (Math.round(osd.viewport.getContainerSize().x) !== osd.element.clientWidth) {
      osd.addOnceHandler("resize", () => requestAnimationFrame(fit));   // OpenSeadragon notices on its next frame
      osd.forceResize();
    } else fit();
  });
  window.LOUPE_OMR = { photo, mode: () => mode, fix: () => fix, pending: () => pending };   // tests read state here

  return {
    async load(next) {
      item = next;
      assets = roleAssets(item);
      pending = null;
      fix = null;
      images = null;
      overlay = null;
      overlayKey = composedKey = "";
      document.body.dataset.composite = "loading";
      const why = item.prediction && item.prediction.payload.reasons && item.prediction.payload.reasons.find((r) => reasons.includes(r));
      select.value = why || reasons[0];
      $("omr-detector-layer").hidden = !(item.prediction && item.prediction.scores.detections);
      const opened = new Promise((resolve) => { photo.osd.addOnceHandler("open", resolve); });
      photo.open(assets.photo);
      await opened;
      const [o, p] = await Promise.all([loadGrey(assets.original.working_url), loadGrey(assets.photo.working_url)]);
      if (item !== next) return;
      images = { original: o, photo: p };
      refreshComposite();
      link.sync();
      document.body.dataset.composite = "ready";
    },
    render() {
      if (!item) return;
      renderStatus();
      renderPairs();
      renderMetrics();
      drawPairs();
      drawBoxes();
      refreshComposite();
      redrawLines();
      document.querySelectorAll("[data-omr-layer]").forEach((b) => b.classList.toggle("on", !!show[b.dataset.omrLayer]));
    },
  };
}

// draws "view": the two viewers, the composite, the pairs and the panel are this editor's own
// (static/js/workspace/contract.js); the answer is a homography and its status, not shapes.
export default {
  kind: "omr", draws: "view", tools: ["select", "pair"],
  views: (item) => [{ asset: roleAssets(item).original, title: "Original" }],
  normalize, check, output: (a) => normalize(a), mount,
};
