// The deep-zoom viewer: one OpenSeadragon viewer showing one image at a time (its DZI tile pyramid,
// or its working copy stretched to the original size while tiles are being made, so that image
// coordinates are always original pixels), raster overlays with opacity, and an SVG layer in image
// coordinates for what Annotorious does not draw (proposal, points, review diff).
import { NS } from "../svg.js";

export function tileSourceOf(asset) {
  // A working copy at full resolution is one request; the tile pyramid pays off for larger images.
  const fullWorking = asset.working_width && asset.working_width >= asset.width;
  if (asset.dzi_url && !fullWorking) return asset.dzi_url;
  return { type: "legacy-image-pyramid", levels: [{ url: asset.working_url, width: asset.width, height: asset.height }] };
}

// Tiles (and a working copy shown whole) are fetched and decoded into an ImageBitmap, copied into the small
// canvas the canvas drawer draws from, and the bitmap is closed at once. OpenSeadragon's own loader keeps
// an <img> per tile, whose decoded pixels stay in Chromium's image cache (up to 256 MB, shared memory)
// long after the tile cache let the tile go; this way a tile is its canvas alone, freed on eviction.
// A tile that fails for a passing reason (no connection, a server restarting or overloaded: 5xx, 429) is asked
// for again, up to TILE_RETRIES times a second apart, before OpenSeadragon hears of it: it would leave the
// square blank until the next pan (its own retry marks the tile missing and does not draw the late answer).
const TILE_RETRIES = 3;
const TILE_RETRY_MS = 1000;
const passing = (status) => status >= 500 || status === 429;

function downloadTileStart(job) {
  const control = new AbortController();
  job.userData.control = control;
  const attempt = (left) => fetch(job.src, { credentials: "same-origin", signal: control.signal })
    .then((res) => {
      if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { retry: passing(res.status) });
      return res.blob();
    })
    .then((blob) => createImageBitmap(blob))
    .then((bitmap) => {
      const canvas = document.createElement("canvas");
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(bitmap, 0, 0);
      bitmap.close();
      job.finish(context, null, "context2d");
    })
    .catch((e) => {
      if (control.signal.aborted) return;
      if (left > 0 && (e.retry || e instanceof TypeError)) {  // TypeError: fetch's network failure
        setTimeout(() => { if (!control.signal.aborted) attempt(left - 1); }, TILE_RETRY_MS);
        return;
      }
      job.fail(`tile ${job.src}: ${e.message || e}`, null);
    });
  attempt(TILE_RETRIES);
}
function downloadTileAbort(job) {
  if (job.userData.control) job.userData.control.abort();
}
for (const source of [OpenSeadragon.DziTileSource, OpenSeadragon.LegacyTileSource]) {
  Object.assign(source.prototype, { downloadTileStart, downloadTileAbort });
}

export function createViewer(element, { prefixUrl }) {
  const viewer = OpenSeadragon({
    element, prefixUrl, showNavigationControl: false, drawer: window.LOUPE_OSD_DRAWER || "canvas", showNavigator: false,
    animationTime: 0.25, maxZoomPixelRatio: 8, visibilityRatio: 0.5, crossOriginPolicy: false,
    gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: false },
    immediateRender: true, preserveImageSizeOnResize: true,
    // tiles kept decoded (a 256 px canvas each): a screen at 1:1 with the levels under it needs ~40; 64
    // panned the 70 Mpx page as fast as 120 did, with ~80 MB less (bench/ui_next_item.py --tile-cache)
    maxImageCacheCount: window.LOUPE_OSD_CACHE || 64,
  });
  const svg = document.createElementNS(NS, "svg");
  svg.classList.add("ws-svg");
  const root = document.createElementNS(NS, "g");
  svg.appendChild(root);
  viewer.canvas.appendChild(svg);
  let asset = null;
  const overlays = new Map();  // name -> TiledImage

  function place() {
    const base = viewer.world.getItemAt(0);
    if (!base) return;
    const o = base.imageToViewerElementCoordinates(new OpenSeadragon.Point(0, 0));
    const one = base.imageToViewerElementCoordinates(new OpenSeadragon.Point(1000, 0));
    const s = (one.x - o.x) / 1000;
    root.setAttribute("transform", `translate(${o.x} ${o.y}) scale(${s})`);
    svg.style.setProperty("--px", String(1 / s));  // one screen pixel in image units, for marker sizes
    svg.dispatchEvent(new CustomEvent("scale", { detail: s }));
  }
  viewer.addHandler("update-viewport", place);
  viewer.addHandler("animation", place);
  viewer.addHandler("resize", place);

  function open(a) {
    asset = a;
    overlays.clear();
    return new Promise((resolve) => {
      viewer.addOnceHandler("open", () => { place(); resolve(); });
      viewer.open(tileSourceOf(a));
    });
  }

  // Resolves once the image shown is drawn in full at the current zoom (or after `ms`, whatever comes first).
  function loaded(ms = 3000) {
    return new Promise((resolve) => {
      const base = viewer.world.getItemAt(0);
      if (!base || base.getFullyLoaded()) { resolve(); return; }
      const done = () => { clearTimeout(timer); base.removeHandler("fully-loaded-change", onChange); resolve(); };
      const onChange = (e) => { if (e.fullyLoaded) done(); };
      const timer = setTimeout(done, ms);
      base.addHandler("fully-loaded-change", onChange);
    });
  }

  // Heat maps: a small PNG stretched over the whole image, drawn above it with its own opacity.
  function setOverlay(name, url, opacity) {
    const existing = overlays.get(name);
    if (!url || opacity <= 0) {
      if (existing) existing.setOpacity(0);
      return;
    }
    if (existing) { existing.setOpacity(opacity); return; }
    const base = viewer.world.getItemAt(0);
    if (!base) return;
    const bounds = base.getBounds();
    overlays.set(name, { setOpacity() {} });  // placeholder while it loads
    viewer.addTiledImage({
      tileSource: { type: "image", url }, x: bounds.x, y: bounds.y, width: bounds.width, opacity,
      success: (ev) => { overlays.set(name, ev.item); ev.item.setOpacity(opacity); },
      error: () => overlays.delete(name),
    });
  }

  function toImage(clientX, clientY) {
    const base = viewer.world.getItemAt(0);
    const rect = viewer.element.getBoundingClientRect();
    const p = base.viewerElementToImageCoordinates(new OpenSeadragon.Point(clientX - rect.left, clientY - rect.top));
    return [p.x, p.y];
  }
  function toScreen(x, y) {
    const base = viewer.world.getItemAt(0);
    const rect = viewer.element.getBoundingClientRect();
    const p = base.imageToViewerElementCoordinates(new OpenSeadragon.Point(x, y));
    return [p.x + rect.left, p.y + rect.top];
  }
  function screenScale() {
    const [x0] = toScreen(0, 0), [x1] = toScreen(1000, 0);
    return (x1 - x0) / 1000;
  }

  return {
    osd: viewer, svg, root, open, loaded, setOverlay, toImage, toScreen, screenScale, place,
    asset: () => asset,
    fit: () => viewer.viewport.goHome(),
    zoom: (factor) => { viewer.viewport.zoomBy(factor); viewer.viewport.applyConstraints(); },
  };
}
