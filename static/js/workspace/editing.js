// Editing the answer: every change is one undo step (or completes the current one), is drawn, and is
// saved as a draft. The shapes' tools (tools.js) and the kind's editor change the answer only through here.
import { shapeFromSelector } from "./tools.js";

// deps: {state, editor, drafts, ui, tools: () => the tools (made after this), contract}
export function createEditing({ state: s, editor, drafts, ui, tools, contract }) {
  // `amend`: the change completes the current step (e.g. what the server computed from it): no new undo step
  function commit(next, { quiet = false, save = true, amend = false } = {}) {
    if (!(amend ? s.history.amend(next) : s.history.push(next))) return;
    s.annotation = s.history.current();
    ui.render({ quiet });
    if (save) saveDraft();
  }
  function saveDraft() {
    if (s.readOnly || !s.lease.token()) return;
    ui.draftStatus("Saving draft…", { saved: false });
    drafts.schedule(s.item.id, { annotation: editor.output(s.annotation), base_revision: s.base, from_prediction: s.fromPrediction });
  }
  // Annotorious reports a move or resize a second after it ends; anything that rebuilds the shapes or
  // reads the answer first takes in the selected shape as it is drawn now, so no edit is lost.
  function absorb() {
    if (s.readOnly || !s.history || !contract.shapes) return;
    const sel = tools().anno.getSelected()[0];
    const old = sel && shapeById(sel.id);
    if (!old) return;
    const now = shapeFromSelector(sel.id, old.label, sel.target.selector);
    if (now && JSON.stringify([now.box, now.points]) !== JSON.stringify([old.box, old.points])) {
      commit(contract.put(s.annotation, s.view, now), { quiet: true });
    }
  }
  function step(move) {
    absorb();
    const a = move();
    if (!a) return;
    s.annotation = a;
    ui.render();
    saveDraft();
  }
  const shapes = () => contract.shapes(s.annotation, s.view);
  const shapeById = (id) => shapes().find((x) => x.id === id) || null;

  return {
    commit, saveDraft, absorb, shapes, shapeById,
    undo: () => step(() => s.history.undo()),
    redo: () => step(() => s.history.redo()),
    putShape(shape, { select = false, quiet = false } = {}) {
      if (s.readOnly) return ui.render();
      if (select) s.selected = shape.id;
      commit(contract.put(s.annotation, s.view, shape), { quiet });
    },
    removeShape(id) {
      if (s.readOnly || !contract.remove) return;
      absorb();
      if (s.selected === id) s.selected = null;
      commit(contract.remove(s.annotation, s.view, id));
    },
    setLabel(name) {
      absorb();
      s.label = name;
      if (s.selected && !s.readOnly && contract.relabel) commit(contract.relabel(s.annotation, s.view, s.selected, name));
      else ui.renderLabels();
    },
    takeProposal() {
      if (s.readOnly || !s.item.prediction) return;
      s.fromPrediction = s.item.prediction.id;
      commit(editor.normalize(s.item.prediction.payload, s.item));
    },
    useCurrent: () => !s.readOnly && s.item.current && commit(editor.normalize(s.item.current.annotation, s.item)),
    useEmpty: () => !s.readOnly && commit(s.empty),
    // what parses in the JSON view is applied as one undoable edit
    applyJson(parsed) { if (!s.readOnly) commit(editor.normalize(parsed, s.item)); },
  };
}
