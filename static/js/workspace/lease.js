// The lease: a heartbeat while the page is open; losing it shows a banner and stops editing, never a
// silent failure.
const BEAT_MS = 30000;

export function keepLease({ token, onLost, onBeat }) {
  if (!token) return { stop() {}, token: () => "" };
  let live = token, timer = null;
  async function beat() {
    const res = await Loupe.api("POST", Loupe.path`/api/v1/leases/${live}/heartbeat/`);
    if (res.ok) onBeat(res.data);
    else { clearInterval(timer); const lost = live; live = ""; onLost(res, lost); }
  }
  beat();
  timer = setInterval(beat, BEAT_MS);
  return { stop() { clearInterval(timer); live = ""; }, token: () => live, beat };
}
