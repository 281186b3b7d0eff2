/* The generation form keeps what was typed and points at what went wrong.
 *
 * - The address follows the chosen prompt version and generator (history.replaceState, no
 *   new history entry), so Back or a reload renders the same fields on the server; it also
 *   turns a refused POST's page into a GET one, so Back never re-posts the form.
 * - What was typed is kept in sessionStorage for this tab and put back when the page is
 *   reached again with Back/Forward (a page kept whole in the back-forward cache needs
 *   nothing). The version and generator selects are not restored: the address decides them.
 * - After a refused submit, focus moves to the first input with an error (opening the
 *   advanced fold if it is inside), else to the error summary.
 */
(function () {
  "use strict";
  var KEY = "assay.generate:" + location.pathname;
  var SKIP = { csrfmiddlewaretoken: true, prompt_version: true, generator: true };

  function theForm() { return document.querySelector("form.generation-form"); }

  function save() {
    var form = theForm();
    if (!form) { return; }
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "hidden" || el.type === "submit") { return; }
      values[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    try { sessionStorage.setItem(KEY, JSON.stringify(values)); } catch (e) { /* full or off */ }
  }

  function cameBack() {
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    return Boolean(nav && nav.type === "back_forward");
  }

  function restore() {
    var form = theForm();
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { saved = null; }
    if (!form || !saved) { return; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "hidden" || !(el.name in saved)) { return; }
      if (el.type === "checkbox") { el.checked = Boolean(saved[el.name]); } else { el.value = saved[el.name]; }
    });
  }

  function syncAddress() {
    var form = theForm();
    if (!form || !window.history.replaceState) { return; }
    var params = new URLSearchParams(location.search);
    params.delete("version");
    [["prompt_version", "prompt_version"], ["generator", "generator"],
     ["parent_asset", "parent_asset"], ["revision_of", "revise"]].forEach(function (pair) {
      var el = form.elements[pair[0]];
      if (el && el.value) { params.set(pair[1], el.value); } else { params.delete(pair[1]); }
    });
    history.replaceState(history.state, "", location.pathname + "?" + params.toString());
  }

  function focusFirstError() {
    var form = theForm();
    if (!form) { return; }
    var bad = form.querySelector(".has-error input:not([type=hidden]), .has-error select, .has-error textarea");
    if (bad) {
      var fold = bad.closest("details");
      if (fold) { fold.open = true; }
      bad.focus();
      return;
    }
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  }

  function start() {
    if (!theForm()) { return; }
    if (cameBack()) { restore(); }
    syncAddress();
    focusFirstError();
    document.addEventListener("input", save);
    document.addEventListener("change", save);
    theForm().addEventListener("submit", save);
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.target && event.target.id === "generation-fields") { syncAddress(); save(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
