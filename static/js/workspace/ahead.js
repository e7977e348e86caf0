// The item leased ahead: while the operator works on one item, the item after it is already leased to them
// (POST take-next/?ahead=true: at most one per operator and project, the server keeps the rule), its
// details in hand and its images in the browser's cache, so that `n` draws it at once, with no request on
// the way. The server's take-next hands the same lease back as the current item once the operator moved on,
// so a page that never draws it loses nothing: the lease beats while it is held here, is let go when the
// page is left or the operator is idle (IDLE_MS), and runs out (the server's TTL) if the page just dies.
// Nothing here draws: `onTaken` gives the item's images to the prefetcher.
export const IDLE_MS = 5 * 60 * 1000;

// deps: {state, api, path, project, keepLease, onTaken(upNext), letGo(token)}
//   state.ahead: the take-next answer with its `detail` (GET /items/{id}/ shape), or null
//   letGo: gives a lease back when the page is left (a request that outlives the page: fetch keepalive)
export function createAhead({ state: s, api, path, project, keepLease, onTaken, letGo }) {
  let beat = { stop() {} };   // the heartbeat of the lease ahead
  let taking = null;          // a take in flight: one at a time
  let idleTimer = null, idle = false;

  function forget() {
    beat.stop();
    s.ahead = null;
  }
  function hold(data) {
    if (s.ahead && s.ahead.token === data.token) { s.ahead = { ...data, expires_at: s.ahead.expires_at }; return; }
    forget();
    s.ahead = data;
    beat = keepLease({ token: data.token, fresh: data.expires_at, api,
                       onBeat: (d) => { if (s.ahead && s.ahead.token === data.token) s.ahead.expires_at = d.expires_at; },
                       onLost: () => { if (s.ahead && s.ahead.token === data.token) s.ahead = null; } });
    onTaken({ item: data.item, assets: data.detail.assets });
  }

  // Lease the item after the one shown (the one held already if any). A failure only means that `n` takes
  // the next item the ordinary way.
  function take() {
    if (taking) return taking;
    taking = (async () => {
      const res = await api("POST", path`/api/v1/projects/${project}/take-next/` + "?ahead=true&expand=item");
      if (res.status === 200 && res.data.detail && (!s.item || res.data.item !== s.item.id)) hold(res.data);
      else if (res.status === 204) forget();
    })().catch(() => {}).finally(() => { taking = null; });  // a failure: n takes the ordinary way
    touch();
    return taking;
  }

  // Once no take is in flight: the server leases ahead only beside a current item, so a submit or skip that
  // ends the current one waits for a take already sent (else the take finds nothing to lease ahead of).
  const settled = () => taking || Promise.resolve();

  // The lease ahead for the flow to draw: its heartbeat stops here (the flow holds it from now on).
  async function claim() {
    if (taking) await taking;
    const data = s.ahead;
    if (!data) return null;
    beat.stop();
    beat = { stop() {} };
    s.ahead = null;
    return data;
  }

  // The page is left (or the operator is idle): the lease ahead goes back to the queue now.
  function release() {
    const data = s.ahead;
    forget();
    if (data) letGo(data.token);
  }

  // A new proposal (or any change) on the item ahead: its details are asked for again, so it is drawn as it is.
  async function refresh(itemId) {
    if (!s.ahead || s.ahead.item !== itemId) return;
    const res = await api("GET", path`/api/v1/items/${itemId}/`);
    if (res.ok && s.ahead && s.ahead.item === itemId) s.ahead = { ...s.ahead, detail: res.data };
  }

  // Any key or pointer: the operator is here. Idle for IDLE_MS, the lease ahead is let go; true when they
  // come back after that (the flow then leases one again).
  function touch() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => { idle = true; release(); }, IDLE_MS);
    if (idleTimer.unref) idleTimer.unref();  // under Node (the flow's tests) a timer alone keeps nothing up
    const back = idle;
    idle = false;
    return back;
  }

  return { take, claim, settled, release, refresh, touch, held: () => s.ahead };
}
