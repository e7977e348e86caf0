// Shared page helpers: live events over WebSocket (with reconnect), keyboard shortcuts, JSON API calls.
window.Loupe = (() => {
  const status = () => document.getElementById("live-status");

  // Close codes the server refuses a socket with (see the README): a refusal for the role or the
  // project will not change by retrying, so those stop; a lost connection or a spent ticket retries.
  const GIVE_UP = new Set([4403, 4404]);

  // A live feed. Each (re)connect first asks for a single-use ticket (POST with the session and the
  // CSRF token) and offers it as a subprotocol: no secret ever appears in a URL.
  function live(path, onMessage) {
    let delay = 500;
    const retry = () => { status()?.classList.replace("on", "off"); setTimeout(connect, delay); delay = Math.min(delay * 2, 10000); };
    async function connect() {
      let res;
      try { res = await api("POST", "/api/v1/ws-ticket/"); } catch (_) { res = { ok: false, status: 0 }; }
      if (!res.ok) { if (res.status !== 401 && res.status !== 403) retry(); return; }
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path,
                               ["loupe.v1", "loupe.ticket." + res.data.ticket]);
      ws.onopen = () => { delay = 500; status()?.classList.replace("off", "on"); };
      ws.onmessage = (e) => { const msg = JSON.parse(e.data); document.dispatchEvent(new CustomEvent("loupe:event", { detail: msg })); onMessage(msg); };
      ws.onclose = (e) => { if (GIVE_UP.has(e.code)) { status()?.classList.replace("on", "off"); return; } retry(); };
    }
    connect();
  }

  function shortcuts(map) {
    document.addEventListener("keydown", (e) => {
      const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
      const key = (e.ctrlKey || e.metaKey ? "ctrl+" : "") + (e.key === "Enter" ? "enter" : e.key === "Escape" ? "escape" : e.key.toLowerCase());
      if (typing && !key.startsWith("ctrl+") && key !== "escape") return;
      if (map[key]) { e.preventDefault(); map[key](e); }
    });
  }

  function csrf() {
    const m = document.cookie.match(/csrftoken=([^;]+)/);
    return m ? m[1] : (window.LOUPE_ITEM && window.LOUPE_ITEM.csrf) || "";
  }

  // keepalive: the request outlives the page (sent while it is left)
  async function api(method, url, body, { keepalive = false } = {}) {
    const res = await fetch(url, {
      method, credentials: "same-origin", keepalive,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = res.status === 204 ? null : await res.json(); } catch (_) { data = null; }
    return { ok: res.ok, status: res.status, data };
  }

  // Builds a same-origin path from a template literal, encoding every interpolated value as one path
  // segment (or query value): an id taken from a page, a URL or a message can never add "../" or "?"
  // and turn a call into another endpoint. Use it for every URL that carries a value:
  // Loupe.path`/api/v1/items/${id}/revisions/`.
  function path(strings, ...values) {
    return strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(String(values[i])) : ""), "");
  }

  return { live, shortcuts, api, path };
})();
