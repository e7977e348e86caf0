// The harness of the workspace's flow tests under Node, without a browser: the real flow, state, history,
// drafts and lease modules and the real catheter editor; the server is the one thing answered here, request by request
// (what the API gives, as tests/api checks it), and the page is a recorder of what the flow asked it to show.
import { createFlow } from "../../../static/js/workspace/flow.js";
import { createState } from "../../../static/js/workspace/state.js";
import { createDrafts } from "../../../static/js/workspace/drafts.js";
import { keepLease } from "../../../static/js/workspace/lease.js";
import catheter from "../../../static/js/editors/catheter.js";

export { catheter };
export const path = (strings, ...values) => strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(String(values[i])) : ""), "");
export const EMPTY = { verdict: "ok", shots: [] };
export const BUBBLE = { verdict: "defect", shots: [{ defects: [{ id: "d1", type: "bubble", box: [1, 2, 30, 40] }] }] };

export function itemOf(id, extra = {}) {
  return { id, state: "predicted", assets: [{ id: 10 * id, width: 64, height: 64 }], prediction: null, current: null,
           lease: { token: `t${id}` }, lease_holder: "olga", draft: null, reviews: [], ...extra };
}

// The server: answers by "METHOD url" (a function of the body, or a list answered in turn); every request kept.
export function server(routes) {
  const requests = [];
  async function api(method, url, body) {
    requests.push({ method, url, body });
    let answer = routes[`${method} ${url}`];
    // a lease held is a lease that beats, unless a test says otherwise
    if (answer === undefined && method === "POST" && url.endsWith("/heartbeat/")) answer = { data: { expires_at: "2026-12-07T20:00:00Z" } };
    if (Array.isArray(answer)) answer = answer.length > 1 ? answer.shift() : answer[0];
    if (typeof answer === "function") answer = await answer(body);
    const { status = 200, data = null } = answer || { status: 404, data: { detail: "Not found." } };
    return { ok: status >= 200 && status < 300, status, data };
  }
  return { api, requests, sent: (method, url) => requests.filter((r) => r.method === method && r.url === url) };
}

// The page, as the flow sees it: every call recorded by name.
export function recorder(extra = {}) {
  const calls = [];
  const values = { emptyAnswer: () => EMPTY, loaded: () => Promise.resolve(), showView: () => Promise.resolve(), ...extra };
  const ui = new Proxy({}, { get: (_, name) => (...args) => { calls.push([name, ...args]); return values[name] ? values[name](...args) : undefined; } });
  return { ui, calls, named: (name) => calls.filter((c) => c[0] === name).map((c) => c.slice(1)) };
}

export function workspace(routes, { user = "olga", canReview = false, prefetch = undefined, ui = {} } = {}) {
  const srv = server(routes);
  const page = recorder(ui);
  const nav = { moves: [], push(url) { this.moves.push(["push", url]); }, replace(url) { this.moves.push(["replace", url]); },
                go(url) { this.moves.push(["go", url]); }, reload() { this.moves.push(["reload"]); } };
  const state = createState(catheter);
  const drafts = createDrafts({ api: srv.api, onSaved() {}, onRefused() {} });
  const edit = {
    absorb() {},
    commit(next) { state.history.push(next); state.annotation = state.history.current(); },
    saveDraft() { drafts.schedule(state.item.id, { annotation: state.annotation, base_revision: state.base }); return drafts.flush(); },
  };
  const cfg = { user, canReview, project: 7, slug: "line-a", lease: "", prefetch };
  const flow = createFlow({ state, editor: catheter, cfg, api: srv.api, path, drafts, keepLease, ui: page.ui, nav, edit });
  return { flow, state, srv, page, nav };
}
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
