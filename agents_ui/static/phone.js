/* The agent's phone panel (templates/_phone.html), live on every console page.
 *
 * - The server renders the panel from a snapshot of my presence, the call ringing for me, my
 *   current call and the call to wrap up (also embedded as data-snapshot). The same snapshot is
 *   fetched from /phone/state on every (re)connection of the live socket, and only then: a
 *   reload or a lost connection never loses an offer that still rings.
 * - Between connections the events say what changed and the panel applies them, as they come:
 *   `call.offer` / `screen_pop` show the ringing panel and the caller screen (the call's view,
 *   `telephony.callview`, the same shape as in the snapshot), with a countdown to `expires_at`;
 *   `call.withdrawn` clears it with a message; `call.connected` brings the call's view and my
 *   state; `call.ended` turns my call into the one to wrap up; `presence.updated` my state.
 * - The panel's forms (presence, accept, reject, wrap-up, and click-to-call on the customer
 *   page) are posted with fetch and answer JSON: the fresh snapshot and a message. Without this
 *   script they post normally.
 *
 * Every text coming from the server or an event (a caller's name above all) goes through
 * textContent: nothing is parsed as markup. Shortcuts (a, x, w) are in console.js.
 */
(function () {
  "use strict";

  var root = document.getElementById("phone");
  if (!root) return;
  var live = window.HelpdeskLive;

  var TICK_MS = 500;
  var URGENT_S = 5;
  var MESSAGE_MS = 10000;

  function parse(text) {
    try { return JSON.parse(text || "null"); } catch (e) { return null; }
  }

  var strings = parse(root.getAttribute("data-strings")) || {};
  var me = Number(root.getAttribute("data-user-id"));
  var state = parse(root.getAttribute("data-snapshot")) || {};
  var skew = 0;
  var screens = {}; // call id -> its caller screen: the `screen_pop` payload or the snapshot's offer
  var deciding = null; // the call I am accepting or rejecting: its withdrawal needs no message
  var baseTitle = document.title;

  var els = {
    badge: document.getElementById("phone-state"),
    reason: document.getElementById("phone-reason"),
    message: document.getElementById("phone-message"),
    announce: document.getElementById("phone-announce"),
    ringing: document.getElementById("phone-ringing"),
    screen: document.getElementById("phone-screen"),
    oncall: document.getElementById("phone-oncall"),
    wrapup: document.getElementById("phone-wrapup"),
    presence: document.getElementById("presence-form")
  };

  function now() { return Date.now() + skew; }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function duration(seconds) {
    var total = Math.max(0, Math.floor(seconds));
    var minutes = Math.floor(total / 60);
    var secs = total % 60;
    var text = fill(strings.s, { n: secs });
    return minutes ? fill(strings.min, { n: minutes }) + " " + text : text;
  }

  function field(container, name) {
    return container.querySelector('[data-field="' + name + '"]');
  }

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function show(el, visible) {
    if (el) el.hidden = !visible;
  }

  function urlFor(attribute, id) {
    return String(root.getAttribute(attribute) || "").replace("/0", "/" + encodeURIComponent(id));
  }

  /* The person on the other end: the customer's name, else the number as an agent reads it.
   * Every call (event or snapshot) is the one view the server builds (`telephony.callview`). */
  function who(call) {
    if (!call) return "";
    if (named(call)) return String(call.customer.name);
    return String(call.number_display || strings.unknown_caller);
  }

  /* A customer with a name of their own: a contact made from the caller's number bears the
   * number as its name, which reads better once, formatted. */
  function named(call) {
    return Boolean(call.customer && call.customer.name && call.customer.name !== call.number);
  }

  /* The number under a known customer's name. */
  function number(call) {
    return call && named(call) ? String(call.number_display) : "";
  }

  /* A payload that carries the caller screen (`screen_pop`, the snapshot's offer). */
  function isScreen(payload) {
    return !!payload && payload.open_tickets !== undefined;
  }

  // -- messages -----------------------------------------------------------------------------

  var messageTimer = null;

  function say(text, isError) {
    var el = els.message;
    if (!el) return;
    clearTimeout(messageTimer);
    el.setAttribute("role", isError ? "alert" : "status");
    el.className = "phone-message" + (isError ? " phone-message-error" : "");
    el.textContent = text;
    el.hidden = !text;
    if (text && !isError) messageTimer = setTimeout(function () { el.hidden = true; }, MESSAGE_MS);
  }

  function announce(text) {
    if (!els.announce) return;
    els.announce.textContent = "";
    // A fresh text node is what screen readers notice in a live region.
    setTimeout(function () { els.announce.textContent = text; }, 50);
  }

  // -- rendering ----------------------------------------------------------------------------

  function renderPresence() {
    var p = state.presence || { state: "offline" };
    var busy = p.state === "reserved" || p.state === "on_call";
    root.className = "phonebar phonebar-" + p.state;
    if (els.badge) {
      els.badge.className = "badge presence presence-" + p.state;
      setText(els.badge, (strings.state || {})[p.state] || p.state);
    }
    setText(els.reason, p.state === "break" && p.reason
      ? ((strings.reason || {})[p.reason] || p.reason) : "");
    if (els.presence) {
      Array.prototype.forEach.call(els.presence.querySelectorAll("button, select"), function (el) {
        el.disabled = busy;
        if (el.tagName === "BUTTON") {
          el.setAttribute("aria-pressed", el.value === p.state ? "true" : "false");
        }
      });
      var reason = els.presence.querySelector("select[name=reason]");
      if (reason && p.state === "break" && p.reason && reason.querySelector(
        'option[value="' + CSS.escape(p.reason) + '"]')) {
        reason.value = p.reason;
      }
    }
  }

  function renderRinging() {
    var offer = state.offer;
    var panel = els.ringing;
    if (!panel) return;
    show(panel, !!offer);
    document.title = offer ? "☎ " + baseTitle : baseTitle;
    if (!offer) return;
    setText(field(panel, "who"), who(offer));
    setText(field(panel, "number"), number(offer));
    setText(field(panel, "queue"),
      offer.queue ? ((strings.queue || {})[offer.queue] || offer.queue) : "—");
    setText(field(panel, "language"),
      (strings.language || {})[offer.language] || offer.language || "—");
    setText(field(panel, "ivr"), (offer.ivr_path || []).map(function (step) {
      return (strings.ivr || {})[step] || step;
    }).join(" › ") || "—");
    tickWaited();
    show(field(panel, "callback"), !!offer.callback);
    var link = field(panel, "customer-link");
    if (link) {
      if (offer.customer && offer.customer.id) link.href = urlFor("data-customer-url", offer.customer.id);
      show(link, !!(offer.customer && offer.customer.id));
    }
    var screenLink = field(panel, "screen-link");
    if (screenLink) screenLink.href = urlFor("data-screen-url", offer.call_id);
    renderScreen();
    panel.querySelector("[data-call-action=accept]").action = urlFor("data-accept-url", offer.call_id);
    panel.querySelector("[data-call-action=reject]").action = urlFor("data-reject-url", offer.call_id);
    tickRinging();
  }

  function renderOnCall() {
    var call = state.call;
    var panel = els.oncall;
    if (!panel) return;
    show(panel, !!call);
    if (!call) return;
    var known = !!(call.customer && call.customer.id);
    // A call the agent placed (click-to-call, a campaign call) is an outgoing one, not a caller's.
    setText(field(panel, "oncall-label"),
      call.direction === "outbound" ? strings.calling : strings.on_call_with);
    setText(field(panel, "who"), who(call));
    setText(field(panel, "who-plain"), who(call));
    show(field(panel, "who-plain"), !known);
    var link = field(panel, "customer-link");
    if (known) link.href = urlFor("data-customer-url", call.customer.id);
    show(link, known);
    setText(field(panel, "number"), number(call));
    var screenLink = field(panel, "screen-link");
    if (screenLink) screenLink.href = urlFor("data-screen-url", call.call_id);
    tickTalking();
  }

  /* The caller screen under the ringing offer (static/caller_screen.js draws it), drawn again
   * whenever a newer screen arrives for the call. */
  var drawnScreen = null;

  function renderScreen() {
    var offer = state.offer;
    var screen = offer ? (screens[offer.call_id] || (isScreen(offer) ? offer : null)) : null;
    if (!els.screen || !window.HelpdeskCallerScreen || screen === drawnScreen) return;
    drawnScreen = screen;
    window.HelpdeskCallerScreen.render(els.screen, screen, strings.screen);
  }

  function renderWrapUp() {
    var wrap = state.wrap_up;
    var form = els.wrapup;
    if (!form) return;
    var id = wrap ? String(wrap.call_id) : "";
    if (form.getAttribute("data-call-id") !== id) {
      // Another call (or none): start from an empty form; the same call keeps what was typed.
      form.setAttribute("data-call-id", id);
      form.reset();
    }
    show(form, !!wrap);
    if (!wrap) return;
    form.action = urlFor("data-wrap-up-url", wrap.call_id);
    setText(field(form, "who"), who(wrap));
  }

  function render() {
    renderPresence();
    renderRinging();
    renderOnCall();
    renderWrapUp();
    tickWrapUp();
    // The call controls (call_controls.js) draw themselves from the same state.
    root.dispatchEvent(new CustomEvent("phone:render", { detail: state }));
  }

  // -- timers -------------------------------------------------------------------------------

  function tickRinging() {
    var offer = state.offer;
    if (!offer || !els.ringing) return;
    var left = (Date.parse(offer.expires_at) - now()) / 1000;
    var countdown = field(els.ringing, "countdown");
    setText(countdown, left > 0 ? fill(strings.ring_left, { time: duration(Math.ceil(left)) })
      : strings.ring_over);
    els.ringing.classList.toggle("ring-urgent", left <= URGENT_S);
  }

  /* The caller's wait, as the offer said it, plus the time it has rung since. */
  function tickWaited() {
    var offer = state.offer;
    if (!offer || !els.ringing) return;
    if (offer._seen == null) offer._seen = now();
    var waited = (offer.waited_s || 0) + (now() - offer._seen) / 1000;
    setText(field(els.ringing, "waited"), duration(waited));
  }

  function tickTalking() {
    var call = state.call;
    if (!call || !els.oncall || !call.answered_at) return;
    var since = (now() - Date.parse(call.answered_at)) / 1000;
    setText(field(els.oncall, "talking"), fill(strings.talking, { time: duration(since) }));
  }

  function tickWrapUp() {
    var until = state.presence && state.presence.wrap_up_until;
    var left = until ? (Date.parse(until) - now()) / 1000 : 0;
    var text = left > 0 ? fill(strings.wrap_left, { time: duration(Math.ceil(left)) })
      : strings.wrap_over;
    Array.prototype.forEach.call(root.querySelectorAll("[data-wrap-timer]"), function (el) {
      show(el, !!until);
      if (until) setText(el, text);
    });
  }

  function tick() {
    if (document.hidden) return;
    tickRinging();
    tickWaited();
    tickTalking();
    tickWrapUp();
  }

  // -- the server's snapshot ------------------------------------------------------------------

  function applySnapshot(snap) {
    if (!snap || !snap.presence) return;
    var serverNow = Date.parse(snap.now || "");
    if (!isNaN(serverNow)) skew = serverNow - Date.now();
    var hadFocus = root.contains(document.activeElement) ? document.activeElement : null;
    if (isScreen(snap.offer)) screens[snap.offer.call_id] = snap.offer;
    state = snap;
    render();
    keepFocus(hadFocus);
  }

  /* A button that disappears takes the keyboard with it: move it to what replaced it. */
  function keepFocus(was) {
    if (!was || (was.offsetParent !== null && !was.disabled)) return;
    var next = null;
    if (state.call && !els.oncall.hidden) {
      next = els.oncall.querySelector("a:not([hidden])") || els.oncall;
    } else if (state.offer && !els.ringing.hidden) {
      next = document.getElementById("phone-accept");
    } else {
      next = els.presence && els.presence.querySelector("button:not([disabled])");
    }
    if (!next) next = document.getElementById("main");
    if (next === els.oncall) next.setAttribute("tabindex", "-1");
    if (next) next.focus();
  }

  /* The snapshot, asked for only when the live connection (re)connects: events sent while the
   * page loaded, or while the connection was down, are not replayed. */
  function reload() {
    if (!live) return;
    live.getJSON(root.getAttribute("data-state-url"))
      .then(applySnapshot)
      .catch(function (error) { if (error.signedOut) say(strings.signed_out, true); });
  }

  function setPresence(presence) {
    var p = state.presence || {};
    p.state = presence.state;
    p.reason = presence.reason || "";
    p.wrap_up_until = presence.until || null;
    state.presence = p;
  }

  // -- live events ----------------------------------------------------------------------------

  function onOffer(payload) {
    if (!payload || payload.call_id == null) return;
    // `call.offer` and `screen_pop` carry the same offer: show it once.
    var known = state.offer && state.offer.call_id === payload.call_id;
    if (isScreen(payload)) screens[payload.call_id] = payload;
    state.offer = payload;
    state.call = null;
    state.wrap_up = null;
    state.presence = { state: "reserved", reason: "", wrap_up_until: null };
    if (!known) {
      render();
      announce(fill(strings.incoming, { name: who(payload) }));
    } else {
      renderScreen();
    }
  }

  function onWithdrawn(payload) {
    if (!payload) return;
    var offer = state.offer;
    if (offer && offer.call_id === payload.call_id) {
      delete screens[payload.call_id]; // offered again later, it brings a fresh screen
      state.offer = null;
      if (payload.presence) setPresence(payload.presence);
      render();
      if (deciding !== payload.call_id) {
        var reason = payload.reason
          ? ((strings.withdrawn_reason || {})[payload.reason] || payload.reason) : "";
        say(reason ? fill(strings.withdrawn_because, { name: who(offer), reason: reason })
          : fill(strings.withdrawn, { name: who(offer) }), false);
      }
    }
  }

  function onEnded(payload) {
    if (!payload || payload.agent_id !== me) return;
    var call = state.call;
    if (!call || call.call_id !== payload.call_id) return;
    say(fill(strings.ended, { name: who(call) }), false);
    announce(fill(strings.ended, { name: who(call) }));
    state.call = null;
    // An answered call waits for its wrap-up (the snapshot says the same after a reload).
    if (payload.outcome === "answered") state.wrap_up = call;
    render();
  }

  function onConnected(payload) {
    if (!payload || payload.agent_id !== me || !payload.call) return;
    delete screens[payload.call_id];
    state.offer = null;
    state.wrap_up = null;
    state.call = payload.call;
    if (payload.presence) setPresence(payload.presence);
    render();
  }

  /* A campaign call's disposition (static/campaign_dialer.js) is its wrap-up: the ordinary
   * wrap-up form of that call goes away with it. */
  function onCampaignDisposed(event) {
    var callId = event.detail && event.detail.call_id;
    if (state.wrap_up && (callId == null || state.wrap_up.call_id === callId)) {
      state.wrap_up = null;
      render();
    }
  }
  document.addEventListener("campaign:disposed", onCampaignDisposed);

  function onPresence(payload) {
    if (!payload || payload.user_id !== me) return;
    setPresence(payload);
    renderPresence();
    tickWrapUp();
  }

  /* The call controls' events (hold, transfer, recording) carry my call's new view; a call I handed over
   * becomes the one I wrap up, and a warm transfer completed to me stays my call. */
  function onCallChanged(payload) {
    if (!payload || !payload.call || !state.call || state.call.call_id !== payload.call_id) return;
    state.call = payload.call;
    render();
  }

  function onTransferred(payload) {
    if (!payload || !payload.call) return;
    var handed = payload.call.transfer || {};
    if (handed.from_agent_id === me && state.call && state.call.call_id === payload.call_id) {
      state.call = null;
      state.wrap_up = payload.call;
      render();
    } else {
      onCallChanged(payload);
    }
  }

  // -- the panel's forms ----------------------------------------------------------------------

  function post(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    var action = form.getAttribute("data-call-action");
    var callId = state.offer ? state.offer.call_id : null;
    if (action === "accept" || action === "reject") deciding = callId;
    var buttons = form.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    form.setAttribute("aria-busy", "true");

    // The form is usable again before the answer is drawn, so that the focus stays on a button
    // that is still there (and the presence buttons get the state the answer says).
    function done() {
      form.removeAttribute("aria-busy");
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      setTimeout(function () { if (deciding === callId) deciding = null; }, 2000);
    }

    return fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      if (response.redirected) {
        var error = new Error("signed out");
        error.signedOut = true;
        throw error;
      }
      return response.json();
    }).then(function (body) {
      done();
      if (body.phone) applySnapshot(body.phone);
      else renderPresence();
      if (body.error) {
        say(body.error.message, true);
      } else {
        if (action === "wrap-up") form.reset();
        if (body.message) say(body.message, false);
      }
    }).catch(function (error) {
      done();
      renderPresence();
      say(error && error.signedOut ? strings.signed_out : strings.failed, true);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-phone-form")) return;
    if (typeof window.fetch !== "function" || typeof window.FormData !== "function") return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    post(form, event.submitter);
  });

  // -- start ----------------------------------------------------------------------------------

  render();
  setInterval(tick, TICK_MS);
  document.addEventListener("visibilitychange", tick);
  if (live) {
    live.on("call.offer", onOffer);
    live.on("screen_pop", onOffer);
    live.on("call.withdrawn", onWithdrawn);
    live.on("call.connected", onConnected);
    live.on("call.ended", onEnded);
    live.on("presence.updated", onPresence);
    live.on("call.hold", onCallChanged);
    live.on("call.transfer", onCallChanged);
    live.on("call.conference", onCallChanged);
    live.on("call.recording", onCallChanged);
    live.on("call.transferred", onTransferred);
    // The first connection too: events sent while the page loaded are not replayed.
    live.onConnect(function () { reload(); });
  }
})();
