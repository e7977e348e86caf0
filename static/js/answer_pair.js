// An item answered twice: both answers drawn side by side; a reviewer keeps one (1 / 2) or merges, editing
// starting from one of them (m / n), with the merged answer drawn as it is edited; Ctrl+Enter saves the
// merge, Esc cancels it, j opens the next disagreement.
import { drawAnswer } from "./answer_draw.js";

const data = JSON.parse(document.getElementById("pair-data").textContent);
const col = (side) => document.querySelector(`.golden-col[data-side="${side}"]`);

function show(side, annotation, reference, referenceName) {
  const c = col(side);
  const images = c.querySelector(".golden-images");
  images.replaceChildren();
  if (!annotation) {
    c.querySelector(".golden-summary").textContent = "Not answered yet.";
    c.dataset.drawn = "none";
    return;
  }
  c.querySelector(".golden-summary").textContent = drawAnswer(data.kind, images, annotation, data.assets, reference,
                                                              referenceName);
  c.dataset.drawn = "yes";
}

show("first", data.first);
show("second", data.second, data.first, "the first answer");
if (data.kept) show("kept", data.kept, data.first, "the first answer");

const form = document.getElementById("pair-resolve");
const merge = document.getElementById("merge");
const text = document.getElementById("merge-annotation");
const status = document.getElementById("merge-status");

function redraw() {
  try {
    show("merged", JSON.parse(text.value), data.first, "the first answer");
    status.textContent = "";
    return true;
  } catch (err) {
    status.textContent = `Not valid JSON yet: ${err.message}`;
    return false;
  }
}

function startMerge(from) {
  if (!form) return;
  merge.hidden = false;
  col("merged").hidden = false;
  document.getElementById("merged-from-input").value = from;
  document.getElementById("merged-from").textContent = `starting from the ${from} answer`;
  text.value = JSON.stringify(data[from], null, 1);
  redraw();
  text.focus();
}

function cancelMerge() {
  if (!merge || merge.hidden) return;
  merge.hidden = true;
  col("merged").hidden = true;
  text.blur();
}

if (form) {
  document.getElementById("merge-first").addEventListener("click", () => startMerge("first"));
  document.getElementById("merge-second").addEventListener("click", () => startMerge("second"));
  document.getElementById("merge-cancel").addEventListener("click", cancelMerge);
  text.addEventListener("input", redraw);
}
const press = (id) => () => { const b = document.getElementById(id); if (b && !b.closest("[hidden]")) b.click(); };
const next = document.getElementById("next-disagreement");
Loupe.shortcuts({
  1: press("keep-first"), 2: press("keep-second"),
  m: () => startMerge("first"), n: () => startMerge("second"),
  "ctrl+enter": () => { if (merge && !merge.hidden && redraw()) press("save-merge")(); },
  escape: cancelMerge,
  j: () => { if (next) next.click(); },
});
document.body.dataset.pair = "ready";
