// Server-side drafts of (item, operator): every edit is saved within 2 s (debounced), never as a
// revision. A refused save (lease lost: 409) is reported, not retried silently.
const DELAY_MS = 700;

export function createDrafts({ itemId, onSaved, onRefused }) {
  let timer = null, pending = null, inflight = null;

  async function flush() {
    timer = null;
    if (!pending) return;
    const body = pending;
    pending = null;
    inflight = Loupe.api("PUT", Loupe.path`/api/v1/items/${itemId}/draft/`, body);
    const res = await inflight;
    inflight = null;
    if (res.ok) onSaved(res.data);
    else onRefused(res);
  }

  return {
    schedule(body) {
      pending = body;
      clearTimeout(timer);
      timer = setTimeout(flush, DELAY_MS);
    },
    async load() {
      const res = await Loupe.api("GET", Loupe.path`/api/v1/items/${itemId}/draft/`);
      return res.ok ? res.data : null;
    },
    async settle() {  // before submit: nothing may land after the revision
      clearTimeout(timer);
      timer = null;
      pending = null;
      if (inflight) await inflight;
    },
  };
}
