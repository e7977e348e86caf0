// An annotation drawn on its item's images, as each kind shows it (catheter defects and verdict, article cuts
// and regions, the OMR page outline the homography puts on the photo); shared by the pages that set answers
// side by side (a golden item under two versions, an item answered by two operators).
import { svgEl } from "./svg.js";

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
  catheter(images, a, assets) {
    const shots = a.shots || [];
    assets.forEach((asset, i) => {
      const defects = (shots[i] && shots[i].defects) || [];
      const svg = canvas(images, asset, `shot ${i + 1}: ${defects.length} defect${defects.length === 1 ? "" : "s"}`);
      defects.forEach((d) => defectShape(svg, d));
    });
    const n = shots.reduce((sum, s) => sum + ((s && s.defects) || []).length, 0);
    return `verdict: ${a.verdict} · ${n} defect${n === 1 ? "" : "s"}`;
  },
  articles(images, a, assets) {
    const svg = canvas(images, assets[0]);
    for (const art of a.articles || []) svgEl("polygon", { points: art.polygon.map((p) => p.join(",")).join(" "), class: "golden-shape golden-article", fill: "rgba(25,130,196,.12)", stroke: "#1982c4", "stroke-width": 2, "vector-effect": "non-scaling-stroke" }, svg);
    for (const c of a.cuts || []) svgEl("line", { x1: c.x0, y1: c.y0, x2: c.x1, y2: c.y1, class: "golden-shape golden-cut", stroke: "#e4572e", "stroke-width": 4, "vector-effect": "non-scaling-stroke" }, svg);
    return `page type: ${a.page_type} · ${(a.cuts || []).length} cuts · ${(a.articles || []).length} articles`;
  },
  omr(images, a, assets, reference, referenceName) {
    const original = assets.find((x) => x.role === "original") || assets[0];
    const photo = assets.find((x) => x.role === "photo") || assets[1];
    const svg = canvas(images, photo, "the original's page on the photo");
    const { width: W, height: H } = original;
    if (a.homography) {
      const corners = [[0, 0], [W, 0], [W, H], [0, H]].map(([x, y]) => applyH(a.homography, x, y));
      svgEl("polygon", { points: corners.map((p) => p.join(",")).join(" "), class: "golden-shape golden-page", fill: "none", stroke: "#e4572e", "stroke-width": 3, "vector-effect": "non-scaling-stroke" }, svg);
    }
    let error = "";
    if (a !== reference && a.homography && reference && reference.homography) {
      const d = [[0, 0], [W, 0], [W, H], [0, H]].map(([x, y]) => { const [u, v] = applyH(a.homography, x, y), [s, t] = applyH(reference.homography, x, y); return Math.hypot(u - s, v - t); });
      error = ` · corner error against ${referenceName || "the truth"} ${Math.max(...d).toFixed(1)} px`;
    }
    return `status: ${a.status}${(a.reasons || []).length ? ` (${a.reasons.join(", ")})` : ""}${error}`;
  },
};

// Draw ``annotation`` into ``images`` (an element) over ``assets``; returns its one-line summary. An OMR answer
// also says its corner error against ``reference`` (named ``referenceName``) when both have a homography.
export function drawAnswer(kind, images, annotation, assets, reference, referenceName) {
  const draw = DRAW[kind];
  return draw ? draw(images, annotation, assets, reference, referenceName) : "";
}
