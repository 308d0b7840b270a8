// The criteria builder without a round trip: "Add a condition" and "Remove condition N"
// change the rows in the page. Without this script the same buttons submit the form and
// the server answers with the rows changed; the field names are the same either way.
(function () {
  "use strict";
  var list = document.querySelector("[data-conditions]");
  var count = document.querySelector("[data-rows]");
  var add = document.querySelector("[data-add]");
  if (!list || !count || !add) return;
  var MAX = 20;

  function rows() { return list.querySelectorAll("[data-condition]"); }

  function renumber() {
    var all = rows();
    all.forEach(function (row, k) {
      row.querySelectorAll("[id],[name],[for],[aria-describedby]").forEach(function (el) {
        ["id", "name", "for", "aria-describedby"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) el.setAttribute(attr, v.replace(/\b([ce])-\d+-/g, "$1-" + k + "-"));
        });
      });
      row.querySelector("legend").textContent = "Condition " + (k + 1);
      var remove = row.querySelector("[data-remove]");
      if (remove) { remove.value = String(k); remove.textContent = "Remove condition " + (k + 1); }
    });
    count.value = String(all.length);
    add.hidden = all.length >= MAX;
  }

  function clear(row) {
    row.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
    row.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
    row.querySelectorAll("[aria-describedby]").forEach(function (e) {
      var kept = e.getAttribute("aria-describedby").split(" ").filter(function (id) { return !/^e-/.test(id); });
      if (kept.length) e.setAttribute("aria-describedby", kept.join(" ")); else e.removeAttribute("aria-describedby");
    });
    row.querySelectorAll("input").forEach(function (e) { e.value = ""; });
    row.querySelectorAll("select").forEach(function (e) { e.selectedIndex = 0; });
  }

  add.addEventListener("click", function (event) {
    event.preventDefault();
    var all = rows();
    if (all.length >= MAX) return;
    var row = all[all.length - 1].cloneNode(true);
    clear(row);
    list.appendChild(row);
    renumber();
    row.querySelector("select").focus();
  });

  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove]");
    if (!button) return;
    event.preventDefault();
    var row = button.closest("[data-condition]");
    var all = rows();
    var next = row.nextElementSibling || row.previousElementSibling;
    if (all.length > 1) row.remove(); else clear(row);
    renumber();
    (next && next.isConnected ? next : rows()[0]).querySelector("select").focus();
  });
})();
