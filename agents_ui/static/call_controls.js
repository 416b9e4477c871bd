/* The controls of my call in progress (templates/_call_controls.html), inside the phone panel.
 *
 * phone.js owns the panel's state and fires `phone:render` on #phone with it whenever it draws;
 * the controls draw from that state's `call` (the call's view: `on_hold`, `transfer`), so the
 * events that change a call (call.hold, call.transfer, call.transferred) reach them through
 * phone.js, never by a fetch. The buttons post to /phone/calls/<id>/... and show the answer's
 * message. The transfer search asks /phone/transfer-targets as the agent types: agents (free
 * first, with their state) and queues (with callers waiting), or a number typed as +33...
 *
 * The recording button shows while the call is recorded (the view's `recording`: recording or
 * paused) and pauses or resumes it.
 *
 * Shortcuts: h hold/resume, t transfer (focus the search), c complete, v cancel the transfer,
 * p pause/resume the recording (r is the reply's), q hang up, m mute the softphone. Text from
 * the server goes through textContent only.
 */
(function () {
  "use strict";

  var phone = document.getElementById("phone");
  var box = document.getElementById("call-controls");
  if (!phone || !box) return;

  var strings = {};
  try { strings = JSON.parse(box.getAttribute("data-strings") || "{}"); } catch (e) { /* {} */ }
  var me = Number(phone.getAttribute("data-user-id"));
  var call = null;
  var els = {
    hold: document.getElementById("call-hold"),
    recording: document.getElementById("call-recording"),
    open: document.getElementById("call-transfer-open"),
    hangup: document.getElementById("call-hangup"),
    leave: document.getElementById("call-leave"),
    parties: document.getElementById("call-parties"),
    buttons: box.querySelector("[data-field=buttons]"),
    info: box.querySelector("[data-field=transfer-info]"),
    consult: document.getElementById("call-consult"),
    consultState: box.querySelector("[data-field=consult-state]"),
    complete: document.getElementById("call-transfer-complete"),
    cancel: document.getElementById("call-transfer-cancel"),
    panel: document.getElementById("call-transfer"),
    search: document.getElementById("transfer-search"),
    results: document.getElementById("transfer-results"),
    notes: document.getElementById("transfer-notes")
  };

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function url(name) {
    return String(box.getAttribute("data-" + name + "-url")).replace("/0/", "/" + call.call_id + "/");
  }

  function message(text, isError) {
    var el = document.getElementById("phone-message");
    if (!el) return;
    el.textContent = text;
    el.className = "phone-message" + (isError ? " is-error" : "");
    el.hidden = !text;
  }

  // -- drawing ----------------------------------------------------------------------------------

  function draw() {
    var handed = (call && call.transfer) || {};
    var live = handed.state === "ringing" || handed.state === "consulting";
    var mine = !live || handed.from_agent_id === me;
    els.buttons.hidden = !call || live;
    els.consult.hidden = !(call && live && mine);
    if (call && live && mine) {
      var key = handed.state === "consulting" ? "consulting" : "consult_ringing";
      els.consultState.textContent = fill(strings[key], { name: handed.to_name || "" });
      els.complete.hidden = handed.state !== "consulting";
    }
    if (!call || live) closeTransfer();
    var onHold = !!(call && call.on_hold);
    els.hold.setAttribute("aria-pressed", onHold ? "true" : "false");
    els.hold.firstChild.textContent = (onHold ? strings.resume : strings.hold) + " ";
    drawRecording(call && call.recording);
    var info = "";
    if (call && handed.from_agent_id && handed.from_agent_id !== me) {
      info = live ? fill(strings.consulted, { name: handed.from_name })
        : fill(strings.transferred_from, { name: handed.from_name });
      if (handed.notes) info += " — " + fill(strings.notes, { notes: handed.notes });
    }
    els.info.textContent = info;
    els.info.hidden = !info;
    drawParties((call && call.parties) || []);
  }

  function drawRecording(recording) {
    var paused = recording === "paused";
    els.recording.hidden = recording !== "recording" && !paused;
    els.recording.setAttribute("aria-pressed", paused ? "true" : "false");
    els.recording.firstChild.textContent = (paused ? strings.resume_recording : strings.pause_recording) + " ";
  }

  function toggleRecording() {
    if (!call || els.buttons.hidden || els.recording.hidden) return false;
    send("recording", { paused: call.recording === "paused" ? "0" : "1" });
    return true;
  }

  function drawParties(parties) {
    els.parties.textContent = "";
    parties.forEach(function (p) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = p.name;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = fill(strings.remove, { name: p.name });
      remove.addEventListener("click", function () {
        send("conference", { action: "remove", party: String(p.id) });
      });
      li.appendChild(name);
      li.appendChild(remove);
      els.parties.appendChild(li);
    });
    els.parties.hidden = !parties.length;
    els.leave.hidden = !parties.length;
  }

  /* A transfer ringing for me: the ringing panel says so, from whom, with their notes. */
  function drawOffer(offer) {
    var ringing = document.getElementById("phone-ringing");
    if (!ringing) return;
    var note = document.getElementById("phone-ring-transfer");
    if (!note) {
      note = document.createElement("p");
      note.id = "phone-ring-transfer";
      note.className = "phone-ring-transfer";
      ringing.insertBefore(note, ringing.firstChild);
    }
    var handed = (offer && offer.transfer) || {};
    var text = "";
    if (handed.from_name && handed.from_agent_id !== me) {
      text = fill(strings.transferred_from, { name: handed.from_name });
      if (handed.notes) text += " — " + fill(strings.notes, { notes: handed.notes });
    }
    note.textContent = text;
    note.hidden = !text;
  }

  phone.addEventListener("phone:render", function (event) {
    call = (event.detail && event.detail.call) || null;
    drawOffer(event.detail && event.detail.offer);
    draw();
  });
  try {
    call = (JSON.parse(phone.getAttribute("data-snapshot") || "{}") || {}).call || null;
  } catch (e) { call = null; }
  draw();

  // -- posting ----------------------------------------------------------------------------------

  function send(name, fields) {
    if (!call) return;
    var body = new FormData();
    body.append("csrf_token", box.getAttribute("data-csrf"));
    Object.keys(fields || {}).forEach(function (k) { body.append(k, fields[k]); });
    box.setAttribute("aria-busy", "true");
    fetch(url(name), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok, json: json }; });
    }).then(function (answer) {
      box.removeAttribute("aria-busy");
      if (!answer.ok) {
        message((answer.json.error && answer.json.error.message) || strings.failed, true);
        return;
      }
      message(answer.json.message || "", false);
    }).catch(function () {
      box.removeAttribute("aria-busy");
      message(strings.failed, true);
    });
  }

  function toggleHold() {
    if (!call || els.buttons.hidden) return false;
    send("hold", { hold: call.on_hold ? "0" : "1" });
    return true;
  }

  // -- the transfer search ------------------------------------------------------------------------

  function closeTransfer() {
    els.panel.hidden = true;
    els.open.setAttribute("aria-expanded", "false");
  }

  function openTransfer() {
    if (!call || els.buttons.hidden) return false;
    els.panel.hidden = false;
    els.open.setAttribute("aria-expanded", "true");
    els.search.focus();
    lookUp();
    return true;
  }

  function mode() {
    var checked = box.querySelector("input[name=transfer-mode]:checked");
    return checked ? checked.value : "warm";
  }

  function choose(target) {
    if (mode() === "conference") {
      send("conference", { action: "add", target: target });
      closeTransfer();
      return;
    }
    send("transfer", { target: target, mode: mode(), notes: els.notes.value });
  }

  function option(label, detail, target, enabled) {
    var li = document.createElement("li");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "transfer-target";
    button.setAttribute("data-target", target);
    button.disabled = !enabled;
    var name = document.createElement("strong");
    name.textContent = label;
    var small = document.createElement("span");
    small.className = "muted";
    small.textContent = " " + detail;
    button.appendChild(name);
    button.appendChild(small);
    button.addEventListener("click", function () { choose(target); });
    li.appendChild(button);
    return li;
  }

  var asked = 0;
  function lookUp() {
    var q = els.search.value.trim();
    var ticket = ++asked;
    els.results.textContent = "";
    if (/^\+[0-9]{7,15}$/.test(q)) {
      els.results.appendChild(option(q, strings.number, "number:" + q, true));
      return;
    }
    var address = box.getAttribute("data-targets-url") + "?q=" + encodeURIComponent(q);
    fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (found) {
        if (ticket !== asked) return;  // a later search answered first
        (found.agents || []).forEach(function (a) {
          // An agent who is not free reads as their state (on a call, on break, offline).
          var named = (strings.states || {})[a.state];
          var state = a.free ? strings.free : (named ? named.toLowerCase() : strings.busy);
          els.results.appendChild(option(a.name, strings.agent + ", " + state, "agent:" + a.id, a.free));
        });
        (found.queues || []).forEach(function (q2) {
          var detail = strings.queue + ", " + fill(strings.waiting, { n: q2.waiting });
          els.results.appendChild(option(q2.label || q2.name, detail, "queue:" + q2.name, true));
        });
        if (!els.results.children.length) {
          var none = document.createElement("li");
          none.className = "muted";
          none.textContent = strings.none;
          els.results.appendChild(none);
        }
      })
      .catch(function () { message(strings.failed, true); });
  }

  els.hold.addEventListener("click", toggleHold);
  els.open.addEventListener("click", function () {
    if (els.panel.hidden) openTransfer(); else closeTransfer();
  });
  els.recording.addEventListener("click", toggleRecording);
  els.hangup.addEventListener("click", function () { send("hangup"); });
  els.leave.addEventListener("click", function () { send("conference", { action: "leave" }); });
  els.complete.addEventListener("click", function () { send("complete"); });
  els.cancel.addEventListener("click", function () { send("cancel"); });
  els.search.addEventListener("input", lookUp);

  // -- shortcuts --------------------------------------------------------------------------------

  function editable(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function click(el) {
    if (!el || el.hidden || el.disabled || el.offsetParent === null) return false;
    el.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (editable(event.target) || !call) return;
    var handled = false;
    switch (event.key) {
      case "h": handled = toggleHold(); break;
      case "t": handled = openTransfer(); break;
      case "c": handled = click(els.complete); break;
      case "v": handled = click(els.cancel); break;
      case "p": handled = toggleRecording(); break;
      case "q": handled = click(els.hangup); break;
      case "m": handled = click(document.querySelector("[data-softphone=mute]")); break;
    }
    if (handled) event.preventDefault();
  });
})();
