// The review view: the operator's answer against the model's proposal, drawn on the image in distinct
// colours (added green, removed red, changed amber: before dashed, after solid) with the counts (the flow
// fetches the diff and sends accept / send back with a comment).
import { drawShapes } from "../svg.js";

export const DIFF_COLORS = { added: "#16a34a", removed: "#dc2626", before: "#d97706", after: "#f59e0b" };

// `toShape` turns one of the diff's kind-specific entries into the neutral shape form.
export function drawDiff(parent, diff, view, toShape) {
  const here = (e) => (e.shot ?? 0) === view;
  const pick = (list) => list.filter(here).map(toShape).filter(Boolean);
  drawShapes(parent, pick(diff.removed), { cls: "diff diff-removed", color: () => DIFF_COLORS.removed, text: (s) => `− ${s.label}` });
  drawShapes(parent, pick(diff.changed.map((c) => ({ ...c.before, shot: c.before.shot ?? c.after.shot }))),
    { cls: "diff diff-before", color: () => DIFF_COLORS.before });
  drawShapes(parent, pick(diff.changed.map((c) => c.after)), { cls: "diff diff-after", color: () => DIFF_COLORS.after, text: (s) => `~ ${s.label}` });
  drawShapes(parent, pick(diff.added), { cls: "diff diff-added", color: () => DIFF_COLORS.added, text: (s) => `+ ${s.label}` });
}

export function summarize(element, diff) {
  element.replaceChildren();
  if (!diff) { element.textContent = "No diff available."; return; }
  const against = { proposal: "the model's proposal", previous: "the previous revision", empty: "an empty answer" }[diff.against] || diff.against;
  element.append(`Against ${against}: `);
  for (const [key, word] of [["added", "added"], ["removed", "removed"], ["changed", "changed"]]) {
    const span = document.createElement("span");
    span.className = `count count-${key}`;
    span.dataset.count = key;
    span.textContent = `${diff.counts[key]} ${word}`;
    element.append(span, " ");
  }
  // A whole-answer change (catheter verdict, articles page type) has no shape to draw: say it in words.
  for (const [key, word] of [["verdict", "verdict"], ["page_type", "page type"], ["status", "status"]]) {
    if (!diff[key] || diff[key].before === diff[key].after) continue;
    const span = document.createElement("span");
    span.className = `count count-${key}`;
    span.dataset.count = key;
    span.textContent = `· ${word} ${label(diff[key].before)} → ${label(diff[key].after)} `;
    element.append(span);
  }
  if (diff.edits != null) {  // the kind's edit count (the operator metric), where its diff gives one
    const span = document.createElement("span");
    span.className = "count count-edits";
    span.dataset.count = "edits";
    span.textContent = `· ${diff.edits} edit${diff.edits === 1 ? "" : "s"}`;
    element.append(span);
  }
}

const label = (value) => (value == null || value === "" ? "none" : String(value).replaceAll("_", " "));
