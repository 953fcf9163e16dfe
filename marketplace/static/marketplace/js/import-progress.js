// Progress of an upload that is still being checked or applied, on every upload page.
// Markup: an element with data-import-status-url (the JSON status endpoint answering
// {finished, percent, processed, total, status, status_display}), holding a <progress> element
// [data-import-progress] and a text element [data-import-progress-text]. When the import finishes
// the page reloads to show its outcome. Without scripts, the page's <noscript> refresh does this.
(function () {
  var box = document.querySelector("[data-import-status-url]");
  if (!box) { return; }
  var bar = box.querySelector("[data-import-progress]");
  var text = box.querySelector("[data-import-progress-text]");
  var label = box.querySelector("[data-import-status-label]");
  function describe(s) {
    if (s.status === "applying") { return "All rows checked; importing…"; }
    if (s.total) {
      return "Checked " + s.processed.toLocaleString("en-GB") + " of " + s.total.toLocaleString("en-GB") + " rows…";
    }
    return "Waiting to start…";
  }
  function poll() {
    fetch(box.dataset.importStatusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.finished) { window.location.reload(); return; }
        if (bar) { bar.value = s.percent; }
        if (text) { text.textContent = describe(s); }
        if (label && s.status_display) { label.textContent = s.status_display; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
