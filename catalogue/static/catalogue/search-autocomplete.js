// Suggestions under the header search box: an ARIA 1.2 combobox with a listbox popup.
// Fetches an HTML fragment of role=option items from data-autocomplete-url as the user types;
// each item's data-url is its product's page, which choosing it (Enter or click) opens.
(function () {
  "use strict";
  var input = document.getElementById("search-field");
  var list = document.getElementById("search-suggestions");
  var status = document.getElementById("search-suggestions-status");
  if (!input || !list || !window.fetch) return;
  var url = input.getAttribute("data-autocomplete-url");
  var timer = null;
  var active = -1;
  var latest = 0;

  function options() { return list.querySelectorAll("[role=option]"); }

  function close() {
    list.hidden = true;
    list.innerHTML = "";
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    var items = options();
    items.forEach(function (item, i) { item.setAttribute("aria-selected", i === index ? "true" : "false"); });
    active = index;
    if (index >= 0 && items[index]) input.setAttribute("aria-activedescendant", items[index].id);
    else input.removeAttribute("aria-activedescendant");
  }

  // Choosing a suggestion opens its product; one without a page searches for its name.
  function choose(item) {
    var page = item.getAttribute("data-url");
    input.value = item.getAttribute("data-value");
    close();
    if (page) window.location.assign(page);
    else input.form.submit();
  }

  function load() {
    var text = input.value.trim();
    if (text.length < 2) { close(); return; }
    var request = ++latest;
    fetch(url + "?q=" + encodeURIComponent(text), { headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (request !== latest) return;  // a newer keystroke has been answered or is on its way
        list.innerHTML = html;
        var count = options().length;
        if (!count) { close(); status.textContent = ""; return; }
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        highlight(-1);
        status.textContent = count + (count === 1 ? " suggestion" : " suggestions") + " available.";
      })
      .catch(close);
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(load, 150);
  });
  input.addEventListener("keydown", function (event) {
    var count = options().length;
    if (event.key === "ArrowDown" && count) { event.preventDefault(); highlight((active + 1) % count); }
    else if (event.key === "ArrowUp" && count) { event.preventDefault(); highlight(active <= 0 ? count - 1 : active - 1); }
    else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(options()[active]); }
    else if (event.key === "Escape") { close(); }
  });
  list.addEventListener("mousedown", function (event) {
    var item = event.target.closest("[role=option]");
    if (item) { event.preventDefault(); choose(item); }
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
})();
