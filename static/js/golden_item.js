// One golden item seen by two versions: the golden truth, the champion's and the candidate's proposals
// drawn side by side on the item's images (catheter defects and verdict, article cuts and regions, the
// OMR page outline the homography puts on the photo). j / k: next / previous disagreeing item; u: back to
// the comparison. A proposal the worker makes meanwhile arrives over the mlops feed and the page reloads.
import { svgEl } from "./svg.js";

const data = JSON.parse(document.getElementById("golden-data").textContent);
const COLORS = { axial_scratch: "#e4572e", radial_scratch: "#f3a712", inclusion: "#6a4c93", bubble: "#1982c4" };

function applyH(h, x, y) {
  const w = h[2][0] * x + h[2][1] * y + h[2][2];
  return [(h[0][0] * x + h[0][1] * y + h[0][2]) / w, (h[1][0] * x + h[1][1] * y + h[1][2]) / w];
}

function canvas(parent, asset, caption) {
  const figure = document.createElement("figure");
  const svg = svgEl("svg", { viewBox: `0 0 ${asset.width} ${asset.height}`, class: "golden-image" }, figure);
  svgEl("image", { href: asset.url, x: 0, y: 0, width: asset.width, height: asset.height }, svg);
  if (caption) figure.append(Object.assign(document.createElement("figcaption"), { textContent: caption }));
  parent.append(figure);
  return svg;
}

function defectShape(svg, d) {
  const color = COLORS[d.type] || "#e4572e";
  const style = { fill: "none", stroke: color, "stroke-width": 3, "vector-effect": "non-scaling-stroke", class: "golden-shape", "data-type": d.type };
  if (d.polygon) svgEl("polygon", { ...style, points: d.polygon.map((p) => p.join(",")).join(" ") }, svg);
  else if (d.polyline) svgEl("polyline", { ...style, points: d.polyline.map((p) => p.join(",")).join(" ") }, svg);
  else { const [x0, y0, x1, y1] = d.box; svgEl("rect", { ...style, x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, svg); }
}

const DRAW = {
  catheter(images, a) {
    const shots = a.shots || [];
    data.assets.forEach((asset, i) => {
      const defects = (shots[i] && shots[i].defects) || [];
      const svg = canvas(images, asset, `shot ${i + 1}: ${defects.length} defect${defects.length === 1 ? "" : "s"}`);
      defects.forEach((d) => defectShape(svg, d));
    });
    const n = shots.reduce((sum, s) => sum + ((s && s.defects) || []).length, 0);
    return `verdict: ${a.verdict} · ${n} defect${n === 1 ? "" : "s"}`;
  },
  articles(images, a) {
    const svg = canvas(images, data.assets[0]);
    for (const art of a.articles || []) svgEl("polygon", { points: art.polygon.map((p) => p.join(",")).join(" "), class: "golden-shape golden-article", fill: "rgba(25,130,196,.12)", stroke: "#1982c4", "stroke-width": 2, "vector-effect": "non-scaling-stroke" }, svg);
    for (const c of a.cuts || []) svgEl("line", { x1: c.x0, y1: c.y0, x2: c.x1, y2: c.y1, class: "golden-shape golden-cut", stroke: "#e4572e", "stroke-width": 4, "vector-effect": "non-scaling-stroke" }, svg);
    return `page type: ${a.page_type} · ${(a.cuts || []).length} cuts · ${(a.articles || []).length} articles`;
  },
  omr(images, a) {
    const original = data.assets.find((x) => x.role === "original") || data.assets[0];
    const photo = data.assets.find((x) => x.role === "photo") || data.assets[1];
    const svg = canvas(images, photo, "the original's page on the photo");
    const { width: W, height: H } = original;
    if (a.homography) {
      const corners = [[0, 0], [W, 0], [W, H], [0, H]].map(([x, y]) => applyH(a.homography, x, y));
      svgEl("polygon", { points: corners.map((p) => p.join(",")).join(" "), class: "golden-shape golden-page", fill: "none", stroke: "#e4572e", "stroke-width": 3, "vector-effect": "non-scaling-stroke" }, svg);
    }
    let error = "";
    if (a !== data.truth && a.homography && data.truth && data.truth.homography) {
      const d = [[0, 0], [W, 0], [W, H], [0, H]].map(([x, y]) => { const [u, v] = applyH(a.homography, x, y), [s, t] = applyH(data.truth.homography, x, y); return Math.hypot(u - s, v - t); });
      error = ` · corner error against the truth ${Math.max(...d).toFixed(1)} px`;
    }
    return `status: ${a.status}${(a.reasons || []).length ? ` (${a.reasons.join(", ")})` : ""}${error}`;
  },
};

function column(role, annotation, extra) {
  const col = document.querySelector(`.golden-col[data-role="${role}"]`);
  if (!col) return;
  const summary = col.querySelector(".golden-summary");
  if (!annotation) {
    summary.textContent = role === "truth" ? "No accepted answer: this item has no golden truth." : "No proposal for this item yet.";
    col.dataset.drawn = "none";
    return;
  }
  summary.textContent = (DRAW[data.kind] || (() => ""))(col.querySelector(".golden-images"), annotation) + (extra || "");
  col.dataset.drawn = "yes";
}

column("truth", data.truth);
for (const side of data.sides) {
  const scores = side.proposal && side.proposal.scores;
  const extra = scores && scores.verdict && data.kind === "omr" ? ` · aligner: ${scores.verdict}` : "";
  column(side.role, side.proposal && side.proposal.payload, extra);
}
document.body.dataset.golden = "ready";

const go = (url) => { if (url) location.assign(url); };
Loupe.shortcuts({ j: () => go(data.next), k: () => go(data.previous), u: () => go(data.compare) });
const versions = new Set(data.sides.map((s) => s.version));
const itemId = Number(location.pathname.split("/").filter(Boolean).at(-1));
if (data.sides.some((s) => !s.proposal)) {
  Loupe.live("/ws/mlops/", (msg) => {
    if (msg.event === "golden.proposals" && versions.has(msg.payload.version) && msg.payload.items.includes(itemId)) location.reload();
  });
}
