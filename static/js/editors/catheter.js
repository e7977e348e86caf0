// The catheter editor: the rotation series as a film strip (← →), defects as boxes, polygons,
// polylines (scratches) or points (inclusions, bubbles), type by keys 1–4, the verdict by `d`, the
// model's defect map and saliency per shot, the out-of-distribution flag, and copying the selected
// defect to the next / previous shot (Shift+→ / Shift+←) so a series is labeled without redrawing.
import { rotationOf, turnedDefect } from "./rotation.js";
import { h, swatch, withKey } from "../dom.js";

const TYPES = ["axial_scratch", "radial_scratch", "inclusion", "bubble"];
const COLORS = { axial_scratch: "#e6194b", radial_scratch: "#f58231", inclusion: "#4f8cff", bubble: "#3cb44b" };

function toShape(d) {
  const base = { id: d.id, label: d.type, box: d.box };
  if (d.polygon) return { ...base, kind: "polygon", points: d.polygon };
  if (d.polyline) return { ...base, kind: "polyline", points: d.polyline };
  if (d.point) return { ...base, kind: "point", points: [d.point] };
  return { ...base, kind: "box", points: [[d.box[0], d.box[1]], [d.box[2], d.box[3]]] };
}

function toDefect(shape) {
  const round = (v) => Math.round(v * 10) / 10;
  const d = { type: shape.label, box: shape.box.map(round) };
  if (shape.kind === "polygon") d.polygon = shape.points.map((p) => p.map(round));
  if (shape.kind === "polyline") d.polyline = shape.points.map((p) => p.map(round));
  if (shape.kind === "point") d.point = shape.points[0].map(round);
  d.id = shape.id;
  return d;
}

const clone = (a) => JSON.parse(JSON.stringify(a));
const anyDefect = (a) => a.shots.some((s) => s.defects.length > 0);

function normalize(annotation, item) {
  const a = clone(annotation || {});
  const n = item.assets.length;
  a.shots = Array.isArray(a.shots) ? a.shots.slice(0, n) : [];
  while (a.shots.length < n) a.shots.push({ defects: [] });
  let next = 0;
  for (const s of a.shots) for (const d of s.defects || []) { const m = /^d(\d+)$/.exec(d.id || ""); if (m) next = Math.max(next, +m[1]); }
  for (const s of a.shots) {
    s.defects = Array.isArray(s.defects) ? s.defects : [];
    for (const d of s.defects) if (!d.id) d.id = `d${++next}`;
  }
  if (a.verdict !== "ok" && a.verdict !== "defect") a.verdict = anyDefect(a) ? "defect" : "ok";
  return a;
}

// The verdict follows the defects while the operator has not set it against them: drawing the first
// defect makes it "defect", removing the last makes it "ok".
function withVerdict(before, after) {
  if (anyDefect(after) && !anyDefect(before)) after.verdict = "defect";
  if (!anyDefect(after) && anyDefect(before)) after.verdict = "ok";
  return after;
}

function put(annotation, view, shape) {
  const a = clone(annotation);
  const defects = a.shots[view].defects;
  const i = defects.findIndex((d) => d.id === shape.id);
  if (i >= 0) defects[i] = toDefect(shape); else defects.push(toDefect(shape));
  return withVerdict(annotation, a);
}

function remove(annotation, view, id) {
  const a = clone(annotation);
  a.shots[view].defects = a.shots[view].defects.filter((d) => d.id !== id);
  return withVerdict(annotation, a);
}

function relabel(annotation, view, id, label) {
  const a = clone(annotation);
  for (const d of a.shots[view].defects) if (d.id === id) d.type = label;
  return a;
}

// Copies a defect onto a neighbouring shot where the balloon's turn moves it (rotation.js; the operator
// nudges the rest), keeping its id: the same physical defect across the series.
function copyTo(annotation, from, to, id, dims, rotation) {
  const src = annotation.shots[from].defects.find((d) => d.id === id);
  if (!src || to < 0 || to >= annotation.shots.length) return null;
  const a = clone(annotation);
  const d = turnedDefect(src, rotation, to - from, dims);
  const defects = a.shots[to].defects;
  const i = defects.findIndex((x) => x.id === id);
  if (i >= 0) defects[i] = d; else defects.push(d);
  return a;
}

function proposal(prediction, view) {
  if (!prediction) return [];
  const shots = (prediction.payload && prediction.payload.shots) || [];
  const scores = prediction.scores || {};
  const shotScore = scores.shots && scores.shots[view] ? scores.shots[view].score : null;
  return ((shots[view] && shots[view].defects) || []).map((d, j) => ({
    ...toShape({ ...d, id: `p${j}` }),
    confidence: d.score ?? (scores.types && scores.types[d.type]) ?? shotScore ?? scores.defect ?? null,
  }));
}

function rasters(prediction, view) {
  const maps = (prediction && (prediction.maps || (prediction.payload && prediction.payload.maps))) || [];
  const m = maps.find((x) => x.shot === view) || {};
  return [
    { name: "defect", title: "Defect map", key: "m", url: m.defect || null },
    { name: "saliency", title: "Saliency", key: "s", url: m.saliency || null },
  ];
}

function oodOf(prediction) {
  if (!prediction) return null;
  const o = prediction.ood || (prediction.scores && prediction.scores.ood);
  if (o) return o;
  if (prediction.scores && "flagged" in prediction.scores) return { flag: !!prediction.scores.flagged, score: prediction.scores.entropy };
  return null;
}

// What is stored: ids only where they say something (the same defect on more than one shot); the
// editor's own ids for single defects stay in the page.
function output(annotation) {
  const a = clone(annotation);
  const seen = new Map();
  for (const s of a.shots) for (const d of s.defects) seen.set(d.id, (seen.get(d.id) || 0) + 1);
  for (const s of a.shots) for (const d of s.defects) if (seen.get(d.id) < 2) delete d.id;
  return a;
}

function check(annotation) {
  if (anyDefect(annotation) && annotation.verdict !== "defect") return ["A shot has a defect: the verdict must be \"defect\" (press d)."];
  return [];
}

function mount(ws) {
  const $ = (id) => document.getElementById(id);
  const strip = $("filmstrip");
  let thumbs = [];

  function load(item) {  // the film strip and the flag of the item now shown
    strip.replaceChildren();
    // A balloon judged on its series: the shots whose series score reached the balloon threshold drove it.
    const series = item.prediction && item.prediction.scores && item.prediction.scores.series;
    const drove = new Set(series && Array.isArray(series.drove) ? series.drove : []);
    thumbs = item.assets.map((asset, i) => {
      const b = document.createElement("button");
      b.dataset.shot = String(i);
      b.title = `Shot ${i + 1}: ${asset.name}`;
      if (drove.has(i)) {
        const shotScore = ((item.prediction.scores.shots || [])[i] || {}).series_score;
        b.classList.add("drove");
        b.title += ` — drove the model's "defect" verdict (series score ${Number(shotScore).toFixed(3)} ≥ ` +
          `threshold ${Number(series.threshold).toFixed(3)})`;
      }
      const img = document.createElement("img");
      img.alt = "";
      const cap = document.createElement("span");
      b.append(img, cap);
      b.onclick = () => ws.showView(i);
      strip.appendChild(b);
      return { b, cap, img, url: asset.working_url };
    });
    // The thumbnails load after the shot in the viewer: they must not slow the image the operator waits for.
    const fill = () => thumbs.forEach((t) => { if (!t.img.src) t.img.src = t.url; });
    ws.viewer.osd.addOnceHandler("tile-loaded", fill);
    setTimeout(fill, 800);
    const ood = oodOf(item.prediction);
    $("ood-flag").hidden = !(ood && ood.flag);
    $("ood-flag").title = "The model's out-of-distribution / adversarial check flagged this item" +
      (ood && ood.score != null ? ` (score ${Number(ood.score).toFixed(3)})` : "");
  }

  function setVerdict(v) {
    if (ws.readOnly()) return;
    ws.absorb();
    const a = clone(ws.annotation());
    a.verdict = v;
    ws.commit(a);
  }
  $("verdict").onclick = () => setVerdict(ws.annotation().verdict === "ok" ? "defect" : "ok");

  function copySelected(step) {
    const id = ws.selected();
    if (!id || ws.readOnly()) return;
    ws.absorb();
    const to = ws.view() + step;
    const assets = ws.item.assets;
    const next = copyTo(ws.annotation(), ws.view(), to, id, assets[to] || assets[0], rotationOf(ws.item));
    if (!next) return;
    ws.commit(next);
    ws.showView(to).then(() => ws.select(id));
  }

  const k = ws.keys;
  k.add("arrowright", "Next shot", () => ws.showView(ws.view() + 1), { group: "Catheter" });
  k.add("arrowleft", "Previous shot", () => ws.showView(ws.view() - 1), { group: "Catheter" });
  k.add("shift+arrowright", "Copy the selected defect to the next shot (moved by the balloon's turn)", () => copySelected(1), { group: "Catheter" });
  k.add("shift+arrowleft", "Copy the selected defect to the previous shot (moved by the balloon's turn)", () => copySelected(-1), { group: "Catheter" });
  k.add("d", "Verdict: OK / defect", () => setVerdict(ws.annotation().verdict === "ok" ? "defect" : "ok"), { group: "Catheter" });
  k.add("m", "Defect map of this shot (on / off)", () => ws.setRaster("defect", (ws.layers.rasters.defect || 0) > 0 ? 0 : 0.5), { group: "Catheter" });
  k.add("s", "Saliency of this shot (on / off)", () => ws.setRaster("saliency", (ws.layers.rasters.saliency || 0) > 0 ? 0 : 0.5), { group: "Catheter" });

  return {
    load,
    render() {
      const a = ws.annotation();
      const verdict = $("verdict");
      verdict.dataset.verdict = a.verdict;
      verdict.replaceChildren(...withKey(a.verdict === "ok" ? "OK" : "Defect", "d"));
      verdict.className = `verdict verdict-${a.verdict}`;
      $("verdict-hint").textContent = check(a).length ? "a shot has a defect" : "";
      thumbs.forEach(({ b, cap }, i) => {
        const n = a.shots[i].defects.length;
        b.classList.toggle("current", i === ws.view());
        cap.textContent = `${i + 1}${n ? ` · ${n}` : ""}`;
      });
      const list = $("defect-list");
      list.replaceChildren();
      for (const d of a.shots[ws.view()].defects) {
        const row = document.createElement("button");
        row.className = "defect" + (d.id === ws.selected() ? " selected" : "");
        row.dataset.defect = d.id;
        const shape = d.polygon ? "polygon" : d.polyline ? "polyline" : d.point ? "point" : "box";
        row.append(swatch(COLORS[d.type]), String(d.type).replace(/_/g, " "), " ", h("small", {}, `${shape} · ${d.id}`));
        row.onclick = () => ws.select(d.id);
        list.appendChild(row);
      }
    },
  };
}

export default {
  kind: "catheter", labels: TYPES, colors: COLORS,
  views: (item) => item.assets.map((asset, i) => ({ asset, title: `Shot ${i + 1}` })),
  normalize, shapes: (a, view) => (a.shots[view] ? a.shots[view].defects.map(toShape) : []),
  put, remove, relabel, proposal, rasters, check, output, mount,
  diffShape: (entry) => (entry && entry.box ? toShape({ ...entry, id: entry.id || "" }) : null),
};
