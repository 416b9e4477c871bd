/* The ticket page as a shared workspace: the page watches its ticket (the server puts it in the
 * ticket's room), lists the other staff who have it open (`ticket.viewers`), and says so when
 * someone else changes it or writes on it (`ticket.updated`, `ticket.comment`), with a link to
 * reload: what the agent is typing is never thrown away by a refresh they did not ask for.
 * A public reply's delivery state (`ticket.delivery`) is updated in place. Names are set as
 * text. */
(function () {
  "use strict";

  var box = document.getElementById("ticket-live");
  var live = window.HelpdeskLive;
  if (!box || !live) return;
  var ticketId = Number(box.getAttribute("data-ticket-id"));
  var me = Number(box.getAttribute("data-me"));
  var viewersEl = document.getElementById("ticket-viewers");
  var changedEl = document.getElementById("ticket-changed");
  var names = {}; // staff id -> name, from the viewers list

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function onViewers(payload) {
    if (!payload || payload.ticket_id !== ticketId) return;
    var others = (payload.viewers || []).filter(function (v) { return v.id !== me; });
    var seen = {};
    var shown = [];
    (payload.viewers || []).forEach(function (v) { names[v.id] = v.name; });
    others.forEach(function (v) {
      if (seen[v.id]) return; // the same person in two tabs
      seen[v.id] = true;
      shown.push(String(v.name));
    });
    viewersEl.textContent = shown.length
      ? fill(box.getAttribute("data-viewing"), { names: shown.join(", ") }) : "";
    viewersEl.hidden = !shown.length;
  }

  function onChange(kind) {
    return function (payload) {
      if (!payload || payload.ticket_id !== ticketId) return;
      if (payload.actor_id === me) return; // my own change: the page already shows it
      var who = (payload.actor_id && names[payload.actor_id]) || box.getAttribute("data-someone");
      var text = payload.from_customer ? box.getAttribute("data-customer-wrote")
        : fill(box.getAttribute(kind), { name: who });
      changedEl.querySelector("[data-field=text]").textContent = text;
      changedEl.hidden = false;
    };
  }

  // Only the states the page has a label for (data-delivery-<status> on the box) are shown; a
  // reply that reached a channel's simulator (data-delivery-simulated-<channel>) is never "sent".
  function onDelivery(payload) {
    if (!payload || payload.ticket_id !== ticketId) return;
    var label = box.getAttribute("data-delivery-" + String(payload.status));
    if (payload.status === "sent" || payload.status === "delivered") {
      label = box.getAttribute("data-delivery-simulated-" + String(payload.channel)) || label;
    }
    var shown = document.querySelector('[data-delivery="' + Number(payload.comment_id) + '"]');
    var badge = shown && shown.querySelector("[data-delivery-status]");
    if (!label || !badge) return;
    badge.className = "badge delivery-" + String(payload.status);
    badge.textContent = label;
  }

  live.on("ticket.viewers", onViewers);
  live.on("ticket.delivery", onDelivery);
  live.on("ticket.updated", onChange("data-changed"));
  live.on("ticket.comment", onChange("data-commented"));
  live.onConnect(function () { live.emit("watch", { kind: "ticket", id: ticketId }); });
})();
