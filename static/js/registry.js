// Registry page: promote / roll back / cancel through the API, live training progress over WebSocket.
(() => {
  const errors = document.getElementById("registry-errors");
  const fail = (res) => { errors.textContent = (res.data && res.data.detail) || `Error ${res.status}`; };
  document.addEventListener("click", async (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    if (b.dataset.promote) {
      const reason = prompt("Why promote this version? (written to the audit trail)");
      if (!reason || !reason.trim()) return;
      const body = { reason };
      if (b.dataset.promotable === "0") {
        const why = prompt("The gate blocked this version. Why is its regression acceptable? (a second reason, audited)");
        if (!why || !why.trim()) return;
        body.override = true;
        body.override_reason = why;
      }
      const res = await Loupe.api("POST", Loupe.path`/api/v1/models/${b.dataset.promote}/promote/`, body);
      res.ok ? location.reload() : fail(res);
    } else if (b.dataset.rollback !== undefined && b.dataset.rollback) {
      const reason = prompt("Why roll back? (written to the audit trail)");
      if (!reason || !reason.trim()) return;
      const res = await Loupe.api("POST", "/api/v1/models/rollback/", { kind: b.dataset.rollback, scope_key: b.dataset.scope, reason });
      res.ok ? location.reload() : fail(res);
    } else if (b.dataset.cancel) {
      const res = await Loupe.api("POST", Loupe.path`/api/v1/training-runs/${b.dataset.cancel}/cancel/`);
      res.ok ? location.reload() : fail(res);
    }
  });
  Loupe.live("/ws/mlops/", (msg) => {
    const p = msg.payload || {};
    const row = p.run && document.querySelector(`tr[data-run="${p.run}"]`);
    if (msg.event === "training.progress" && row) {
      row.querySelector("[data-field=progress]").value = p.progress;
      row.querySelector("[data-field=step]").textContent = `${p.step}/${p.total_steps}`;
      if (p.loss !== undefined && p.loss !== null) row.querySelector("[data-field=loss]").textContent = Number(p.loss).toFixed(4);
      if (p.eta_seconds) row.querySelector("[data-field=eta]").textContent = `${Math.round(p.eta_seconds)} s`;
      row.querySelector("[data-field=state]").textContent = "running";
    } else if (["training.queued", "training.finished", "model.registered", "model.promoted", "model.rolled_back"].includes(msg.event)) {
      setTimeout(() => location.reload(), 300);
    }
  });
})();
