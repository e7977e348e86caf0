// The compare page's operating point, live: the admin drags along the candidate's precision-recall curve
// on the golden set (or moves the slider under it, ← →) and the threshold, the precision and recall there
// and the share of golden items flagged follow at once; the threshold form below takes the point, to be set
// with a reason. The points come with the page (webapp/mlops/comparison.py: operating_points); without
// JavaScript the "required recall / precision" form finds a point on the server.
import { svgEl } from "./svg.js";

const W = 340, H = 250, LEFT = 42, BOTTOM = 34, TOP = 10, RIGHT = 12;
const x = (recall) => LEFT + recall * (W - LEFT - RIGHT);
const y = (precision) => H - BOTTOM - precision * (H - BOTTOM - TOP);
const fixed = (v) => (v == null ? "—" : v.toFixed(3));
const percent = (v) => (v == null ? "—" : `${(100 * v).toFixed(1)} %`);

// The index of the point nearest to (px, py) in the plot's own units.
export function nearestPoint(points, px, py) {
  let best = 0, bestD = Infinity;
  points.forEach((p, i) => {
    const d = (x(p.recall) - px) ** 2 + (y(p.precision) - py) ** 2;
    if (d < bestD) { best = i; bestD = d; }
  });
  return best;
}

function axes(svg) {
  svgEl("line", { x1: LEFT, y1: y(0), x2: x(1), y2: y(0), class: "curve-axis" }, svg);
  svgEl("line", { x1: LEFT, y1: y(0), x2: LEFT, y2: y(1), class: "curve-axis" }, svg);
  for (const v of [0, 0.5, 1]) {
    svgEl("text", { x: x(v), y: H - BOTTOM + 14, class: "curve-tick", "text-anchor": "middle" }, svg).textContent = String(v);
    svgEl("text", { x: LEFT - 6, y: y(v) + 4, class: "curve-tick", "text-anchor": "end" }, svg).textContent = String(v);
  }
  svgEl("text", { x: (LEFT + W) / 2, y: H - 4, class: "curve-label", "text-anchor": "middle" }, svg).textContent = "recall";
  svgEl("text", { x: 12, y: (TOP + H - BOTTOM) / 2, class: "curve-label", "text-anchor": "middle",
                  transform: `rotate(-90 12 ${(TOP + H - BOTTOM) / 2})` }, svg).textContent = "precision";
}

function start(points) {
  const box = document.getElementById("curve-pick");
  const readout = document.getElementById("live-point");
  const slider = document.getElementById("curve-slider");
  const form = document.getElementById("threshold-form");
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "curve-plot", id: "curve-svg",
                             role: "img", "aria-label": "The candidate's precision-recall curve: drag the point along it" },
                    document.getElementById("curve-plot"));
  axes(svg);
  svgEl("polyline", { points: points.map((p) => `${x(p.recall)},${y(p.precision)}`).join(" "), class: "curve-line" }, svg);
  const marker = svgEl("circle", { r: 7, class: "curve-marker" }, svg);
  slider.max = String(points.length - 1);
  box.hidden = false;

  function show(i, { fill = true } = {}) {
    const p = points[i];
    marker.setAttribute("cx", x(p.recall));
    marker.setAttribute("cy", y(p.precision));
    slider.value = String(i);
    readout.textContent = `Threshold ${p.threshold}: precision ${fixed(p.precision)}, recall ${fixed(p.recall)}, `
      + `golden items flagged ${percent(p.flagged)}`;
    Object.assign(readout.dataset, { pointThreshold: p.threshold, pointPrecision: p.precision, pointRecall: p.recall,
                                     pointFlagged: p.flagged ?? "" });
    if (!fill || !form) return;
    form.elements.value.value = String(p.threshold);
    form.elements.basis.value = `precision ${fixed(p.precision)}, recall ${fixed(p.recall)} on the golden set (picked on the curve)`;
  }
  function fromPointer(e) {
    const at = new DOMPoint(e.clientX, e.clientY).matrixTransform(svg.getScreenCTM().inverse());
    show(nearestPoint(points, at.x, at.y));
  }
  let dragging = false;
  svg.addEventListener("pointerdown", (e) => { dragging = true; svg.setPointerCapture(e.pointerId); fromPointer(e); e.preventDefault(); });
  svg.addEventListener("pointermove", (e) => { if (dragging) fromPointer(e); });
  svg.addEventListener("pointerup", () => { dragging = false; });
  svg.addEventListener("pointercancel", () => { dragging = false; });
  slider.addEventListener("input", () => show(+slider.value));

  // Start where the page stands: the point the server found for a required recall / precision, else the
  // threshold in force, else the middle of the curve; the form is filled only once the admin moves.
  const asked = form && parseFloat(form.elements.value.value);
  const inForce = parseFloat(document.querySelector("[data-threshold]")?.dataset.threshold);
  const target = Number.isFinite(asked) ? asked : inForce;
  const start = Number.isFinite(target)
    ? points.reduce((best, p, i) => (Math.abs(p.threshold - target) < Math.abs(points[best].threshold - target) ? i : best), 0)
    : Math.floor(points.length / 2);
  show(start, { fill: false });
}

const data = document.getElementById("curve-points");
const points = data ? JSON.parse(data.textContent) : null;
if (points && points.length) start(points);
