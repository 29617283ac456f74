// axes admin: progressive enhancement only. Everything works without it.
// Adds a "select all" checkbox to tables that have row checkboxes.
(function () {
  "use strict";
  document.querySelectorAll("form#selection table").forEach(function (table) {
    var boxes = table.querySelectorAll("tbody input[type=checkbox][name=id]");
    var head = table.querySelector("thead th.select");
    if (!boxes.length || !head) return;
    var all = document.createElement("input");
    all.type = "checkbox";
    all.setAttribute("aria-label", "Select all rows on this page");
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
    });
    head.textContent = "";
    head.appendChild(all);
  });
})();
