// A training run's page: the loss curve drawn from the stored points and extended live from the run's
// progress events (step, loss, ETA); the page reloads when the run ends, for its final log.
(() => {
  const table = document.getElementById("run");
  const runId = Number(table.dataset.run);
  const svg = document.getElementById("loss-live");
  const points = JSON.parse(document.getElementById("loss-data").textContent || "[]");
  const NS = "http://www.w3.org/2000/svg";
  const W = 500, H = 220, L = 56, R = 10, T = 10, B = 34;
  const field = (name) => table.querySelector(`[data-field=${name}]`);

  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function draw() {
    svg.replaceChildren();
    if (points.length < 1) return;
    document.getElementById("loss-wrap").hidden = false;
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
    const y0 = Math.min(...ys, 0), y1 = Math.max(...ys, y0 + 1e-6);
    const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
    const sy = (y) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
    svg.append(el("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "none", stroke: "#9aa4b2" }));
    for (const [y, label] of [[y0, y0.toFixed(3)], [y1, y1.toFixed(3)]]) {
      svg.append(el("text", { x: L - 6, y: sy(y) + 4, "text-anchor": "end", "font-size": 11 }, label));
    }
    for (const x of [x0, x1]) svg.append(el("text", { x: sx(x), y: H - B + 16, "text-anchor": "middle", "font-size": 11 }, String(x)));
    svg.append(el("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", "font-size": 11 }, "step"));
    svg.append(el("polyline", { fill: "none", stroke: "#1f6fb5", "stroke-width": 2, "data-points": points.length,
                                points: points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" ") }));
    document.getElementById("loss-points").textContent = String(points.length);
  }

  draw();
  Loupe.live("/ws/mlops/", (msg) => {
    const p = msg.payload || {};
    if (p.run !== runId) return;
    if (msg.event === "training.progress") {
      if (p.phase) field("phase").textContent = p.phase;
      if (p.step === null || p.step === undefined) return;
      field("state").textContent = "running";
      field("progress").value = p.progress;
      field("step").textContent = `${p.step}/${p.total_steps}`;
      if (p.loss !== undefined && p.loss !== null) {
        field("loss").textContent = Number(p.loss).toFixed(4);
        const last = points[points.length - 1];
        if (!last || last[0] !== p.step) points.push([p.step, Number(p.loss)]);
        draw();
      }
      field("eta").textContent = p.eta_seconds !== null && p.eta_seconds !== undefined ? `${Math.round(p.eta_seconds)} s` : "—";
    } else if (["training.finished", "training.failed", "training.cancelled", "training.started"].includes(msg.event)) {
      setTimeout(() => location.reload(), 300);
    }
  });
})();
