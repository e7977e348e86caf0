// Server-side drafts of (item, operator): every edit is saved within 2 s (debounced), never as a
// revision. A refused save (lease lost: 409) is reported, not retried silently.
const DELAY_MS = 700;

export function createDrafts({ onSaved, onRefused, api = globalThis.Loupe && Loupe.api }) {
  let timer = null, pending = null, inflight = null;

  async function flush() {
    clearTimeout(timer);
    timer = null;
    if (!pending) return;
    const { itemId, body } = pending;
    pending = null;
    inflight = api("PUT", `/api/v1/items/${encodeURIComponent(itemId)}/draft/`, body);
    const res = await inflight;
    inflight = null;
    if (res.ok) onSaved(res.data);
    else onRefused(res);
  }

  return {
    schedule(itemId, body) {
      pending = { itemId, body };
      clearTimeout(timer);
      timer = setTimeout(flush, DELAY_MS);
    },
    async load(itemId) {
      const res = await api("GET", `/api/v1/items/${encodeURIComponent(itemId)}/draft/`);
      return res.ok ? res.data : null;
    },
    async flush() { await flush(); if (inflight) await inflight; },  // before leaving an item: keep the last edit
    async drop() {  // before submit: nothing may land after the revision
      clearTimeout(timer);
      timer = null;
      pending = null;
      if (inflight) await inflight;
    },
  };
}
