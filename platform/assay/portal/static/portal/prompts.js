// The prompt form's "Add a variable" button: clones the formset's empty row.
(function () {
  "use strict";
  function addRow() {
    var total = document.getElementById("id_var-TOTAL_FORMS");
    var template = document.getElementById("variable-row-template");
    var rows = document.getElementById("variable-rows");
    if (!total || !template || !rows) { return; }
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var first = rows.lastElementChild && rows.lastElementChild.querySelector("input");
    if (first) { first.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("add-variable");
    if (button) { button.addEventListener("click", addRow); }
  });
})();
