// The item leased ahead (static/js/workspace/ahead.js) through the flow, under Node: n draws it with no
// request on the way; the lease ahead is given back when the page is left or the operator is idle; a submit
// waits for a take ahead already sent; without one, n takes the ordinary way.
import { mock, test } from "node:test";
import assert from "node:assert/strict";

import { IDLE_MS } from "../../../static/js/workspace/ahead.js";
import { BUBBLE, itemOf, settle, workspace } from "./harness.mjs";

const AHEAD = "POST /api/v1/projects/7/take-next/?ahead=true&expand=item";
const TAKE = "POST /api/v1/projects/7/take-next/?expand=item";
const EXPIRES = "2026-12-07T20:00:00Z";
const aheadOf = (id, extra = {}) => ({ data: { token: `t${id}`, item: id, ahead: true, expires_at: EXPIRES,
                                               detail: itemOf(id, { state: "leased", ...extra }) } });
const lease = (ws) => ws.state.lease.stop();  // the current item submitted: its lease is gone

test("n draws the item leased ahead at once, under its lease, with no request on the way; the one after it is leased next", async () => {
  const ws = workspace({ [AHEAD]: [aheadOf(9, { prediction: { id: 5, payload: BUBBLE } }), aheadOf(10)] }, { prefetch: "lease" });
  const { flow, state, page, srv, nav } = ws;
  await flow.load(itemOf(8), { fresh: EXPIRES });
  await settle();
  assert.equal(state.ahead.item, 9);
  assert.deepEqual(page.named("prefetch"), [[{ item: 9, assets: state.ahead.detail.assets }]]);  // its images into the cache
  lease(ws);
  const before = srv.requests.length;
  const drawing = flow.takeNext();
  assert.deepEqual(srv.requests.slice(before), [], "nothing asked of the server before the item is drawn");
  await drawing;
  assert.equal(state.item.id, 9);
  assert.equal(state.readOnly, false);
  assert.equal(state.lease.token(), "t9");
  assert.equal(state.fromPrediction, 5);  // its proposal as the first undoable step
  assert.equal(state.annotation.shots[0].defects[0].type, "bubble");
  assert.deepEqual(nav.moves, [["push", "/items/9/"]]);
  assert.equal(srv.sent("POST", TAKE.slice(5)).length, 0);
  await settle();
  assert.equal(state.ahead.item, 10);  // drawn: the item after it is leased ahead
  assert.equal(srv.sent("POST", AHEAD.slice(5)).length, 2);
  state.lease.stop();
  flow.leave();
});

test("n on an item still held asks the server as before, and the lease ahead stays", async () => {
  const { flow, state, page, srv } = workspace({ [AHEAD]: aheadOf(9), [TAKE]: { data: { item: 8, detail: itemOf(8) } } },
                                               { prefetch: "lease" });
  await flow.load(itemOf(8), { fresh: EXPIRES });
  await settle();
  await flow.takeNext();
  assert.equal(srv.sent("POST", TAKE.slice(5)).length, 1);
  assert.deepEqual(page.named("message").at(-1), ["This item is still yours: submit, skip or release it first."]);
  assert.equal(state.item.id, 8);
  assert.equal(state.ahead.item, 9);
  state.lease.stop();
  flow.leave();
});

test("with nothing leased ahead (the queue has no more, or the server refused) n takes the ordinary way", async () => {
  const ws = workspace({ [AHEAD]: { status: 204 }, [TAKE]: { data: { item: 4, detail: itemOf(4), expires_at: EXPIRES } } },
                       { prefetch: "lease" });
  await ws.flow.load(itemOf(8), { fresh: EXPIRES });
  await settle();
  assert.equal(ws.state.ahead, null);
  lease(ws);
  await ws.flow.takeNext();
  assert.equal(ws.srv.sent("POST", TAKE.slice(5)).length, 1);
  assert.equal(ws.state.item.id, 4);
  ws.state.lease.stop();
});

test("a submit waits for a take ahead already on its way (the server leases ahead only beside a current item)", async () => {
  let answer;
  const answered = new Promise((resolve) => { answer = resolve; });
  const { flow, state, srv } = workspace({
    [AHEAD]: () => answered.then(() => aheadOf(9)),
    "POST /api/v1/items/8/revisions/": { status: 201, data: { number: 1 } },
    "GET /api/v1/items/8/": { data: itemOf(8, { state: "submitted", lease: null, current: { number: 1, annotation: BUBBLE } }) },
  }, { prefetch: "lease" });
  await flow.load(itemOf(8), { fresh: EXPIRES });
  await settle();
  const submitting = flow.submit();
  await settle();
  assert.equal(srv.sent("POST", "/api/v1/items/8/revisions/").length, 0);
  answer();
  await submitting;
  const order = srv.requests.map((r) => `${r.method} ${r.url}`);
  assert.ok(order.indexOf(AHEAD) < order.indexOf("POST /api/v1/items/8/revisions/"));
  assert.equal(state.ahead.item, 9);  // kept for n
  flow.leave();
});

test("leaving the page, or releasing the item, gives the lease ahead back", async () => {
  const { flow, state, page, nav } = workspace({ [AHEAD]: aheadOf(9), "POST /api/v1/leases/t8/release/": { status: 204 } },
                                               { prefetch: "lease" });
  await flow.load(itemOf(8), { fresh: EXPIRES });
  await settle();
  await flow.release();
  assert.deepEqual(page.named("letGo"), [["t9"]]);
  assert.equal(state.ahead, null);
  assert.deepEqual(nav.moves, [["go", "/projects/line-a/"]]);
  flow.leave();  // the page hidden after that: nothing more to give back
  assert.deepEqual(page.named("letGo"), [["t9"]]);
});

test("a new proposal for the item ahead asks for its details again, so n draws it as it is now", async () => {
  const fresh = itemOf(9, { state: "leased", prediction: { id: 6, payload: BUBBLE } });
  const { flow, state } = workspace({ [AHEAD]: aheadOf(9), "GET /api/v1/items/9/": { data: fresh } }, { prefetch: "lease" });
  await flow.load(itemOf(8), { fresh: EXPIRES });
  await settle();
  flow.onLive({ event: "prediction.created", payload: { item: 9 } });
  await settle();
  assert.equal(state.ahead.detail, fresh);
  state.lease.stop();
  await flow.takeNext();
  assert.equal(state.fromPrediction, 6);
  state.lease.stop();
  flow.leave();
});

test("an item the operator does not hold (someone else's, or a review) leases nothing ahead", async () => {
  const { flow, srv } = workspace({ [AHEAD]: aheadOf(9) }, { prefetch: "lease" });
  await flow.load(itemOf(2, { lease: null, lease_holder: "otto", draft: undefined }));
  await settle();
  assert.equal(srv.sent("POST", AHEAD.slice(5)).length, 0);
});

test("idle for a while, the lease ahead is given back; back at work, the item after this one is leased again", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  try {
    const { flow, state, page, srv } = workspace({ [AHEAD]: [aheadOf(9), aheadOf(11)] }, { prefetch: "lease" });
    await flow.load(itemOf(8), { fresh: EXPIRES });
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(state.ahead.item, 9);
    flow.active();  // a key press: no new take while one is held
    mock.timers.tick(IDLE_MS + 1);
    assert.deepEqual(page.named("letGo"), [["t9"]]);
    assert.equal(state.ahead, null);
    flow.active();
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(state.ahead.item, 11);
    assert.equal(srv.sent("POST", AHEAD.slice(5)).length, 2);
    state.lease.stop();
    flow.leave();
  } finally {
    mock.timers.reset();
  }
});
