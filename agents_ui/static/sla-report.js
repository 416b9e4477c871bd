/* The compliance report's chart and period menu.
 *
 * The figures come from the page itself (the canvas's data-chart attribute, the same numbers as
 * the table under it), so the chart needs no request and no inline script. Without JavaScript,
 * or without Chart.js, the table alone tells everything.
 */
(function () {
  "use strict";

  // The date fields only matter for "Chosen dates": hide them otherwise.
  var period = document.querySelector("[data-report-period]");
  var dates = document.querySelectorAll("[data-report-dates]");
  function syncDates() {
    var custom = period.value === "custom";
    Array.prototype.forEach.call(dates, function (field) { field.hidden = !custom; });
  }
  if (period) {
    period.addEventListener("change", syncDates);
    syncDates();
  }

  var canvas = document.getElementById("compliance-chart");
  if (!canvas || typeof window.Chart !== "function") return;
  var data;
  try { data = JSON.parse(canvas.getAttribute("data-chart")); } catch (e) { return; }
  var styles = getComputedStyle(document.documentElement);
  function colour(name, fallback) { return styles.getPropertyValue(name).trim() || fallback; }
  var met = colour("--chart-met", "#047857");
  var breached = colour("--chart-breached", "#b91c1c");
  var line = colour("--chart-line", "#1d4ed8");

  var options = {
    responsive: true,
    maintainAspectRatio: false,
    locale: document.documentElement.lang || "en",
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { position: "bottom" } },
    scales: {
      x: { stacked: true },
      y: {
        stacked: true,
        beginAtZero: true,
        ticks: { precision: 0 },
        title: { display: true, text: data.names.targets }
      },
      pct: {
        position: "right",
        min: 0,
        max: 100,
        grid: { drawOnChartArea: false },
        title: { display: true, text: data.names.compliance }
      }
    }
  };
  if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    options.animation = false;
  }

  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { type: "line", label: data.names.compliance, data: data.compliance, yAxisID: "pct",
          borderColor: line, backgroundColor: line, spanGaps: true, order: 0 },
        { label: data.names.met, data: data.met, backgroundColor: met, stack: "targets",
          yAxisID: "y", order: 1 },
        { label: data.names.breached, data: data.breached, backgroundColor: breached,
          stack: "targets", yAxisID: "y", order: 1 }
      ]
    },
    options: options
  });
})();
