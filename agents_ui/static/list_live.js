/* Live ticket lists: the ticket list and the SMS conversations follow their feeds (`watch` of
 * `feed:tickets`, `feed:sms`; see docs/realtime.md) and apply each event to the rows they show.
 *
 * An event names a ticket and carries its status, priority, assignee, requester and channel. A
 * ticket already on the page is always asked about (it may have changed or left the list); any
 * other only on the first page and only if those fields fit the page's filters (the page's
 * `data-live-list` says which). The server answers with the rows as the page draws them, for
 * those of the tickets that match all the filters (text, tag and group included), and the ids
 * of those that no longer do: rows are placed by the time the list is ordered by and shows
 * (`data-sort-at`), replaced, or removed. After a reconnection, the first page is asked for
 * again, since events are not replayed. Rows are server-rendered (escaped) HTML.
 */
(function () {
  "use strict";

  var live = window.HelpdeskLive;
  var table = document.querySelector("table[data-live-list]");
  if (!live || !table || !table.tBodies.length) return;
  var config = JSON.parse(table.getAttribute("data-live-list"));
  var feeds = (table.getAttribute("data-live-feed") || "").split(" ").filter(Boolean);
  var body = table.tBodies[0];
  var box = table.closest(".table-scroll") || table;
  var empty = document.querySelector("[data-live-empty]");
  var pending = {};
  var timer = null;
  var BATCH_MS = 250;

  function rowOf(id) { return body.querySelector('tr[data-ticket-id="' + id + '"]'); }

  function fits(p) {
    var f = config.filter || {};
    if (f.status && f.status.length && f.status.indexOf(p.status) < 0) return false;
    if (f.priority && f.priority.length && f.priority.indexOf(p.priority) < 0) return false;
    if (f.assignee === "none" && p.assignee_id !== null) return false;
    if (typeof f.assignee === "number" && p.assignee_id !== f.assignee) return false;
    if (typeof f.customer_id === "number" && p.customer_id !== f.customer_id) return false;
    if (f.channel && p.channel && p.channel !== f.channel) return false;
    return true;
  }

  function ask(id) {
    pending[id] = true;
    if (timer === null) timer = setTimeout(fetchRows, BATCH_MS);
  }

  function url(extra) {
    return config.rows_url + (config.rows_url.indexOf("?") < 0 ? "?" : "&") + extra;
  }

  function fetchRows() {
    timer = null;
    var ids = Object.keys(pending);
    pending = {};
    if (ids.length) live.getJSON(url("ids=" + ids.join(","))).then(apply).catch(function () {});
  }

  function parse(html) {
    var holder = document.createElement("tbody");
    holder.innerHTML = String(html).trim();
    return holder.firstElementChild;
  }

  /* -1 when row `a` comes before row `b` in the list's order. */
  function before(a, b) {
    var at = parseFloat(a.getAttribute("data-sort-at"));
    var bt = parseFloat(b.getAttribute("data-sort-at"));
    var aid = Number(a.getAttribute("data-ticket-id"));
    var bid = Number(b.getAttribute("data-ticket-id"));
    var first = at === bt ? aid > bid : at > bt; // newest first
    if (config.ascending) first = at === bt ? aid < bid : at < bt;
    return first;
  }

  function place(id, html) {
    var tr = parse(html);
    if (!tr) return;
    var old = rowOf(id);
    if (old) old.remove();
    var next = null;
    for (var i = 0; i < body.rows.length; i++) {
      if (before(tr, body.rows[i])) { next = body.rows[i]; break; }
    }
    // Past the last row of a full page, the ticket belongs to a later page.
    if (!next && config.full && body.rows.length) return;
    body.insertBefore(tr, next);
    if (!old) {
      announce(tr);
      tr.classList.add("is-new");
      setTimeout(function () { tr.classList.remove("is-new"); }, 4000);
    }
    if (window.HelpdeskSla) window.HelpdeskSla.adopt(tr);
  }

  /* Screen readers hear what arrived (the page's `data-live-said` region, polite). */
  function announce(tr) {
    var said = document.querySelector("[data-live-said]");
    var link = tr.querySelector(".row-link");
    if (!said || !link) return;
    said.textContent = String(said.getAttribute("data-template") || "{what}")
      .replace("{what}", link.textContent);
  }

  function settle() {
    var any = body.rows.length > 0;
    box.hidden = !any;
    if (empty) empty.hidden = any;
  }

  function apply(data) {
    (data.gone || []).forEach(function (id) {
      var tr = rowOf(id);
      if (tr) tr.remove();
    });
    var rows = data.rows || {};
    Object.keys(rows).forEach(function (id) { place(id, rows[id]); });
    settle();
  }

  /* The whole first page again (after a reconnection): events missed are not replayed. */
  function reloadFirstPage() {
    live.getJSON(url("page=first")).then(function (data) {
      var rows = data.rows || {};
      body.textContent = "";
      (data.order || []).forEach(function (id) {
        var tr = parse(rows[id]);
        if (tr) body.appendChild(tr);
      });
      if (window.HelpdeskSla) window.HelpdeskSla.adopt(body);
      settle();
    }).catch(function () {});
  }

  function onTicket(p) {
    if (!p || typeof p.ticket_id !== "number") return;
    if (rowOf(p.ticket_id) || (config.first_page && fits(p))) ask(p.ticket_id);
  }

  /* Texts name their conversation's ticket but not its fields: the server decides. */
  function onText(p) {
    if (!p || typeof p.ticket_id !== "number") return;
    if (rowOf(p.ticket_id) || config.first_page) ask(p.ticket_id);
  }

  ["ticket.created", "ticket.updated", "ticket.comment"].forEach(function (name) {
    live.on(name, onTicket);
  });
  if (feeds.indexOf("sms") >= 0) {
    live.on("sms.received", onText);
    live.on("sms.failed", onText);
  }
  live.onConnect(function (again) {
    var waiting = feeds.length;
    table.removeAttribute("data-live-following");
    feeds.forEach(function (feed) {
      live.emit("watch", { kind: "feed", id: feed }, function () {
        waiting -= 1;
        // Followed from now on: what changes next reaches this page.
        if (waiting === 0) table.setAttribute("data-live-following", "");
      });
    });
    if (again && config.first_page) reloadFirstPage();
  });
})();
