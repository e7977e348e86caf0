// Drawing in image coordinates on an SVG layer: elements, neutral shapes, the proposal's confidence
// colours. Shared by the workspace and the editors; it needs nothing but the DOM.
export const NS = "http://www.w3.org/2000/svg";

export function confidenceColor(c) {  // low confidence red → high green, so doubtful proposals stand out
  const hue = Math.round(120 * Math.max(0, Math.min(1, c ?? 0.5)));
  return `hsl(${hue} 85% 45%)`;
}

export function svgEl(name, attrs, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

// Draws shapes ({kind: box|polygon|polyline|point, box, points, label}) into a <g>; returns the group.
export function drawShapes(parent, shapes, { cls, color, text }) {
  const g = svgEl("g", { class: cls }, parent);
  for (const s of shapes) {
    const c = color(s);
    const attrs = { stroke: c, "data-id": s.id, class: `shape shape-${s.kind}` };
    if (s.kind === "point") {
      const [x, y] = s.points[0];
      svgEl("circle", { ...attrs, cx: x, cy: y, fill: c, "fill-opacity": 0.35 }, g);  // radius: CSS, in screen px
    } else if (s.kind === "polygon" || s.kind === "polyline") {
      svgEl(s.kind, { ...attrs, points: s.points.map((p) => p.join(",")).join(" "), fill: s.kind === "polygon" ? c : "none" }, g);
    } else {
      const [x0, y0, x1, y1] = s.box;
      svgEl("rect", { ...attrs, x: x0, y: y0, width: x1 - x0, height: y1 - y0, fill: "none" }, g);
    }
    const t = text && text(s);
    if (t) {
      const label = svgEl("text", { x: s.box[0], y: s.box[1], class: "shape-label", fill: c }, g);
      label.textContent = t;
    }
  }
  return g;
}
