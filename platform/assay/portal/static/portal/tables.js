/* Phone widths: tables reflow into one card per row (portal.css, "Phone widths"), so each
 * cell needs its column's name beside it. This copies every header's text into the cells
 * of its column as data-label, which the stylesheet shows with ::before. It runs on load
 * and on every htmx swap. A header that is only a visually hidden name ("Actions") gives
 * no label: its buttons speak for themselves. No inline code: CSP allows none. */
(function () {
  "use strict";

  function headerLabels(table) {
    var labels = [];
    var row = table.tHead && table.tHead.rows[0];
    if (!row) { return labels; }
    Array.from(row.cells).forEach(function (th) {
      var hidden = th.querySelector(".visually-hidden");
      var text = th.textContent.replace(/\s+/g, " ").trim();
      if (hidden && hidden.textContent.trim() === text) { text = ""; }
      for (var i = 0; i < (th.colSpan || 1); i += 1) { labels.push(text); }
    });
    return labels;
  }

  function label(root) {
    if (!root || !root.querySelectorAll) { return; }
    var tables = Array.from(root.querySelectorAll("table.table"));
    if (root.matches && root.matches("table.table")) { tables.push(root); }
    if (!tables.length && root.closest) {
      var parent = root.closest("table.table");
      if (parent) { tables.push(parent); }
    }
    tables.forEach(function (table) {
      var labels = headerLabels(table);
      if (!labels.length) { return; }
      Array.from(table.tBodies).forEach(function (body) {
        Array.from(body.rows).forEach(function (tr) {
          var column = 0;
          Array.from(tr.cells).forEach(function (cell) {
            var text = labels[column];
            if (text && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", text); }
            column += cell.colSpan || 1;
          });
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { label(document); });
  } else {
    label(document);
  }
  document.addEventListener("htmx:load", function (event) { label(event.target); });
})();
