// Upload page: drag and drop, upload through XHR (for its progress events), then the per-file report.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("upload-files");
  const zone = document.getElementById("drop-zone");
  const chosen = document.getElementById("upload-chosen");
  const progress = document.getElementById("upload-progress");
  const statusLine = document.getElementById("upload-status");
  const submit = document.getElementById("upload-submit");
  let files = [];

  function showChosen() {
    chosen.replaceChildren(...files.map((f) => {
      const li = document.createElement("li");
      li.textContent = `${f.name} (${Math.ceil(f.size / 1024)} KiB)`;
      return li;
    }));
  }

  input.addEventListener("change", () => { files = Array.from(input.files); showChosen(); });
  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("dragging")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    files = files.concat(Array.from(event.dataTransfer.files));
    showChosen();
  });

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function showReport(report) {
    document.getElementById("upload-report").hidden = false;
    const counts = report.counts || {};
    const items = report.items || [];
    document.getElementById("upload-summary").textContent =
      `${counts.created || 0} stored, ${counts.duplicate || 0} already known, ${counts.refused || 0} refused; ` +
      `${items.filter((i) => i.created).length} new work items.`;
    const rows = (report.results || []).map((r) => {
      const tr = document.createElement("tr");
      tr.className = r.status;
      cell(tr, r.archive ? `${r.archive}: ${r.name}` : r.name);
      cell(tr, r.status);
      cell(tr, r.reason);
      return tr;
    });
    (report.unmatched || []).forEach((u) => {
      const tr = document.createElement("tr");
      tr.className = "unmatched";
      cell(tr, u.name);
      cell(tr, "no item");
      cell(tr, u.reason);
      rows.push(tr);
    });
    (report.annotations || []).forEach((a) => {
      const tr = document.createElement("tr");
      tr.className = a.status === "imported" ? "created" : "refused";
      cell(tr, a.archive ? `${a.archive}: ${a.name}` : a.name);
      cell(tr, a.status === "imported" ? `annotations for ${a.items} items` : "annotations refused");
      cell(tr, a.reason);
      rows.push(tr);
    });
    document.getElementById("upload-files-report").replaceChildren(...rows);
    document.getElementById("upload-items").replaceChildren(...items.map((i) => {
      const li = document.createElement("li");
      li.textContent = `#${i.id} ${i.external_id}: ${i.files.join(", ")}${i.created ? "" : " (existed already)"}`;
      return li;
    }));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!files.length) { statusLine.textContent = "Choose or drop some files first."; return; }
    const data = new FormData();
    files.forEach((f) => data.append("files", f, f.name));
    data.append("grouping", form.querySelector("input[name=grouping]:checked").value);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.upload.addEventListener("load", () => { statusLine.textContent = "Checking the images…"; });
    xhr.addEventListener("load", () => {
      submit.disabled = false;
      progress.value = 100;
      let report = {};
      try { report = JSON.parse(xhr.responseText); } catch (err) { report = { detail: xhr.statusText }; }
      statusLine.textContent = xhr.status < 300 ? "Done." : `${xhr.status}: ${report.detail || "upload failed"}`;
      if (report.results) showReport(report);
      if (xhr.status < 300 || xhr.status === 207) { files = []; showChosen(); }
    });
    xhr.addEventListener("error", () => { submit.disabled = false; statusLine.textContent = "Network error."; });
    submit.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    statusLine.textContent = "Uploading…";
    xhr.send(data);
  });
})();
