/* The macro picker of a ticket's reply box (agents_ui/macro_picker.py renders the macros with the
 * page). Ctrl+Shift+M in the box, or "/" typed in an empty box, opens a search; the arrow keys
 * move through the macros whose title matches and Enter inserts the chosen text where the cursor
 * is. Its id goes with the reply, so that the macro's changes are made when the reply is sent,
 * and a note says what they are beforehand. Text only: nothing is inserted as markup. */
(function () {
  "use strict";

  var picker = document.getElementById("macro-picker");
  var body = document.getElementById("reply-body");
  var chosen = document.getElementById("reply-macro_id");
  if (!picker || !body || !chosen) return;

  var macros = JSON.parse(picker.getAttribute("data-macros") || "[]");
  var strings = JSON.parse(picker.getAttribute("data-strings") || "{}");
  var box = document.getElementById("macro-search-box");
  var search = document.getElementById("macro-search");
  var list = document.getElementById("macro-options");
  var note = document.getElementById("macro-note");
  var noteText = document.getElementById("macro-note-text");
  var remove = document.getElementById("macro-remove");
  var shown = [];
  var active = 0;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function byId(id) {
    for (var i = 0; i < macros.length; i++) {
      if (String(macros[i].id) === String(id)) return macros[i];
    }
    return null;
  }

  function render() {
    var wanted = fold(search.value.trim());
    shown = macros.filter(function (m) { return fold(m.title).indexOf(wanted) !== -1; });
    active = Math.min(active, Math.max(shown.length - 1, 0));
    list.textContent = "";
    if (!shown.length) {
      var empty = document.createElement("li");
      empty.className = "macro-empty muted";
      empty.textContent = strings.none || "";
      list.appendChild(empty);
      search.removeAttribute("aria-activedescendant");
      return;
    }
    shown.forEach(function (m, index) {
      var item = document.createElement("li");
      item.id = "macro-option-" + m.id;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", index === active ? "true" : "false");
      item.className = "macro-option" + (index === active ? " is-active" : "");
      item.textContent = m.title + " (" + m.language + ")";
      item.addEventListener("mousedown", function (event) {
        event.preventDefault();
        pick(m);
      });
      list.appendChild(item);
    });
    search.setAttribute("aria-activedescendant", "macro-option-" + shown[active].id);
  }

  function open() {
    box.hidden = false;
    search.value = "";
    active = 0;
    render();
    search.focus();
  }

  function close() {
    box.hidden = true;
    body.focus();
  }

  function showNote(m) {
    var text = (strings.chosen || "").replace("{title}", m.title);
    noteText.textContent = m.also ? text + " " + m.also : text;
    note.hidden = false;
  }

  function pick(m) {
    var start = body.selectionStart || 0;
    var end = body.selectionEnd || 0;
    var before = body.value.slice(0, start);
    body.value = before + m.text + body.value.slice(end);
    var caret = before.length + m.text.length;
    chosen.value = String(m.id);
    showNote(m);
    close();
    body.setSelectionRange(caret, caret);
    body.dispatchEvent(new Event("input", { bubbles: true }));  // the SMS meter counts again
  }

  body.addEventListener("keydown", function (event) {
    var shortcut = (event.ctrlKey || event.metaKey) && event.shiftKey &&
      (event.key === "M" || event.key === "m");
    var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey &&
      body.value === "";
    if (!shortcut && !slash) return;
    event.preventDefault();
    open();
  });

  search.addEventListener("input", function () { active = 0; render(); });

  search.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!shown.length) return;
      var step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + shown.length) % shown.length;
      render();
    } else if (event.key === "Enter") {
      event.preventDefault();  // never sends the reply form from the search
      if (shown.length) pick(shown[active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });

  remove.addEventListener("click", function () {
    chosen.value = "";
    note.hidden = true;
    body.focus();
  });

  // The page shown again after a refused reply keeps the macro: say so again.
  var kept = chosen.value ? byId(chosen.value) : null;
  if (kept) showNote(kept);
})();
