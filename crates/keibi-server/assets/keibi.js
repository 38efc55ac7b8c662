// keibi dashboard: progressive enhancement only. Every page works without it.
//
// Live notice: a page rendered with data-mark (the overview, the findings list)
// listens to /events and, when findings changed after it was rendered, shows how
// many with a reload link. It never reloads by itself: a person's place, scroll
// and half-typed form stay as they are.
"use strict";
(function () {
  function start() {
    var body = document.body;
    var mark = body && body.getAttribute("data-mark");
    if (!mark || !window.EventSource || !/^-?[0-9]+$/.test(mark)) {
      return;
    }
    var box = document.getElementById("live");
    var count = document.getElementById("live-count");
    if (!box || !count) {
      return;
    }
    var template = count.getAttribute("data-text") || "%n";
    var source = new EventSource("/events?mark=" + encodeURIComponent(mark));
    source.addEventListener("changes", function (ev) {
      var n = parseInt(ev.data, 10);
      if (!(n > 0)) {
        return;
      }
      // textContent: the number is never parsed as HTML.
      count.textContent = template.replace("%n", String(n));
      box.hidden = false;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
