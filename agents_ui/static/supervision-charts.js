/* Charts of the supervisors' report pages (calls, staffing, customer value, analytics).
 *
 * Each canvas carries its figures in data-chart (the same numbers as the table under it), so
 * no request and no inline script is needed; without JavaScript the tables tell everything.
 */
(function () {
  "use strict";
  if (typeof window.Chart !== "function") return;

  function base(extraScales) {
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      locale: document.documentElement.lang || "en",
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
      scales: Object.assign({ y: { beginAtZero: true, ticks: { precision: 0 } } }, extraScales || {})
    };
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      options.animation = false;
    }
    return options;
  }

  var BUILD = {
    calls: function (d) {
      return {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            { type: "line", label: d.names.service_level, data: d.service_level, yAxisID: "pct",
              borderColor: "#1d4ed8", backgroundColor: "#1d4ed8", spanGaps: true, order: 0 },
            { label: d.names.answered, data: d.answered, backgroundColor: "#047857", stack: "c", order: 1 },
            { label: d.names.abandoned, data: d.abandoned, backgroundColor: "#b91c1c", stack: "c", order: 1 }
          ]
        },
        options: base({
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: d.names.calls } },
          pct: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } }
        })
      };
    },
    staffing: function (d) {
      return {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            { label: d.names.agents, data: d.agents, backgroundColor: "#1d4ed8", yAxisID: "y" },
            { type: "line", label: d.names.calls, data: d.calls, borderColor: "#6b7280", backgroundColor: "#6b7280", yAxisID: "calls" }
          ]
        },
        options: base({ calls: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } })
      };
    },
    stacked: function (d) {
      var colours = ["#1d4ed8", "#047857", "#b45309", "#7c3aed", "#b91c1c"];
      return {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: d.series.map(function (s, i) {
            return { label: s.label, data: s.data, backgroundColor: colours[i % colours.length], stack: "c" };
          })
        },
        options: base({ x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: d.names.y } } })
      };
    },
    scatter: function (d) {
      var colours = { good: "#047857", demanding: "#1d4ed8", quiet: "#6b7280", costly: "#b91c1c" };
      var options = base({
        x: { type: "linear", beginAtZero: true, title: { display: true, text: d.names.x } },
        y: { beginAtZero: true, title: { display: true, text: d.names.y } }
      });
      options.interaction = { mode: "nearest", intersect: true };
      return {
        type: "scatter",
        data: {
          datasets: d.series.map(function (s) {
            return {
              label: s.label,
              data: s.data.map(function (p) { return { x: p[0], y: p[1] }; }),
              backgroundColor: colours[s.key] || "#6b7280",
              pointRadius: 3
            };
          })
        },
        options: options
      };
    },
    value: function (d) {
      return {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            { label: d.names.revenue, data: d.revenue, backgroundColor: "#047857", yAxisID: "y" },
            { label: d.names.cost, data: d.cost, backgroundColor: "#b91c1c", yAxisID: "y" },
            { type: "line", label: d.names.customers, data: d.customers, borderColor: "#1d4ed8", backgroundColor: "#1d4ed8", yAxisID: "n" }
          ].filter(function (ds) { return ds.data && ds.data.length; })
        },
        options: base({ n: { position: "right", beginAtZero: true, ticks: { precision: 0 }, grid: { drawOnChartArea: false } } })
      };
    }
  };

  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), function (canvas) {
    var data;
    try { data = JSON.parse(canvas.getAttribute("data-chart")); } catch (e) { return; }
    if (!data || !BUILD[data.type]) return;
    new window.Chart(canvas, BUILD[data.type](data));
  });
})();
