// One golden item seen by two versions: the golden truth, the champion's and the candidate's proposals
// drawn side by side on the item's images (catheter defects and verdict, article cuts and regions, the
// OMR page outline the homography puts on the photo). j / k: next / previous disagreeing item; u: back to
// the comparison. A proposal the worker makes meanwhile arrives over the mlops feed and the page reloads.
import { drawAnswer } from "./answer_draw.js";

const data = JSON.parse(document.getElementById("golden-data").textContent);

function column(role, annotation, extra) {
  const col = document.querySelector(`.golden-col[data-role="${role}"]`);
  if (!col) return;
  const summary = col.querySelector(".golden-summary");
  if (!annotation) {
    summary.textContent = role === "truth" ? "No accepted answer: this item has no golden truth." : "No proposal for this item yet.";
    col.dataset.drawn = "none";
    return;
  }
  summary.textContent = drawAnswer(data.kind, col.querySelector(".golden-images"), annotation, data.assets, data.truth) + (extra || "");
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
