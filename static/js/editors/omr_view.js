// The OMR editor's pictures: the photo warped into the original's frame (rectified) and composed with the
// original as blend, checkerboard or difference; the two viewers' zoom and pan linked through the
// homography; the inlier matches as lines from one viewer to the other.
//
// The rectified photo is warped here, in the browser, from the two working copies the page loads anyway:
// the homography changes while the operator fixes it (each recompute, each undo), and a warp made by the
// worker and stored with the prediction would be stale after the first point pair. Warping a 1240×1754
// working copy costs tens of milliseconds in JavaScript; CSS matrix3d could warp the photo too, but not
// compose it pixel by pixel with the original (difference, paper-normalised blend).
import { svgEl } from "../svg.js";

export const MODES = ["blend", "checker", "difference", "off"];
const CHECKER = 48;        // checkerboard square, working-copy pixels of the original
const PAPER_BLOCK = 32;    // blocks over which the photo's paper level (lighting) is estimated

export function applyH(h, x, y) {
  const w = h[2][0] * x + h[2][1] * y + h[2][2];
  return [(h[0][0] * x + h[0][1] * y + h[0][2]) / w, (h[1][0] * x + h[1][1] * y + h[1][2]) / w];
}

export function invert3(m) {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!det) return null;
  return [[A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
          [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
          [C / det, -(a * h - b * g) / det, (a * e - b * d) / det]];
}

// Local scale of h at (x, y): how many photo pixels one original pixel becomes there.
export function localScale(h, x, y) {
  const [x0, y0] = applyH(h, x, y), [x1, y1] = applyH(h, x + 10, y), [x2, y2] = applyH(h, x, y + 10);
  return Math.sqrt(Math.abs((x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0))) / 10;
}

// A working copy as grey levels.
export async function loadGrey(url) {
  const img = new Image();
  img.decoding = "async";
  img.src = url;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(img, 0, 0);
  const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const grey = new Uint8ClampedArray(canvas.width * canvas.height);
  for (let i = 0, j = 0; i < grey.length; i++, j += 4) grey[i] = (rgba[j] * 77 + rgba[j + 1] * 150 + rgba[j + 2] * 29) >> 8;
  return { grey, width: canvas.width, height: canvas.height };
}

// The photo's paper level per block (its brightest quarter), so the blend and difference compare ink with
// ink rather than the photo's lighting gradient with the original's white.
function paperLevels(photo) {
  const bw = Math.ceil(photo.width / PAPER_BLOCK), bh = Math.ceil(photo.height / PAPER_BLOCK);
  const level = new Float32Array(bw * bh);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      let best = 0;
      for (let y = by * PAPER_BLOCK; y < Math.min(photo.height, (by + 1) * PAPER_BLOCK); y += 2) {
        for (let x = bx * PAPER_BLOCK; x < Math.min(photo.width, (bx + 1) * PAPER_BLOCK); x += 2) best = Math.max(best, photo.grey[y * photo.width + x]);
      }
      level[by * bw + bx] = Math.max(best, 40);
    }
  }
  return { level, bw, bh };
}

// The photo warped into the original's working frame: grey levels with the paper at 255, -1 outside the photo.
// `h` maps original pixels to photo pixels (originals' sizes `sizes.original`, `sizes.photo`).
export function rectify(original, photo, h, sizes) {
  const out = new Int16Array(original.width * original.height);
  const paper = paperLevels(photo);
  const sox = sizes.original.width / original.width, soy = sizes.original.height / original.height;
  const spx = photo.width / sizes.photo.width, spy = photo.height / sizes.photo.height;
  for (let j = 0; j < original.height; j++) {
    for (let i = 0; i < original.width; i++) {
      const [u, v] = applyH(h, (i + 0.5) * sox, (j + 0.5) * soy);
      const px = u * spx - 0.5, py = v * spy - 0.5;
      const x0 = Math.floor(px), y0 = Math.floor(py);
      const k = j * original.width + i;
      if (!(x0 >= 0 && y0 >= 0 && x0 < photo.width - 1 && y0 < photo.height - 1)) { out[k] = -1; continue; }
      const fx = px - x0, fy = py - y0, o = y0 * photo.width + x0, g = photo.grey;
      const val = (g[o] * (1 - fx) + g[o + 1] * fx) * (1 - fy) + (g[o + photo.width] * (1 - fx) + g[o + photo.width + 1] * fx) * fy;
      const lvl = paper.level[Math.min(paper.bh - 1, Math.floor(y0 / PAPER_BLOCK)) * paper.bw + Math.min(paper.bw - 1, Math.floor(x0 / PAPER_BLOCK))];
      // paper to white, ink towards black: a contrast stretch after dividing out the lighting (JPEG noise
      // and paper grain otherwise tint the whole blend)
      out[k] = Math.max(0, Math.min(255, Math.round(((val / lvl) - 0.12) / 0.78 * 255)));
    }
  }
  return out;
}

// One RGBA picture of the original and the rectified photo in the given mode:
//   blend: ink of both black, of the original only cyan, of the photo only red (a shift shows as fringes);
//   checker: squares of the original and of the photo alternate (a shift breaks lines at the edges);
//   difference: white where they agree, dark where they differ.
// Outside the photo: a light orange wash.
export function compose(original, rectified, mode, canvas) {
  canvas.width = original.width;
  canvas.height = original.height;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(original.width, original.height);
  const d = image.data, o = original.grey;
  for (let j = 0, k = 0; j < original.height; j++) {
    for (let i = 0; i < original.width; i++, k++) {
      const p = rectified[k], g = o[k], q = k * 4;
      let r, gr, b;
      if (p < 0) { r = 255; gr = 214; b = 170; if (mode === "checker" || mode === "blend") { r = (r + g) >> 1; gr = (gr + g) >> 1; b = (b + g) >> 1; } }
      else if (mode === "blend") { r = g; gr = p; b = p; }
      else if (mode === "checker") { r = gr = b = ((Math.floor(i / CHECKER) + Math.floor(j / CHECKER)) & 1) ? p : g; }
      else { r = gr = b = 255 - Math.min(255, Math.max(0, Math.abs(g - p) - 48) * 2); }   // noise below 48 levels
      d[q] = r; d[q + 1] = gr; d[q + 2] = b; d[q + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
}

// Keeps the photo viewer on the same piece of music as the original viewer and back: the centre mapped
// through the homography (or by relative position while there is none), the zoom by its local scale.
// Only the viewer the operator works in leads (the one under the pointer; the keys zoom the original):
// following both ways would let each correction echo back.
export function linkViewers(main, other, getH, originalSize, photoSize) {
  let busy = false, leader = main;
  main.osd.element.addEventListener("pointerenter", () => { leader = main; });
  other.osd.element.addEventListener("pointerenter", () => { leader = other; });
  window.addEventListener("keydown", () => { leader = main; }, true);
  function follow(from, to, forward) {
    if (busy || from !== leader) return;
    const a = from.osd.world.getItemAt(0), b = to.osd.world.getItemAt(0);
    if (!a || !b) return;
    busy = true;
    try {
      const vp = from.osd.viewport;
      const c = a.viewportToImageCoordinates(vp.getCenter(true));
      const h = getH();
      const m = h ? (forward ? h : invert3(h)) : null;
      const [sw, sh] = forward ? [photoSize().width / originalSize().width, photoSize().height / originalSize().height]
        : [originalSize().width / photoSize().width, originalSize().height / photoSize().height];
      const [x, y] = m ? applyH(m, c.x, c.y) : [c.x * sw, c.y * sh];
      const scale = m ? localScale(m, c.x, c.y) : Math.sqrt(sw * sh);
      const screenPerImage = a.viewportToImageZoom(vp.getZoom(true));
      to.osd.viewport.zoomTo(b.imageToViewportZoom(screenPerImage / scale), null, true);
      to.osd.viewport.panTo(b.imageToViewportCoordinates(new OpenSeadragon.Point(x, y)), true);
    } finally { busy = false; }
  }
  const fwd = () => follow(main, other, true), back = () => follow(other, main, false);
  const sync = () => { leader = main; fwd(); };
  main.osd.addHandler("animation", fwd);
  main.osd.addHandler("animation-finish", fwd);
  other.osd.addHandler("animation", back);
  other.osd.addHandler("animation-finish", back);
  return { sync };
}

// Lines from each match's original point (left viewer) to its photo point (right viewer), on an SVG over
// both; only matches visible in both viewers are drawn.
export function drawMatchLines(svg, wrap, main, other, matches) {
  svg.replaceChildren();
  if (!matches || !matches.length || !main.osd.world.getItemAt(0) || !other.osd.world.getItemAt(0)) return 0;
  const box = wrap.getBoundingClientRect();
  const ra = main.osd.element.getBoundingClientRect(), rb = other.osd.element.getBoundingClientRect();
  const inside = (r, [x, y]) => x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;
  let n = 0;
  matches.forEach(([po, pp], i) => {
    const a = main.toScreen(po[0], po[1]), b = other.toScreen(pp[0], pp[1]);
    if (!inside(ra, a) || !inside(rb, b)) return;
    const hue = (i * 47) % 360;
    svgEl("line", { x1: a[0] - box.left, y1: a[1] - box.top, x2: b[0] - box.left, y2: b[1] - box.top,
                    stroke: `hsl(${hue} 90% 50%)`, class: "match-line" }, svg);
    n++;
  });
  svg.dataset.drawn = String(n);
  return n;
}
