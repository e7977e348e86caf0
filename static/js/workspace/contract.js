// The contract between the workspace and a kind's editor (static/js/editors/). An editor is a plain
// object; it names what it draws, and that decides what it must give. The workspace calls nothing an
// editor does not give, so no editor stubs a member it has no use for.
//
// Every editor:
//   kind                                    the task kind
//   views(item) -> [{asset, title}]         one image shown at a time (a shot, a page, a side)
//   normalize(annotation, item) -> answer   fills what the editor relies on (ids, one entry per view)
//   check(answer) -> [message]              hints before submit (the server validates for real)
//   output(answer) -> annotation            what is stored (drops what only the page needs)
//   mount(ws) -> {load(item), render()}     the kind's own controls and keys: load on every item shown,
//                                           render after every change
//   optional: labels [name...] (keys 1..n), colors {name: css}, tools [name...] (the drawing tools shown),
//             emptyFor(item) -> answer, rasters(prediction, view) -> [{name, title, key, url}] (heat maps)
//
// draws: "shapes" (the default): the workspace draws the answer and edits it with its tools. The answer
// crosses as neutral shapes (tools.js): shapes(answer, view), put(answer, view, shape),
// remove(answer, view, id), relabel(answer, view, id, label); proposal(prediction, view) -> [shape with
// .confidence]; diffShape(diff entry) -> shape, for the review view.
//
// draws: "answer": the editor draws its answer itself in the workspace's SVG layer, with its own pointer
// tools: mount(ws) gives draw(g, {selected}) beside load and render. The workspace still selects and deletes by id (shapes, remove) and draws the
// proposal and the review diff as shapes (proposal, diffShape).
//
// draws: "view": the editor draws its whole view in mount's render() (its own viewers, layers and panel;
// a second viewer comes from ws.createViewer). The workspace gives it the main viewer, undo, drafts, the
// lease and the flow; it draws no proposal, answer or diff layer for it.
export const REQUIRED = {
  every: ["kind", "views", "normalize", "check", "output", "mount"],
  shapes: ["shapes", "put", "remove", "relabel", "proposal", "diffShape"],
  answer: ["shapes", "remove", "proposal", "diffShape"],
  view: [],
};

// What is wrong with `editor` as an editor of its kind: one message per missing member.
export function contractProblems(editor) {
  const draws = editor.draws || "shapes";
  if (!(draws in REQUIRED) || draws === "every") return [`draws: "${draws}" is none of shapes, answer, view`];
  const missing = [...REQUIRED.every, ...REQUIRED[draws]].filter((name) => editor[name] === undefined);
  const notFunctions = [...REQUIRED.every, ...REQUIRED[draws]]
    .filter((name) => name !== "kind" && editor[name] !== undefined && typeof editor[name] !== "function");
  return [...missing.map((name) => `${editor.kind || "editor"} (draws ${draws}) lacks ${name}`),
          ...notFunctions.map((name) => `${editor.kind || "editor"}: ${name} is not a function`)];
}

// The editor as the workspace uses it: each capability a function, or null where the editor has none.
export function contractOf(editor) {
  const problems = contractProblems(editor);
  if (problems.length) throw new Error(`not an editor: ${problems.join("; ")}`);
  const draws = editor.draws || "shapes";
  const has = (name) => (typeof editor[name] === "function" ? editor[name].bind(editor) : null);
  return {
    draws,
    labels: editor.labels || [],
    colors: editor.colors || {},
    uses: (tool) => !editor.tools || editor.tools.includes(tool),
    shapes: draws === "view" ? null : has("shapes"),
    put: draws === "shapes" ? has("put") : null,
    remove: draws === "view" ? null : has("remove"),
    relabel: draws === "shapes" ? has("relabel") : null,
    proposal: draws === "view" ? null : has("proposal"),
    diffShape: draws === "view" ? null : has("diffShape"),
    rasters: has("rasters"),
  };
}

// What mount(ws) gave, checked against what the editor draws: {load, render} and, for "answer", draw.
export function mountedProblems(contract, ui) {
  const need = ["load", "render", ...(contract.draws === "answer" ? ["draw"] : [])];
  return need.filter((name) => !ui || typeof ui[name] !== "function").map((name) => `mount(ws) gave no ${name}`);
}
