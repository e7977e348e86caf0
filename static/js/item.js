// The minimal item editor: shows the images with the annotation drawn over them, edits it as JSON,
// submits it on top of its base revision, handles a stale base (409) without losing anything, keeps the
// lease alive, and lets reviewers accept or send back. The full per-kind editors build on this.
(() => {
  const cfg = window.LOUPE_ITEM;
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  let item = read("item-data");
  const empty = read("empty-data");
  const $ = (id) => document.getElementById(id);
  const editor = $("editor"), errors = $("editor-errors");
  const svgs = LoupeOverlay.build($("shots"), item.assets);
  let base = item.current ? item.current.number : null;
  let fromPrediction = null;
  let lease = cfg.lease;

  function setEditor(annotation, source) {
    editor.value = JSON.stringify(annotation, null, 2);
    fromPrediction = source === "prediction" && item.prediction ? item.prediction.id : null;
    redraw();
  }
  function redraw() {
    try { LoupeOverlay.draw(cfg.kind, svgs, JSON.parse(editor.value)); errors.textContent = ""; }
    catch (e) { errors.textContent = "Not valid JSON yet: " + e.message; }
  }
  function info() {
    $("base-info").textContent = base === null ? "No revision yet: your submit creates revision 1." : `Editing on top of revision ${base}.`;
    $("item-state").textContent = item.state; $("item-state").className = "state state-" + item.state;
    $("review-box").hidden = !(cfg.canReview && item.state === "submitted");
    $("use-proposal").disabled = !item.prediction;
    $("use-current").disabled = !item.current;
  }

  if (item.current && item.state !== "sent_back") setEditor(item.current.annotation, "current");
  else if (item.current) setEditor(item.current.annotation, "current");
  else if (item.prediction) setEditor(item.prediction.payload, "prediction");
  else setEditor(empty, "empty");
  info();
  editor.addEventListener("input", redraw);

  $("use-proposal").onclick = () => item.prediction && setEditor(item.prediction.payload, "prediction");
  $("use-current").onclick = () => item.current && setEditor(item.current.annotation, "current");
  $("use-empty").onclick = () => setEditor(empty, "empty");

  function showErrors(res) {
    const d = res.data || {};
    const lines = (d.errors || []).map((e) => `${e.path}: ${e.message}`);
    errors.textContent = [d.detail || `Error ${res.status}`, ...lines].join("\n");
  }

  async function submit() {
    let annotation;
    try { annotation = JSON.parse(editor.value); } catch (e) { errors.textContent = "Not valid JSON: " + e.message; return; }
    const res = await Loupe.api("POST", Loupe.path`/api/v1/items/${item.id}/revisions/`, { annotation, base_revision: base, from_prediction: fromPrediction });
    if (res.status === 201) { lease = ""; location.href = Loupe.path`/items/${item.id}/?saved=${res.data.number}`; return; }
    if (res.status === 409) {
      $("conflict").hidden = false;
      $("conflict-yours").textContent = JSON.stringify(res.data.yours, null, 2);
      $("conflict-current").textContent = JSON.stringify(res.data.current, null, 2);
      $("rebase").onclick = () => { base = res.data.current ? res.data.current.number : null; $("conflict").hidden = true; info(); };
    }
    showErrors(res);
  }
  async function release() {
    if (!lease) return;
    await Loupe.api("POST", Loupe.path`/api/v1/leases/${lease}/release/`);
    location.href = Loupe.path`/projects/${cfg.slug}/`;
  }
  async function review(decision) {
    const res = await Loupe.api("POST", Loupe.path`/api/v1/items/${item.id}/reviews/`, { decision, comment: $("review-comment").value, revision: base });
    if (res.ok) location.reload(); else showErrors(res);
  }
  async function takeNext() {
    const res = await Loupe.api("POST", Loupe.path`/api/v1/projects/${cfg.project}/take-next/`);
    if (res.status === 200) location.href = Loupe.path`/items/${res.data.item}/`;
    else if (res.status === 204) errors.textContent = "The queue is empty.";
    else showErrors(res);
  }
  $("submit").onclick = submit;
  $("release").onclick = release;
  $("accept").onclick = () => review("accept");
  $("send-back").onclick = () => review("send_back");
  Loupe.shortcuts({
    "ctrl+enter": submit, escape: release, n: takeNext, a: () => !$("review-box").hidden && review("accept"),
    b: () => !$("review-box").hidden && review("send_back"), p: () => $("use-proposal").click(), c: () => $("use-current").click(),
    "?": () => alert("n next item · Ctrl+Enter submit · Esc release · p load proposal · c load current · a accept · b send back"),
  });

  if (lease) {
    const beat = async () => {
      const res = await Loupe.api("POST", Loupe.path`/api/v1/leases/${lease}/heartbeat/`);
      $("lease-info").textContent = res.ok ? `Leased to you until ${new Date(res.data.expires_at).toLocaleTimeString()}` : (res.data && res.data.detail) || "Lease lost";
    };
    beat(); setInterval(beat, 60000);
  }
  Loupe.live(Loupe.path`/ws/projects/${cfg.project}/`, (msg) => {
    if (msg.payload && msg.payload.item === item.id && msg.event === "revision.submitted" && msg.payload.revision !== base) {
      errors.textContent = `Revision ${msg.payload.revision} was just saved by ${msg.payload.author}.`;
    }
    if (msg.payload && msg.payload.item === item.id && msg.event === "prediction.created") {
      errors.textContent = "A new model proposal arrived (reload to see it).";
    }
  });
})();
