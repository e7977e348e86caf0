// The layers over the image: the model's proposal (coloured by confidence), the answer, the review diff,
// the model's heat maps with their opacity; their buttons, and the proposal's confidence under the pointer.
import { confidenceColor, drawShapes, svgEl } from "../svg.js";
import { drawDiff } from "./review.js";
import { withKey } from "../dom.js";

const $ = (id) => document.getElementById(id);

// deps: {state, contract, viewer, colorOf(label), render()}
export function createLayers({ state: s, contract, viewer, colorOf, render }) {
  const on = { proposal: true, answer: true, rasters: {} };
  const rastersHere = () => (contract.rasters ? contract.rasters(s.item.prediction, s.view) : []);
  const proposalHere = () => (contract.proposal && s.item.prediction ? contract.proposal(s.item.prediction, s.view) : []);

  function draw(shapes) {
    viewer.root.replaceChildren();
    if (contract.draws === "view") return;   // the editor draws its own view
    if (s.diff) {  // review: the answer in grey, what changed against the proposal in colour over it
      drawShapes(viewer.root, shapes, { cls: "diff diff-same", color: () => "#9ca3af" });
      drawDiff(viewer.root, s.diff, s.view, contract.diffShape);
      return;
    }
    if (on.proposal) {
      drawShapes(viewer.root, proposalHere(), {
        cls: "layer-proposal", color: (x) => confidenceColor(x.confidence),
        text: (x) => `${x.label}${x.confidence != null ? " " + x.confidence.toFixed(2) : ""}`,
      });
    }
    if (on.answer && contract.draw) {
      contract.draw(svgEl("g", { class: "layer-answer" }, viewer.root), { selected: s.selected });
    } else if (on.answer) {
      // The answer is drawn here, all of it but the shape Annotorious is editing (its SVG editor shows that
      // one); Annotorious keeps every shape for picking and editing, with its own WebGL layer off (tools.js).
      const edited = !s.readOnly && s.selected && shapes.find((x) => x.id === s.selected && x.kind !== "point");
      const own = edited ? shapes.filter((x) => x !== edited) : shapes;
      const g = drawShapes(viewer.root, own, { cls: "layer-answer", color: (x) => colorOf(x.label) });
      g.querySelectorAll("[data-id]").forEach((n) => n.classList.toggle("selected", n.dataset.id === s.selected));
    }
  }

  function toggle(name) {
    on[name] = !on[name];
    renderButtons();
    render();
  }
  function setRaster(name, opacity) {
    on.rasters[name] = Math.max(0, Math.min(1, opacity));
    const r = rastersHere().find((x) => x.name === name);
    viewer.setOverlay(name, r && r.url, on.rasters[name]);
    renderButtons();
  }
  function nudgeOpacity(delta) {
    for (const [name, value] of Object.entries(on.rasters)) if (value > 0) setRaster(name, value + delta);
  }
  // after a view opened: its heat maps at the opacity chosen
  function openRasters() {
    for (const r of rastersHere()) viewer.setOverlay(r.name, r.url, on.rasters[r.name] || 0);
    renderButtons();
  }

  function renderButtons() {
    const box = $("layers");
    box.replaceChildren();
    if (contract.draws === "view") return;
    const add = (text, active, onclick, attrs = {}) => {
      const b = document.createElement("button");
      b.className = "layer" + (active ? " on" : "");
      b.append(...(Array.isArray(text) ? text : [text]));
      Object.assign(b.dataset, attrs);
      b.onclick = onclick;
      box.appendChild(b);
      return b;
    };
    add(withKey("Proposal", "h"), on.proposal, () => toggle("proposal"), { layer: "proposal" }).disabled = !s.item.prediction;
    add(withKey("Answer", "y"), on.answer, () => toggle("answer"), { layer: "answer" });
    for (const r of rastersHere()) {
      const shown = (on.rasters[r.name] || 0) > 0;
      const b = add(withKey(r.title, r.key), shown, () => setRaster(r.name, shown ? 0 : 0.5), { layer: r.name });
      b.disabled = !r.url;
      b.title = r.url ? "" : "The model made no map for this shot";
      if (shown && r.url) {
        const range = document.createElement("input");
        Object.assign(range, { type: "range", min: 0.05, max: 1, step: 0.05, value: on.rasters[r.name], title: "Opacity ([ ])" });
        range.dataset.opacity = r.name;
        range.oninput = () => { on.rasters[r.name] = +range.value; viewer.setOverlay(r.name, r.url, +range.value); };
        box.appendChild(range);
      }
    }
  }

  // the proposal's confidence under the pointer
  viewer.osd.element.addEventListener("mousemove", (e) => {
    const tip = $("tooltip");
    if (!on.proposal || !s.item || !s.item.prediction || s.diff || !viewer.osd.world.getItemAt(0)) { tip.hidden = true; return; }
    const [x, y] = viewer.toImage(e.clientX, e.clientY);
    const hit = proposalHere().find((p) => x >= p.box[0] && x <= p.box[2] && y >= p.box[1] && y <= p.box[3]);
    if (!hit) { tip.hidden = true; return; }
    tip.hidden = false;
    tip.textContent = `proposal: ${hit.label}${hit.confidence != null ? ` · confidence ${hit.confidence.toFixed(2)}` : ""}`;
    const wrap = tip.parentElement.getBoundingClientRect();
    tip.style.left = `${e.clientX - wrap.left + 14}px`;
    tip.style.top = `${e.clientY - wrap.top + 14}px`;
  });

  return { on, draw, toggle, setRaster, nudgeOpacity, openRasters, renderButtons };
}
