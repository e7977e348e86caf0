// The operator workspace shared by every kind. A kind plugs in an editor object (static/js/editors/):
//   labels: [name...]            the taxonomy; number keys 1..n pick one     colors: {name: css colour}
//   views(item) -> [{asset, title}]                  one image shown at a time (a shot, a page, a side)
//   normalize(annotation, item) -> annotation         fills what the editor relies on (ids, one entry per view)
//   shapes(annotation, view) -> [shape]              the answer on one view, as neutral shapes (tools.js)
//   put(annotation, view, shape) / remove(annotation, view, id) / relabel(annotation, view, id, label)
//   proposal(prediction, view) -> [shape with .confidence]        diffShape(entry) -> shape
//   rasters(prediction, view) -> [{name, title, key, url}]       heat maps drawn over the image
//   check(annotation) -> [message]   hints before submit (the server validates for real)
//   output(annotation) -> annotation  what is stored (drops what only the page needs)
//   mount(ws) -> {load(item), render()}   the kind's own controls and keys: load on every item shown,
//                                         render after every change
//   tools: [name...]  (optional) the drawing tools the kind uses (default all); the others are hidden
//   draw(g, {selected}) (optional) the editor draws and edits its answer itself in the SVG layer `g`
//                                  (its own pointer tools); Annotorious then shows nothing
// The workspace owns the viewer, layers, tools, undo/redo, drafts, lease, review diff, help and live
// events. Taking the next item (n) and submitting swap the item in place: no page load between items;
// the item likely next is asked for once an item is drawn, its images wait in the cache (prefetch.js),
// and n opens its image while the server takes the item, which comes back with its details (one request).
import { createViewer, drawShapes, svgEl, tileSourceOf } from "./viewer.js";
import { createTools, shapeFromSelector } from "./tools.js";
import { createKeys, renderHelp } from "./keys.js";
import { createHistory } from "./history.js";
import { createDrafts } from "./drafts.js";
import { keepLease } from "./lease.js";
import { loadDiff, drawDiff, summarize } from "./review.js";
import { createPrefetcher } from "./prefetch.js";

const $ = (id) => document.getElementById(id);
const read = (id) => JSON.parse($(id).textContent);

export function confidenceColor(c) {  // low confidence red → high green, so doubtful proposals stand out
  const hue = Math.round(120 * Math.max(0, Math.min(1, c ?? 0.5)));
  return `hsl(${hue} 85% 45%)`;
}

function banner(el, text) {
  el.hidden = false;
  el.textContent = text;
}

export async function startWorkspace(editor, options) {
  const cfg = window.LOUPE_ITEM;
  const keys = createKeys();
  const viewer = createViewer($("viewer"), { prefixUrl: options.osdImages });
  const layers = { proposal: true, answer: true, rasters: {} };

  // ---- per item state (replaced by `load`)
  let item = null, views = [], empty = null, history = null, annotation = null, lease = keepLease({});
  let view = 0, selected = null, label = editor.labels[0];
  let base = null, fromPrediction = null, readOnly = true, reviewing = false, diff = null;
  let kindUi = null, conflictViewer = null;
  // the item the queue likely gives next ({item, assets}): its images are fetched while this one is worked
  // on, and `n` opens its image while the server takes the item
  let upNext = null;
  const prefetcher = createPrefetcher($("viewer"));

  const drafts = createDrafts({
    onSaved: (d) => { $("draft-status").textContent = `Draft saved ${new Date(d.updated_at || Date.now()).toLocaleTimeString()}`; $("draft-status").dataset.saved = "1"; },
    onRefused: (res) => {
      if (res.status === 409) loseLease(res.data && res.data.detail);
      else if (res.status === 400) $("draft-status").textContent = "Draft not saved: " + errorText(res);
      else $("draft-status").textContent = `Draft not saved (${res.status}).`;
    },
  });

  const ws = {
    get item() { return item; },
    cfg, editor, keys, viewer, layers,
    get views() { return views; },
    annotation: () => annotation,
    view: () => view,
    selected: () => selected,
    readOnly: () => readOnly,
    currentLabel: () => label,
    shapes: () => editor.shapes(annotation, view),
    shapeById: (id) => editor.shapes(annotation, view).find((s) => s.id === id) || null,
    colorOf: (name) => editor.colors[name] || "#facc15",
    newId() {
      let n = 0;
      for (const s of JSON.stringify(annotation).matchAll(/"id":"d(\d+)"/g)) n = Math.max(n, +s[1]);
      return `d${n + 1}`;
    },
    commit, showView, select, setLabel, render,
    putShape(shape, { select: sel = false, quiet = false } = {}) {
      if (readOnly) return render();
      if (sel) selected = shape.id;
      commit(editor.put(annotation, view, shape), { quiet });
    },
    removeShape(id) {
      if (readOnly) return;
      absorb();
      if (selected === id) selected = null;
      commit(editor.remove(annotation, view, id));
    },
    message: (text) => { $("editor-errors").textContent = text; },
  };

  // `amend`: the change completes the current step (e.g. what the server computed from it): no new undo step
  function commit(next, { quiet = false, save = true, amend = false } = {}) {
    if (!(amend ? history.amend(next) : history.push(next))) return;
    annotation = history.current();
    render({ quiet });
    if (save) saveDraft();
  }
  function saveDraft() {
    if (readOnly || !lease.token()) return;
    $("draft-status").textContent = "Saving draft…";
    $("draft-status").dataset.saved = "";
    drafts.schedule(item.id, { annotation: editor.output(annotation), base_revision: base, from_prediction: fromPrediction });
  }
  // Annotorious reports a move or resize a second after it ends; anything that rebuilds the shapes or
  // reads the answer first takes in the selected shape as it is drawn now, so no edit is lost.
  function absorb() {
    if (readOnly || !history) return;
    const sel = tools.anno.getSelected()[0];
    const old = sel && ws.shapeById(sel.id);
    if (!old) return;
    const now = shapeFromSelector(sel.id, old.label, sel.target.selector);
    if (now && JSON.stringify([now.box, now.points]) !== JSON.stringify([old.box, old.points])) {
      commit(editor.put(annotation, view, now), { quiet: true });
    }
  }
  ws.absorb = absorb;
  function undo() { absorb(); const a = history.undo(); if (a) { annotation = a; render(); saveDraft(); } }
  function redo() { absorb(); const a = history.redo(); if (a) { annotation = a; render(); saveDraft(); } }

  // ---- drawing
  const tools = createTools(viewer, ws);
  ws.tools = tools;
  function render({ quiet = false } = {}) {
    const shapes = editor.shapes(annotation, view);
    if (selected && !shapes.some((s) => s.id === selected)) selected = null;
    if (!quiet) tools.show(layers.answer && !diff && !editor.draw ? shapes : [], selected);
    drawLayers(shapes);
    $("undo").disabled = !history.canUndo();
    $("redo").disabled = !history.canRedo();
    if (!$("json-view").hidden && document.activeElement !== $("editor")) $("editor").value = JSON.stringify(annotation, null, 2);
    kindUi && kindUi.render();
    renderLabels();
  }
  function drawLayers(shapes) {
    viewer.root.innerHTML = "";
    if (diff) {  // review: the answer in grey, what changed against the proposal in colour over it
      drawShapes(viewer.root, shapes, { cls: "diff diff-same", color: () => "#9ca3af" });
      drawDiff(viewer.root, diff, view, editor.diffShape);
      return;
    }
    if (layers.proposal && item.prediction) {
      drawShapes(viewer.root, editor.proposal(item.prediction, view), {
        cls: "layer-proposal", color: (s) => confidenceColor(s.confidence),
        text: (s) => `${s.label}${s.confidence != null ? " " + s.confidence.toFixed(2) : ""}`,
      });
    }
    if (layers.answer && editor.draw) {
      editor.draw(svgEl("g", { class: "layer-answer" }, viewer.root), { selected });
    } else if (layers.answer) {
      // The answer is drawn here, all of it but the shape Annotorious is editing (its SVG editor shows that
      // one); Annotorious keeps every shape for picking and editing, with its own WebGL layer off (tools.js).
      const edited = !readOnly && selected && shapes.find((s) => s.id === selected && s.kind !== "point");
      const own = edited ? shapes.filter((s) => s !== edited) : shapes;
      const g = drawShapes(viewer.root, own, { cls: "layer-answer", color: (s) => ws.colorOf(s.label) });
      g.querySelectorAll("[data-id]").forEach((n) => n.classList.toggle("selected", n.dataset.id === selected));
    }
  }
  function select(id) {
    selected = id;
    const shape = id ? ws.shapeById(id) : null;
    if (shape && shape.kind !== "point" && !editor.draw && tools.anno.getSelected()[0]?.id !== id) tools.show(layers.answer ? ws.shapes() : [], id);
    drawLayers(editor.shapes(annotation, view));
    kindUi && kindUi.render();
  }
  function setLabel(name) {
    absorb();
    label = name;
    if (selected && !readOnly) commit(editor.relabel(annotation, view, selected, name));
    else renderLabels();
  }
  function renderLabels() {
    const box = $("labels");
    if (!box.childElementCount) {
      editor.labels.forEach((name, i) => {
        const b = document.createElement("button");
        b.dataset.label = name;
        b.innerHTML = `<i style="background:${ws.colorOf(name)}"></i>${name.replace(/_/g, " ")} <kbd>${i + 1}</kbd>`;
        b.onclick = () => setLabel(name);
        box.appendChild(b);
      });
    }
    const current = selected ? ws.shapeById(selected)?.label || label : label;
    box.querySelectorAll("button").forEach((b) => { b.classList.toggle("active", b.dataset.label === current); b.disabled = readOnly; });
  }

  // An image the viewer began to open ahead of showView (load starts the first view's at once, so that
  // its request goes out before the rest of the item is set up).
  let opening = null;
  function openAhead(asset) {
    const key = JSON.stringify(tileSourceOf(asset));
    if (!opening || opening.key !== key) opening = { key, promise: viewer.open(asset) };
    return opening.promise;
  }
  async function showView(i) {
    if (i < 0 || i >= views.length) return;
    absorb();
    view = i;
    selected = null;
    await openAhead(views[i].asset);
    opening = null;
    performance.mark("ws-opened");
    for (const r of editor.rasters(item.prediction, view)) viewer.setOverlay(r.name, r.url, layers.rasters[r.name] || 0);
    render();
    renderLayerButtons();
    document.dispatchEvent(new CustomEvent("workspace:view", { detail: i }));
  }

  // ---- tooltip: the proposal's confidence under the pointer
  viewer.osd.element.addEventListener("mousemove", (e) => {
    const tip = $("tooltip");
    if (!layers.proposal || !item.prediction || diff || !viewer.osd.world.getItemAt(0)) { tip.hidden = true; return; }
    const [x, y] = viewer.toImage(e.clientX, e.clientY);
    const hit = editor.proposal(item.prediction, view).find((s) => x >= s.box[0] && x <= s.box[2] && y >= s.box[1] && y <= s.box[3]);
    if (!hit) { tip.hidden = true; return; }
    tip.hidden = false;
    tip.textContent = `proposal: ${hit.label}${hit.confidence != null ? ` · confidence ${hit.confidence.toFixed(2)}` : ""}`;
    const wrap = tip.parentElement.getBoundingClientRect();
    tip.style.left = `${e.clientX - wrap.left + 14}px`;
    tip.style.top = `${e.clientY - wrap.top + 14}px`;
  });

  // ---- the panel
  function info() {
    $("base-info").textContent = base === null ? "No revision yet: your submit creates revision 1." : `Editing on top of revision ${base}.`;
    $("proposal-info").textContent = proposalText(item.prediction);
    $("item-state").textContent = item.state;
    $("item-state").className = "state state-" + item.state;
    $("use-proposal").disabled = readOnly || !item.prediction;
    $("use-current").disabled = readOnly || !item.current;
    for (const id of ["use-empty", "submit", "release", "skip", "flag"]) $(id).disabled = readOnly;
    document.querySelectorAll("[data-tool], #labels button").forEach((b) => { b.disabled = readOnly; });
  }
  // Which model version proposed what the operator sees (or that it was imported, or that none has yet).
  function proposalText(prediction) {
    if (!prediction) return "No proposal yet.";
    const v = prediction.model_version;
    if (!v) return "Proposal imported with the image.";
    const scope = v.scope_key || "global";
    return `Proposed by ${v.kind} / ${scope} v${v.number}` + (prediction.stale ? " (an earlier champion)." : ".");
  }
  function errorText(res) {
    const d = res.data || {};
    return [d.detail || `Error ${res.status}`, ...(d.errors || []).map((e) => `${e.path}: ${e.message}`)].join("\n");
  }
  const showErrors = (res) => { $("editor-errors").textContent = errorText(res); };

  function takeProposal() {
    if (readOnly || !item.prediction) return;
    fromPrediction = item.prediction.id;
    commit(editor.normalize(item.prediction.payload, item));
  }
  $("use-proposal").onclick = takeProposal;
  $("use-current").onclick = () => !readOnly && item.current && commit(editor.normalize(item.current.annotation, item));
  $("use-empty").onclick = () => !readOnly && commit(empty);
  $("undo").onclick = undo;
  $("redo").onclick = redo;
  $("zoom-fit").onclick = () => viewer.fit();
  document.querySelectorAll("[data-tool]").forEach((b) => { b.onclick = () => !readOnly && tools.setTool(b.dataset.tool); });

  // JSON view: for power users, not the editor; what parses is applied as one undoable edit.
  function toggleJson() {
    const v = $("json-view");
    v.hidden = !v.hidden;
    $("json-toggle").setAttribute("aria-expanded", String(!v.hidden));
    if (!v.hidden) $("editor").value = JSON.stringify(annotation, null, 2);
  }
  function applyJson() {
    try {
      const parsed = JSON.parse($("editor").value);
      $("editor-errors").textContent = "";
      if (!readOnly) commit(editor.normalize(parsed, item));
    } catch (e) { $("editor-errors").textContent = "Not valid JSON: " + e.message; }
  }
  $("json-toggle").onclick = toggleJson;
  $("json-apply").onclick = applyJson;
  $("editor").addEventListener("input", () => {
    let parsed;
    try { parsed = JSON.parse($("editor").value); } catch (e) { $("editor-errors").textContent = "Not valid JSON yet: " + e.message; return; }
    $("editor-errors").textContent = "";
    if (!readOnly) commit(editor.normalize(parsed, item));  // drawn over the image while typing
  });

  // ---- submit, conflicts, release, skip, flag, next
  async function submit() {
    if (readOnly) { $("editor-errors").textContent = "You do not hold the lease on this item: nothing was saved."; return; }
    absorb();
    const hints = editor.check(annotation);
    if (hints.length) { $("editor-errors").textContent = hints.join("\n"); return; }
    await drafts.drop();
    const res = await Loupe.api("POST", Loupe.path`/api/v1/items/${item.id}/revisions/`, { annotation: editor.output(annotation), base_revision: base, from_prediction: fromPrediction });
    if (res.status === 201) {
      lease.stop();
      await openItem(item.id, Loupe.path`/items/${item.id}/?saved=${res.data.number}`, "replace");
      $("draft-status").textContent = `Saved as revision ${res.data.number}. Press n for the next item.`;
      return;
    }
    if (res.status === 409 && res.data && "current" in res.data) return showConflict(res.data);
    showErrors(res);
  }
  async function showConflict(data) {
    const current = data.current;
    $("conflict").hidden = false;
    $("conflict-yours").textContent = JSON.stringify(data.yours, null, 2);
    $("conflict-current").textContent = JSON.stringify(current, null, 2);
    $("conflict-view").hidden = false;
    document.querySelector(".viewer-wrap").classList.add("split");
    if (!conflictViewer) conflictViewer = createViewer($("conflict-view"), { prefixUrl: options.osdImages });
    const drawCurrent = async () => {
      if ($("conflict-view").hidden) return;
      await conflictViewer.open(views[view].asset);
      conflictViewer.root.innerHTML = "";
      const theirs = current ? editor.shapes(editor.normalize(current.annotation, item), view) : [];
      drawShapes(conflictViewer.root, theirs, { cls: "layer-current", color: (s) => ws.colorOf(s.label), text: (s) => s.label });
    };
    await drawCurrent();
    document.addEventListener("workspace:view", drawCurrent);
    viewer.osd.viewport.goHome(true);
    const close = () => {
      document.removeEventListener("workspace:view", drawCurrent);
      $("conflict").hidden = true; $("conflict-view").hidden = true;
      document.querySelector(".viewer-wrap").classList.remove("split");
      info();
    };
    $("rebase").onclick = () => { base = current ? current.number : null; close(); saveDraft(); };
    $("take-current").onclick = () => { base = current ? current.number : null; fromPrediction = null; commit(current ? editor.normalize(current.annotation, item) : empty); close(); };
  }
  async function release() {
    // Esc undoes the nearest thing first: help, the flag form, a drawing tool, a selection; then releases.
    if (!$("help").hidden) { $("help").hidden = true; return; }
    if (!$("flag-form").hidden) { $("flag-form").hidden = true; return; }
    if (tools.tool() !== "select" && !readOnly) { tools.anno.cancelDrawing(); tools.setTool("select"); return; }
    if (selected) { selected = null; tools.show(layers.answer && !diff ? ws.shapes() : [], null); render(); return; }
    if (!lease.token()) return;
    await drafts.flush();
    await Loupe.api("POST", Loupe.path`/api/v1/leases/${lease.token()}/release/`);
    lease.stop();
    location.href = Loupe.path`/projects/${cfg.slug}/`;
  }
  async function skip() {
    if (readOnly || !lease.token()) return;
    absorb();
    await drafts.flush();
    const res = await Loupe.api("POST", Loupe.path`/api/v1/items/${item.id}/skip/`);
    if (res.ok) { lease.stop(); return takeNext(); }
    showErrors(res);
  }
  function openFlag() { if (!readOnly) { $("flag-form").hidden = false; $("flag-reason").focus(); } }
  $("flag-form").onsubmit = async (e) => {
    e.preventDefault();
    await drafts.flush();
    const res = await Loupe.api("POST", Loupe.path`/api/v1/items/${item.id}/flags/`, { reason: $("flag-reason").value, comment: $("flag-comment").value });
    if (res.status === 201) { lease.stop(); location.href = Loupe.path`/projects/${cfg.slug}/`; } else showErrors(res);
  };
  async function takeNext() {
    absorb();  // a move still being reported belongs to this item's draft
    // Done with this item (submitted or skipped): the image of the item the queue most likely gives next
    // (fetched ahead) opens while the server takes it; if another comes, or none, the viewer follows.
    const guess = !lease.token() && upNext && upNext.item !== item.id && upNext.assets.length ? upNext : null;
    if (guess) {
      selected = null;
      tools.show([], null);
      viewer.root.innerHTML = "";
      openAhead(guess.assets[0]);
    }
    const restore = () => guess && showView(view);  // the guess was wrong and this item stays
    await drafts.flush();
    // expand=item: the answer carries the item and the one likely after it: no second round trip
    const res = await Loupe.api("POST", Loupe.path`/api/v1/projects/${cfg.project}/take-next/` + "?expand=item");
    performance.mark("ws-taken");
    if (res.status === 200) {
      if (res.data.item === item.id) {
        restore();
        if (leaseLost) return regainLease();
        $("editor-errors").textContent = "This item is still yours: submit, skip or release it first.";
        return;
      }
      const url = Loupe.path`/items/${res.data.item}/`;
      if (!res.data.detail) { await openItem(res.data.item, url, "push"); return; }
      window.history.pushState({ item: res.data.item }, "", url);
      await load(res.data.detail, null, false, { fresh: res.data.expires_at });
    } else {
      restore();
      if (res.status === 204) $("editor-errors").textContent = "The queue is empty.";
      else showErrors(res);
    }
  }
  async function openItem(id, url, how) {
    const detail = await Loupe.api("GET", Loupe.path`/api/v1/items/${id}/`);
    if (!detail.ok) { location.href = url; return; }  // let the server page say what is wrong
    if (how === "push") window.history.pushState({ item: id }, "", url); else window.history.replaceState({ item: id }, "", url);
    await load(detail.data, null);
  }
  window.addEventListener("popstate", () => location.reload());
  $("submit").onclick = submit;
  $("release").onclick = release;
  $("skip").onclick = skip;
  $("flag").onclick = openFlag;

  // ---- review: the answer against the proposal, accept or send back
  async function review(decision) {
    if (decision === "send_back" && !$("review-comment").value.trim()) {
      $("review-comment").focus();
      $("editor-errors").textContent = "Say what to fix: the comment is shown to the operator.";
      return;
    }
    const res = await Loupe.api("POST", Loupe.path`/api/v1/items/${item.id}/reviews/`, { decision, comment: $("review-comment").value, revision: item.current.number });
    if (res.ok) location.reload(); else showErrors(res);
  }
  $("accept").onclick = () => review("accept");
  $("send-back").onclick = () => review("send_back");

  // ---- lease
  let leaseLost = false;
  function loseLease(detail) {
    if (readOnly) return;
    readOnly = true;
    leaseLost = true;
    document.body.dataset.lease = "lost";
    lease.stop();
    banner($("lease-banner"), `Your lease on this item is gone${detail ? ": " + detail : ""}. Nothing more is saved; take the item again from the queue (n) to go on.`);
    tools.setTool("select");
    tools.setReadOnly(true);
    info();
  }
  // The operator took this item again (here with n, or elsewhere): editing goes on where it was, on the
  // same base, so a change made meanwhile still shows as a conflict on submit.
  async function regainLease() {
    if (!leaseLost) return;
    const res = await Loupe.api("GET", Loupe.path`/api/v1/items/${item.id}/`);
    const token = res.ok && res.data.lease && res.data.lease.token;
    if (!token) return;
    leaseLost = false;
    readOnly = false;
    lease = keepLease({
      token,
      onBeat: (d) => { $("lease-info").textContent = `Leased to you until ${new Date(d.expires_at).toLocaleTimeString()}`; },
      onLost: (r) => loseLease(r.data && r.data.detail),
    });
    $("lease-banner").hidden = true;
    tools.setReadOnly(false);
    info();
    renderLabels();
    document.body.dataset.lease = "regained";
    saveDraft();
  }

  // ---- layers and keys
  function toggleLayer(name) {
    layers[name] = !layers[name];
    renderLayerButtons();
    render();
  }
  function setRaster(name, opacity) {
    layers.rasters[name] = Math.max(0, Math.min(1, opacity));
    const r = editor.rasters(item.prediction, view).find((x) => x.name === name);
    viewer.setOverlay(name, r && r.url, layers.rasters[name]);
    renderLayerButtons();
  }
  ws.setRaster = setRaster;
  function renderLayerButtons() {
    const box = $("layers");
    box.innerHTML = "";
    const add = (text, on, onclick, attrs = {}) => {
      const b = document.createElement("button");
      b.className = "layer" + (on ? " on" : "");
      b.innerHTML = text;
      Object.assign(b.dataset, attrs);
      b.onclick = onclick;
      box.appendChild(b);
      return b;
    };
    add("Proposal <kbd>h</kbd>", layers.proposal, () => toggleLayer("proposal"), { layer: "proposal" }).disabled = !item.prediction;
    add("Answer <kbd>y</kbd>", layers.answer, () => toggleLayer("answer"), { layer: "answer" });
    for (const r of editor.rasters(item.prediction, view)) {
      const on = (layers.rasters[r.name] || 0) > 0;
      const b = add(`${r.title} <kbd>${r.key}</kbd>`, on, () => setRaster(r.name, on ? 0 : 0.5), { layer: r.name });
      b.disabled = !r.url;
      b.title = r.url ? "" : "The model made no map for this shot";
      if (on && r.url) {
        const range = document.createElement("input");
        Object.assign(range, { type: "range", min: 0.05, max: 1, step: 0.05, value: layers.rasters[r.name], title: "Opacity ([ ])" });
        range.dataset.opacity = r.name;
        range.oninput = () => { layers.rasters[r.name] = +range.value; viewer.setOverlay(r.name, r.url, +range.value); };
        box.appendChild(range);
      }
    }
  }
  function nudgeOpacity(delta) {
    for (const [name, value] of Object.entries(layers.rasters)) if (value > 0) setRaster(name, value + delta);
  }

  const edit = { group: "Edit", when: () => !readOnly };
  const drawing = { group: "Tools", when: () => !readOnly };
  keys.add("ctrl+enter", "Submit the answer", submit, { group: "Item", inputs: true });
  keys.add("escape", "Close help / the flag form · stop drawing · deselect · else release the item", release, { group: "Item", inputs: true });
  keys.add("n", "Next item from the queue", takeNext, { group: "Item" });
  keys.add("k", "Skip this item", skip, { group: "Item" });
  keys.add("f", "Flag this item for a reviewer", openFlag, { group: "Item" });
  keys.add("p", "Take the model's proposal as the answer (undoable)", takeProposal, { group: "Item" });
  keys.add("c", "Start from the current revision", () => $("use-current").click(), { group: "Item" });
  keys.add("ctrl+z", "Undo", undo, edit);
  keys.add(["ctrl+shift+z", "ctrl+y"], "Redo", redo, edit);
  keys.add(["delete", "backspace"], "Delete the selected shape", () => selected && ws.removeShape(selected), edit);
  const uses = (name) => !editor.tools || editor.tools.includes(name);
  document.querySelectorAll("#toolbar [data-tool]").forEach((b) => { if (!uses(b.dataset.tool)) b.style.display = "none"; });
  keys.add("v", "Select / move / resize", () => tools.setTool("select"), drawing);
  if (uses("box")) keys.add("r", "Box", () => tools.setTool("box"), drawing);
  if (uses("polygon")) keys.add("g", "Polygon (click the corners, click the first to close)", () => tools.setTool("polygon"), drawing);
  if (uses("polyline")) keys.add("l", "Polyline (click the points, double-click the last)", () => tools.setTool("polyline"), drawing);
  if (uses("point")) keys.add("o", "Point", () => tools.setTool("point"), drawing);
  editor.labels.forEach((name, i) => keys.add(String(i + 1), `Label: ${name.replace(/_/g, " ")} (the selected shape, or the next one drawn)`, () => setLabel(name), { group: "Labels" }));
  keys.add(["+", "="], "Zoom in", () => viewer.zoom(1.4), { group: "View" });
  keys.add("-", "Zoom out", () => viewer.zoom(1 / 1.4), { group: "View" });
  keys.add("0", "Fit the image", () => viewer.fit(), { group: "View" });
  keys.add("h", "Show / hide the model's proposal", () => toggleLayer("proposal"), { group: "View" });
  keys.add("y", "Show / hide your answer", () => toggleLayer("answer"), { group: "View" });
  keys.add("[", "Heat maps: less opaque", () => nudgeOpacity(-0.1), { group: "View" });
  keys.add("]", "Heat maps: more opaque", () => nudgeOpacity(0.1), { group: "View" });
  keys.add("j", "JSON view", toggleJson, { group: "View" });
  keys.add("a", "Review: accept", () => review("accept"), { group: "Review", when: () => !$("review-box").hidden });
  keys.add("b", "Review: send back with the comment", () => review("send_back"), { group: "Review", when: () => !$("review-box").hidden });
  keys.add("?", "This help", () => { $("help").hidden = !$("help").hidden; renderHelp($("help-list"), keys.help()); }, { group: "General" });

  // ---- live events: queue depth, a new champion, the item taken or changed by someone else
  let championSeen;   // the project's champion id as this page knows it (undefined until the first hello)
  Loupe.live(Loupe.path`/ws/projects/${cfg.project}/`, (msg) => {
    const p = msg.payload || {};
    if (msg.event === "queue.depth") {
      $("queue-depth").innerHTML = "";
      $("queue-depth").append("Queue: ");
      const b = document.createElement("b");
      b.dataset.depth = "queued";
      b.textContent = String(p.queued);
      $("queue-depth").append(b, ` waiting · ${p.leased} being labeled`);
    } else if (msg.event === "hello") {
      document.body.dataset.feed = "live";
      // Events sent while the feed was down (or before it first connected) are gone: ask about the lease
      // now instead of at the next beat, and take it up again if the operator took the item meanwhile.
      if (leaseLost) regainLease();
      else if (!readOnly && lease.beat && lease.token()) lease.beat();
      if ("champion" in p) {
        // The first hello tells the champion as the page started; a later one (the socket reconnected)
        // that names another means a promotion or rollback happened while the feed was down.
        const id = p.champion ? p.champion.id : null;
        if (championSeen === undefined) championSeen = id;
        else if (id !== championSeen) newChampion(p.champion || {}, "");
      }
    } else if (msg.event === "champion.changed" || msg.event === "model.promoted") {
      newChampion(p.to || {}, p.action);
    } else if (p.item === item.id && msg.event === "prediction.created") {
      liveBanner("A new model proposal arrived for this item.", "Load it", () => location.reload());
    } else if (p.item === item.id && msg.event === "lease.taken" && p.holder !== cfg.user) {
      if (!readOnly) loseLease(`${p.holder} took the item`);
      else banner($("lease-banner"), `${p.holder} took this item.`);
    } else if (p.item === item.id && msg.event === "lease.taken" && p.holder === cfg.user) {
      regainLease();
    } else if (p.item === item.id && msg.event === "revision.submitted" && p.revision !== base && p.author !== cfg.user) {
      banner($("lease-banner"), `Revision ${p.revision} was just saved by ${p.author}: the item changed underneath you. Your submit will show both versions.`);
    }
  });
  function newChampion(to, action) {
    championSeen = to.id === undefined ? null : to.id;
    const named = to.number ? ` (v${to.number}${action === "rollback" ? ", rolled back" : ""})` : "";
    liveBanner(`A new model${named} is champion for this project.`, "Load its proposal", () => location.reload());
    $("live-banner").dataset.champion = String(to.number || "");
  }
  function liveBanner(text, action, run) {
    const el = $("live-banner");
    banner(el, text);
    const b = document.createElement("button");
    b.textContent = action;
    b.onclick = run;
    el.append(" ", b);
  }

  // ---- one item: everything that belongs to it is (re)set here
  function renderChrome(first) {
    $("item-title").textContent = `item ${item.id}`;
    $("item-external").textContent = item.external_id || "";
    document.title = `Item ${item.id} · Loupe`;
    for (const id of ["lease-banner", "live-banner", "sent-back", "review-box", "conflict", "conflict-view", "flag-form"]) $(id).hidden = true;
    document.querySelector(".viewer-wrap").classList.remove("split");
    $("editor-errors").textContent = "";
    $("draft-status").textContent = "";
    $("review-comment").value = "";
    if (first) return;  // the server rendered the history and the review notes with the page
    $("history").innerHTML = "";
    const notes = $("review-notes");
    notes.innerHTML = "";
    for (const rv of item.reviews || []) {
      const p = document.createElement("p");
      p.className = `review-note ${rv.decision}`;
      p.textContent = `${rv.decision === "accept" ? "Accepted" : "Sent back"} by ${rv.reviewer}: ${rv.comment}`;
      notes.appendChild(p);
    }
  }
  // The history is not needed to start working: it is fetched once the image is drawn.
  async function loadHistory(id) {
    const res = await Loupe.api("GET", Loupe.path`/api/v1/items/${id}/revisions/`);
    if (!res.ok || !item || item.id !== id) return;
    const list = $("history");
    list.innerHTML = "";
    for (const r of res.data) {
      const li = document.createElement("li");
      li.textContent = `r${r.number} by ${r.author || r.source} · ${r.edit_count} edit${r.edit_count === 1 ? "" : "s"} · ${new Date(r.created_at).toLocaleString()}`;
      list.appendChild(li);
    }
    if (!res.data.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.style.listStyle = "none";
      li.textContent = "No revision yet.";
      list.appendChild(li);
    }
  }

  // `revisions` is unused (the history is fetched after the image); `fresh`: the lease was just taken.
  async function load(data, revisions, first = false, { fresh = null } = {}) {
    performance.mark("ws-item");
    document.body.dataset.workspace = "loading";
    leaseLost = false;
    lease.stop();
    // Annotorious still shows the previous item: nothing of it may be read into this one
    if (item) { selected = null; tools.show([], null); }
    item = data;
    views = editor.views(item);
    openAhead(views[0].asset);
    empty = editor.normalize(editor.emptyFor ? editor.emptyFor(item) : read("empty-data"), item);
    // the page's own lease only for the item the page was rendered with, and only then (it ends on submit)
    const token = (item.lease && item.lease.token) || (first ? cfg.lease : "");
    // Someone else's lease makes the page read-only; a free item can still be edited and submitted (the
    // server accepts a revision on a free item), but drafts need the caller's own lease.
    const heldByOther = !token && item.lease_holder && item.lease_holder !== cfg.user;
    reviewing = cfg.canReview && item.state === "submitted" && !!item.current;
    readOnly = !!(heldByOther || reviewing);
    base = item.current ? item.current.number : null;
    fromPrediction = null;
    selected = null;
    diff = null;
    renderChrome(first);

    let draft = item.draft !== undefined ? item.draft : null;
    if (item.draft === undefined && token) draft = await drafts.load(item.id);
    let start = empty;
    if (draft && draft.annotation) {
      start = editor.normalize(draft.annotation, item);
      base = draft.base_revision ?? base;
      fromPrediction = draft.from_prediction ?? null;
    } else if (item.current) {
      start = editor.normalize(item.current.annotation, item);
    }
    history = createHistory(start);
    annotation = history.current();
    if (!draft && !item.current && item.prediction && !readOnly) {  // start from the proposal: one undoable step
      annotation = editor.normalize(item.prediction.payload, item);
      history.push(annotation);
      fromPrediction = item.prediction.id;
    }

    lease = keepLease({
      token, fresh,
      onBeat: (d) => { $("lease-info").textContent = `Leased to you until ${new Date(d.expires_at).toLocaleTimeString()}`; },
      onLost: (res) => loseLease(res.data && res.data.detail),
    });
    if (!token) $("lease-info").textContent = "";
    document.body.dataset.lease = token ? "held" : "none";
    if (heldByOther) {
      banner($("lease-banner"), `${item.lease_holder} is working on this item: you can look, not edit.`);
      $("lease-banner").dataset.holder = item.lease_holder;
    } else if (!token && !reviewing && ["new", "predicted", "sent_back"].includes(item.state)) {
      $("draft-status").textContent = "You do not hold a lease on this item: drafts are not saved (take it from the queue with n).";
    }
    if (item.sent_back) { $("sent-back").hidden = false; $("sent-back-comment").textContent = `${item.sent_back.comment} (${item.sent_back.reviewer})`; }
    if (reviewing) {
      $("review-box").hidden = false;
      diff = await loadDiff(item.id, item.current.number);
      summarize($("diff-summary"), diff);
    }
    kindUi.load(item);
    info();
    await showView(0);
    tools.setTool("select");
    tools.setReadOnly(readOnly);
    document.body.dataset.workspace = "ready";
    document.body.dataset.item = String(item.id);
    performance.mark("workspace-ready");
    // Once the image is drawn: the history, and the item likely next with its images into the cache.
    const shown = item;
    viewer.loaded().then(async () => {
      if (item !== shown) return;
      if (!first) loadHistory(item.id);
      if (!token || readOnly) return;
      const res = await Loupe.api("GET", Loupe.path`/api/v1/projects/${cfg.project}/up-next/`);
      if (item !== shown || !res.ok) return;
      upNext = res.status === 200 ? res.data : null;
      prefetcher.fetch(upNext);
    });
  }

  kindUi = editor.mount(ws);
  window.LOUPE_WS = ws;  // tests and the benchmark read state through this
  await load(read("item-data"), null, true);
}
