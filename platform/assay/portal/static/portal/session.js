/* When the session has ended (signed out in another tab, or expired), stop updating.
 * The server answers an htmx request whose session ended with a 401 and a small "Your
 * session ended. Sign in again" fragment (header X-Assay-Session: ended), retargeted to
 * the #session-ended slot this script keeps at the top of the page. htmx does not swap a
 * 401 by default; this lets that one through, into the slot only, and then cancels every
 * later htmx request, which stops the polling. No inline code: CSP allows none. */
(function () {
  "use strict";
  var ended = false;

  function slot() {
    var box = document.getElementById("session-ended");
    if (!box) {
      box = document.createElement("div");
      box.id = "session-ended";
      box.setAttribute("aria-live", "assertive");
      var main = document.getElementById("main");
      if (main) { main.insertBefore(box, main.firstChild); } else { document.body.prepend(box); }
    }
    return box;
  }

  function isSessionEnd(xhr) {
    return xhr && xhr.status === 401 && xhr.getResponseHeader("X-Assay-Session") === "ended";
  }

  function start() {
    slot();
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var detail = event.detail;
      if (!isSessionEnd(detail.xhr)) { return; }
      ended = true;
      var box = slot();
      if (detail.target === box) {
        detail.shouldSwap = true;  // htmx swaps the fragment into the slot, nowhere else
        detail.isError = false;
      } else {
        detail.shouldSwap = false;
        box.innerHTML = detail.xhr.responseText;
      }
      document.documentElement.dataset.session = "ended";
    });
    // Once ended, nothing more is asked of the server: polling stops here.
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (ended) { event.preventDefault(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
