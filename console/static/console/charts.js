// Draws every chart of a console page with uPlot (window.uPlot, from the npm package).
// A chart is a <div data-chart="ID"> and a <script type="application/json" id="ID"> holding
// {x: ["YYYY-MM-DD", ...], series: [{label, values}], range: [min, max] | null}; the same
// numbers are in the page as a table, so the page reads fine without this script.
(function () {
  "use strict";
  var COLORS = ["#0b5cad", "#b35900", "#1a7f37", "#8250df", "#a40e26", "#57606a"];

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || !window.uPlot) return;
    var data = JSON.parse(source.textContent);
    var xs = data.x.map(function (day) { return Date.parse(day + "T00:00:00Z") / 1000; });
    var series = [{}].concat(data.series.map(function (s, i) {
      return { label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true,
               value: function (u, v) { return v == null ? "–" : v.toFixed(2); } };
    }));
    var options = {
      width: Math.max(el.clientWidth, 240),
      height: 260,
      series: series,
      tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: { x: { time: true }, y: data.range ? { range: data.range } : {} },
      axes: [{}, {}],
      legend: { live: true },
    };
    var plot = new window.uPlot(options, [xs].concat(data.series.map(function (s) { return s.values; })), el);
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        plot.setSize({ width: Math.max(el.clientWidth, 240), height: 260 });
      }).observe(el);
    }
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
