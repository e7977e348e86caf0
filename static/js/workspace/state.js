// The workspace's state: one plain object that every part reads and the flow and the editing functions
// write. Everything that belongs to the item shown is (re)set by the flow's `load`; nothing here touches
// the page, so the flow's decisions can be tested without a browser (tests/static/js/).
export const NO_LEASE = Object.freeze({ stop() {}, token: () => "" });

export function createState(editor) {
  return {
    item: null,            // the item shown, as GET /api/v1/items/<id>/ gives it
    views: [],             // editor.views(item): one image shown at a time
    view: 0,               // index into views
    empty: null,           // the empty answer for this item (normalised)
    history: null,         // undo/redo over whole answers (history.js)
    annotation: null,      // the answer being edited: history.current()
    selected: null,        // id of the selected shape
    label: (editor.labels || [])[0] ?? null,   // the label the next shape gets
    base: null,            // the revision this answer is based on (a stale base is a conflict on submit)
    fromPrediction: null,  // the prediction the answer started from, if any
    readOnly: true,        // someone else's lease, a review, or a lost lease
    reviewing: false,      // a reviewer looking at a submitted answer
    diff: null,            // the review diff against the proposal
    conflict: null,        // a refused submit's {yours, current} while it is shown
    lease: NO_LEASE,       // keepLease(...) of the lease held on this item
    leaseLost: false,      // the lease went while the page was open
    upNext: null,          // the item the queue likely gives next ({item, assets}), its images fetched ahead
    ahead: null,           // the item leased ahead: take-next's answer with its detail (ahead.js), or null
    championSeen: undefined,  // the project's champion id as this page knows it (undefined until the first hello)
  };
}

const EDITABLE_STATES = ["new", "predicted", "sent_back"];

// Who may do what with `item`: the lease token to keep (the page's own only for the item it was rendered
// with), whether someone else holds it, whether this is a review. A free item can still be edited and
// submitted (the server accepts a revision on a free item), but drafts need the caller's own lease.
export function accessOf(item, { user, canReview, pageLease = "" }) {
  const token = (item.lease && item.lease.token) || pageLease || "";
  const heldByOther = !token && !!item.lease_holder && item.lease_holder !== user;
  const reviewing = !!canReview && item.state === "submitted" && !!item.current;
  return { token, heldByOther, reviewing, readOnly: heldByOther || reviewing,
           unleasedEditable: !token && !reviewing && EDITABLE_STATES.includes(item.state) };
}

// Where the answer starts: the caller's draft, else the current revision, else empty; an item with only
// a proposal starts from it as one undoable step (`proposal`), unless the page is read-only.
export function startingAnswer({ item, draft, editor, empty, readOnly }) {
  const base = item.current ? item.current.number : null;
  if (draft && draft.annotation) {
    return { answer: editor.normalize(draft.annotation, item), base: draft.base_revision ?? base,
             fromPrediction: draft.from_prediction ?? null, proposal: null };
  }
  if (item.current) return { answer: editor.normalize(item.current.annotation, item), base, fromPrediction: null, proposal: null };
  if (item.prediction && !readOnly) {
    return { answer: empty, base, fromPrediction: item.prediction.id, proposal: editor.normalize(item.prediction.payload, item) };
  }
  return { answer: empty, base, fromPrediction: null, proposal: null };
}

// The next free shape id ("d<n>") in an answer.
export function newId(annotation) {
  let n = 0;
  for (const s of JSON.stringify(annotation).matchAll(/"id":"d(\d+)"/g)) n = Math.max(n, +s[1]);
  return `d${n + 1}`;
}

// What a live event on the project's feed means for this page: one action, decided from the state alone.
export function liveAction(state, msg, user) {
  const p = msg.payload || {};
  const here = !!state.item && p.item === state.item.id;
  switch (msg.event) {
    case "queue.depth": return { type: "depth", queued: p.queued, leased: p.leased };
    case "hello": {
      const action = { type: "hello", regain: state.leaseLost, beat: !state.leaseLost && !state.readOnly && !!state.lease.token(), champion: null };
      if ("champion" in p) {
        // The first hello tells the champion as the page started; a later one (the socket reconnected)
        // that names another means a promotion or rollback happened while the feed was down.
        const id = p.champion ? p.champion.id : null;
        if (state.championSeen === undefined) action.firstChampion = id;
        else if (id !== state.championSeen) action.champion = { to: p.champion || {}, action: "" };
      }
      return action;
    }
    case "champion.changed":
    case "model.promoted": return { type: "champion", to: p.to || {}, action: p.action };
    case "prediction.created":
      if (here) return { type: "new-proposal" };
      return state.ahead && p.item === state.ahead.item ? { type: "ahead-changed", item: p.item } : null;
    case "lease.taken":
      if (!here) return null;
      if (p.holder === user) return { type: "regain" };
      return state.readOnly ? { type: "taken-by", holder: p.holder } : { type: "lose", detail: `${p.holder} took the item` };
    case "revision.submitted":
      return here && p.revision !== state.base && p.author !== user ? { type: "changed-underneath", revision: p.revision, author: p.author } : null;
    default: return null;
  }
}
