/* Keyboard shortcuts and small progressive enhancements for the console.
 *
 * Every page works without this file; it only adds shortcuts (listed in the page footer and in
 * docs/console.md), including the phone panel's (a accept, x reject, w wrap-up notes), and an
 * in-place "load more" on the customer timeline. It is a static file so
 * that a Content-Security-Policy without 'unsafe-inline' applies to every page.
 */
(function () {
  "use strict";

  var SEQUENCE_TIMEOUT_MS = 1200;
  var pendingG = false;
  var pendingTimer = null;

  function isEditable(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function focusField(el) {
    if (!el) return false;
    el.focus();
    if (typeof el.select === "function" && el.tagName === "INPUT") el.select();
    el.scrollIntoView({ block: "nearest" });
    return true;
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link && link.href) {
      window.location.assign(link.href);
      return true;
    }
    return false;
  }

  function rows() {
    var list = document.querySelector("[data-list]");
    return list ? Array.prototype.slice.call(list.querySelectorAll("tbody tr")) : [];
  }

  function moveRow(step) {
    var all = rows();
    if (!all.length) return false;
    var index = all.findIndex(function (tr) { return tr.classList.contains("is-current"); });
    if (index === -1) {
      var active = document.activeElement;
      index = all.findIndex(function (tr) { return tr.contains(active); });
    }
    var next = index === -1 ? (step > 0 ? 0 : all.length - 1)
      : Math.min(all.length - 1, Math.max(0, index + step));
    all.forEach(function (tr) { tr.classList.remove("is-current"); });
    all[next].classList.add("is-current");
    var link = all[next].querySelector(".row-link") || all[next].querySelector("a");
    if (link) link.focus();
    all[next].scrollIntoView({ block: "nearest" });
    return true;
  }

  function showShortcuts() {
    var details = document.getElementById("shortcuts");
    if (!details) return false;
    details.open = true;
    var summary = details.querySelector("summary");
    if (summary) summary.focus();
    details.scrollIntoView({ block: "end" });
    return true;
  }

  /* Click a button of the phone panel, if it is shown and enabled (a ringing call's Accept). */
  function press(id) {
    var button = document.getElementById(id);
    if (!button || button.disabled || button.offsetParent === null) return false;
    button.click();
    return true;
  }

  function visibleField(id) {
    var el = document.getElementById(id);
    return el && el.offsetParent !== null ? el : null;
  }

  function searchField() {
    return document.querySelector("main [data-shortcut='search']") ||
      document.querySelector("[data-shortcut='global-search']");
  }

  // "g" then a letter follows the main menu's link for it; the SLA links exist only for the
  // roles that may open them, and the simulator's only in simulator mode, so the keys do nothing
  // where the link is missing.
  var GO = {
    t: "a[data-go='t']",
    c: "a[data-go='c']",
    k: "a[data-go='k']",
    s: "a[data-go='s']",
    a: "a[data-go='a']",
    l: "a[data-go='l']",
    p: "a[data-go='p']",
    m: "a[data-go='m']"
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;

    if (event.key === "Escape") {
      if (isEditable(target)) target.blur();
      var details = document.getElementById("shortcuts");
      if (details && details.open) details.open = false;
      return;
    }
    if (isEditable(target)) return;

    if (pendingG) {
      pendingG = false;
      clearTimeout(pendingTimer);
      if (GO[event.key] && follow(GO[event.key])) event.preventDefault();
      return;
    }

    var handled = false;
    switch (event.key) {
      case "g":
        pendingG = true;
        pendingTimer = setTimeout(function () { pendingG = false; }, SEQUENCE_TIMEOUT_MS);
        handled = true;
        break;
      case "/":
        handled = focusField(searchField());
        break;
      case "r":
        handled = focusField(document.getElementById("reply-body"));
        break;
      case "e":
        handled = focusField(document.getElementById("props-status"));
        break;
      case "j":
        handled = moveRow(1);
        break;
      case "k":
        handled = moveRow(-1);
        break;
      case "n":
        handled = follow("[data-shortcut='next-page']");
        break;
      case "?":
        handled = showShortcuts();
        break;
      case "a":
        handled = press("phone-accept");
        break;
      case "x":
        handled = press("phone-reject");
        break;
      case "w":
        handled = focusField(visibleField("wrapup-notes"));
        break;
    }
    if (handled) event.preventDefault();
  });

  /* "Load more" on the customer timeline: append the next entries in place and move focus to
   * the first of them; on any failure, fall back to following the link. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-load-more]") : null;
    if (!link) return;
    event.preventDefault();
    var fallback = link.href;
    link.setAttribute("aria-busy", "true");
    fetch(link.getAttribute("data-load-more"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var list = document.getElementById("timeline-entries");
        var incoming = doc.getElementById("timeline-entries");
        if (!list || !incoming) throw new Error("unexpected response");
        var first = null;
        Array.prototype.slice.call(incoming.children).forEach(function (item) {
          var node = document.importNode(item, true);
          if (!first) first = node;
          list.appendChild(node);
        });
        var holder = link.closest(".load-more");
        var nextHolder = doc.querySelector(".load-more");
        if (nextHolder) holder.replaceWith(document.importNode(nextHolder, true));
        else holder.remove();
        if (first) {
          var target = first.querySelector("a") || first;
          if (target === first) first.setAttribute("tabindex", "-1");
          target.focus();
        }
      })
      .catch(function () { window.location.assign(fallback); });
  });
})();
