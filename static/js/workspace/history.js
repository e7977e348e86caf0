// Undo/redo over whole annotation snapshots: every edit (a drawn shape, a key, taking the proposal,
// an applied JSON) is one step. Snapshots are JSON strings, so a step can never alias live state.
const LIMIT = 300;

export function createHistory(initial) {
  let present = JSON.stringify(initial);
  const past = [], future = [];
  return {
    current: () => JSON.parse(present),
    push(next) {
      const s = JSON.stringify(next);
      if (s === present) return false;
      past.push(present);
      if (past.length > LIMIT) past.shift();
      present = s;
      future.length = 0;
      return true;
    },
    amend(next) {  // the present step completed (no new step; redo stays as it is)
      const s = JSON.stringify(next);
      if (s === present) return false;
      present = s;
      return true;
    },
    undo() {
      if (!past.length) return null;
      future.push(present);
      present = past.pop();
      return JSON.parse(present);
    },
    redo() {
      if (!future.length) return null;
      past.push(present);
      present = future.pop();
      return JSON.parse(present);
    },
    reset(value) { present = JSON.stringify(value); past.length = 0; future.length = 0; },
    canUndo: () => past.length > 0,
    canRedo: () => future.length > 0,
  };
}
