/* The usage dashboard's charts (usage.html), drawn with the vendored Chart.js from the
 * tables beside them: each canvas names its table (data-usage-chart), each cell carries
 * its number (data-value), so a chart can only show what its table says. The "Chart shows"
 * choice redraws every chart at once; without scripts the tables and the form still work.
 * No inline code: CSP allows none. */
(function () {
  "use strict";

  var charts = [];

  function series(table, metric) {
    var labels = [];
    var values = [];
    Array.from(table.tBodies[0].rows).forEach(function (row) {
      var cell = row.querySelector('td[data-metric="' + metric + '"]');
      if (!cell || !row.cells[0]) { return; }
      labels.push(row.cells[0].textContent.trim());
      values.push(Number(cell.getAttribute("data-value")) || 0);
    });
    return { labels: labels, values: values };
  }

  function metricLabel(table, metric) {
    var th = table.querySelector('thead th[data-metric="' + metric + '"]');
    return th ? th.textContent.trim() : metric;
  }

  function draw(canvas, metric) {
    var table = document.getElementById(canvas.getAttribute("data-usage-chart"));
    if (!table || !window.Chart) { return null; }
    var data = series(table, metric);
    canvas.setAttribute("data-metric", metric);
    canvas.setAttribute("data-points", String(data.values.length));
    return new window.Chart(canvas, {
      type: canvas.id === "chart-day" ? "line" : "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: metricLabel(table, metric), data: data.values,
                     backgroundColor: "#2f5bd3", borderColor: "#2f5bd3" }]
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true } }
      }
    });
  }

  function drawAll(metric) {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    document.querySelectorAll("canvas[data-usage-chart]").forEach(function (canvas) {
      var chart = draw(canvas, metric);
      if (chart) { charts.push(chart); }
    });
    document.documentElement.setAttribute("data-usage-drawn", metric);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("usage-metric");
    drawAll(select ? select.value : "jobs");
    if (select) {
      select.addEventListener("change", function () { drawAll(select.value); });
    }
  });
})();
