// A refused submit (the item changed underneath): both versions side by side, this answer in the main
// viewer and the current revision in a second one on the same image and view, and both as JSON.
import { createViewer } from "./viewer.js";
import { drawShapes } from "../svg.js";

const $ = (id) => document.getElementById(id);

// deps: {state, contract, editor, viewer, prefixUrl, colorOf(label), onRebase(), onTakeCurrent()}
export function createConflictView({ state: s, contract, editor, viewer, prefixUrl, colorOf, onRebase, onTakeCurrent }) {
  let second = null, current = null;

  async function drawCurrent() {
    if ($("conflict-view").hidden) return;
    await second.open(s.views[s.view].asset);
    second.root.replaceChildren();
    const theirs = current && contract.shapes ? contract.shapes(editor.normalize(current.annotation, s.item), s.view) : [];
    drawShapes(second.root, theirs, { cls: "layer-current", color: (x) => colorOf(x.label), text: (x) => x.label });
  }

  $("rebase").onclick = onRebase;
  $("take-current").onclick = onTakeCurrent;

  return {
    async show(data) {
      current = data.current;
      $("conflict").hidden = false;
      $("conflict-yours").textContent = JSON.stringify(data.yours, null, 2);
      $("conflict-current").textContent = JSON.stringify(current, null, 2);
      $("conflict-view").hidden = false;
      document.querySelector(".viewer-wrap").classList.add("split");
      if (!second) second = createViewer($("conflict-view"), { prefixUrl });
      await drawCurrent();
      document.addEventListener("workspace:view", drawCurrent);
      viewer.osd.viewport.goHome(true);
    },
    close() {
      document.removeEventListener("workspace:view", drawCurrent);
      $("conflict").hidden = true;
      $("conflict-view").hidden = true;
      document.querySelector(".viewer-wrap").classList.remove("split");
    },
  };
}
