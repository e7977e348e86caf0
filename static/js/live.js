// Shared page helpers: live events over WebSocket (with reconnect), keyboard shortcuts, JSON API calls.
window.Loupe = (() => {
  const status = () => document.getElementById("live-status");

  function live(path, onMessage) {
    let delay = 500;
    const connect = () => {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
      ws.onopen = () => { delay = 500; status()?.classList.replace("off", "on"); };
      ws.onmessage = (e) => { const msg = JSON.parse(e.data); document.dispatchEvent(new CustomEvent("loupe:event", { detail: msg })); onMessage(msg); };
      ws.onclose = () => { status()?.classList.replace("on", "off"); setTimeout(connect, delay); delay = Math.min(delay * 2, 10000); };
    };
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

  async function api(method, url, body) {
    const res = await fetch(url, {
      method, credentials: "same-origin",
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
