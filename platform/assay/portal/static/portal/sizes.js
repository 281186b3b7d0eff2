/* Sizes that depend on data: progress bars and image finding regions.
 * The Content-Security-Policy forbids inline style attributes, so templates write the
 * numbers into data attributes and this script applies them through the CSSOM (which CSP
 * allows). It runs on page load and after every htmx swap, before the browser paints the
 * new content, so a polled progress bar never flashes back to zero. */
(function () {
  "use strict";
  var REGION_PART = /^(left|top|width|height):(\d{1,3}(?:\.\d+)?)%$/;

  function within(root, selector) {
    var found = Array.from(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) { found.push(root); }
    return found;
  }

  function size(root) {
    if (!root || !root.querySelectorAll) { return; }
    within(root, "[data-progress]").forEach(function (bar) {
      var value = Number(bar.dataset.progress);
      if (isFinite(value)) { bar.style.width = Math.max(0, Math.min(100, value)) + "%"; }
    });
    // "left:10.00%;top:5.00%;width:20.00%;height:50.00%", as the review page writes it.
    within(root, "[data-region]").forEach(function (box) {
      box.dataset.region.split(";").forEach(function (part) {
        var match = REGION_PART.exec(part.trim());
        if (match) { box.style[match[1]] = match[2] + "%"; }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { size(document); });
  } else {
    size(document);
  }
  document.addEventListener("htmx:afterSwap", function () { size(document); });
  document.addEventListener("htmx:load", function (event) { size(event.target); });
})();
