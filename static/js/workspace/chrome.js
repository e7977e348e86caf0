// The workspace's chrome: what the page says around the image. Banners (lease, live events, sent back),
// the label buttons, the item's info and state, the history, the review box, the queue depth, draft and
// lease lines, errors. It reads the state and writes the page; it decides nothing (the flow does).
import { summarize } from "./review.js";
import { swatch, withKey } from "../dom.js";

const $ = (id) => document.getElementById(id);

export function errorText(res) {
  const d = res.data || {};
  return [d.detail || `Error ${res.status}`, ...(d.errors || []).map((e) => `${e.path}: ${e.message}`)].join("\n");
}

function banner(el, text) {
  el.hidden = false;
  el.textContent = text;
}

// deps: {state, contract, colorOf(label), onLabel(name), reload()}
export function createChrome({ state: s, contract, colorOf, onLabel, reload }) {
  function liveBanner(text, action, run) {
    const el = $("live-banner");
    banner(el, text);
    const b = document.createElement("button");
    b.textContent = action;
    b.onclick = run;
    el.append(" ", b);
  }

  function renderLabels() {
    const box = $("labels");
    if (!box.childElementCount) {
      contract.labels.forEach((name, i) => {
        const b = document.createElement("button");
        b.dataset.label = name;
        b.append(swatch(colorOf(name)), ...withKey(String(name).replace(/_/g, " "), i + 1));
        b.onclick = () => onLabel(name);
        box.appendChild(b);
      });
    }
    const shape = s.selected && contract.shapes ? contract.shapes(s.annotation, s.view).find((x) => x.id === s.selected) : null;
    const current = shape ? shape.label : s.label;
    box.querySelectorAll("button").forEach((b) => { b.classList.toggle("active", b.dataset.label === current); b.disabled = s.readOnly; });
  }

  function list(items, line, empty) {
    const el = $("history");
    el.replaceChildren();
    for (const r of items) {
      const li = document.createElement("li");
      li.textContent = line(r);
      el.appendChild(li);
    }
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.style.listStyle = "none";
      li.textContent = empty;
      el.appendChild(li);
    }
  }

  return {
    renderLabels,
    message: (text) => { $("editor-errors").textContent = text; },
    errors: (res) => { $("editor-errors").textContent = errorText(res); },
    draftStatus(text, { saved } = {}) {
      $("draft-status").textContent = text;
      if (saved !== undefined) $("draft-status").dataset.saved = saved ? "1" : "";
    },
    leaseInfo: (text) => { $("lease-info").textContent = text; },
    leaseState: (value) => { document.body.dataset.lease = value; },
    leaseBanner: (text) => { if (text === null) $("lease-banner").hidden = true; else banner($("lease-banner"), text); },
    heldByOther(holder) {
      banner($("lease-banner"), `${holder} is working on this item: you can look, not edit.`);
      $("lease-banner").dataset.holder = holder;
    },
    sentBack(note) { $("sent-back").hidden = false; $("sent-back-comment").textContent = `${note.comment} (${note.reviewer})`; },
    reviewBox(diff) { $("review-box").hidden = false; summarize($("diff-summary"), diff); },
    askComment(text) { $("review-comment").focus(); $("editor-errors").textContent = text; },
    reviewComment: () => $("review-comment").value,
    feedLive: () => { document.body.dataset.feed = "live"; },
    loading: () => { document.body.dataset.workspace = "loading"; },
    ready(item) { document.body.dataset.workspace = "ready"; document.body.dataset.item = String(item.id); },
    queueDepth(queued, leased) {
      const el = $("queue-depth");
      const b = document.createElement("b");
      b.dataset.depth = "queued";
      b.textContent = String(queued);
      el.replaceChildren("Queue: ", b, ` waiting · ${leased} being labeled`);
    },
    newChampion(to, action) {
      const named = to.number ? ` (v${to.number}${action === "rollback" ? ", rolled back" : ""})` : "";
      liveBanner(`A new model${named} is champion for this project.`, "Load its proposal", reload);
      $("live-banner").dataset.champion = String(to.number || "");
    },
    newProposal: () => liveBanner("A new model proposal arrived for this item.", "Load it", reload),
    // Everything that belongs to one item is reset here; `first`: the server rendered the history and
    // the review notes with the page.
    beginItem(item, first) {
      $("item-title").textContent = `item ${item.id}`;
      $("item-external").textContent = item.external_id || "";
      document.title = `Item ${item.id} · Loupe`;
      for (const id of ["lease-banner", "live-banner", "sent-back", "review-box", "conflict", "conflict-view", "flag-form"]) $(id).hidden = true;
      document.querySelector(".viewer-wrap").classList.remove("split");
      $("editor-errors").textContent = "";
      $("draft-status").textContent = "";
      $("review-comment").value = "";
      if (first) return;
      $("history").replaceChildren();
      const notes = $("review-notes");
      notes.replaceChildren();
      for (const rv of item.reviews || []) {
        const p = document.createElement("p");
        p.className = `review-note ${rv.decision}`;
        p.textContent = `${rv.decision === "accept" ? "Accepted" : "Sent back"} by ${rv.reviewer}: ${rv.comment}`;
        notes.appendChild(p);
      }
    },
    history: (revisions) => list(revisions,
      (r) => `r${r.number} by ${r.author || r.source} · ${r.edit_count} edit${r.edit_count === 1 ? "" : "s"} · ${new Date(r.created_at).toLocaleString()}`,
      "No revision yet."),
    // which controls work: none of the editing ones while read-only
    info() {
      $("base-info").textContent = s.base === null ? "No revision yet: your submit creates revision 1." : `Editing on top of revision ${s.base}.`;
      $("proposal-info").textContent = proposalText(s.item.prediction);
      $("item-state").textContent = s.item.state;
      $("item-state").className = "state state-" + s.item.state;
      $("use-proposal").disabled = s.readOnly || !s.item.prediction;
      $("use-current").disabled = s.readOnly || !s.item.current;
      for (const id of ["use-empty", "submit", "release", "skip", "flag"]) $(id).disabled = s.readOnly;
      document.querySelectorAll("[data-tool], #labels button").forEach((b) => { b.disabled = s.readOnly; });
      renderLabels();
    },
  };
}

// Which model version proposed what the operator sees (or that it was imported, or that none has yet).
export function proposalText(prediction) {
  if (!prediction) return "No proposal yet.";
  const v = prediction.model_version;
  if (!v) return "Proposal imported with the image.";
  const scope = v.scope_key || "global";
  return `Proposed by ${v.kind} / ${scope} v${v.number}` + (prediction.stale ? " (an earlier champion)." : ".");
}
