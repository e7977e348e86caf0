// The workspace's keys and the panel's buttons: one table of shortcuts (keys.js fills the help from it),
// each bound to the flow, the editing functions or the layers. The JSON view lives here too.
import { renderHelp } from "./keys.js";

const $ = (id) => document.getElementById(id);

export function bindKeysAndButtons({ ws, s, contract, keys, viewer, tools, edit, layers, flow, chrome }) {
  // JSON view: for power users, not the editor; what parses is applied as one undoable edit.
  function toggleJson() {
    const v = $("json-view");
    v.hidden = !v.hidden;
    $("json-toggle").setAttribute("aria-expanded", String(!v.hidden));
    if (!v.hidden) $("editor").value = JSON.stringify(s.annotation, null, 2);
  }
  function parseJson(prefix) {
    try { const parsed = JSON.parse($("editor").value); chrome.message(""); return parsed; }
    catch (e) { chrome.message(prefix + e.message); return undefined; }
  }
  $("json-toggle").onclick = toggleJson;
  $("json-apply").onclick = () => { const p = parseJson("Not valid JSON: "); if (p !== undefined) edit.applyJson(p); };
  $("editor").addEventListener("input", () => {  // drawn over the image while typing
    const p = parseJson("Not valid JSON yet: ");
    if (p !== undefined) edit.applyJson(p);
  });

  // Esc undoes the nearest thing first: help, the flag form, a drawing tool, a selection; then releases.
  function escape() {
    if (!$("help").hidden) { $("help").hidden = true; return; }
    if (!$("flag-form").hidden) { $("flag-form").hidden = true; return; }
    if (tools.tool() !== "select" && !s.readOnly) { tools.anno.cancelDrawing(); tools.setTool("select"); return; }
    if (s.selected) { s.selected = null; tools.show(layers.on.answer && !s.diff ? ws.shapes() : [], null); ws.render(); return; }
    return flow.release();
  }
  function openFlag() { if (!s.readOnly) { $("flag-form").hidden = false; $("flag-reason").focus(); } }
  const review = (decision) => flow.review(decision, chrome.reviewComment());

  $("flag-form").onsubmit = (e) => { e.preventDefault(); flow.flag($("flag-reason").value, $("flag-comment").value); };
  $("use-proposal").onclick = edit.takeProposal;
  $("use-current").onclick = edit.useCurrent;
  $("use-empty").onclick = edit.useEmpty;
  $("undo").onclick = edit.undo;
  $("redo").onclick = edit.redo;
  $("zoom-fit").onclick = () => viewer.fit();
  $("submit").onclick = flow.submit;
  $("release").onclick = escape;
  $("skip").onclick = flow.skip;
  $("flag").onclick = openFlag;
  $("accept").onclick = () => review("accept");
  $("send-back").onclick = () => review("send_back");
  document.querySelectorAll("[data-tool]").forEach((b) => { b.onclick = () => !s.readOnly && tools.setTool(b.dataset.tool); });
  document.querySelectorAll("#toolbar [data-tool]").forEach((b) => { if (!contract.uses(b.dataset.tool)) b.style.display = "none"; });

  const item = { group: "Item" };
  const edits = { group: "Edit", when: () => !s.readOnly };
  const drawing = { group: "Tools", when: () => !s.readOnly };
  const view = { group: "View" };
  keys.add("ctrl+enter", "Submit the answer", flow.submit, { ...item, inputs: true });
  keys.add("escape", "Close help / the flag form · stop drawing · deselect · else release the item", escape, { ...item, inputs: true });
  keys.add("n", "Next item from the queue", flow.takeNext, item);
  keys.add("k", "Skip this item", flow.skip, item);
  keys.add("f", "Flag this item for a reviewer", openFlag, item);
  keys.add("p", "Take the model's proposal as the answer (undoable)", edit.takeProposal, item);
  keys.add("c", "Start from the current revision", () => $("use-current").click(), item);
  keys.add("ctrl+z", "Undo", edit.undo, edits);
  keys.add(["ctrl+shift+z", "ctrl+y"], "Redo", edit.redo, edits);
  if (contract.remove) keys.add(["delete", "backspace"], "Delete the selected shape", () => s.selected && edit.removeShape(s.selected), edits);
  keys.add("v", "Select / move / resize", () => tools.setTool("select"), drawing);
  if (contract.uses("box")) keys.add("r", "Box", () => tools.setTool("box"), drawing);
  if (contract.uses("polygon")) keys.add("g", "Polygon (click the corners, click the first to close)", () => tools.setTool("polygon"), drawing);
  if (contract.uses("polyline")) keys.add("l", "Polyline (click the points, double-click the last)", () => tools.setTool("polyline"), drawing);
  if (contract.uses("point")) keys.add("o", "Point", () => tools.setTool("point"), drawing);
  contract.labels.forEach((name, i) => keys.add(String(i + 1), `Label: ${name.replace(/_/g, " ")} (the selected shape, or the next one drawn)`,
    () => edit.setLabel(name), { group: "Labels" }));
  keys.add(["+", "="], "Zoom in", () => viewer.zoom(1.4), view);
  keys.add("-", "Zoom out", () => viewer.zoom(1 / 1.4), view);
  keys.add("0", "Fit the image", () => viewer.fit(), view);
  if (contract.draws !== "view") {
    keys.add("h", "Show / hide the model's proposal", () => layers.toggle("proposal"), view);
    keys.add("y", "Show / hide your answer", () => layers.toggle("answer"), view);
  }
  keys.add("[", "Heat maps: less opaque", () => layers.nudgeOpacity(-0.1), view);
  keys.add("]", "Heat maps: more opaque", () => layers.nudgeOpacity(0.1), view);
  keys.add("j", "JSON view", toggleJson, view);
  const reviewing = { group: "Review", when: () => !$("review-box").hidden };
  keys.add("a", "Review: accept", () => review("accept"), reviewing);
  keys.add("b", "Review: send back with the comment", () => review("send_back"), reviewing);
  keys.add("?", "This help", () => { $("help").hidden = !$("help").hidden; renderHelp($("help-list"), keys.help()); }, { group: "General" });
}
