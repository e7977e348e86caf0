// The next item's images, fetched ahead: while the operator works on one item, the images of the item
// the queue will most likely give next (the server names it: `up_next`) are loaded into the browser's
// cache, so that `n` draws them without waiting for the server. Only what the viewer asks for first: a
// working copy shown whole, or the .dzi and the tiles of the level that fits the viewer. Nothing is decoded
// or drawn: the bytes wait in the HTTP cache, where the viewer's own fetches find them.
import { tileSourceOf } from "./viewer.js";

const TILE_SIZE = 254;   // webapp/assets/derivatives.py: TILE_SIZE, overlap 1, .jpeg
const MAX_TILES = 48;    // a bound for an odd viewer size: a fit level has ~20 on a desktop screen

// The URLs the viewer requests first when it opens `asset` in a viewer of `width` × `height` screen px.
export function firstRequests(asset, width, height) {
  const source = tileSourceOf(asset);
  if (typeof source !== "string") return [source.levels[0].url];
  const w = asset.width, h = asset.height;
  const maxLevel = Math.ceil(Math.log2(Math.max(w, h)));
  const shown = Math.min(width / w, height / h);  // the image fitted into the viewer
  // OpenSeadragon draws the most detailed level whose pixels are at least half a screen pixel
  let level = maxLevel;
  while (level > 0 && shown * 2 ** (maxLevel - level) < 0.5) level--;
  const scale = 2 ** (level - maxLevel);
  const cols = Math.ceil(Math.ceil(w * scale) / TILE_SIZE), rows = Math.ceil(Math.ceil(h * scale) / TILE_SIZE);
  if (cols * rows > MAX_TILES) return [source];
  const base = source.replace(/\.dzi$/, "_files/");
  const urls = [source];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) urls.push(`${base}${level}/${c}_${r}.jpeg`);
  return urls;
}

export function createPrefetcher(viewerElement) {
  const done = new Set();
  return {
    // upNext: {item, assets: [...]} from the server, or null
    fetch(upNext) {
      if (!upNext || done.has(upNext.item)) return;
      done.add(upNext.item);
      const { clientWidth: w, clientHeight: h } = viewerElement;
      // the first image as the viewer opens it; the others (film strip, other views) by their first request
      const urls = upNext.assets.flatMap((asset, i) => firstRequests(asset, w, h).slice(0, i === 0 ? undefined : 1));
      for (const url of urls) {
        fetch(url, { credentials: "same-origin", priority: "low" }).then((r) => r.blob()).catch(() => {});
      }
    },
  };
}
