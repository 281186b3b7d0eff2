/* Review page: selecting text in the asset fills the comment form's "from"/"to" inputs.
 * Offsets count Unicode code points, as the server's Python strings do, and skip the
 * numbered finding markers that the page inserts into the text. Without JavaScript the
 * inputs are typed by hand. */
(function () {
  "use strict";
  var box = document.getElementById("asset-text");
  var start = document.getElementById("id_span_start");
  var end = document.getElementById("id_span_end");
  if (!box || !start || !end) { return; }

  function textBefore(container, offset) {
    var range = document.createRange();
    range.selectNodeContents(box);
    range.setEnd(container, offset);
    var part = range.cloneContents();
    part.querySelectorAll(".ev-marker").forEach(function (m) { m.remove(); });
    return Array.from(part.textContent).length;
  }

  // If the browser changed the text (e.g. line endings), offsets would be wrong: do nothing.
  if (textBefore(box, box.childNodes.length) !== Number(box.dataset.length)) { return; }

  function fill() {
    var sel = window.getSelection();
    if (!sel || !sel.rangeCount || sel.isCollapsed) { return; }
    var range = sel.getRangeAt(0);
    if (!box.contains(range.commonAncestorContainer)) { return; }
    var from = textBefore(range.startContainer, range.startOffset);
    var to = textBefore(range.endContainer, range.endOffset);
    if (to > from) { start.value = from; end.value = to; }
  }
  box.addEventListener("mouseup", fill);
  box.addEventListener("keyup", fill);
})();
