/* The console's one live connection to the /agents namespace, shared by every script on a page.
 *
 * Scripts register their handlers while the page loads (all console scripts are deferred):
 *
 *   HelpdeskLive.on("sla.updated", function (payload) { ... });
 *   HelpdeskLive.onConnect(function (again) { ... });   // again: a reconnection
 *
 * and the socket opens once the document is parsed. The first connection uses the token rendered
 * into the page (valid two minutes); every later one asks /socket-token for a fresh token. A
 * refused token is retried with a fresh one, backing off up to a minute; a browser that has been
 * signed out stops trying. A connection the server closes (a changed role, an ended sign-in) is
 * opened again at once, with a fresh token. <html data-live="on|off"> tells whether the connection is up, and
 * #live-banner says so on screen while it is down.
 */
(function () {
  "use strict";

  var handlers = [];
  var connectHandlers = [];
  var socket = null;

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  }

  /* A JSON GET with the session's cookie; `error.signedOut` tells a lost session from a
   * network failure. */
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok || r.redirected) {
          var error = new Error("HTTP " + r.status);
          // Sent to the sign-in page, or refused: this browser is no longer signed in.
          error.signedOut = r.redirected || r.status === 401 || r.status === 403;
          throw error;
        }
        return r.json();
      });
  }

  /* The banner every console page shows while the connection is down (or never came up
   * within a few seconds): without it a dead connection looks like a quiet day. */
  var bannerTimer = null;
  function banner(state) {
    var el = document.getElementById("live-banner");
    if (!el) return;
    if (bannerTimer) { clearTimeout(bannerTimer); bannerTimer = null; }
    var text = el.querySelector(".live-banner-text");
    var action = el.querySelector(".live-banner-action");
    if (state === "on") {
      el.hidden = true;
      return;
    }
    text.textContent = el.getAttribute(state === "signed-out" ? "data-signed-out" : "data-down");
    if (action) {
      action.hidden = state !== "signed-out";
      action.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
    }
    el.hidden = false;
  }

  function connect() {
    if (socket || typeof window.io !== "function") {
      if (typeof window.io !== "function") banner("off");
      return;
    }
    // A first connection normally takes well under a second; say so if it does not come.
    bannerTimer = setTimeout(function () { bannerTimer = null; banner("off"); }, 3000);
    var first = meta("helpdesk-socket-token");
    var tokenUrl = meta("helpdesk-socket-token-url");
    var signedOut = false;
    var retry = 2000;
    var connectedBefore = false;
    // The page's own origin, or the sockets process reached directly (SOCKETS_PUBLIC_URL).
    var base = meta("helpdesk-socket-url") || "";
    socket = window.io(base + "/agents", {
      auth: function (send) {
        if (first) {
          var token = first;
          first = null;
          send({ token: token });
          return;
        }
        getJSON(tokenUrl)
          .then(function (data) { send({ token: data.token }); })
          .catch(function (error) { signedOut = !!error.signedOut; send({}); });
      }
    });
    socket.on("connect", function () {
      document.documentElement.setAttribute("data-live", "on");
      banner("on");
      retry = 2000;
      var again = connectedBefore;
      connectedBefore = true;
      connectHandlers.forEach(function (fn) { fn(again); });
    });
    socket.on("disconnect", function (reason) {
      document.documentElement.setAttribute("data-live", "off");
      // Leaving the page disconnects on purpose; anything else is an outage.
      if (reason !== "io client disconnect") banner("off");
      // The server closes a connection when its user's role changes or a sign-in is ended; the
      // client does not reconnect by itself then. Connecting again fetches a fresh token: the
      // server puts the connection in the rooms of the role as it is now, or refuses a browser
      // that has been signed out (the banner then says so).
      if (reason === "io server disconnect") {
        setTimeout(function () { socket.connect(); }, 300 + Math.random() * 700);
      }
    });
    socket.on("connect_error", function () {
      banner(signedOut ? "signed-out" : "off");
      // A refused token is not retried by the client itself: try again with a fresh one.
      if (signedOut || socket.active) return;
      setTimeout(function () { socket.connect(); }, retry);
      retry = Math.min(retry * 2, 60000);
    });
    handlers.forEach(function (h) { socket.on(h[0], h[1]); });
    // Leaving the page closes the connection at once, so that others see this reader leave a
    // ticket now rather than when the server's ping times out; a page restored from the
    // browser's back-forward cache connects again.
    window.addEventListener("pagehide", function () { socket.disconnect(); });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && !socket.connected) socket.connect();
    });
  }

  window.HelpdeskLive = {
    on: function (event, fn) {
      handlers.push([event, fn]);
      if (socket) socket.on(event, fn);
    },
    /* A handler registered once the connection is already up runs at once: it would
     * otherwise wait for a reconnection that may never come. */
    onConnect: function (fn) {
      connectHandlers.push(fn);
      if (socket && socket.connected) fn(false);
    },
    /* Send an event (such as `watch`) while connected; `ack` gets the server's answer. */
    emit: function (event, data, ack) {
      if (socket && socket.connected) socket.emit(event, data, ack || function () {});
    },
    getJSON: getJSON,
    meta: meta
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect);
  else connect();
})();
