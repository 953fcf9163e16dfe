// Runs catalogue/static/catalogue/search-autocomplete.js against a minimal stand-in for the DOM:
// types the query, lets the script fetch the given fragment, then chooses a suggestion with the
// keyboard (ArrowDown, Enter) or the mouse, and prints what the page did as JSON.
// Usage: node autocomplete_harness.js <script> <fragment file> <keys|mouse>
"use strict";
const fs = require("fs");
const [script, fragmentFile, how] = process.argv.slice(2);
const fragment = fs.readFileSync(fragmentFile, "utf8");
const done = { assigned: null, submitted: false, value: null, expanded: null };
const handlers = { input: {}, list: {} };

function element(attrs) {
  return {
    attrs: Object.assign({}, attrs),
    get id() { return this.attrs.id; },
    getAttribute(name) { return name in this.attrs ? this.attrs[name] : null; },
    setAttribute(name, value) { this.attrs[name] = String(value); },
    removeAttribute(name) { delete this.attrs[name]; },
    closest() { return this; },
  };
}

const input = Object.assign(element({ "data-autocomplete-url": "/search/autocomplete/" }), {
  value: "",
  form: { submit() { done.submitted = true; } },
  addEventListener(type, fn) { handlers.input[type] = fn; },
});
const list = {
  hidden: true,
  options: [],
  set innerHTML(html) {
    this.options = [...html.matchAll(/<li([^>]*)>/g)].map((m) => {
      const attrs = {};
      for (const a of m[1].matchAll(/([\w-]+)="([^"]*)"/g)) attrs[a[1]] = a[2].replace(/&amp;/g, "&");
      return element(attrs);
    });
  },
  querySelectorAll() { return this.options.slice(); },
  addEventListener(type, fn) { handlers.list[type] = fn; },
};
const status = { textContent: "" };
global.document = {
  getElementById(id) {
    return { "search-field": input, "search-suggestions": list, "search-suggestions-status": status }[id];
  },
};
global.fetch = () => Promise.resolve({ ok: true, text: () => Promise.resolve(fragment) });
global.window = { fetch: global.fetch, location: { assign(url) { done.assigned = url; } } };

eval(fs.readFileSync(script, "utf8"));  // the script is an IIFE that wires itself to the elements

input.value = "ted";
handlers.input.input();
setTimeout(() => {
  done.expanded = input.getAttribute("aria-expanded");
  const event = (key) => ({ key, preventDefault() {} });
  if (how === "mouse") {
    handlers.list.mousedown({ target: list.options[0], preventDefault() {} });
  } else {
    handlers.input.keydown(event("ArrowDown"));
    handlers.input.keydown(event("Enter"));
  }
  done.value = input.value;
  console.log(JSON.stringify(done));
}, 400);
