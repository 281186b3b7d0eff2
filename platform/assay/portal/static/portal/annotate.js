/* Review page, image assets: drag a rectangle on the image to mark an area, then comment.
 *
 * The rectangle is converted from screen pixels to the image's own pixels (the frame's
 * data-width / data-height, the stored size the server checks regions against), written
 * into the comment form's region inputs, and the comment box gets the focus. Typing in the
 * inputs moves the drawn box too. The Content-Security-Policy forbids inline style
 * attributes, not the CSSOM, so the box is placed by setting element.style here. Without
 * JavaScript the inputs are typed by hand. */
(function () {
  "use strict";
  var frame = document.getElementById("image-frame");
  var form = document.getElementById("comment-form");
  if (!frame || !form) { return; }
  var img = frame.querySelector("img");
  var width = Number(frame.dataset.width), height = Number(frame.dataset.height);
  var inputs = ["x", "y", "w", "h"].map(function (k) { return document.getElementById("id_region_" + k); });
  var body = document.getElementById("id_body");
  var summary = document.getElementById("region-summary");
  var clear = document.getElementById("region-clear");
  if (!img || !width || !height || inputs.some(function (i) { return !i; })) { return; }

  var draft = document.createElement("span");
  draft.className = "region-box region-draft";
  draft.setAttribute("aria-hidden", "true");
  draft.hidden = true;
  frame.appendChild(draft);
  frame.classList.add("annotatable");

  var start = null;

  function clamp(value, low, high) { return Math.max(low, Math.min(high, value)); }

  /* A pointer position as image pixels, kept inside the image. */
  function toImage(event) {
    var box = img.getBoundingClientRect();
    return {
      x: clamp(Math.round((event.clientX - box.left) * width / box.width), 0, width),
      y: clamp(Math.round((event.clientY - box.top) * height / box.height), 0, height)
    };
  }

  function show(region) {
    if (!region || region.w <= 0 || region.h <= 0) { draft.hidden = true; return; }
    draft.hidden = false;
    draft.style.left = (100 * region.x / width) + "%";
    draft.style.top = (100 * region.y / height) + "%";
    draft.style.width = (100 * region.w / width) + "%";
    draft.style.height = (100 * region.h / height) + "%";
  }

  function between(a, b) {
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y),
             w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
  }

  function describe(region) {
    if (!summary) { return; }
    summary.textContent = region
      ? "Area marked: " + region.w + "×" + region.h + " pixels, " + region.x + " from the left and " + region.y + " from the top. Now write your comment."
      : "No area marked.";
  }

  function fill(region) {
    inputs[0].value = region.x; inputs[1].value = region.y;
    inputs[2].value = region.w; inputs[3].value = region.h;
    describe(region);
  }

  function typed() {
    var v = inputs.map(function (i) { return i.value === "" ? NaN : Number(i.value); });
    if (v.some(function (n) { return !isFinite(n); })) { return null; }
    return { x: v[0], y: v[1], w: v[2], h: v[3] };
  }

  img.addEventListener("dragstart", function (event) { event.preventDefault(); });
  // Pointer events: a mouse, a pen or a finger draws the same way.
  frame.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) { return; }
    event.preventDefault();  // no text selection or image drag while drawing
    start = toImage(event);
    show(null);
  });
  document.addEventListener("pointermove", function (event) {
    if (start) { show(between(start, toImage(event))); }
  });
  document.addEventListener("pointerup", function (event) {
    if (!start) { return; }
    var region = between(start, toImage(event));
    start = null;
    if (region.w < 2 || region.h < 2) { show(typed()); return; }  // a click, not a drag
    show(region);
    fill(region);
    if (body) { body.focus(); }
  });
  document.addEventListener("pointercancel", function () { start = null; show(typed()); });
  inputs.forEach(function (input) {
    input.addEventListener("input", function () { var r = typed(); show(r); describe(r); });
  });
  if (clear) {
    clear.addEventListener("click", function () {
      inputs.forEach(function (i) { i.value = ""; });
      show(null);
      describe(null);
    });
  }
  show(typed());  // a refused comment keeps what was typed: draw it again
})();
