// Drawing tools over the viewer. Boxes, polygons and polylines are drawn and edited with Annotorious
// (its rectangle and polygon tools, and the tools plugin's path for polylines); points, which it does
// not have, are placed and picked here on the SVG layer. Shapes cross this boundary in one neutral form:
//   {id, label, kind: "box"|"polygon"|"polyline"|"point", box: [x0,y0,x1,y1], points: [[x,y], ...]}
// in original image pixels.
const ANNO_TOOL = { box: "rectangle", polygon: "polygon", polyline: "path" };
const POINT_HALF = 4;  // a point's box: a few pixels around it (a box needs x0 < x1)

export function boundsOf(points) {
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

export function pointShape(id, label, [x, y], width, height) {
  const box = [Math.max(0, x - POINT_HALF), Math.max(0, y - POINT_HALF), Math.min(width, x + POINT_HALF), Math.min(height, y + POINT_HALF)];
  return { id, label, kind: "point", box, points: [[x, y]] };
}

function dedupe(points) {
  return points.filter((p, i) => i === 0 || p[0] !== points[i - 1][0] || p[1] !== points[i - 1][1]);
}

export function shapeFromSelector(id, label, selector) {
  const g = selector.geometry;
  if (selector.type === "RECTANGLE") {
    return { id, label, kind: "box", box: [g.x, g.y, g.x + g.w, g.y + g.h], points: [[g.x, g.y], [g.x + g.w, g.y + g.h]] };
  }
  if (selector.type === "POLYGON") {
    const points = dedupe(g.points.map((p) => [p[0], p[1]]));
    return { id, label, kind: "polygon", box: boundsOf(points), points };
  }
  if (selector.type === "POLYLINE") {
    const points = dedupe(g.points.map((p) => [p.point[0], p.point[1]]));
    return { id, label, kind: g.closed && points.length >= 3 ? "polygon" : "polyline", box: boundsOf(points), points };
  }
  return null;
}

export function annotationOf(shape) {
  const [x0, y0, x1, y1] = shape.box;
  const bounds = { minX: x0, minY: y0, maxX: x1, maxY: y1 };
  let selector;
  if (shape.kind === "box") selector = { type: "RECTANGLE", geometry: { x: x0, y: y0, w: x1 - x0, h: y1 - y0, bounds } };
  else if (shape.kind === "polygon") selector = { type: "POLYGON", geometry: { points: shape.points, bounds } };
  else selector = { type: "POLYLINE", geometry: { points: shape.points.map((p) => ({ type: "CORNER", point: p })), bounds } };
  return { id: shape.id, bodies: [], target: { annotation: shape.id, selector } };
}

// Wires Annotorious and the point tool to the workspace: `ws` gives the current shapes and takes edits.
export function createTools(view, ws) {
  const anno = AnnotoriousOSD.createOSDAnnotator(view.osd, {
    drawingEnabled: false, drawingMode: "drag", autoSave: true,
    style: (a, state) => {
      const s = ws.shapeById(a.id);
      const color = ws.colorOf(s ? s.label : null);
      return { fill: color, fillOpacity: s && s.kind === "polyline" ? 0 : (state?.selected ? 0.3 : 0.12),
               stroke: color, strokeWidth: state?.selected ? 3 : 2, strokeOpacity: 1 };
    },
  });
  AnnotoriousTools.mountPlugin(anno);
  // Annotorious draws the shapes that are not being edited with PixiJS on a WebGL canvas at twice the
  // screen's resolution, re-rendered on every frame the viewer moves. Where the GPU is emulated (headless,
  // virtual desktops) that costs a canvas readback per frame and ~150 MB (bench/ui_next_item.py). The
  // workspace draws those shapes on its SVG layer instead; hidden, the canvas shrinks to nothing (its size
  // follows its box). Picking, the editor of the selected shape and the drawing tools are SVG and stay.
  anno.setVisible(false);
  let tool = "select";
  let syncing = false;

  anno.on("createAnnotation", (a) => {
    if (syncing) return;
    const shape = shapeFromSelector(ws.newId(), ws.currentLabel(), a.target.selector);
    syncing = true; anno.removeAnnotation(a.id); syncing = false;
    if (shape && shape.points.length >= (shape.kind === "polyline" ? 2 : 1)) ws.putShape(shape, { select: true });
  });
  anno.on("updateAnnotation", (a) => {
    if (syncing) return;
    const old = ws.shapeById(a.id);
    const shape = shapeFromSelector(a.id, old ? old.label : ws.currentLabel(), a.target.selector);
    if (shape) ws.putShape(shape, { select: true, quiet: true });
  });
  anno.on("deleteAnnotation", (a) => { if (!syncing) ws.removeShape(a.id); });
  // Selection events come asynchronously, also for the selection `show` itself set: those are ignored,
  // and so is Annotorious clearing its selection while a point (which it does not know) is selected.
  let expected;
  anno.on("selectionChanged", (list) => {
    const id = list.length ? list[0].id : null;
    const echo = expected !== undefined && id === expected;
    expected = undefined;
    // While drawing, the workspace picks the selection (the new shape); Annotorious's own picks of its
    // transient copy would race with it.
    if (syncing || echo || tool !== "select" || id === ws.selected()) return;
    if (id !== null && !ws.shapeById(id)) return;
    if (id === null && ws.shapeById(ws.selected())?.kind === "point") return;
    ws.select(id);
  });

  // Points: a click with the point tool places one; with the select tool, a click near a point picks it
  // and a drag from it moves it (one undoable edit when the button is released).
  const imageAt = (position) => {
    const base = view.osd.world.getItemAt(0);
    return base ? base.viewerElementToImageCoordinates(position) : null;
  };
  const pointNear = (p) => {
    const reach = 10 / view.screenScale();  // 10 screen px
    return ws.shapes().find((s) => s.kind === "point" && Math.hypot(s.points[0][0] - p.x, s.points[0][1] - p.y) <= reach);
  };
  view.osd.addHandler("canvas-click", (ev) => {
    if (!ev.quick) return;
    const p = imageAt(ev.position);
    if (!p) return;
    const a = view.asset();
    if (tool === "point") {
      ev.preventDefaultAction = true;
      if (p.x < 0 || p.y < 0 || p.x > a.width || p.y > a.height) return;
      ws.putShape(pointShape(ws.newId(), ws.currentLabel(), [p.x, p.y], a.width, a.height), { select: true });
    } else if (tool === "select") {
      const hit = pointNear(p);
      if (hit) { ev.preventDefaultAction = true; ws.select(hit.id); }
    }
  });
  let dragging = null;  // {shape, to: [x, y] | null} while a point is being moved
  view.osd.addHandler("canvas-press", (ev) => {
    const p = tool === "select" && !ws.readOnly() ? imageAt(ev.position) : null;
    const hit = p && pointNear(p);
    if (!hit) return;
    dragging = { shape: hit, to: null };
    if (ws.selected() !== hit.id) ws.select(hit.id);
  });
  view.osd.addHandler("canvas-drag", (ev) => {
    if (!dragging) return;
    ev.preventDefaultAction = true;  // the point moves, not the image
    const p = imageAt(ev.position), a = view.asset();
    dragging.to = [Math.max(0, Math.min(a.width, p.x)), Math.max(0, Math.min(a.height, p.y))];
    const dot = view.root.querySelector(`.layer-answer circle[data-id="${CSS.escape(dragging.shape.id)}"]`);
    if (dot) { dot.setAttribute("cx", dragging.to[0]); dot.setAttribute("cy", dragging.to[1]); }
  });
  view.osd.addHandler("canvas-release", () => {
    if (!dragging) return;
    const { shape, to } = dragging;
    dragging = null;
    const a = view.asset();
    if (to) ws.putShape(pointShape(shape.id, shape.label, to, a.width, a.height), { select: true });
  });

  function setTool(name) {
    tool = name;
    document.querySelectorAll("[data-tool]").forEach((b) => b.classList.toggle("active", b.dataset.tool === name));
    if (name !== "select") {
      // Drawing starts a new shape: a selected one would take the first click (to deselect) and the
      // label keys meant for the new shape.
      if (anno.getSelected().length) { expected = null; anno.cancelSelected(); }
      if (ws.selected()) ws.select(null);
    }
    if (ANNO_TOOL[name]) {
      anno.setDrawingTool(ANNO_TOOL[name]);
      anno.setDrawingMode(name === "box" ? "drag" : "click");
      anno.setDrawingEnabled(true);
    } else {
      anno.setDrawingEnabled(false);
    }
    view.osd.element.dataset.tool = name;
  }

  // Shows exactly the given shapes (all but points) in Annotorious; selection kept where it still exists.
  function show(shapes, selected) {
    syncing = true;
    try {
      anno.setAnnotations(shapes.filter((s) => s.kind !== "point").map(annotationOf), true);
      if (selected && shapes.some((s) => s.id === selected && s.kind !== "point")) { expected = selected; anno.setSelected(selected); }
      else { expected = null; anno.cancelSelected(); }
    } finally { syncing = false; }
  }
  function restyle() { anno.setStyle(anno.getStyle ? anno.getStyle() : undefined); }

  return { anno, setTool, tool: () => tool, show, restyle, setReadOnly: (ro) => { anno.setUserSelectAction(ro ? "NONE" : "EDIT"); } };
}
