/* Live counts of the saved views in the ticket list's menu.
 *
 * A ticket event (created, changed) may change any view's count, but the page never counts by
 * itself: it asks the server again, once for all the events of a short while (the server counts
 * every view in one query), and once after a reconnection, since missed events are not replayed.
 * The ticket feed is followed with `watch` (see docs/realtime.md).
 */
(function () {
  "use strict";

  var live = window.HelpdeskLive;
  var menu = document.querySelector("[data-view-counts]");
  if (!live || !menu || !menu.querySelector("[data-view-count]")) return;
  var countsUrl = menu.getAttribute("data-view-counts");
  var WAIT_MS = 1000;
  var timer = null;

  function show(data) {
    var counts = (data && data.counts) || {};
    menu.querySelectorAll("[data-view-count]").forEach(function (el) {
      var id = el.getAttribute("data-view-count");
      if (Object.prototype.hasOwnProperty.call(counts, id)) el.textContent = String(counts[id]);
    });
    menu.setAttribute("data-counted", String(Date.now()));
  }

  function refresh() {
    timer = null;
    live.getJSON(countsUrl).then(show).catch(function () {});
  }

  /* Many events in a burst make one request, at most one a second. */
  function soon() {
    if (timer === null) timer = setTimeout(refresh, WAIT_MS);
  }

  ["ticket.created", "ticket.updated"].forEach(function (name) { live.on(name, soon); });
  live.onConnect(function (again) {
    live.emit("watch", { kind: "feed", id: "tickets" }, function () {
      menu.setAttribute("data-live-following", "");
    });
    if (again) soon();
  });
})();
