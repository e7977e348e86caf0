// Keyboard shortcuts of the workspace: one table that both handles the keys and fills the help overlay.
// Combos are written "ctrl+shift+z", "shift+arrowright", "?", "1"; a printed character such as "?" or
// "+" is matched as typed, without its shift.

export function comboOf(e) {
  let key = e.key === " " ? "space" : e.key.toLowerCase();
  const named = key.length > 1;
  const letter = /^[a-z]$/.test(key);
  return (e.ctrlKey || e.metaKey ? "ctrl+" : "") + (e.altKey ? "alt+" : "") +
    (e.shiftKey && (named || letter) ? "shift+" : "") + key;
}

export function createKeys() {
  const table = [];  // {combos, label, group, run, when}

  function add(combos, label, run, { group = "General", when = () => true, inputs = false } = {}) {
    table.push({ combos: [].concat(combos), label, run, group, when, inputs });
  }

  // Capture phase on window: runs before the libraries' own key handlers (Annotorious binds Ctrl+Z to
  // its private history on the viewer element), so one undo history rules every edit.
  window.addEventListener("keydown", (e) => {
    const el = document.activeElement;
    const typing = !!el && (["TEXTAREA", "SELECT"].includes(el.tagName) ||
      (el.tagName === "INPUT" && !["range", "checkbox", "radio", "button"].includes(el.type)));
    const combo = comboOf(e);
    for (const entry of table) {
      if (!entry.combos.includes(combo) || !entry.when()) continue;
      if (typing && !entry.inputs) continue;
      e.preventDefault();
      e.stopPropagation();
      entry.run(e);
      return;
    }
  }, true);

  function help() {
    const groups = new Map();
    for (const entry of table) {
      if (!groups.has(entry.group)) groups.set(entry.group, []);
      groups.get(entry.group).push(entry);
    }
    return groups;
  }

  return { add, help };
}

export function renderHelp(container, groups) {
  container.replaceChildren();
  for (const [group, entries] of groups) {
    const section = document.createElement("section");
    const h = document.createElement("h3");
    h.textContent = group;
    const dl = document.createElement("dl");
    for (const entry of entries) {
      const dt = document.createElement("dt");
      for (const combo of entry.combos) {
        const k = document.createElement("kbd");
        k.textContent = combo.replace("ctrl+", "Ctrl+").replace("shift+", "Shift+").replace("arrowright", "→")
          .replace("arrowleft", "←").replace("escape", "Esc").replace("enter", "Enter").replace("delete", "Del")
          .replace("backspace", "⌫");
        dt.append(k, " ");
      }
      const dd = document.createElement("dd");
      dd.textContent = entry.label;
      dl.append(dt, dd);
    }
    section.append(h, dl);
    container.appendChild(section);
  }
}
