// What both pages share: building elements and filling a catalogue's strings, with nothing inline (CSP).

export const $ = (selector, root = document) => root.querySelector(selector);

// the string `key` of `catalogue` in `lang` (English, then the key itself, when missing), {name}s filled in
export function translate(catalogue, lang, key, params = {}) {
  const text = catalogue[lang]?.[key] ?? catalogue.en?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The languages the service speaks, as the page's server wrote them (service.scoring.LANGUAGES): no list of its own.
export const LANGUAGES = (document.documentElement.dataset.languages ?? "en").split(" ").filter(Boolean);

// ?lang= when it names one, else the browser's first preference we speak (pl-PL as pl), else the first
export function initialLanguage() {
  const asked = new URLSearchParams(window.location.search).get("lang");
  if (LANGUAGES.includes(asked)) return asked;
  for (const preferred of navigator.languages ?? [navigator.language]) {
    const primary = String(preferred).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(primary)) return primary;
  }
  return LANGUAGES[0];
}
