/* Live service levels on every console page.
 *
 * - Badges (`[data-sla-ticket]` with `data-sla-clocks`) and the ticket page's clock table count
 *   down in BUSINESS time: a running clock's time left is the overlap of [now, due_at] with the
 *   open periods the server sends with it, so the countdown stops at closing time, over the
 *   weekend and while the ticket waits on the customer (a paused clock does not run at all).
 * - `sla.updated` re-renders a ticket's badges from the clocks it carries; `sla.alert` shows a
 *   notification (announced through an aria-live region) and refreshes the at-risk list.
 * - After a lost connection the clocks are reloaded from /sla/clocks; overdue times, which no
 *   open period describes, are reloaded once a minute.
 * - The connection itself is static/live.js, which the page loads first.
 *
 * The wording and the choice of the most urgent clock mirror agents_ui/sla_display.py, which
 * renders the same badges on the server for pages seen without JavaScript. No markup is built
 * from strings: every text goes through textContent.
 */
(function () {
  "use strict";

  var MAX_PERIODS = 60; // helpdesk.sla.service.MAX_SCHEDULE: a full list may end before due_at
  var PRECISE_BELOW = 3600; // seconds left under which the countdown shows seconds
  var TICK_MS = 1000;
  var OVERDUE_REFRESH_MS = 60000;
  var LIST_REFRESH_MS = 60000;
  var LIST_SETTLE_MS = 3000;
  var MAX_ALERTS = 5;
  var SNAPSHOT_MAX = 100;

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  }

  var strings = {};
  try { strings = JSON.parse(meta("helpdesk-sla-strings") || "{}"); } catch (e) { strings = {}; }
  var serverNow = Date.parse(meta("helpdesk-now") || "");
  // The server's clock decides what is due; follow it rather than the workstation's.
  var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
  var timezone = meta("helpdesk-timezone") || undefined;
  var lang = document.documentElement.lang || "en";

  var atRiskList = document.getElementById("at-risk-list");

  function now() { return Date.now() + skew; }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function duration(seconds, precise) {
    var total = Math.floor(Math.abs(seconds));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = total % 60;
    if (hours) {
      var text = fill(strings.h, { n: hours });
      return minutes ? text + " " + fill(strings.min, { n: minutes }) : text;
    }
    if (precise) {
      return minutes ? fill(strings.min, { n: minutes }) + " " + fill(strings.s, { n: secs })
        : fill(strings.s, { n: secs });
    }
    return minutes ? fill(strings.min, { n: minutes }) : strings.under_a_minute;
  }

  function metricName(c) {
    var name = (strings.metric || {})[c.metric] || c.metric;
    if (c.metric === "next_response" && (c.cycle || 1) > 1) name += " (" + c.cycle + ")";
    return name;
  }

  // -- clocks ---------------------------------------------------------------------------------

  function prepare(c, anchor) {
    c._anchor = anchor;
    c._due = c.due_at ? Date.parse(c.due_at) : NaN;
    c._risk = c.at_risk_at ? Date.parse(c.at_risk_at) : NaN;
    c._periods = (c.open_periods || []).map(function (p) {
      return [Date.parse(p[0]), Date.parse(p[1])];
    });
    return c;
  }

  function overlap(from, to, periods) {
    var ms = 0;
    for (var i = 0; i < periods.length; i++) {
      var s = Math.max(from, periods[i][0]);
      var e = Math.min(to, periods[i][1]);
      if (e > s) ms += e - s;
    }
    return ms / 1000;
  }

  /* Business seconds left at instant t. Without open periods (paused, stopped, already late, or
   * no calendar) the server's figure stands until the next update. */
  function remaining(c, t) {
    if (!c.running || isNaN(c._due) || !c._periods.length) return c.remaining_seconds;
    if (c._periods.length < MAX_PERIODS) return overlap(t, c._due, c._periods);
    return c.remaining_seconds - overlap(c._anchor, t, c._periods);
  }

  function isOpen(c) { return c.stopped_at == null && c.state !== "cancelled"; }

  function live(c, t) {
    var left = remaining(c, t);
    var state = c.state;
    if (c.running) {
      if (state === "breached" || left <= 0) state = "breached";
      else if (state === "at_risk" || (!isNaN(c._risk) && t >= c._risk)) state = "at_risk";
      else state = "running";
    }
    return { clock: c, left: left, state: state };
  }

  function least(views) {
    return views.reduce(function (a, b) { return b.left < a.left ? b : a; });
  }

  function mostUrgent(clocks, t) {
    var views = clocks.map(function (c) { return live(c, t); });
    var running = views.filter(function (v) { return v.clock.running; });
    if (running.length) return least(running);
    var waiting = views.filter(function (v) { return isOpen(v.clock); });
    if (waiting.length) return least(waiting);
    var missed = views.filter(function (v) { return v.clock.state === "breached"; });
    if (missed.length) return missed[missed.length - 1];
    var met = views.filter(function (v) { return v.clock.state === "met"; });
    return met.length ? met[met.length - 1] : null;
  }

  function badgeFor(v) {
    var c = v.clock;
    var words = { metric: metricName(c), time: duration(v.left, false) };
    if (c.running) {
      if (v.state === "breached") return { state: "breached", text: fill(strings.overdue, words) };
      words.time = duration(v.left, v.left < PRECISE_BELOW);
      return { state: v.state, text: fill(strings["in"], words) };
    }
    if (isOpen(c)) {
      if (c.state === "breached" || v.left <= 0) {
        return { state: "breached", text: fill(strings.overdue_paused, words) };
      }
      return { state: "paused", text: strings.paused };
    }
    if (c.state === "breached") return { state: "breached", text: fill(strings.missed, words) };
    return { state: "met", text: strings.met };
  }

  // -- rendering ------------------------------------------------------------------------------

  var store = {}; // ticket id -> its clocks, as last rendered or received

  function collect(root) {
    var t = now();
    Array.prototype.forEach.call(root.querySelectorAll("[data-sla-clocks]"), function (el) {
      var id = el.getAttribute("data-sla-ticket");
      try {
        store[id] = JSON.parse(el.getAttribute("data-sla-clocks")).map(function (c) {
          return prepare(c, t);
        });
      } catch (e) { /* a malformed attribute leaves the server's text in place */ }
    });
  }

  function setText(el, text) { if (el.textContent !== text) el.textContent = text; }
  function setClass(el, name) { if (el.className !== name) el.className = name; }

  function renderBadge(el, clocks, t) {
    var only = el.getAttribute("data-sla-only");
    var followed = only ? clocks.filter(function (c) { return c.metric + ":" + c.cycle === only; })
      : clocks;
    var v = followed.length ? mostUrgent(followed, t) : null;
    var b = v ? badgeFor(v) : null;
    var span = el.firstElementChild;
    if (!b) {
      if (el.hasAttribute("data-sla-quiet")) {
        el.textContent = "";
        return;
      }
      if (!span || !span.classList.contains("muted")) {
        el.textContent = "";
        span = document.createElement("span");
        span.className = "muted";
        span.textContent = "—";
        el.appendChild(span);
      }
      return;
    }
    if (!span || !span.classList.contains("sla-badge")) {
      el.textContent = "";
      span = document.createElement("span");
      el.appendChild(span);
    }
    setClass(span, "badge sla-badge sla-" + b.state);
    setText(span, b.text);
  }

  var dueFormat = null;
  var dueTitle = null;
  try {
    // The same short form the server renders (Babel's "short"), in the agent's time zone.
    dueFormat = new Intl.DateTimeFormat(lang,
      { timeZone: timezone, dateStyle: "short", timeStyle: "short" });
    dueTitle = new Intl.DateTimeFormat(lang,
      { timeZone: timezone, dateStyle: "full", timeStyle: "long" });
  } catch (e) { dueFormat = dueTitle = null; }

  function rowRemaining(c, v) {
    if (c.running) {
      return v.state === "breached" ? fill(strings.row_overdue, { time: duration(v.left, false) })
        : duration(v.left, v.left < PRECISE_BELOW);
    }
    if (isOpen(c)) {
      return v.left <= 0 ? fill(strings.row_overdue, { time: duration(v.left, false) })
        : fill(strings.row_left, { time: duration(v.left, false) });
    }
    if (c.state === "met") {
      return fill(strings.row_met, { time: duration(c.elapsed_seconds || 0, false) });
    }
    if (c.state === "breached") return fill(strings.row_overdue, { time: duration(v.left, false) });
    return "—";
  }

  function buildRow(key) {
    var row = document.createElement("tr");
    row.setAttribute("data-sla-clock", key);
    var head = document.createElement("th");
    head.scope = "row";
    row.appendChild(head);
    for (var i = 0; i < 4; i++) row.appendChild(document.createElement("td"));
    row.cells[2].appendChild(document.createElement("span"));
    row.cells[3].className = "nowrap";
    row.cells[4].className = "nowrap sla-remaining";
    return row;
  }

  function renderDue(cell, c) {
    // A late clock that was paused and resumed is due "now": say when it became late.
    var iso = c.running ? (c.breached_at || c.due_at || "") : "";
    var shown = cell.querySelector("time");
    var current = shown ? shown.getAttribute("datetime") : "";
    if (current === iso && (iso || cell.textContent === "—")) return;
    cell.textContent = "";
    if (!iso || !dueFormat) { cell.textContent = iso && !dueFormat ? iso : "—"; return; }
    var time = document.createElement("time");
    time.setAttribute("datetime", iso);
    time.title = dueTitle.format(new Date(iso));
    time.textContent = dueFormat.format(new Date(iso));
    cell.appendChild(time);
  }

  function renderTable(table, clocks, t) {
    var body = table.tBodies[0];
    var keys = clocks.map(function (c) { return c.metric + ":" + c.cycle; });
    var shown = Array.prototype.map.call(body.rows, function (r) {
      return r.getAttribute("data-sla-clock");
    });
    if (keys.join(",") !== shown.join(",")) {
      body.textContent = "";
      keys.forEach(function (key) { body.appendChild(buildRow(key)); });
    }
    table.hidden = !clocks.length;
    var empty = table.parentNode.querySelector("[data-sla-empty]");
    if (empty) empty.hidden = !!clocks.length;
    clocks.forEach(function (c, i) {
      var row = body.rows[i];
      var v = live(c, t);
      var state = c.running ? v.state : c.state;
      setText(row.cells[0], metricName(c));
      setText(row.cells[1], duration(c.target_seconds || 0, false));
      var badge = row.cells[2].firstElementChild ||
        row.cells[2].appendChild(document.createElement("span"));
      setClass(badge, "badge sla-badge sla-" + state);
      setText(badge, (strings.state || {})[state] || state);
      renderDue(row.cells[3], c);
      setText(row.cells[4], rowRemaining(c, v));
    });
  }

  function renderTicket(id, t) {
    var clocks = store[id];
    if (!clocks) return;
    t = t || now();
    var shown = document.querySelectorAll('[data-sla-ticket="' + id + '"]');
    Array.prototype.forEach.call(shown, function (el) {
      if (el.hasAttribute("data-sla-table")) renderTable(el, clocks, t);
      else renderBadge(el, clocks, t);
    });
  }

  function renderAll() {
    if (document.hidden) return;
    var t = now();
    Object.keys(store).forEach(function (id) { renderTicket(id, t); });
  }

  // -- fresh data from the server -------------------------------------------------------------

  function getJSON(url) { return window.HelpdeskLive.getJSON(url); }

  function reloadClocks(ids) {
    var url = meta("helpdesk-clocks-url");
    ids = (ids || Object.keys(store)).slice(0, SNAPSHOT_MAX);
    if (!url || !ids.length) return;
    var query = ids.map(function (id) { return "ticket=" + encodeURIComponent(id); }).join("&");
    getJSON(url + "?" + query).then(function (data) {
      var t = now();
      Object.keys(data.clocks || {}).forEach(function (id) {
        if (!store[id]) return;
        store[id] = data.clocks[id].map(function (c) { return prepare(c, t); });
        renderTicket(id, t);
      });
    }).catch(function () { /* the next update or reload will do */ });
  }

  function reloadOverdue() {
    // The at-risk list reloads itself, overdue times included.
    if (document.hidden || atRiskList) return;
    var t = now();
    var late = Object.keys(store).filter(function (id) {
      return store[id].some(function (c) { return c.running && live(c, t).state === "breached"; });
    });
    if (late.length) reloadClocks(late);
  }

  function merge(current, incoming) {
    var t = now();
    incoming.forEach(function (c) {
      prepare(c, t);
      var key = c.metric + ":" + c.cycle;
      var index = current.findIndex(function (x) { return x.metric + ":" + x.cycle === key; });
      if (index === -1) current.push(c);
      else current[index] = c;
    });
  }

  // -- the at-risk list ----------------------------------------------------------------------

  var listTimer = null;

  function refreshList() {
    if (!atRiskList) return;
    clearTimeout(listTimer);
    listTimer = null;
    fetch(atRiskList.getAttribute("data-refresh-url"), { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok || r.redirected) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        var active = document.activeElement;
        var focused = active && atRiskList.contains(active) ? active.getAttribute("href") : null;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var nodes = Array.prototype.map.call(doc.body.childNodes, function (n) {
          return document.importNode(n, true);
        });
        atRiskList.replaceChildren.apply(atRiskList, nodes);
        collect(atRiskList);
        renderAll();
        if (focused) {
          // Keep the keyboard where it was: the same ticket's link, or the list itself.
          var links = atRiskList.querySelectorAll("a[href]");
          var again = Array.prototype.find.call(links, function (a) {
            return a.getAttribute("href") === focused;
          });
          if (!again) atRiskList.setAttribute("tabindex", "-1");
          (again || atRiskList).focus();
        }
      })
      .catch(function () { /* keep the list shown; the next refresh will try again */ });
  }

  function refreshListSoon() {
    if (atRiskList && !listTimer) listTimer = setTimeout(refreshList, LIST_SETTLE_MS);
  }

  // -- live events ----------------------------------------------------------------------------

  function onUpdated(payload) {
    if (!payload || !Array.isArray(payload.clocks)) return;
    var id = String(payload.ticket_id);
    if (store[id]) {
      merge(store[id], payload.clocks);
      renderTicket(id);
    }
    refreshListSoon();
  }

  var seenAlerts = {};

  function ticketUrl(id) {
    var base = meta("helpdesk-ticket-url") || "/tickets/0";
    return base.replace(/0$/, String(id));
  }

  function dismiss(item) {
    var next = item.nextElementSibling || item.previousElementSibling;
    var hadFocus = item.contains(document.activeElement);
    item.remove();
    if (hadFocus) {
      var button = next && next.querySelector("button");
      if (button) button.focus();
      else document.getElementById("main").focus();
    }
  }

  function showAlert(payload) {
    var region = document.getElementById("live-alerts");
    if (!region) return;
    var breached = payload.trigger === "breached";
    var item = document.createElement("div");
    item.className = "live-alert live-alert-" + (breached ? "breached" : "at_risk");
    var text = document.createElement("p");
    var title = document.createElement("strong");
    title.textContent = fill(strings.alert, {
      reference: payload.reference || "",
      metric: metricName({ metric: payload.metric }),
      trigger: breached ? strings.alert_breached : strings.alert_at_risk
    });
    text.appendChild(title);
    if (payload.subject) {
      var subject = document.createElement("span");
      subject.className = "live-alert-subject";
      subject.textContent = payload.subject;
      text.appendChild(document.createTextNode(" "));
      text.appendChild(subject);
    }
    item.appendChild(text);
    var actions = document.createElement("p");
    actions.className = "live-alert-actions";
    var link = document.createElement("a");
    link.href = ticketUrl(payload.ticket_id);
    link.textContent = strings.open_ticket;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-quiet";
    button.textContent = strings.dismiss;
    button.setAttribute("aria-label", strings.dismiss + " " + (payload.reference || ""));
    button.addEventListener("click", function () { dismiss(item); });
    actions.appendChild(link);
    actions.appendChild(button);
    item.appendChild(actions);
    region.appendChild(item);
    while (region.children.length > MAX_ALERTS) region.removeChild(region.firstElementChild);
  }

  function onAlert(payload) {
    if (!payload || !payload.ticket_id) return;
    // Someone both assigned and a supervisor hears it in two rooms: show it once.
    var key = [payload.ticket_id, payload.metric, payload.trigger, payload.due_at].join("|");
    if (seenAlerts[key]) return;
    seenAlerts[key] = true;
    showAlert(payload);
    refreshList();
  }

  var connection = window.HelpdeskLive;
  var followed = {};

  /* Changes reach a page only for what it follows: each ticket whose badge it shows (without
   * counting the reader among the ticket's viewers) and, on the at-risk list, every ticket. */
  function follow(all) {
    if (!connection) return;
    if (all) followed = {};
    var ids = Object.keys(store).filter(function (id) {
      return !followed[id] && /^[0-9]+$/.test(id);
    });
    ids.forEach(function (id) { followed[id] = true; });
    var asked = [];
    // One request for all of them (the server takes up to 200 at a time).
    for (var i = 0; i < ids.length; i += 200) {
      asked.push({ kind: "ticket", ids: ids.slice(i, i + 200).map(Number), presence: false });
    }
    if (all && atRiskList) asked.push({ kind: "feed", id: "sla" });
    // <html data-sla-live="on"> once the server has answered every one of them.
    var waiting = asked.length;
    if (all) document.documentElement.setAttribute("data-sla-live", waiting ? "joining" : "on");
    asked.forEach(function (target) {
      connection.emit("watch", target, function () {
        waiting -= 1;
        if (all && waiting === 0) document.documentElement.setAttribute("data-sla-live", "on");
      });
    });
  }

  collect(document);
  // Badges drawn later by another script (the caller screen in the phone panel) join in.
  window.HelpdeskSla = {
    adopt: function (root) { collect(root); follow(false); renderAll(); }
  };
  renderAll();
  setInterval(renderAll, TICK_MS);
  setInterval(reloadOverdue, OVERDUE_REFRESH_MS);
  if (atRiskList) {
    setInterval(function () { if (!document.hidden) refreshList(); }, LIST_REFRESH_MS);
  }
  document.addEventListener("visibilitychange", renderAll);

  if (connection) {
    connection.on("sla.updated", onUpdated);
    connection.on("sla.alert", onAlert);
    // A new connection is in no room yet: follow again, then catch up on what was missed.
    connection.onConnect(function (again) { follow(true); if (again) reloadClocks(); });
  }
})();
