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

  /* The checkbox of the list's current row (the one j/k moved to, or holding the focus). */
  function toggleRow() {
    var all = rows();
    var active = document.activeElement;
    var row = all.find(function (tr) { return tr.contains(active); }) ||
      all.find(function (tr) { return tr.classList.contains("is-current"); });
    var box = row ? row.querySelector("[data-bulk-select]") : null;
    if (!box) return false;
    box.click();
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

  /* "g" then a key follows the main menu's link marked data-go="<key>" (only the menu entries
   * the signed-in role has are on the page). */
  function goLink(key) {
    return /^[a-z]$/.test(key) ? "a[data-go='" + key + "']" : null;
  }

  /* Ctrl+Enter (or Cmd+Enter) in the wrap-up notes saves the wrap-up. */
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!event.target || event.target.id !== "wrapup-notes") return;
    event.preventDefault();
    press("wrapup-done");
  });

  /* The caller screen of the call ringing or in progress (phone panel). */
  function openScreen() {
    var links = document.querySelectorAll("#phone [data-field='screen-link']");
    for (var i = 0; i < links.length; i++) {
      if (links[i].offsetParent !== null) {
        window.location.assign(links[i].href);
        return true;
      }
    }
    return false;
  }

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
      var go = goLink(event.key);
      if (go && follow(go)) event.preventDefault();
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
        // A ringing call's Reject button shows this key: it comes first. Otherwise, on a row
        // of the ticket list, x ticks its box (bulk actions). One key, one line in the help.
        handled = press("phone-reject") || toggleRow();
        break;
      case "w":
        handled = focusField(visibleField("wrapup-notes"));
        break;
      case "o":
        handled = openScreen();
        break;
      case "d":
        handled = press("wrapup-done");
        break;
    }
    if (handled) event.preventDefault();
  });

  /* "Load more" on a timeline (customer page, caller screen): append the next entries in place.
   * A click moves focus to the first new entry; reaching the end of the list by scrolling loads
   * the next page without moving focus. On any failure a click falls back to following the link. */
  var RETRY_AUTOLOAD_MS = 5000;

  function loadMore(link, byClick) {
    if (link.getAttribute("aria-busy") === "true") return;
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
        if (nextHolder) {
          var replacement = document.importNode(nextHolder, true);
          holder.replaceWith(replacement);
          watch(replacement.querySelector("[data-autoload]"));
        } else {
          holder.remove();
        }
        if (first && byClick) {
          var target = first.querySelector("a") || first;
          if (target === first) first.setAttribute("tabindex", "-1");
          target.focus();
        }
      })
      .catch(function () {
        if (byClick) {
          window.location.assign(fallback);
          return;
        }
        link.removeAttribute("aria-busy");
        setTimeout(function () { watch(link); }, RETRY_AUTOLOAD_MS); // try again on the next pass
      });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-load-more]") : null;
    if (!link) return;
    event.preventDefault();
    loadMore(link, true);
  });

  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (seen) {
    seen.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      observer.unobserve(entry.target);
      loadMore(entry.target, false);
    });
  }, { rootMargin: "200px" }) : null;

  function watch(link) {
    if (observer && link) observer.observe(link);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-load-more][data-autoload]"), watch);
})();

/* Forms whose change cannot be taken back (a deletion, a deactivation) ask first: the question
 * is the form's `data-confirm`. Without this file the form simply posts. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute ? form.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
