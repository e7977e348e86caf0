// The operator workspace shared by every kind: the wiring of its parts. A kind plugs in an editor object
// (static/js/editors/; what it gives is the contract in contract.js). The parts:
//   state.js    the one state object, and the pure decisions on it (access, starting answer, live events)
//   flow.js     load, open, take-next, submit, conflict, release, skip, flag, review, lease lost/regained
//   editing.js  every change to the answer: one undo step, drawn, saved as a draft
//   layers.js   proposal, answer, review diff and heat maps over the image, and their buttons
//   chrome.js   banners, labels, the item's info, history, review box, status lines
//   conflict.js both versions side by side;   bindings.js  the keys and the panel's buttons
// and the viewer, tools, history, drafts, lease, ahead, review, prefetch modules under them. Taking the
// next item (n) and submitting swap the item in place: no page load between items. What is ready before n
// (LOUPE_PREFETCH): "lease", the item after this one leased ahead with its details, its images in the cache
// (ahead.js, prefetch.js), drawn on n with no request on the way; "images", the item likely next named by
// the server (up-next) and its images cached, n then waits for take-next; "item", that item also drawn
// (read-only, not held) while take-next runs.
import { createViewer, tileSourceOf } from "./viewer.js";
import { createTools } from "./tools.js";
import { createKeys } from "./keys.js";
import { createDrafts } from "./drafts.js";
import { keepLease } from "./lease.js";
import { createPrefetcher } from "./prefetch.js";
import { contractOf, mountedProblems } from "./contract.js";
import { createState, newId } from "./state.js";
import { createFlow } from "./flow.js";
import { createEditing } from "./editing.js";
import { createLayers } from "./layers.js";
import { createChrome, errorText } from "./chrome.js";
import { createConflictView } from "./conflict.js";
import { bindKeysAndButtons } from "./bindings.js";

const $ = (id) => document.getElementById(id);
const read = (id) => JSON.parse($(id).textContent);

export async function startWorkspace(editor, options) {
  const cfg = window.LOUPE_ITEM;
  const contract = contractOf(editor);
  const s = createState(editor);
  const keys = createKeys();
  const viewer = createViewer($("viewer"), { prefixUrl: options.osdImages });
  const prefetcher = createPrefetcher($("viewer"));
  const colorOf = (name) => contract.colors[name] || "#facc15";
  const nav = {
    push: (url, data) => window.history.pushState(data, "", url),
    replace: (url, data) => window.history.replaceState(data, "", url),
    go: (url) => { location.href = url; },
    reload: () => location.reload(),
  };
  let tools = null, kindUi = null, flow = null;

  const chrome = createChrome({ state: s, contract, colorOf, onLabel: (name) => edit.setLabel(name), reload: nav.reload });
  const drafts = createDrafts({
    onSaved: (d) => chrome.draftStatus(`Draft saved ${new Date(d.updated_at || Date.now()).toLocaleTimeString()}`, { saved: true }),
    onRefused: (res) => {
      if (res.status === 409) flow.loseLease(res.data && res.data.detail);
      else if (res.status === 400) chrome.draftStatus("Draft not saved: " + errorText(res));
      else chrome.draftStatus(`Draft not saved (${res.status}).`);
    },
  });

  // Everything is drawn again after a change: the shapes Annotorious edits, the layers, the panel.
  function render({ quiet = false } = {}) {
    const shapes = contract.shapes ? contract.shapes(s.annotation, s.view) : [];
    if (s.selected && !shapes.some((x) => x.id === s.selected)) s.selected = null;
    if (!quiet) tools.show(layers.on.answer && !s.diff && contract.draws === "shapes" ? shapes : [], s.selected);
    layers.draw(shapes);
    $("undo").disabled = !s.history.canUndo();
    $("redo").disabled = !s.history.canRedo();
    if (!$("json-view").hidden && document.activeElement !== $("editor")) $("editor").value = JSON.stringify(s.annotation, null, 2);
    kindUi.render();
    chrome.renderLabels();
  }
  const layers = createLayers({ state: s, contract, viewer, colorOf, render });
  const edit = createEditing({ state: s, editor, drafts, contract, tools: () => tools,
                               ui: { render, renderLabels: chrome.renderLabels, draftStatus: chrome.draftStatus } });

  function select(id) {
    s.selected = id;
    const shape = id ? edit.shapeById(id) : null;
    if (shape && shape.kind !== "point" && contract.draws === "shapes" && tools.anno.getSelected()[0]?.id !== id) {
      tools.show(layers.on.answer ? edit.shapes() : [], id);
    }
    layers.draw(contract.shapes ? edit.shapes() : []);
    kindUi.render();
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
    if (i < 0 || i >= s.views.length) return;
    edit.absorb();
    s.view = i;
    s.selected = null;
    await openAhead(s.views[i].asset);
    opening = null;
    performance.mark("ws-opened");
    layers.openRasters();
    render();
    document.dispatchEvent(new CustomEvent("workspace:view", { detail: i }));
  }

  // What editors and tools see of the workspace.
  const ws = {
    get item() { return s.item; },
    get views() { return s.views; },
    cfg, editor, keys, viewer, layers: layers.on,
    annotation: () => s.annotation,
    view: () => s.view,
    selected: () => s.selected,
    readOnly: () => s.readOnly,
    currentLabel: () => s.label,
    shapes: () => (contract.shapes ? edit.shapes() : []),
    shapeById: (id) => (contract.shapes ? edit.shapeById(id) : null),
    colorOf,
    newId: () => newId(s.annotation),
    commit: edit.commit, absorb: edit.absorb, putShape: edit.putShape, removeShape: edit.removeShape,
    showView, select, setLabel: edit.setLabel, render, setRaster: layers.setRaster,
    createViewer: (element) => createViewer(element, { prefixUrl: options.osdImages }),  // a second view (OMR)
    message: chrome.message,
  };
  tools = createTools(viewer, ws);
  ws.tools = tools;

  const conflictView = createConflictView({ state: s, contract, editor, viewer, prefixUrl: options.osdImages, colorOf,
                                            onRebase: () => flow.rebase(), onTakeCurrent: () => flow.takeCurrent() });
  flow = createFlow({
    // LOUPE_PREFETCH: what is ready before n ("lease", "images", "item", "none"); bench/ui_next_item.py --compare
    // measured "lease" against "images" (README: under load p95 179 against 491 ms), so "lease" is the default
    state: s, editor, cfg: { ...cfg, prefetch: window.LOUPE_PREFETCH || "lease" },
    api: Loupe.api, path: Loupe.path, drafts, keepLease, nav, edit,
    ui: {
      ...chrome,
      emptyAnswer: () => read("empty-data"),
      forgetShapes: () => tools.show([], null),
      openAhead,
      openGuess(asset) { tools.show([], null); viewer.root.replaceChildren(); openAhead(asset); },
      showView,
      setReadOnly(readOnly) { tools.setTool("select"); tools.setReadOnly(readOnly); },
      editorLoad: (item) => kindUi.load(item),
      loaded: () => viewer.loaded(),
      prefetch: (upNext) => prefetcher.fetch(upNext),
      letGo: (token) => Loupe.api("POST", Loupe.path`/api/v1/leases/${token}/release/`, undefined, { keepalive: true }),
      conflict: (data) => conflictView.show(data),
      closeConflict: () => conflictView.close(),
    },
  });

  bindKeysAndButtons({ ws, s, contract, keys, viewer, tools, edit, layers, flow, chrome });
  Loupe.live(Loupe.path`/ws/projects/${cfg.project}/`, flow.onLive);
  window.addEventListener("popstate", () => location.reload());
  // Leaving the page gives the lease ahead back; a page restored from the back-forward cache starts afresh.
  window.addEventListener("pagehide", () => flow.leave());
  window.addEventListener("pageshow", (e) => { if (e.persisted) location.reload(); });
  for (const type of ["keydown", "pointerdown", "wheel"]) {
    document.addEventListener(type, () => flow.active(), { capture: true, passive: true });
  }

  kindUi = editor.mount(ws);
  const problems = mountedProblems(contract, kindUi);
  if (problems.length) throw new Error(`${editor.kind} editor: ${problems.join("; ")}`);
  // an editor drawing its own answer gives draw from its mounted controls: the layers call it from here on
  if (contract.draws === "answer") contract.draw = kindUi.draw;
  window.LOUPE_WS = ws;  // tests and the benchmark read state through this
  await flow.load(read("item-data"), { first: true });
}
