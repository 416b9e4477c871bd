/* The agent's softphone, on the phone panel (templates/_phone.html).
 *
 * With Twilio (data-kind="twilio") the browser registers a Twilio Voice SDK device with an access
 * token from /phone/voice-token, under the identity calls are bridged to once the agent accepts
 * an offer (or places a click-to-call): so an incoming call on the device is always one the agent
 * has taken, and is answered at once. The token is renewed before it expires. Mute and hang up
 * act on the call in progress.
 *
 * With the simulator, or Twilio without an API key, the line only says how calls connect.
 */
(function () {
  "use strict";

  var box = document.getElementById("softphone");
  if (!box || box.getAttribute("data-kind") !== "twilio") return;
  var strings = {};
  try { strings = JSON.parse(box.getAttribute("data-strings") || "{}"); } catch (e) { /* keep {} */ }
  var stateEl = box.querySelector("[data-field=softphone-state]");
  var muteButton = box.querySelector("[data-softphone=mute]");
  var hangupButton = box.querySelector("[data-softphone=hangup]");
  var live = window.HelpdeskLive;
  var device = null;
  var current = null;

  function say(key, reason) {
    stateEl.textContent = String(strings[key] || key).replace("{reason}", reason || "");
    box.setAttribute("data-state", key);
  }

  function controls(on) {
    muteButton.hidden = !on;
    hangupButton.hidden = !on;
    if (!on) muteButton.textContent = strings.mute;
  }

  function token() {
    return live.getJSON(box.getAttribute("data-token-url"));
  }

  function answer(call) {
    if (current) {
      // Already on a call on this device: a second one is not ours to take over the first.
      call.reject();
      return;
    }
    current = call;
    call.on("accept", function () { say("in_call"); controls(true); });
    ["disconnect", "cancel", "reject", "error"].forEach(function (name) {
      call.on(name, function () {
        if (current === call) current = null;
        controls(false);
        say(device && device.state === "registered" ? "ready" : "offline");
      });
    });
    call.on("mute", function (muted) {
      say(muted ? "muted" : "in_call");
      muteButton.textContent = muted ? strings.unmute : strings.mute;
      muteButton.setAttribute("aria-pressed", muted ? "true" : "false");
    });
    call.accept();
  }

  function start(data) {
    var Device = window.Twilio && window.Twilio.Device;
    if (!Device) { say("error", "the softphone library did not load"); return; }
    device = new Device(data.token, { closeProtection: true, codecPreferences: ["opus", "pcmu"] });
    device.on("registered", function () { if (!current) say("ready"); });
    device.on("unregistered", function () { say("offline"); });
    device.on("error", function (error) {
      var code = error && error.code;
      if (code === 31401 || code === 31208) say("no_microphone");  // permission refused
      else say("error", (error && error.message) || String(code || ""));
    });
    device.on("tokenWillExpire", function () {
      token().then(function (fresh) { device.updateToken(fresh.token); })
        .catch(function () { say("offline"); });
    });
    device.on("incoming", answer);
    device.register();
  }

  muteButton.addEventListener("click", function () {
    if (current) current.mute(!current.isMuted());
  });
  hangupButton.addEventListener("click", function () {
    if (current) current.disconnect();
  });

  if (!live) return;
  say("twilio");
  token().then(start).catch(function (error) {
    say("error", error && error.message ? error.message : "");
  });
})();
