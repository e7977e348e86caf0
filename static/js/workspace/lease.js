// The lease: a heartbeat while the page is open; losing it shows a banner and stops editing, never a
// silent failure.
const BEAT_MS = 30000;

// `fresh`: the expiry of a lease taken a moment ago; the first beat then waits its turn instead of going
// out at once, next to the requests for the item's image. `api`: Loupe.api's shape (tests give their own).
export function keepLease({ token, onLost, onBeat, fresh = null, api = globalThis.Loupe && Loupe.api }) {
  if (!token) return { stop() {}, token: () => "" };
  let live = token, timer = null;
  async function beat() {
    const res = await api("POST", `/api/v1/leases/${encodeURIComponent(live)}/heartbeat/`);
    if (res.ok) onBeat(res.data);
    else { clearInterval(timer); const lost = live; live = ""; onLost(res, lost); }
  }
  if (fresh) onBeat({ expires_at: fresh }); else beat();
  timer = setInterval(beat, BEAT_MS);
  if (timer.unref) timer.unref();  // under Node (the flow's tests) a lease alone does not keep the process up
  return { stop() { clearInterval(timer); live = ""; }, token: () => live, beat };
}
