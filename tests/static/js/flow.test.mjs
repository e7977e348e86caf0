// The workspace's flow under Node, without a browser (the harness: harness.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";

import { createState, liveAction } from "../../../static/js/workspace/state.js";
import { BUBBLE, EMPTY, catheter, itemOf, settle, workspace } from "./harness.mjs";


test("a fresh item with a proposal starts from it as one undoable step, under the lease it came with", async () => {
  const { flow, state, page } = workspace({});
  await flow.load(itemOf(1, { prediction: { id: 5, payload: BUBBLE } }), { fresh: "2026-12-07T20:00:00Z" });
  assert.equal(state.readOnly, false);
  assert.equal(state.fromPrediction, 5);
  assert.equal(state.annotation.shots[0].defects[0].type, "bubble");
  assert.equal(state.history.canUndo(), true);
  assert.equal(state.history.undo().shots[0].defects.length, 0);
  assert.equal(state.lease.token(), "t1");
  assert.deepEqual(page.named("leaseState"), [["held"]]);
  state.lease.stop();
});

test("someone else's lease makes the item read-only and says who holds it; no draft is asked for", async () => {
  const { flow, state, page, srv } = workspace({});
  await flow.load(itemOf(2, { lease: null, lease_holder: "otto", draft: undefined }));
  assert.equal(state.readOnly, true);
  assert.deepEqual(page.named("heldByOther"), [["otto"]]);
  assert.equal(srv.sent("GET", "/api/v1/items/2/draft/").length, 0);
  assert.deepEqual(page.named("leaseState"), [["none"]]);
});

test("a stale submit shows both versions and stores nothing; keeping the answer moves its base to the current revision", async () => {
  const current = { number: 1, annotation: BUBBLE };
  const { flow, state, page, srv } = workspace({
    "POST /api/v1/items/3/revisions/": { status: 409, data: { detail: "stale", yours: EMPTY, current } },
    "PUT /api/v1/items/3/draft/": (body) => ({ status: 200, data: { ...body, updated_at: "now" } }),
  });
  await flow.load(itemOf(3));
  state.annotation = catheter.normalize({ verdict: "ok", shots: [] }, state.item);
  await flow.submit();
  assert.equal(srv.sent("POST", "/api/v1/items/3/revisions/")[0].body.base_revision, null);
  assert.deepEqual(page.named("conflict"), [[{ detail: "stale", yours: EMPTY, current }]]);
  assert.equal(state.conflict.current.number, 1);
  await flow.rebase();
  await settle();
  assert.equal(state.base, 1);
  assert.equal(state.conflict, null);
  assert.equal(page.named("closeConflict").length, 1);
  assert.equal(srv.sent("PUT", "/api/v1/items/3/draft/").at(-1).body.base_revision, 1);
  state.lease.stop();
});

test("taking the current revision in a conflict makes it the answer, as one undoable step", async () => {
  const current = { number: 4, annotation: BUBBLE };
  const { flow, state } = workspace({ "POST /api/v1/items/3/revisions/": { status: 409, data: { yours: EMPTY, current } } });
  await flow.load(itemOf(3));
  await flow.submit();
  flow.takeCurrent();
  assert.equal(state.base, 4);
  assert.equal(state.fromPrediction, null);
  assert.equal(state.annotation.shots[0].defects[0].type, "bubble");
  assert.equal(state.history.canUndo(), true);
  state.lease.stop();
});

test("a saved submit swaps to the saved item in place and ends the lease", async () => {
  const saved = itemOf(4, { state: "submitted", lease: null, current: { number: 1, annotation: BUBBLE } });
  const { flow, state, page, nav } = workspace({
    "POST /api/v1/items/4/revisions/": { status: 201, data: { number: 1 } },
    "GET /api/v1/items/4/": { data: saved },
  });
  await flow.load(itemOf(4));
  await flow.submit();
  assert.deepEqual(nav.moves, [["replace", "/items/4/?saved=1"]]);
  assert.equal(state.item, saved);
  assert.equal(state.lease.token(), "");
  assert.equal(state.base, 1);
  assert.match(page.named("draftStatus").at(-1)[0], /Saved as revision 1/);
});

test("submit refuses to send what the editor's check finds wrong", async () => {
  const { flow, state, page, srv } = workspace({});
  await flow.load(itemOf(5));
  state.annotation = { ...state.annotation, verdict: "ok", shots: [{ defects: [{ id: "d1", type: "bubble", box: [0, 0, 5, 5] }] }] };
  await flow.submit();
  assert.equal(srv.sent("POST", "/api/v1/items/5/revisions/").length, 0);
  assert.ok(page.named("message").length > 0);
  state.lease.stop();
});

test("take-next loads the next item in place; an empty queue says so and keeps the item", async () => {
  const next = itemOf(9);
  const { flow, state, page, nav } = workspace({
    "POST /api/v1/projects/7/take-next/?expand=item": [{ status: 200, data: { item: 9, detail: next, expires_at: "2026-12-07T20:00:00Z" } },
                                                      { status: 204 }],
  });
  await flow.load(itemOf(8));
  await flow.takeNext();
  assert.equal(state.item, next);
  assert.deepEqual(nav.moves, [["push", "/items/9/"]]);
  await flow.takeNext();
  assert.equal(state.item, next);
  assert.deepEqual(page.named("message").at(-1), ["The queue is empty."]);
  state.lease.stop();
});

test("the lease taken by someone else stops editing at once; taking the item again goes on on the same base", async () => {
  const { flow, state, page } = workspace({
    "GET /api/v1/items/6/": { data: itemOf(6, { lease: { token: "again" } }) },
    "PUT /api/v1/items/6/draft/": (body) => ({ data: body }),
  });
  await flow.load(itemOf(6));
  flow.onLive({ event: "hello", payload: { champion: null } });
  flow.onLive({ event: "lease.taken", payload: { item: 6, holder: "otto" } });
  assert.equal(state.readOnly, true);
  assert.equal(state.leaseLost, true);
  assert.match(page.named("leaseBanner").at(-1)[0], /otto took the item/);
  assert.deepEqual(page.named("leaseState").at(-1), ["lost"]);
  flow.onLive({ event: "lease.taken", payload: { item: 6, holder: "olga" } });
  await settle();
  await settle();
  assert.equal(state.readOnly, false);
  assert.equal(state.lease.token(), "again");
  assert.deepEqual(page.named("leaseState").at(-1), ["regained"]);
  assert.equal(state.base, null);  // a change made meanwhile still shows as a conflict on submit
  state.lease.stop();
});

test("the feed is live only once the lease check its hello starts is answered", async () => {
  let answer;
  const answered = new Promise((resolve) => { answer = resolve; });
  const { flow, state, page, srv } = workspace({
    "POST /api/v1/leases/t6/heartbeat/": () => answered.then(() => ({ data: { expires_at: "2026-12-07T20:00:00Z" } })),
  });
  await flow.load(itemOf(6), { fresh: "2026-12-07T20:00:00Z" });  // a lease just taken: no beat yet
  flow.onLive({ event: "hello", payload: { champion: null } });
  await settle();
  assert.equal(srv.sent("POST", "/api/v1/leases/t6/heartbeat/").length, 1);
  assert.equal(page.named("feedLive").length, 0);  // the beat is on its way
  answer();
  await settle();
  await settle();
  assert.equal(page.named("feedLive").length, 1);
  state.lease.stop();
});

test("a feed that reconnects after the lease was lost asks for the lease again", async () => {
  const { flow, state, srv } = workspace({ "GET /api/v1/items/6/": { data: itemOf(6, { lease: { token: "back" } }) } });
  await flow.load(itemOf(6));
  flow.loseLease("expired");
  flow.onLive({ event: "hello", payload: {} });
  await settle();
  await settle();
  assert.equal(srv.sent("GET", "/api/v1/items/6/").length, 1);
  assert.equal(state.lease.token(), "back");
  state.lease.stop();
});

test("take-next on the item whose lease was lost takes it up again", async () => {
  const { flow, state } = workspace({
    "POST /api/v1/projects/7/take-next/?expand=item": { data: { item: 6 } },
    "GET /api/v1/items/6/": { data: itemOf(6, { lease: { token: "mine" } }) },
  });
  await flow.load(itemOf(6));
  flow.loseLease("");
  await flow.takeNext();
  assert.equal(state.readOnly, false);
  assert.equal(state.lease.token(), "mine");
  state.lease.stop();
});

test("a reconnect that names another champion tells of the promotion missed; the first hello does not", async () => {
  const { flow, page } = workspace({});
  await flow.load(itemOf(1, { lease: null, lease_holder: null }));
  flow.onLive({ event: "hello", payload: { champion: { id: 3, number: 2 } } });
  flow.onLive({ event: "hello", payload: { champion: { id: 3, number: 2 } } });
  assert.equal(page.named("newChampion").length, 0);
  flow.onLive({ event: "hello", payload: { champion: { id: 4, number: 3 } } });
  assert.deepEqual(page.named("newChampion"), [[{ id: 4, number: 3 }, ""]]);
});

test("sending back needs a comment; with one the review is sent and the page reloads", async () => {
  const submitted = itemOf(2, { state: "submitted", lease: null, lease_holder: null, current: { number: 3, annotation: BUBBLE } });
  const { flow, state, page, srv, nav } = workspace({
    "GET /api/v1/items/2/diff/?revision=3": { data: { counts: { added: 1, removed: 0, changed: 0 } } },
    "POST /api/v1/items/2/reviews/": { status: 201, data: {} },
  }, { user: "rita", canReview: true });
  await flow.load(submitted);
  assert.equal(state.reviewing, true);
  assert.equal(state.readOnly, true);
  assert.deepEqual(state.diff.counts, { added: 1, removed: 0, changed: 0 });
  await flow.review("send_back", "  ");
  assert.equal(srv.sent("POST", "/api/v1/items/2/reviews/").length, 0);
  assert.equal(page.named("askComment").length, 1);
  await flow.review("send_back", "check shot 1");
  assert.deepEqual(srv.sent("POST", "/api/v1/items/2/reviews/")[0].body, { decision: "send_back", comment: "check shot 1", revision: 3 });
  assert.deepEqual(nav.moves, [["reload"]]);
});

test("skip saves the draft, skips and takes the next item", async () => {
  const { flow, state, srv } = workspace({
    "POST /api/v1/items/1/skip/": { status: 200, data: {} },
    "POST /api/v1/projects/7/take-next/?expand=item": { data: { item: 2, detail: itemOf(2) } },
  });
  await flow.load(itemOf(1));
  await flow.skip();
  const order = srv.requests.map((r) => `${r.method} ${r.url}`);
  assert.ok(order.indexOf("POST /api/v1/items/1/skip/") >= 0);
  assert.ok(order.indexOf("POST /api/v1/items/1/skip/") < order.indexOf("POST /api/v1/projects/7/take-next/?expand=item"));
  assert.equal(state.item.id, 2);
  state.lease.stop();
});

test("live events about another item, or a revision on this item's own base, change nothing", () => {
  const state = { ...createState(catheter), item: { id: 1 }, base: 2, readOnly: false };
  assert.equal(liveAction(state, { event: "lease.taken", payload: { item: 2, holder: "otto" } }, "olga"), null);
  assert.equal(liveAction(state, { event: "revision.submitted", payload: { item: 1, revision: 2, author: "otto" } }, "olga"), null);
  assert.equal(liveAction(state, { event: "revision.submitted", payload: { item: 1, revision: 3, author: "olga" } }, "olga"), null);
  assert.equal(liveAction(state, { event: "revision.submitted", payload: { item: 1, revision: 3, author: "otto" } }, "olga").type,
               "changed-underneath");
  assert.equal(liveAction({ ...state, readOnly: true }, { event: "lease.taken", payload: { item: 1, holder: "otto" } }, "olga").type,
               "taken-by");
});

test("n draws the item likely next while take-next runs, not held; the same item taken takes up the lease only", async () => {
  const free = itemOf(9, { lease: null, lease_holder: null, prediction: { id: 5, payload: BUBBLE } });
  const taken = { ...free, state: "leased", lease: { token: "t9" }, lease_holder: "olga" };
  let answer;
  const answered = new Promise((resolve) => { answer = resolve; });
  const { flow, state, page, srv, nav } = workspace({
    "GET /api/v1/projects/7/up-next/?expand=item": { data: { item: 9, assets: free.assets, detail: free } },
    "POST /api/v1/projects/7/take-next/?expand=item": () => answered.then(() => ({ data: { item: 9, detail: taken, expires_at: "2026-12-07T20:00:00Z" } })),
  });
  await flow.load(itemOf(8), { fresh: "2026-12-07T20:00:00Z" });
  await settle();
  assert.equal(state.upNext.item, 9);
  state.lease.stop();  // submitted: the lease is gone
  const took = flow.takeNext();
  await settle();
  // drawn before the server answered: its proposal as the first step, read-only, no lease, not ready
  assert.equal(state.item, free);
  assert.equal(state.readOnly, true);
  assert.equal(state.annotation.shots[0].defects[0].type, "bubble");
  assert.equal(state.lease.token(), "");
  assert.deepEqual(page.named("leaseState").at(-1), ["taking"]);
  assert.equal(page.named("ready").length, 1);
  assert.deepEqual(nav.moves, []);
  flow.takeNext();  // n again while the take is on its way: no second take
  answer();
  await took;
  assert.equal(srv.sent("POST", "/api/v1/projects/7/take-next/?expand=item").length, 1);
  assert.equal(state.item, taken);
  assert.equal(state.readOnly, false);
  assert.equal(state.lease.token(), "t9");
  assert.equal(state.fromPrediction, 5);
  assert.deepEqual(page.named("leaseState").at(-1), ["held"]);
  assert.equal(page.named("ready").length, 2);
  assert.equal(page.named("editorLoad").length, 2);  // drawn once for item 9
  assert.deepEqual(nav.moves, [["push", "/items/9/"]]);
  state.lease.stop();
});

test("a previewed item someone else took is not shown as held: the page draws what take-next gave", async () => {
  const free = itemOf(9, { lease: null, lease_holder: null });
  const other = itemOf(11, { state: "leased" });
  const { flow, state, page, nav } = workspace({
    "GET /api/v1/projects/7/up-next/?expand=item": { data: { item: 9, assets: free.assets, detail: free } },
    "POST /api/v1/projects/7/take-next/?expand=item": [{ data: { item: 11, detail: other, expires_at: "2026-12-07T20:00:00Z" } },
                                                      { status: 204 }],
  });
  await flow.load(itemOf(8), { fresh: "2026-12-07T20:00:00Z" });
  await settle();
  state.lease.stop();
  await flow.takeNext();
  assert.equal(state.item, other);
  assert.equal(state.lease.token(), "t11");
  assert.deepEqual(nav.moves, [["push", "/items/11/"]]);
  assert.equal(page.named("editorLoad").at(-1)[0], other);
  // the same preview again and an empty queue: the item shown before comes back, as it was
  state.upNext = { item: 9, assets: free.assets, detail: free };
  state.lease.stop();
  await flow.takeNext();
  assert.equal(state.item, other);
  assert.deepEqual(page.named("message").at(-1), ["The queue is empty."]);
  state.lease.stop();
});

test("a previewed item that changed before it was taken is drawn again from take-next's answer", async () => {
  const free = itemOf(9, { lease: null, lease_holder: null, prediction: { id: 5, payload: BUBBLE } });
  const newer = { ...free, lease: { token: "t9" }, prediction: { id: 6, payload: EMPTY } };
  const { flow, state, page } = workspace({
    "GET /api/v1/projects/7/up-next/?expand=item": { data: { item: 9, assets: free.assets, detail: free } },
    "POST /api/v1/projects/7/take-next/?expand=item": { data: { item: 9, detail: newer, expires_at: "2026-12-07T20:00:00Z" } },
  });
  await flow.load(itemOf(8), { fresh: "2026-12-07T20:00:00Z" });
  await settle();
  state.lease.stop();
  await flow.takeNext();
  assert.equal(state.item, newer);
  assert.equal(state.fromPrediction, 6);
  assert.equal(page.named("editorLoad").at(-1)[0], newer);
  state.lease.stop();
});
