// Where a defect of one shot of a rotation series appears in a neighbouring shot. The balloon lies along
// the image's x axis and turns about it between shots (ml/catheter/synth.py): a point of its surface at
// apparent angle alpha is seen at y = axisY + radius * sin(alpha), and the next shot sees it at
// alpha + step, at the same x. So a copied defect keeps its x and moves in y, foreshortened towards the
// tube's edges; a point that would turn out of view stops at the edge of what is seen (the operator
// deletes it there or nudges it). Pure functions, no DOM.

export const VISIBLE_COS = 0.3;  // synth.py: a surface point is seen while cos(alpha) exceeds this
const EDGE = Math.acos(VISIBLE_COS);

// The turn between neighbouring shots and the balloon's axis and radius in image pixels: from the item's
// meta when the line (or the generator) recorded them, else the generator's defaults for the image.
export function rotationOf(item) {
  const m = (item.meta && item.meta.rotation) || {};
  const height = item.assets[0].height, shots = item.assets.length;
  const stepDeg = Number.isFinite(m.step_deg) ? m.step_deg : (shots >= 4 ? 360 / shots : 45);
  return {
    step: (stepDeg * Math.PI) / 180,
    axisY: Number.isFinite(m.axis_y) ? m.axis_y : height / 2,
    radius: Number.isFinite(m.radius) && m.radius > 0 ? m.radius : 0.205 * height,
  };
}

// y of a surface point after `turns` steps (negative: the previous shots).
export function turnedY(y, { step, axisY, radius }, turns = 1) {
  const s = Math.max(-1, Math.min(1, (y - axisY) / radius));
  const alpha = Math.max(-EDGE, Math.min(EDGE, Math.asin(s) + turns * step));
  return axisY + radius * Math.sin(alpha);
}

// A catheter defect ({type, box, polygon?, polyline?, point?, id?}) as the shot `turns` steps away sees
// it, clamped into that shot's image ({width, height}). Boxes move by their edges; points of polygons and
// polylines one by one, and their box follows them.
export function turnedDefect(defect, rotation, turns, { width, height }) {
  const cx = (x) => Math.max(0, Math.min(width, x));
  const cy = (y) => Math.max(0, Math.min(height, turnedY(y, rotation, turns)));
  const round = (v) => Math.round(v * 10) / 10;
  const d = JSON.parse(JSON.stringify(defect));
  const [x0, y0, x1, y1] = d.box;
  const ys = [cy(y0), cy(y1)].sort((a, b) => a - b);
  d.box = [cx(x0), ys[0], cx(x1), ys[1]].map(round);
  for (const key of ["polygon", "polyline"]) {
    if (!d[key]) continue;
    d[key] = d[key].map(([x, y]) => [round(cx(x)), round(cy(y))]);
    const xs = d[key].map((p) => p[0]), yy = d[key].map((p) => p[1]);
    d.box = [Math.min(...xs), Math.min(...yy), Math.max(...xs), Math.max(...yy)];
  }
  if (d.point) {
    d.point = [round(cx(d.point[0])), round(cy(d.point[1]))];
    d.box = [Math.min(d.box[0], d.point[0]), Math.min(d.box[1], d.point[1]), Math.max(d.box[2], d.point[0]), Math.max(d.box[3], d.point[1])];
  }
  // a box needs x0 < x1 and y0 < y1: one squeezed flat at the edge of the view keeps a pixel
  if (d.box[2] <= d.box[0]) { d.box[2] = Math.min(width, d.box[0] + 1); d.box[0] = d.box[2] - 1; }
  if (d.box[3] <= d.box[1]) { d.box[3] = Math.min(height, d.box[1] + 1); d.box[1] = d.box[3] - 1; }
  return d;
}
