// The OMR panel's metrics table: the proposal's figures beside the fix being made (the worker's recompute)
// or, for a reviewer, the figures the server stored with the revision under review. A revision older than
// those stored figures, or a homography the server never measured, reads "not recorded", never a dash: once,
// in one cell over the rows it covers.
import { h } from "../dom.js";

export const METRICS = [
  ["inliers", "inliers", 0], ["inlier_ratio", "inlier ratio", 2], ["reproj_median", "reprojection median px", 2],
  ["coverage", "coverage", 2], ["ncc_median", "ink agreement (median)", 3], ["ncc_min", "ink agreement (worst system)", 3],
  ["system_shift_max", "system shift px", 2], ["cell_bias_max", "residual bias px", 2],
  ["visible_share", "music in the photo", 2], ["operator_residual_max", "your points' residual px", 2],
];
// what the server measured of the answer against the proposal (stored with the revision)
const AGAINST_PROPOSAL = [
  ["corner_shift_max", "page corners moved px", 2], ["symbols_moved", "symbols moved", 0],
  ["symbol_shift_max", "largest symbol move px", 2], ["point_pairs", "point pairs", 0],
];
const NOT_RECORDED = "not recorded";

function cell(source, key, digits, value, title) {
  const td = h("td", { dataset: { source, metric: key } });
  td.textContent = value == null ? "—" : typeof value === "number" ? value.toFixed(digits) : String(value);
  if (title) td.title = title;
  return td;
}

// The reviewer's column: the stored figures, or why there are none.
function storedColumn(stored) {
  if (!stored) {
    const why = "This revision was submitted before its metrics were stored";
    return { verdict: [NOT_RECORDED, why], reasons: [NOT_RECORDED, why], metric: () => [NOT_RECORDED, why] };
  }
  const measured = stored.alignment_source === "recompute" ? "Measured by the server's recompute of this fix"
    : stored.alignment_source === "proposal" ? "The proposal's own measure: the answer keeps its homography" : null;
  const unmeasured = "The server never measured this homography (no finished recompute of it when it was submitted)";
  const alignment = (key) => (stored.alignment ? [stored.alignment[key], measured] : [NOT_RECORDED, unmeasured]);
  return {
    verdict: stored.verdict ? [stored.verdict, measured] : [NOT_RECORDED, unmeasured],
    reasons: stored.alignment ? [(stored.reasons || []).join(", ") || null, measured] : [NOT_RECORDED, unmeasured],
    metric: (key) => (key === "operator_residual_max" && stored.point_pairs ? [stored.operator_residual_max, "Computed at submit from the answer's pairs"] : alignment(key)),
    against: (key) => [stored[key], "Computed at submit from the answer and the proposal"],
  };
}

// prop: the proposal's scores; column: "fix" ({result, pending}) or "stored" ({metrics}); title: its heading.
export function renderMetricsTable(table, { prop, title, fix = null, stored = undefined }) {
  table.replaceChildren();
  const review = stored !== undefined;
  const col = review ? storedColumn(stored) : null;
  const res = fix && fix.result;
  table.insertRow().append(h("th"), h("th", {}, "Proposal"), h("th", {}, title));
  const rows = [];  // [label, key, digits, propValue, [value, why]]
  const row = (...args) => rows.push(args);
  row("verdict", "verdict", 0, prop && prop.verdict,
      review ? col.verdict : [res ? res.verdict || res.state : fix ? "computing…" : null]);
  row("reasons", "reasons", 0, prop && (prop.reasons || []).join(", "),
      review ? col.reasons : [res && (res.reasons || [res.detail]).filter(Boolean).join(", ")]);
  for (const [key, label, digits] of METRICS) {
    row(label, key, digits, prop && prop.metrics ? prop.metrics[key] : null,
        review ? col.metric(key) : [res && res.metrics ? res.metrics[key] : null]);
  }
  if (review) {
    for (const [key, label, digits] of AGAINST_PROPOSAL) {
      row(label, key, digits, null, stored ? col.against(key) : col.metric(key));
    }
  }
  // Rows not recorded for the same reason share one cell: the words once, over the rows they cover.
  let run = null;
  for (const [label, key, digits, propValue, [value, why]] of rows) {
    const r = table.insertRow();
    r.insertCell().textContent = label;
    r.append(cell("proposal", key, digits, propValue));
    if (value === NOT_RECORDED && run && run.why === why) {
      run.td.rowSpan += 1;
      run.td.dataset.covers += ` ${key}`;
      continue;
    }
    const td = cell("fix", key, digits, value, why);
    run = value === NOT_RECORDED ? { why, td } : null;
    if (run) Object.assign(td.dataset, { recorded: "none", covers: key });
    r.append(td);
  }
  table.querySelectorAll("td[data-metric=verdict]").forEach((td) => { td.className = `verdict-cell v-${td.textContent.replace(/\s+/g, "-")}`; });
  table.dataset.recorded = review ? (stored ? (stored.alignment ? "all" : "geometry") : "none") : "";
}
