/* Bulk actions of the ticket list: ticking rows, "select all on this page", "select all N
 * matching this filter", and the action's value fields.
 *
 * The boxes belong to the bulk form (`form="bulk-form"`), so the browser sends the ticked ids;
 * choosing "all matching" sets the form's scope to the filter, which the server resolves again.
 * Rows replaced by the live list (list_live.js) keep their box ticked: the selection is kept
 * here by ticket id. The server asks for confirmation, with the count, before changing anything.
 */
(function () {
  "use strict";

  var form = document.getElementById("bulk-form");
  var table = document.querySelector("table[data-list]");
  if (!form || !table || !table.tBodies.length) return;
  var body = table.tBodies[0];
  var pageBox = table.querySelector("[data-bulk-page]");
  var scope = form.querySelector("[data-bulk-scope]");
  var count = form.querySelector("[data-bulk-count]");
  var allMatching = form.querySelector("[data-bulk-all-matching]");
  var tooMany = form.querySelector("[data-bulk-all-matching-none]");
  var action = form.querySelector("[data-bulk-action]");
  var apply = document.getElementById("bulk-apply");
  var selected = {};

  function boxes() {
    return Array.prototype.slice.call(body.querySelectorAll("[data-bulk-select]"));
  }

  function render() {
    var all = boxes();
    var ticked = all.filter(function (b) { return b.checked; }).length;
    var whole = all.length > 0 && ticked === all.length;
    if (!whole && scope.value === "filter") scope.value = "ids";
    if (pageBox) {
      pageBox.checked = whole;
      pageBox.indeterminate = ticked > 0 && !whole;
    }
    if (allMatching) allMatching.hidden = !whole || scope.value === "filter";
    if (tooMany) tooMany.hidden = !whole;
    if (scope.value === "filter") {
      count.textContent = count.getAttribute("data-all-matching");
    } else if (ticked) {
      count.textContent = count.getAttribute("data-some").replace("{n}", String(ticked));
    } else {
      count.textContent = count.getAttribute("data-none");
    }
    apply.disabled = ticked === 0;
  }

  body.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-bulk-select]")) return;
    if (box.checked) selected[box.value] = true;
    else delete selected[box.value];
    render();
  });

  if (pageBox) {
    pageBox.addEventListener("change", function () {
      boxes().forEach(function (b) {
        b.checked = pageBox.checked;
        if (b.checked) selected[b.value] = true;
        else delete selected[b.value];
      });
      scope.value = "ids";
      render();
    });
  }

  if (allMatching) {
    allMatching.addEventListener("click", function () {
      scope.value = "filter";
      render();
    });
  }

  function showValue() {
    Array.prototype.forEach.call(form.querySelectorAll("[data-bulk-for]"), function (el) {
      el.hidden = el.getAttribute("data-bulk-for") !== action.value;
    });
  }
  action.addEventListener("change", showValue);

  // Rows the live list replaced or added: tick again the ones that were ticked.
  new MutationObserver(function () {
    boxes().forEach(function (b) { b.checked = !!selected[b.value]; });
    render();
  }).observe(body, { childList: true });

  showValue();
  render();
})();
