/* Review page, audio and video: comment at the player's current time, and seek from a
 * comment's time.
 *
 * "Comment at the current time" pauses the player and writes its currentTime (seconds, to
 * a tenth) into the comment form's "At" input, then focuses the comment box; "Set until"
 * fills the end of a range. A comment's time link seeks the player there. The buttons are
 * hidden until this script runs: without JavaScript the times are typed by hand. Static
 * file only (the Content-Security-Policy forbids inline script). */
(function () {
  "use strict";
  var player = document.getElementById("media-player");
  if (!player) { return; }
  var now = document.getElementById("media-now");

  function clock(seconds) {
    var whole = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), s = whole % 60;
    var ss = (s < 10 ? "0" : "") + s;
    if (h) { return h + ":" + (m < 10 ? "0" : "") + m + ":" + ss; }
    return m + ":" + ss;
  }
  function tenth(seconds) { return String(Math.round((seconds || 0) * 10) / 10); }

  if (now) {
    player.addEventListener("timeupdate", function () {
      now.textContent = "at " + clock(player.currentTime);
    });
  }

  document.querySelectorAll("a.comment-time[data-seek]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var at = Number(link.dataset.seek);
      if (!isFinite(at)) { return; }
      event.preventDefault();
      player.currentTime = at;
      player.scrollIntoView({ block: "nearest" });
      player.focus();
    });
  });

  var start = document.getElementById("id_time_start");
  var end = document.getElementById("id_time_end");
  var body = document.getElementById("id_body");
  var atNow = document.getElementById("time-now");
  var untilNow = document.getElementById("time-until-now");
  var clear = document.getElementById("time-clear");
  if (!start || !end || !atNow) { return; }
  [atNow, untilNow, clear].forEach(function (b) { if (b) { b.hidden = false; } });

  atNow.addEventListener("click", function () {
    player.pause();
    start.value = tenth(player.currentTime);
    if (end.value && Number(end.value) <= Number(start.value)) { end.value = ""; }
    if (body) { body.focus(); }
  });
  if (untilNow) {
    untilNow.addEventListener("click", function () {
      player.pause();
      end.value = tenth(player.currentTime);
      if (!start.value) { start.value = "0"; }
    });
  }
  if (clear) {
    clear.addEventListener("click", function () { start.value = ""; end.value = ""; });
  }
})();
