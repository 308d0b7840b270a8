// Scoring weights: while a preview job runs, fetch its page every few seconds and swap in the
// preview section once it is ready (the page works without this: its Refresh link does the same).
(function () {
  "use strict";
  var DELAY_MS = 2000;
  var MAX_TRIES = 150;
  var tries = 0;

  function poll() {
    tries += 1;
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("preview");
        var section = document.getElementById("preview");
        if (!fresh || !section) return;
        if (fresh.querySelector("[data-preview-running]")) {
          section.querySelector("[data-preview-running]").textContent =
            fresh.querySelector("[data-preview-running]").textContent;
          if (tries < MAX_TRIES) window.setTimeout(poll, DELAY_MS);
          return;
        }
        section.replaceWith(fresh);
        var title = document.getElementById("preview-title");
        if (title) { title.setAttribute("tabindex", "-1"); title.focus(); }
      })
      .catch(function () { if (tries < MAX_TRIES) window.setTimeout(poll, DELAY_MS); });
  }

  if (document.querySelector("[data-preview-running]")) window.setTimeout(poll, DELAY_MS);
})();
