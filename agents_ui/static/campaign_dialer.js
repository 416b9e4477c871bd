/* The campaign dialer panel (templates/campaigns/_dialer.html).
 *
 * Shown when a campaign call is placed for this agent: the `campaign.offer` event carries the
 * person called, the script in their language and the dispositions. The call in progress is
 * fetched once each time the live connection opens (a reload keeps the panel). Every value is
 * written as text, never as markup: names and scripts are typed by people. The disposition is
 * posted with fetch; keys 1-9 pick one (not while typing in a field).
 */
(function () {
  "use strict";
  var panel = document.getElementById("campaign-dialer");
  if (!panel || !window.HelpdeskLive) return;
  var form = document.getElementById("campaign-disposition-form");
  var current = null;
  var lang = (document.documentElement.getAttribute("lang") || "en").slice(0, 2);

  function field(name) { return panel.querySelector('[data-field="' + name + '"]'); }
  function setText(name, value) { var el = field(name); if (el) el.textContent = value == null ? "" : String(value); }
  function csrf() { var i = form.querySelector('input[name="csrf_token"]'); return i ? i.value : ""; }

  function show(offer) {
    current = offer;
    if (!offer) { panel.hidden = true; return; }
    setText("campaign-name", offer.campaign.name);
    setText("member-name", offer.member.name);
    setText("member-number", offer.member.number_display || offer.member.number);
    // The server counts this call already (`attempt`): the first call is 1/3, not 2/3.
    setText("member-attempts", offer.member.attempt != null ? offer.member.attempt : offer.member.attempts);
    setText("local-time", offer.local_time_label || "");
    setText("member-max", offer.member.max_attempts);
    setText("script", offer.script);
    setText("dialer-message", "");
    field("script").setAttribute("lang", offer.script_language || "");
    var link = field("member-link");
    if (link) {
      link.hidden = !offer.member.customer_id;
      if (offer.member.customer_id) {
        link.href = link.getAttribute("data-url").replace(/\/0$/, "/" + offer.member.customer_id);
      }
    }
    form.action = panel.getAttribute("data-disposition-url").replace(/\/0\/disposition$/, "/" + offer.attempt_id + "/disposition");
    var box = field("dispositions");
    box.textContent = "";
    offer.dispositions.forEach(function (d, i) {
      var b = document.createElement("button");
      b.type = "submit"; b.className = "btn"; b.name = "disposition"; b.value = d.code;
      b.setAttribute("data-key", String(i + 1));
      var k = document.createElement("kbd"); k.textContent = String(i + 1);
      // The agent's language (the page's), whatever the callee speaks.
      var label = (lang === "fr" ? d.label_fr : d.label_en) || d.label;
      b.appendChild(k); b.appendChild(document.createTextNode(" " + label));
      box.appendChild(b);
    });
    panel.hidden = false;
  }

  function post(code) {
    var data = new FormData();
    data.append("csrf_token", csrf());
    data.append("disposition", code);
    data.append("notes", document.getElementById("campaign-notes").value);
    return fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                               headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (res) {
        if (!res[0]) { setText("dialer-message", res[1].message || ""); return; }
        document.getElementById("campaign-notes").value = "";
        setText("dialer-message", panel.getAttribute("data-recorded"));
        // The disposition is this call's wrap-up: the phone panel drops its own form (phone.js).
        document.dispatchEvent(new CustomEvent("campaign:disposed", {detail: {call_id: current ? current.call_id : null}}));
        current = null;
        panel.hidden = true;
      });
  }

  form.addEventListener("submit", function (event) {
    if (typeof window.fetch !== "function") return;
    event.preventDefault();
    var code = event.submitter ? event.submitter.value : "";
    if (code) post(code);
  });

  document.addEventListener("keydown", function (event) {
    if (!current || panel.hidden || event.ctrlKey || event.metaKey || event.altKey) return;
    var t = event.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    var button = panel.querySelector('button[data-key="' + event.key + '"]');
    if (button) { event.preventDefault(); post(button.value); }
  });

  window.HelpdeskLive.on("campaign.offer", show);
  window.HelpdeskLive.onConnect(function () {
    window.HelpdeskLive.getJSON(panel.getAttribute("data-current-url")).then(function (body) {
      if (body && body.offer) show(body.offer);
    }).catch(function () {});
  });
})();
