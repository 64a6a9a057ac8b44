// Live updates for the console, by polling (no library): the queue and a transcript
// re-render every few seconds, and a new urgent handoff raises a visible and audible alert.
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var HEADERS = { "X-Console-Poll": "1" };

  function poll(box, changed) {
    var url = box.getAttribute("data-poll");
    function tick() {
      fetch(url, { headers: HEADERS, credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 401) { window.location.reload(); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== box.innerHTML) {
            box.innerHTML = html;
            changed(box);
          }
        })
        .catch(function () { /* offline for a moment: the next tick tries again */ })
        .then(function () { window.setTimeout(tick, EVERY_MS); });
    }
    window.setTimeout(tick, EVERY_MS);
  }

  function urgentIds(box) {
    return Array.prototype.map.call(
      box.querySelectorAll('[data-urgent="1"]'), function (el) { return el.getAttribute("data-id"); });
  }

  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ctx = new Ctx(), osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.3);
    } catch (e) { /* no sound allowed yet: the visible alert still shows */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var queue = document.getElementById("queue");
    if (queue) {
      var known = urgentIds(queue);
      poll(queue, function (box) {
        var now = urgentIds(box);
        var fresh = now.filter(function (id) { return known.indexOf(id) < 0; });
        known = now;
        if (fresh.length) {
          var alert = document.getElementById("urgent-alert");
          alert.hidden = false;
          document.title = "(URGENT) " + document.title.replace(/^\(URGENT\) /, "");
          beep();
        }
      });
    }
    var transcript = document.getElementById("transcript");
    if (transcript) {
      var list = transcript.querySelector(".transcript");
      if (list) { list.scrollTop = list.scrollHeight; }
      poll(transcript, function (box) {
        var l = box.querySelector(".transcript");
        if (l) { l.scrollTop = l.scrollHeight; }
      });
    }
  });
})();
