/* The wallboard: live figures per queue and agent, alerts, the intraday chart and supervisors'
 * actions.
 *
 * The page is rendered complete by the server; this script keeps it current. `wallboard.queue`,
 * `wallboard.agent` and `wallboard.alert` events (room `supervisors`, see docs/realtime.md)
 * update the tiles at once; the lists and the chart are reloaded from /wallboard/snapshot at
 * most every few seconds while events arrive, and after every reconnection. Everything shown is
 * set with textContent: caller numbers and names never become markup.
 */
(function () {
  "use strict";

  var root = document.getElementById("wallboard");
  if (!root) return;
  var snapshot = JSON.parse(root.getAttribute("data-snapshot"));
  var strings = JSON.parse(root.getAttribute("data-strings"));
  var snapshotUrl = root.getAttribute("data-snapshot-url");
  var monitoring = root.getAttribute("data-monitoring") === "on";
  var lang = document.documentElement.lang || "en";
  var percentFmt = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  var skew = 0; // server clock minus this browser's, in seconds
  var chart = null;
  var refreshTimer = null;
  var said = document.getElementById("wallboard-said");

  function setSkew(serverNow) { skew = serverNow - Date.now() / 1000; }
  function now() { return Date.now() / 1000 + skew; }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var s = Math.max(0, Math.round(seconds));
    var m = Math.floor(s / 60);
    var rest = s % 60;
    if (m >= 60) return Math.floor(m / 60) + ":" + pad(m % 60) + ":" + pad(rest);
    return m + ":" + pad(rest);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function pct(value) { return value === null || value === undefined ? "—" : percentFmt.format(Math.floor(value * 1000) / 1000); }
  function say(text) { if (said) said.textContent = text; }

  // -- queue tiles ---------------------------------------------------------------------------

  var FORMAT = {
    service_level: pct, service_level_abandons: pct, abandon_rate: pct,
    asa_s: duration, aht_s: duration, longest_wait_s: duration
  };

  function tile(queue) {
    var tiles = root.querySelectorAll("[data-queue]");
    for (var i = 0; i < tiles.length; i++) {
      if (tiles[i].getAttribute("data-queue") === queue) return tiles[i];
    }
    return null;
  }

  function updateQueue(figures) {
    var el = tile(figures.queue);
    if (!el) { scheduleRefresh(0); return; } // a queue this page has not drawn yet
    Object.keys(figures).forEach(function (name) {
      var cell = el.querySelector('[data-field="' + name + '"]');
      if (!cell) return;
      var fmt = FORMAT[name];
      cell.textContent = fmt ? fmt(figures[name]) : String(figures[name]);
    });
    var wait = el.querySelector('[data-field="longest_wait_s"]');
    if (wait) wait.setAttribute("data-since", figures.oldest_enqueued_at || "");
    for (var i = 0; i < snapshot.queues.length; i++) {
      if (snapshot.queues[i].queue === figures.queue) {
        var intervals = snapshot.queues[i].intervals;
        snapshot.queues[i] = figures;
        snapshot.queues[i].intervals = intervals;
      }
    }
  }

  // -- alerts --------------------------------------------------------------------------------

  function showAlert(payload) {
    var box = document.getElementById("wallboard-alerts");
    var el = tile(payload.queue);
    var label = el ? el.querySelector("h3").textContent : payload.queue;
    if (el) el.classList.toggle("is-alert", payload.alerts.length > 0);
    Array.prototype.forEach.call(box.querySelectorAll('[data-alert-queue]'), function (p) {
      if (p.getAttribute("data-alert-queue") === payload.queue) p.remove();
    });
    var lines = payload.alerts.length ? payload.alerts : ["cleared"];
    lines.forEach(function (code) {
      var p = document.createElement("p");
      p.className = "wb-alert wb-alert-" + code;
      p.setAttribute("data-alert-queue", payload.queue);
      p.textContent = (strings["alert_" + code] || code).replace("{queue}", label);
      box.appendChild(p);
      if (code === "cleared") setTimeout(function () { p.remove(); }, 8000);
    });
  }

  // -- lists ---------------------------------------------------------------------------------

  function cell(row, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function formFrom(templateId, id) {
    var tpl = document.getElementById(templateId);
    var form = tpl.content.firstElementChild.cloneNode(true);
    form.action = form.getAttribute("data-action-base").replace("/0/", "/" + id + "/");
    return form;
  }

  function emptyRow(body, colspan, text) {
    var tr = document.createElement("tr");
    tr.className = "empty-row";
    var td = cell(tr, text, "empty-inline");
    td.colSpan = colspan;
    body.appendChild(tr);
  }

  function renderWaiting() {
    var body = document.getElementById("waiting-rows");
    body.textContent = "";
    if (!snapshot.waiting.length) { emptyRow(body, 4, strings.no_waiting); return; }
    snapshot.waiting.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-call", c.id);
      cell(tr, c.from_display || c.from);
      cell(tr, c.queue_label || c.queue);
      var waited = cell(tr, duration(c.waited_s), "num");
      waited.setAttribute("data-enqueued", String(snapshot.now - c.waited_s));
      // A caller ringing at an agent still waits (the queue counts them); it cannot be moved.
      if (c.ringing) {
        cell(tr, strings.ringing.replace("{name}", c.ringing), "muted");
        body.appendChild(tr);
        return;
      }
      var td = cell(tr, "");
      var form = formFrom("tpl-move", c.id);
      Array.prototype.forEach.call(form.querySelectorAll("option"), function (o) {
        if (o.value === c.queue) o.remove();
      });
      td.appendChild(form);
      body.appendChild(tr);
    });
  }

  function renderAgents() {
    var body = document.getElementById("agent-rows");
    body.textContent = "";
    if (!snapshot.agents.length) { emptyRow(body, 6, strings.no_agents); return; }
    var onCall = {};
    (snapshot.connected || []).forEach(function (c) { onCall[c.agent_id] = c.id; });
    snapshot.agents.forEach(function (a) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-agent", a.id);
      cell(tr, a.name || "#" + a.id);
      var state = cell(tr, "");
      var badge = document.createElement("span");
      badge.className = "wb-badge wb-state-" + a.state;
      badge.textContent = strings.states[a.state] || a.state;
      state.appendChild(badge);
      var inState = cell(tr, duration(a.in_state_s), "num");
      inState.setAttribute("data-in-state", String(a.since));
      cell(tr, String(a.handled), "num");
      cell(tr, duration(a.aht_s), "num");
      var actions = cell(tr, "");
      actions.appendChild(formFrom("tpl-state", a.id));
      if (monitoring && onCall[a.id]) actions.appendChild(formFrom("tpl-monitor", onCall[a.id]));
      body.appendChild(tr);
    });
  }

  /* The tiles count the rows of the agents' table, so that the two never disagree, even
   * between an agent's event and the next snapshot. */
  function renderStates() {
    var counts = {};
    snapshot.agents.forEach(function (a) { counts[a.state] = (counts[a.state] || 0) + 1; });
    Array.prototype.forEach.call(root.querySelectorAll("[data-state-count]"), function (el) {
      el.textContent = String(counts[el.getAttribute("data-state-count")] || 0);
    });
  }

  function updateAgent(a) {
    var known = false;
    snapshot.agents.forEach(function (row) {
      if (row.id === a.id) {
        a.name = row.name;
        row.state = a.state;
        row.since = a.since;
        known = true;
      }
    });
    if (known) renderStates();
    scheduleRefresh(known ? 1500 : 0);
    var tr = root.querySelector('[data-agent="' + a.id + '"]');
    if (!tr) return;
    var badge = tr.querySelector(".wb-badge");
    badge.className = "wb-badge wb-state-" + a.state;
    badge.textContent = strings.states[a.state] || a.state;
    tr.querySelector("[data-in-state]").setAttribute("data-in-state", String(a.since));
  }

  // -- chart ---------------------------------------------------------------------------------

  function drawChart() {
    var canvas = document.getElementById("intraday-chart");
    var picker = root.querySelector("[data-chart-queue]");
    if (!canvas || !picker || typeof window.Chart !== "function") return;
    var queue = null;
    snapshot.queues.forEach(function (q) { if (q.queue === picker.value) queue = q; });
    if (!queue) return;
    var slots = queue.intervals || [];
    var data = {
      labels: slots.map(function (s) { return s.start; }),
      datasets: [
        { label: strings.offered, data: slots.map(function (s) { return s.offered; }), backgroundColor: "#93c5fd", yAxisID: "y", order: 2 },
        { label: strings.answered, data: slots.map(function (s) { return s.answered; }), backgroundColor: "#047857", yAxisID: "y", order: 2 },
        { label: strings.abandoned, data: slots.map(function (s) { return s.abandoned; }), backgroundColor: "#b91c1c", yAxisID: "y", order: 2 },
        { type: "line", label: strings.service_level, data: slots.map(function (s) { return s.service_level === null ? null : Math.round(s.service_level * 1000) / 10; }), borderColor: "#1d4ed8", backgroundColor: "#1d4ed8", yAxisID: "pct", spanGaps: true, order: 1 }
      ]
    };
    if (chart) { chart.data = data; chart.update("none"); return; }
    chart = new window.Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 } },
          pct: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } }
        }
      }
    });
  }

  // -- refresh -------------------------------------------------------------------------------

  function apply(data) {
    snapshot = data;
    setSkew(data.now);
    data.queues.forEach(updateQueue);
    renderStates();
    renderWaiting();
    renderAgents();
    drawChart();
  }

  function refresh() {
    refreshTimer = null;
    if (!window.HelpdeskLive) return;
    window.HelpdeskLive.getJSON(snapshotUrl).then(function (data) {
      var missing = data.queues.some(function (q) { return tile(q.queue) === null; });
      if (missing) { window.location.reload(); return; } // a new queue: draw its tile
      apply(data);
    }).catch(function () {});
  }

  function scheduleRefresh(delay) {
    if (refreshTimer !== null) return;
    refreshTimer = setTimeout(refresh, delay === undefined ? 2000 : delay);
  }

  // -- ticking clocks ------------------------------------------------------------------------

  function tick() {
    var t = now();
    Array.prototype.forEach.call(root.querySelectorAll('[data-field="longest_wait_s"]'), function (el) {
      var since = parseFloat(el.getAttribute("data-since"));
      el.textContent = isNaN(since) ? duration(0) : duration(t - since);
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-enqueued]"), function (el) {
      el.textContent = duration(t - parseFloat(el.getAttribute("data-enqueued")));
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-in-state]"), function (el) {
      var since = parseFloat(el.getAttribute("data-in-state"));
      if (since > 0) el.textContent = duration(t - since);
    });
  }

  // -- actions -------------------------------------------------------------------------------

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-wb-form") || typeof window.fetch !== "function") return;
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) data.append(event.submitter.name, event.submitter.value);
    form.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (r) { return r.json(); }).then(function (body) {
      form.removeAttribute("aria-busy");
      say(body.error ? body.error.message : body.message);
      if (body.error) window.alert(body.error.message);
      scheduleRefresh(0);
    }).catch(function () {
      form.removeAttribute("aria-busy");
      say(strings.failed);
    });
  });

  var tv = root.querySelector("[data-tv]");
  if (tv) {
    tv.addEventListener("click", function () {
      var on = !document.body.classList.contains("wallboard-tv");
      document.body.classList.toggle("wallboard-tv", on);
      tv.setAttribute("aria-pressed", on ? "true" : "false");
      if (on && document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen().catch(function () {});
      } else if (!on && document.fullscreenElement && document.exitFullscreen) {
        document.exitFullscreen().catch(function () {});
      }
    });
  }
  var picker = root.querySelector("[data-chart-queue]");
  if (picker) picker.addEventListener("change", drawChart);

  setSkew(snapshot.now);
  renderWaiting();
  renderAgents();
  drawChart();
  setInterval(tick, 1000);
  tick();

  if (window.HelpdeskLive) {
    window.HelpdeskLive.on("wallboard.queue", function (figures) { updateQueue(figures); scheduleRefresh(); });
    window.HelpdeskLive.on("wallboard.agent", updateAgent);
    window.HelpdeskLive.on("wallboard.alert", showAlert);
    window.HelpdeskLive.onConnect(function (again) { if (again) scheduleRefresh(0); });
  }
})();
