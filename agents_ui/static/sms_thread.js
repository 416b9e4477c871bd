/* One SMS conversation (templates/sms/thread.html), kept live: the page watches its ticket, and
 * a text that arrives, fails or changes state reloads the list of messages, drawn by the server
 * (so escaped there) and imported node by node. The view stays at the bottom if it was there. */
(function () {
  "use strict";

  var page = document.getElementById("sms-page");
  var live = window.HelpdeskLive;
  if (!page || !live) return;
  var ticketId = Number(page.getAttribute("data-ticket-id"));
  var url = page.getAttribute("data-fragment-url");
  var timer = null;

  function atBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
  }

  function refresh() {
    timer = null;
    var stay = atBottom();
    fetch(url, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var incoming = doc.getElementById("sms-messages");
        var current = document.getElementById("sms-messages");
        if (!incoming || !current) return;
        current.replaceWith(document.importNode(incoming, true));
        if (stay) window.scrollTo(0, document.body.scrollHeight);
      })
      .catch(function () { /* the next event or a reload will do */ });
  }

  function soon(payload) {
    if (payload && payload.ticket_id !== ticketId) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  }

  ["sms.received", "sms.failed", "sms.status", "ticket.comment"].forEach(function (name) {
    live.on(name, soon);
  });
  live.onConnect(function (again) {
    live.emit("watch", { kind: "ticket", id: ticketId });
    if (again) soon(null);
  });
})();
