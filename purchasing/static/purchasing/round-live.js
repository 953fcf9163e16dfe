// A purchasing round's live figures: every data-poll-seconds the fragment at data-live-url (the
// same include the page was rendered with) replaces the box's contents, so the total committed,
// the tier, the prices, the time left and the chart move without a reload. Only a changed fragment
// is swapped in; the summary sentence is announced politely when the total or the tier changes.
// Without scripts the page shows the figures as of its loading. Stops when the round closes.
(function () {
  "use strict";
  var box = document.getElementById("round-live");
  if (!box || !window.fetch) { return; }
  var seconds = parseInt(box.getAttribute("data-poll-seconds"), 10);
  if (!seconds) { return; }
  var url = box.getAttribute("data-live-url");
  var status = document.createElement("p");
  status.className = "nhsuk-u-visually-hidden";
  status.setAttribute("aria-live", "polite");
  status.id = "round-live-status";
  box.parentNode.insertBefore(status, box.nextSibling);
  var last = box.innerHTML;

  function summary() {
    var line = box.querySelector("#live-summary");
    return line ? line.textContent.trim() : "";
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        if (html !== last) {
          var before = summary();
          box.innerHTML = html;
          last = box.innerHTML;
          var after = summary();
          if (after && after !== before) { status.textContent = after; }
        }
        if (box.querySelector("[data-round-closed]")) { return; }
        setTimeout(poll, seconds * 1000);
      })
      .catch(function () { setTimeout(poll, seconds * 3000); });
  }
  setTimeout(poll, seconds * 1000);
})();
