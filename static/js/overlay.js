// Draws an annotation over the item's images as SVG, per kind. Coordinates are original-image pixels;
// the SVG viewBox is the original size, so the drawing scales with the displayed working copy.
window.LoupeOverlay = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const el = (name, attrs, parent) => {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    parent.appendChild(node);
    return node;
  };
  const COLORS = { axial_scratch: "#e6194b", radial_scratch: "#f58231", inclusion: "#4363d8", bubble: "#3cb44b" };

  const drawers = {
    catheter(svgs, ann) {
      (ann.shots || []).forEach((shot, i) => {
        const svg = svgs[i]; if (!svg) return;
        for (const d of shot.defects || []) {
          const [x0, y0, x1, y1] = d.box;
          el("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, class: "box", stroke: COLORS[d.type] || "#ff0" }, svg);
          el("text", { x: x0, y: Math.max(12, y0 - 4), class: "label", fill: COLORS[d.type] || "#ff0" }, svg).textContent = d.type;
        }
      });
    },
    articles(svgs, ann) {
      const svg = svgs[0]; if (!svg) return;
      (ann.articles || []).forEach((a, i) => {
        el("polygon", { points: a.polygon.map((p) => p.join(",")).join(" "), class: "article", style: `--hue:${(i * 67) % 360}` }, svg);
      });
      for (const c of ann.cuts || []) el("line", { x1: c.x0, y1: c.y0, x2: c.x1, y2: c.y1, class: "cut" }, svg);
    },
    omr(svgs, ann) {
      (ann.point_pairs || []).forEach((pair, i) => {
        [0, 1].forEach((side) => {
          const svg = svgs[side]; if (!svg) return;
          const [x, y] = pair[side];
          el("circle", { cx: x, cy: y, r: 8, class: "pair" }, svg);
          el("text", { x: x + 10, y: y - 10, class: "label" }, svg).textContent = String(i + 1);
        });
      });
      if (ann.homography && svgs[0] && svgs[1]) {
        const H = ann.homography, w = +svgs[0].dataset.w, h = +svgs[0].dataset.h;
        const map = ([x, y]) => { const d = H[2][0] * x + H[2][1] * y + H[2][2]; return [(H[0][0] * x + H[0][1] * y + H[0][2]) / d, (H[1][0] * x + H[1][1] * y + H[1][2]) / d]; };
        const corners = [[0, 0], [w, 0], [w, h], [0, h]].map(map);
        el("polygon", { points: corners.map((p) => p.join(",")).join(" "), class: "page-outline" }, svgs[1]);
      }
    },
  };

  function build(container, assets) {
    container.innerHTML = "";
    return assets.map((a) => {
      const fig = document.createElement("figure");
      fig.className = "shot";
      const img = document.createElement("img");
      img.src = a.working_url; img.alt = a.name; img.loading = "lazy";
      const svg = document.createElementNS(NS, "svg");
      svg.setAttribute("viewBox", `0 0 ${a.width} ${a.height}`);
      svg.setAttribute("preserveAspectRatio", "none");
      svg.dataset.w = a.width; svg.dataset.h = a.height;
      const cap = document.createElement("figcaption");
      cap.textContent = `${a.role || "image"} · ${a.name} · ${a.width}×${a.height}`;
      fig.append(img, svg, cap);
      container.appendChild(fig);
      return svg;
    });
  }

  function draw(kind, svgs, annotation) {
    for (const svg of svgs) svg.innerHTML = "";
    if (annotation && drawers[kind]) drawers[kind](svgs, annotation);
  }

  return { build, draw };
})();
