// Building DOM from data: text goes in as text, never as markup. Nothing in static/js assigns innerHTML
// (a test checks): an id, a label or a comment typed by one user must never run in another's browser.

// h("button", {className: "layer", dataset: {layer: "x"}}, "Proposal ", h("kbd", {}, "h"))
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") Object.assign(el.style, value);
    else el[key] = value;
  }
  el.append(...children.filter((c) => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : String(c))));
  return el;
}

// A swatch of a label's colour followed by its words: the label buttons and the defect list use it.
export function swatch(color) {
  return h("i", { style: { background: color } });
}

// "Proposal <kbd>h</kbd>" as nodes: a text, then the key that toggles it.
export function withKey(text, key) {
  return [String(text), " ", h("kbd", {}, key)];
}
