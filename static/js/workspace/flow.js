// The workspace's flow: which item is shown and what the operator may do with it. Load an item, open one
// by id, take the next from the queue, submit (a stale base is a conflict that shows both versions),
// release, skip, flag, review, and the lease lost and regained. It decides; it draws nothing: the page is
// reached through `ui` (chrome, layers and viewer, wired in workspace.js), the server through `api`
// (Loupe.api's shape: (method, url, body) -> {ok, status, data}) and the address bar through `nav`.
// It imports nothing that needs a browser: tests/static/js/flow.test.mjs runs it under Node.
import { accessOf, liveAction, startingAnswer } from "./state.js";
import { createHistory } from "./history.js";
import { createAhead } from "./ahead.js";

const detailOf = (res) => res.data && res.data.detail;
// What of an item is drawn before it is taken: when take-next gives the previewed item and these are as
// the preview had them, the drawing stands and only the lease is taken up; else the item is drawn again.
const DRAWN_FIELDS = ["assets", "current", "prediction", "draft", "sent_back", "reviews", "flag"];
export const drawnSame = (a, b) => DRAWN_FIELDS.every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));
const until = (d) => `Leased to you until ${new Date(d.expires_at).toLocaleTimeString()}`;

// deps: {state, editor, cfg, api, path, drafts, keepLease, ui, nav, edit}
//   cfg.prefetch: "lease" (the item after this one leased ahead, with its details and images: n draws it
//   with no request on the way; ahead.js), "item" (the item likely next and its images ahead, drawn while
//   take-next runs; the default here), "images" (only its images), "none" (nothing ahead); the workspace
//   passes LOUPE_PREFETCH, "lease" unless set
//   path: Loupe.path (live.js): a same-origin URL with every value encoded as one segment
//   edit: {absorb(), commit(answer), saveDraft()} (editing.js)
export function createFlow({ state: s, editor, cfg, api, path, drafts, keepLease, ui, nav, edit }) {
  const mark = (name) => globalThis.performance && performance.mark(name);

  function holdLease(token, fresh = null) {
    s.lease = keepLease({ token, fresh, api, onBeat: (d) => ui.leaseInfo(until(d)), onLost: (res) => loseLease(detailOf(res)) });
  }

  const prefetch = cfg.prefetch || "item";
  const leasedAhead = prefetch === "lease"
    ? createAhead({ state: s, api, path, project: cfg.project, keepLease, onTaken: (next) => ui.prefetch(next), letGo: ui.letGo })
    : null;
  let taking = false;  // a take-next in flight: n again waits for its answer

  // `first`: the item the page was rendered with (its lease token is the page's); `fresh`: the expiry of
  // a lease taken a moment ago (the first heartbeat waits its turn); `preview`: the item take-next will
  // likely give, drawn while it runs: read-only, no lease, not "ready" until take-next names it (adopt).
  async function load(data, { first = false, fresh = null, preview = false } = {}) {
    mark("ws-item");
    ui.loading();
    s.leaseLost = false;
    s.lease.stop();
    if (s.item) { s.selected = null; ui.forgetShapes(); }  // the previous item's shapes are never read into this one
    s.item = data;
    s.views = editor.views(data);
    ui.openAhead(s.views[0].asset);  // its request goes out before the rest of the item is set up
    s.empty = editor.normalize(editor.emptyFor ? editor.emptyFor(data) : ui.emptyAnswer(), data);
    const access = accessOf(data, { user: cfg.user, canReview: cfg.canReview, pageLease: first ? cfg.lease : "" });
    Object.assign(s, { reviewing: access.reviewing, readOnly: preview || access.readOnly, selected: null, diff: null, conflict: null });
    ui.beginItem(data, first);

    let draft = data.draft !== undefined ? data.draft : null;
    if (data.draft === undefined && access.token) draft = await drafts.load(data.id);
    // a preview starts where the item will once taken (its proposal as the first undoable step)
    const start = startingAnswer({ item: data, draft, editor, empty: s.empty, readOnly: access.readOnly });
    s.history = createHistory(start.answer);
    if (start.proposal) s.history.push(start.proposal);  // taking the proposal is one undoable step
    s.annotation = s.history.current();
    s.base = start.base;
    s.fromPrediction = start.fromPrediction;

    holdLease(access.token, fresh);
    if (!access.token) ui.leaseInfo("");
    ui.leaseState(access.token ? "held" : preview ? "taking" : "none");
    if (preview) ui.draftStatus("Taking the next item…");
    else if (access.heldByOther) ui.heldByOther(data.lease_holder);
    else if (access.unleasedEditable) ui.draftStatus("You do not hold a lease on this item: drafts are not saved (take it from the queue with n).");
    if (data.sent_back) ui.sentBack(data.sent_back);
    if (s.reviewing) {
      const res = await api("GET", path`/api/v1/items/${data.id}/diff/?revision=${data.current.number}`);
      s.diff = res.ok ? res.data : null;
      ui.reviewBox(s.diff);
    }
    ui.editorLoad(data);
    ui.info();
    await ui.showView(0);
    ui.setReadOnly(s.readOnly);
    if (preview) return;
    ui.ready(data);
    mark("workspace-ready");
    whenDrawn(data, { history: !first, ahead: !!access.token && !s.readOnly });
  }

  // The previewed item drawn is the one take-next gave, as it was: the lease taken is taken up, nothing
  // is drawn again. `data`: the item as take-next gave it (with the lease).
  function adopt(data, fresh) {
    const access = accessOf(data, { user: cfg.user, canReview: cfg.canReview });
    s.item = data;
    s.readOnly = access.readOnly;
    holdLease(access.token, fresh);
    ui.leaseState(access.token ? "held" : "none");
    ui.draftStatus("");
    ui.setReadOnly(s.readOnly);
    ui.info();
    ui.ready(data);
    mark("workspace-ready");
    whenDrawn(data, { history: true, ahead: !!access.token && !s.readOnly });
  }

  // Once the image is drawn: the history, and the item likely next with its images into the cache (and
  // its details, drawn on n while the server takes it).
  function whenDrawn(shown, { history, ahead }) {
    ui.loaded().then(async () => {
      if (s.item !== shown) return;
      if (history) loadHistory(shown.id);
      if (!ahead || prefetch === "none") return;
      if (leasedAhead) return leasedAhead.take();
      const expand = prefetch === "item" ? "?expand=item" : "";
      const res = await api("GET", path`/api/v1/projects/${cfg.project}/up-next/` + expand);
      if (s.item !== shown || !res.ok) return;
      s.upNext = res.status === 200 ? res.data : null;
      ui.prefetch(s.upNext);
    });
  }

  // The history is not needed to start working: it is fetched once the image is drawn.
  async function loadHistory(id) {
    const res = await api("GET", path`/api/v1/items/${id}/revisions/`);
    if (res.ok && s.item && s.item.id === id) ui.history(res.data);
  }

  async function openItem(id, url, how) {
    const res = await api("GET", path`/api/v1/items/${id}/`);
    if (!res.ok) { nav.go(url); return; }  // let the server page say what is wrong
    nav[how](url, { item: id });
    await load(res.data);
  }

  async function takeNext() {
    if (taking) return;
    taking = true;
    try { await take(); } finally { taking = false; }
  }
  async function take() {
    edit.absorb();  // a move still being reported belongs to this item's draft
    // Done with this item, and the next one is leased ahead: drawn at once, its lease taken over.
    if (leasedAhead && !s.lease.token() && !s.leaseLost) {
      const next = await leasedAhead.claim();
      if (next && next.item !== s.item.id) {
        nav.push(path`/items/${next.item}/`, { item: next.item });
        mark("ws-taken");
        drafts.flush();  // the item left has nothing pending (submitted or skipped), and it is not waited for
        return load(next.detail, { fresh: next.expires_at });
      }
    }
    // Done with this item (submitted or skipped): the item the queue most likely gives next (fetched
    // ahead) is drawn while the server takes one, read-only and not held; with only its images, its image
    // opens. Only take-next leases: if it gives another item, or none, the page follows its answer.
    const up = s.upNext, before = s.item;
    const guess = !s.lease.token() && !s.leaseLost && up && up.item !== before.id && up.assets.length ? up : null;
    const previewing = guess && guess.detail ? load(guess.detail, { preview: true }) : null;
    if (guess && !previewing) { s.selected = null; ui.openGuess(guess.assets[0]); }
    await drafts.flush();
    // expand=item: the answer carries the item's details: no second round trip
    const res = await api("POST", path`/api/v1/projects/${cfg.project}/take-next/` + "?expand=item");
    mark("ws-taken");
    await previewing;  // one load at a time
    // the guess was wrong and the item shown before stays
    const restore = () => (previewing ? load(before) : guess && ui.showView(s.view));
    if (res.status === 200 && res.data.item === before.id) {
      await restore();
      if (s.leaseLost) return regainLease();
      ui.message("This item is still yours: submit, skip or release it first.");
    } else if (res.status === 200) {
      const url = path`/items/${res.data.item}/`;
      if (!res.data.detail) return openItem(res.data.item, url, "push");
      nav.push(url, { item: res.data.item });
      const drawn = previewing && s.item === guess.detail && res.data.item === guess.item && drawnSame(guess.detail, res.data.detail);
      if (drawn) adopt(res.data.detail, res.data.expires_at);
      else await load(res.data.detail, { fresh: res.data.expires_at });
    } else {
      await restore();
      if (res.status === 204) ui.message("The queue is empty.");
      else ui.errors(res);
    }
  }

  async function submit() {
    if (s.readOnly) { ui.message("You do not hold the lease on this item: nothing was saved."); return; }
    edit.absorb();
    const hints = editor.check(s.annotation);
    if (hints.length) { ui.message(hints.join("\n")); return; }
    await drafts.drop();  // nothing may land after the revision
    if (leasedAhead) await leasedAhead.settled();  // a take ahead sent before this submit ends the lease
    const id = s.item.id;
    const res = await api("POST", path`/api/v1/items/${id}/revisions/`,
      { annotation: editor.output(s.annotation), base_revision: s.base, from_prediction: s.fromPrediction });
    if (res.status === 201) {
      s.lease.stop();
      await openItem(id, path`/items/${id}/?saved=${res.data.number}`, "replace");
      ui.draftStatus(`Saved as revision ${res.data.number}. Press n for the next item.`);
    } else if (res.status === 409 && res.data && "current" in res.data) {
      s.conflict = res.data;
      ui.conflict(res.data);
    } else ui.errors(res);
  }
  // A conflict's two ways out: keep this answer on top of the current revision, or take the current one.
  function rebase() {
    const current = s.conflict && s.conflict.current;
    s.base = current ? current.number : null;
    closeConflict();
    edit.saveDraft();
  }
  function takeCurrent() {
    const current = s.conflict && s.conflict.current;
    s.base = current ? current.number : null;
    s.fromPrediction = null;
    edit.commit(current ? editor.normalize(current.annotation, s.item) : s.empty);
    closeConflict();
  }
  function closeConflict() { s.conflict = null; ui.closeConflict(); ui.info(); }

  async function release() {
    if (!s.lease.token()) return;
    await drafts.flush();
    await api("POST", path`/api/v1/leases/${s.lease.token()}/release/`);
    s.lease.stop();
    leave();
    nav.go(path`/projects/${cfg.slug}/`);
  }
  async function skip() {
    if (s.readOnly || !s.lease.token()) return;
    edit.absorb();
    await drafts.flush();
    if (leasedAhead) await leasedAhead.settled();
    const res = await api("POST", path`/api/v1/items/${s.item.id}/skip/`);
    if (!res.ok) return ui.errors(res);
    s.lease.stop();
    return takeNext();
  }
  async function flag(reason, comment) {
    await drafts.flush();
    const res = await api("POST", path`/api/v1/items/${s.item.id}/flags/`, { reason, comment });
    if (res.status !== 201) return ui.errors(res);
    s.lease.stop();
    leave();
    nav.go(path`/projects/${cfg.slug}/`);
  }
  async function review(decision, comment) {
    if (decision === "send_back" && !comment.trim()) {
      ui.askComment("Say what to fix: the comment is shown to the operator.");
      return;
    }
    const res = await api("POST", path`/api/v1/items/${s.item.id}/reviews/`, { decision, comment, revision: s.item.current.number });
    if (res.ok) nav.reload(); else ui.errors(res);
  }

  function loseLease(detail) {
    if (s.readOnly) return;
    s.readOnly = true;
    s.leaseLost = true;
    s.lease.stop();
    ui.leaseState("lost");
    ui.leaseBanner(`Your lease on this item is gone${detail ? ": " + detail : ""}. Nothing more is saved; take the item again from the queue (n) to go on.`);
    ui.setReadOnly(true);
    ui.info();
  }
  // The operator took this item again (here with n, or elsewhere): editing goes on where it was, on the
  // same base, so a change made meanwhile still shows as a conflict on submit.
  async function regainLease() {
    if (!s.leaseLost) return;
    const res = await api("GET", path`/api/v1/items/${s.item.id}/`);
    const token = res.ok && res.data.lease && res.data.lease.token;
    if (!token || !s.leaseLost) return;
    s.leaseLost = false;
    s.readOnly = false;
    holdLease(token);
    ui.leaseBanner(null);
    ui.setReadOnly(false);
    ui.info();
    ui.leaseState("regained");
    edit.saveDraft();
  }

  function newChampion(to, action) {
    s.championSeen = to.id === undefined ? null : to.id;
    ui.newChampion(to, action);
  }
  // One message of the project's live feed.
  function onLive(msg) {
    const act = liveAction(s, msg, cfg.user);
    if (!act) return;
    if (act.type === "depth") ui.queueDepth(act.queued, act.leased);
    else if (act.type === "hello") {
      if ("firstChampion" in act) s.championSeen = act.firstChampion;
      if (act.champion) newChampion(act.champion.to, act.champion.action);
      // Events sent while the feed was down (or before it first connected) are gone: ask about the lease
      // now instead of at the next beat, and take it up again if the operator took the item meanwhile.
      // The feed counts as live once that answer is in: a beat still on its way can renew a lease that
      // lapses meanwhile (the server renews a lapsed lease nobody took), and then no one else gets the item.
      const check = act.regain ? regainLease() : act.beat && s.lease.beat ? s.lease.beat() : null;
      Promise.resolve(check).finally(() => ui.feedLive());
    } else if (act.type === "champion") newChampion(act.to, act.action);
    else if (act.type === "new-proposal") ui.newProposal();
    else if (act.type === "ahead-changed") leasedAhead && leasedAhead.refresh(act.item);
    else if (act.type === "lose") loseLease(act.detail);
    else if (act.type === "taken-by") ui.leaseBanner(`${act.holder} took this item.`);
    else if (act.type === "regain") regainLease();
    else if (act.type === "changed-underneath") {
      ui.leaseBanner(`Revision ${act.revision} was just saved by ${act.author}: the item changed underneath you. Your submit will show both versions.`);
    }
  }

  // The page is left: the lease ahead goes back to the queue (the current one is kept: a reload takes it up).
  function leave() { if (leasedAhead) leasedAhead.release(); }
  // A key or pointer: the operator is here; back after being idle, the item after this one is leased again.
  function active() {
    if (leasedAhead && leasedAhead.touch() && s.lease.token() && !s.readOnly) leasedAhead.take();
  }

  return { load, openItem, takeNext, leave, active, submit, rebase, takeCurrent, release, skip, flag, review, loseLease, regainLease, onLive };
}
