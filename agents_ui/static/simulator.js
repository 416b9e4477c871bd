/* The call simulator page (templates/simulator.html).
 *
 * Places a simulated call, then follows it: the transcript is polled every second from
 * /simulator/calls/<sid> and new lines are appended; the dial pad and Hang up post with fetch.
 * The list of recent calls and the text messages are reloaded every few seconds. Keys 0-9, * and
 * # typed anywhere on the page (outside a field) press the dial pad. Every text is set with
 * textContent. Without this script the forms post and the page reloads on the call.
 */
(function () {
  "use strict";

  var root = document.getElementById("simulator");
  if (!root) return;

  var POLL_MS = 1000;
  var LIST_MS = 3000;
  var PRESSED_MS = 180;

  var strings = {};
  try { strings = JSON.parse(root.getAttribute("data-strings") || "{}"); } catch (e) { strings = {}; }
  var phone = document.getElementById("sim-phone");
  var transcript = document.getElementById("sim-transcript");
  var status = document.getElementById("sim-status");
  var callForm = document.getElementById("sim-call-form");
  var dialpad = document.getElementById("sim-dialpad");
  var hangup = document.getElementById("sim-hangup");
  var current = phone.getAttribute("data-call-sid") || null;
  var finished = false;

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function url(attribute, sid) {
    return String(root.getAttribute(attribute)).replace("SID", encodeURIComponent(sid));
  }

  function field(name) { return phone.querySelector('[data-field="' + name + '"]'); }

  function setText(el, text) { if (el && el.textContent !== text) el.textContent = text; }

  function getJSON(address) {
    return window.HelpdeskLive ? window.HelpdeskLive.getJSON(address)
      : fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
  }

  function post(address, form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    return fetch(address, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error((body.error && body.error.message) || strings.failed);
        return body;
      }, function () { throw new Error(strings.failed); });
    });
  }

  // -- the call shown ---------------------------------------------------------------------------

  function renderTranscript(lines) {
    var shown = transcript.children.length;
    if (lines.length < shown) {
      transcript.textContent = "";
      shown = 0;
    }
    for (var i = shown; i < lines.length; i++) {
      var item = document.createElement("li");
      item.textContent = lines[i];
      transcript.appendChild(item);
    }
    if (lines.length > shown) transcript.scrollTop = transcript.scrollHeight;
  }

  function renderCall(call) {
    if (!call) return;
    current = call.call_sid;
    finished = call.state === "completed";
    phone.hidden = false;
    phone.setAttribute("data-call-sid", call.call_sid);
    setText(field("caller"), call.caller || strings.unknown);
    setText(field("number"), call.number_display || call.number || "");
    var badge = field("state");
    badge.className = "badge sim-state sim-" + call.state;
    setText(badge, call.state_label || call.state);
    setText(field("queue"), call.queue ? fill(strings.queue, { name: call.queue }) : "");
    setText(field("agent"), call.agent ? fill(strings["with"], { name: call.agent }) : "");
    renderTranscript(call.transcript || []);
    dialpad.action = url("data-digits-url", call.call_sid);
    hangup.action = url("data-hangup-url", call.call_sid);
    document.getElementById("sim-hangup-button").disabled = finished;
    Array.prototype.forEach.call(dialpad.querySelectorAll("button"), function (b) {
      b.disabled = finished;
    });
    var refresh = document.getElementById("sim-refresh");
    if (refresh && call.url) refresh.href = call.url;
  }

  var lastState = null;

  function poll() {
    if (!current || finished || document.hidden) return;
    getJSON(url("data-call-url", current))
      .then(function (body) {
        renderCall(body.call);
        // The list says the same state at once, not at its next reload.
        if (body.call && body.call.state !== lastState) {
          lastState = body.call.state;
          refreshLists();
        }
      })
      .catch(function () { /* the next poll tries again */ });
  }

  // -- the lists --------------------------------------------------------------------------------

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    if (text != null) td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function renderCalls(calls) {
    var table = document.getElementById("sim-calls");
    var empty = document.getElementById("sim-calls-empty");
    var body = table.tBodies[0];
    var active = document.activeElement;
    var focused = active && body.contains(active) ? active.getAttribute("href") : null;
    body.textContent = "";
    calls.forEach(function (c) {
      var row = document.createElement("tr");
      var first = cell(row, null);
      var link = document.createElement("a");
      link.className = "row-link";
      link.href = c.url;
      link.textContent = c.caller || c.number_display || c.number;
      first.appendChild(link);
      if (c.caller) {
        var num = document.createElement("span");
        num.className = "muted sim-number";
        num.textContent = c.number_display || c.number;
        first.appendChild(document.createTextNode(" "));
        first.appendChild(num);
      }
      var state = document.createElement("span");
      state.className = "badge sim-state sim-" + c.state;
      state.textContent = c.state_label || c.state;
      cell(row, null).appendChild(state);
      cell(row, c.queue || "—");
      cell(row, c.agent || "—");
      if (current === c.call_sid) row.classList.add("is-current");
      body.appendChild(row);
      if (focused && c.url === focused) link.focus();
    });
    table.hidden = !calls.length;
    empty.hidden = !!calls.length;
  }

  function renderSms(messages) {
    var list = document.getElementById("sim-sms");
    var empty = document.getElementById("sim-sms-empty");
    list.textContent = "";
    messages.forEach(function (m) {
      var item = document.createElement("li");
      var to = document.createElement("span");
      to.className = "muted nowrap";
      to.textContent = m.to;
      var text = document.createElement("span");
      text.className = "sim-sms-body";
      text.textContent = m.body;
      item.appendChild(to);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(text);
      list.appendChild(item);
    });
    list.hidden = !messages.length;
    empty.hidden = !!messages.length;
  }

  function refreshLists() {
    if (document.hidden) return;
    getJSON(root.getAttribute("data-calls-url"))
      .then(function (body) {
        renderCalls(body.calls || []);
        renderSms(body.sms || []);
      })
      .catch(function () { /* keep what is shown */ });
  }

  // -- forms and keys ---------------------------------------------------------------------------

  function busy(form, on) {
    Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) {
      b.disabled = on || (form !== callForm && finished);
    });
    if (on) form.setAttribute("aria-busy", "true");
    else form.removeAttribute("aria-busy");
  }

  function submit(form, submitter) {
    if (form.getAttribute("aria-busy") === "true") return;
    busy(form, true);
    if (form === callForm) setText(status, strings.calling);
    post(form.action, form, submitter)
      .then(function (body) {
        if (form === callForm) setText(status, "");
        renderCall(body.call);
        if (body.call && body.call.url && window.history.replaceState) {
          window.history.replaceState(null, "", body.call.url);
        }
        refreshLists();
      })
      .catch(function (error) {
        setText(status, error.message || strings.failed);
        if (form !== callForm) status.scrollIntoView({ block: "nearest" });
      })
      .then(function () { busy(form, false); });
  }

  [callForm, dialpad, hangup].forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (typeof window.fetch !== "function") return;
      event.preventDefault();
      submit(form, event.submitter);
    });
  });

  function isEditable(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isEditable(event.target) || !current || finished || phone.hidden) return;
    if (!/^[0-9*#]$/.test(event.key)) return;
    var key = dialpad.querySelector('button[value="' + CSS.escape(event.key) + '"]');
    if (!key || key.disabled) return;
    event.preventDefault();
    key.classList.add("is-pressed");
    setTimeout(function () { key.classList.remove("is-pressed"); }, PRESSED_MS);
    submit(dialpad, key);
  });

  setInterval(poll, POLL_MS);
  setInterval(refreshLists, LIST_MS);
  if (current) poll();
})();
