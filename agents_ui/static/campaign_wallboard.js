/* The wallboard's campaigns panel (templates/campaigns/_wallboard.html): each `campaign.figures`
 * event carries one campaign's whole figures; the row is updated (or added, or removed when the
 * campaign is no longer running). Values are written as text only. */
(function () {
  "use strict";
  var table = document.getElementById("wb-campaigns-table");
  if (!table || !window.HelpdeskLive) return;
  var body = table.querySelector("tbody");
  var empty = document.getElementById("wb-campaigns-empty");
  // "sent" is for texts and e-mails; a call campaign's calls answered are its "reached".
  var FIELDS = ["name", "sent", "reached", "converted", "refused", "attempts_left"];
  function shown(fig, f) { return f === "sent" && fig.channel === "call" ? "\u2014" : String(fig[f]); }

  function row(id) { return body.querySelector('tr[data-campaign-row="' + id + '"]'); }

  function apply(fig) {
    var tr = row(fig.id);
    if (fig.status !== "active") {
      if (tr) tr.remove();
    } else {
      if (!tr) {
        tr = document.createElement("tr");
        tr.setAttribute("data-campaign-row", String(fig.id));
        FIELDS.forEach(function (f) {
          var td = document.createElement("td");
          td.setAttribute("data-fig", f);
          tr.appendChild(td);
        });
        body.appendChild(tr);
      }
      FIELDS.forEach(function (f) { tr.querySelector('[data-fig="' + f + '"]').textContent = shown(fig, f); });
    }
    var any = body.querySelector("tr") !== null;
    table.hidden = !any;
    if (empty) empty.hidden = any;
  }

  window.HelpdeskLive.on("campaign.figures", apply);
})();
