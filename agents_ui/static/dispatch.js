// Dispatch board: drag a visit card onto a technician's row to assign it. The same assignment
// is reachable without a mouse: each card links to the visit's page with its suggestions.
(function () {
  "use strict";
  var board = document.querySelector(".dispatch-layout");
  if (!board) return;
  var assignUrl = board.getAttribute("data-assign-url");
  var csrf = board.getAttribute("data-csrf");
  var dropError = board.getAttribute("data-drop-error");
  var messageArea = document.getElementById("board-message");

  // A refused drop is said in the page's own message area, a live region that screen readers
  // announce, and which leaves the dispatcher on the board (no dialog to dismiss).
  function showError(text) {
    if (!messageArea) return;
    var line = document.createElement("p");
    line.className = "flash flash-error";
    line.textContent = text;
    messageArea.replaceChildren(line);
  }

  board.querySelectorAll(".wo-card[draggable]").forEach(function (card) {
    card.addEventListener("dragstart", function (event) {
      if (messageArea) messageArea.replaceChildren();  // a new attempt: the last refusal is over
      event.dataTransfer.setData("text/plain", card.getAttribute("data-work-order-id"));
      event.dataTransfer.effectAllowed = "move";
      card.classList.add("dragging");
    });
    card.addEventListener("dragend", function () { card.classList.remove("dragging"); });
  });

  function assign(workOrderId, technicianId, row) {
    var body = new URLSearchParams();
    body.set("csrf_token", csrf);
    body.set("technician_id", technicianId);
    body.set("next", "board");
    row.classList.add("busy");
    fetch(assignUrl.replace(/\/0\/assign$/, "/" + encodeURIComponent(workOrderId) + "/assign"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      if (result.ok) {
        window.location.reload();  // the server flashed the outcome; the reload shows the new day
        return;
      }
      row.classList.remove("busy");
      var error = result.answer && result.answer.error;
      showError(error && error.message ? error.message : dropError);
    }).catch(function () {
      row.classList.remove("busy");
      showError(dropError);
    });
  }

  board.querySelectorAll(".tech-row").forEach(function (row) {
    row.addEventListener("dragover", function (event) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      row.classList.add("drop-target");
    });
    row.addEventListener("dragleave", function () { row.classList.remove("drop-target"); });
    row.addEventListener("drop", function (event) {
      event.preventDefault();
      row.classList.remove("drop-target");
      var id = event.dataTransfer.getData("text/plain");
      if (/^\d+$/.test(id)) assign(id, row.getAttribute("data-technician-id"), row);
    });
  });

  // Re-read the board when another dispatcher (or a technician's text) changes a route; a
  // burst of events (auto-dispatch) reloads once.
  var pending = null;
  function refresh() {
    if (pending || document.querySelector(".dragging")) return;
    pending = window.setTimeout(function () { window.location.reload(); }, 1500);
  }
  if (window.HelpdeskLive) {
    window.HelpdeskLive.on("dispatch.route", refresh);
    window.HelpdeskLive.on("dispatch.work_order", refresh);
  }
})();
