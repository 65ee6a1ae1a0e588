// pingan: the report page's charts, drawn with Chart.js (vendor/chart.umd.min.js) from the page's JSON block.
// The CSP allows no inline script, so the data travels as <script type="application/json" id="report-charts">.
// Every chart has its table on the page: without this file (or without Chart.js) the report still reads.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("report-charts");
  var printButton = document.querySelector("[data-print]");
  if (printButton) {
    printButton.addEventListener("click", function () { window.print(); });
  }
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var Chart = window.Chart;
  var data = JSON.parse(source.textContent);
  var css = getComputedStyle(document.documentElement);
  var colour = function (name) { return css.getPropertyValue(name).trim(); };
  var palette = {
    accent: colour("--accent"), green: colour("--green"), amber: colour("--amber"), red: colour("--red"),
    muted: colour("--muted"), line: colour("--line"), ink: colour("--ink"),
    blue: colour("--accent"), yellow: "#e0b000", planned: "#b9c7dd"
  };
  var DAY = 86400000;
  var dayNumber = function (iso) { return iso ? Date.parse(iso + "T00:00:00Z") / DAY : null; };
  var dateWords = new Intl.DateTimeFormat(data.language, { month: "short", day: "numeric", timeZone: "UTC" });
  var writtenDay = function (number) { return dateWords.format(new Date(number * DAY)); };

  // the page's own font, so Chinese labels are drawn in the CJK face the text uses; no animation: print and
  // screenshots take the finished chart
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 13;
  Chart.defaults.color = palette.ink;
  Chart.defaults.borderColor = palette.line;
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;

  // horizontal bars need room per unit: the figure grows with the number of bars it holds
  document.querySelectorAll("figure.chart-bars[data-bars]").forEach(function (figure) {
    var bars = parseInt(figure.getAttribute("data-bars"), 10) || 1;
    figure.style.height = Math.min(Math.max(bars * 2.2 + 4, 12), 60) + "rem";
  });

  var charts = [];
  var draw = function (id, config) {
    var canvas = document.getElementById(id);
    if (canvas) {
      charts.push(new Chart(canvas, config));
    }
  };

  var phases = data.phases;
  var span = function (pair) {
    return pair && pair[0] && pair[1] ? [dayNumber(pair[0]), dayNumber(pair[1]) + 1] : null;
  };
  // a bar chart's value axis starts at zero: day 0 is 1 January 1970, so the axis is held to the campaign's days
  var days = [].concat(phases.planned.map(span), phases.actual.map(span))
    .filter(function (range) { return range; })
    .reduce(function (all, range) { return all.concat(range); }, []);
  var firstDay = days.length ? Math.min.apply(null, days) - 3 : undefined;
  var lastDay = days.length ? Math.max.apply(null, days) + 3 : undefined;
  draw("chart-phases", {
    type: "bar",
    data: {
      labels: phases.labels,
      datasets: [
        { label: phases.words.planned, data: phases.planned.map(span), backgroundColor: palette.planned },
        { label: phases.words.actual, data: phases.actual.map(span), backgroundColor: palette.accent }
      ]
    },
    options: {
      indexAxis: "y",
      scales: { x: { min: firstDay, max: lastDay, ticks: { callback: writtenDay, maxTicksLimit: 8 } } },
      plugins: {
        legend: { position: "bottom" },
        tooltip: { callbacks: { label: function (item) {
          var range = item.raw;
          return item.dataset.label + ": " + writtenDay(range[0]) + " – " + writtenDay(range[1] - 1);
        } } }
      }
    }
  });

  var units = data.units;
  draw("chart-units", {
    type: "bar",
    data: {
      labels: units.labels,
      datasets: [
        { label: units.words.completion, data: units.completion, backgroundColor: palette.accent },
        { label: units.words.rectification_rate, data: units.rectification_rate, backgroundColor: palette.green },
        { label: units.words.on_time_rate, data: units.on_time_rate, backgroundColor: palette.amber }
      ]
    },
    options: {
      indexAxis: "y",
      scales: { x: { min: 0, max: 100, ticks: { callback: function (value) { return value + "%"; } } } },
      plugins: { legend: { position: "bottom" } }
    }
  });

  var ageing = data.ageing;
  draw("chart-ageing", {
    type: "bar",
    data: { labels: ageing.labels, datasets: [{ label: ageing.words.count, data: ageing.counts,
                                                backgroundColor: [palette.green, palette.amber, palette.red, palette.red] }] },
    options: {
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } },
                x: { title: { display: true, text: ageing.words.axis } } },
      plugins: { legend: { display: false } }
    }
  });

  var escalations = data.escalations;
  draw("chart-escalations", {
    type: "bar",
    data: { labels: escalations.labels, datasets: [{
      label: escalations.words.count, data: escalations.counts,
      backgroundColor: escalations.colours.map(function (name) { return palette[name] || palette.red; })
    }] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } }
  });

  var scores = data.scores;
  if (scores.labels.length) {
    draw("chart-scores", {
      type: "bar",
      data: { labels: scores.labels, datasets: [{
        label: scores.words.score, data: scores.scores,
        backgroundColor: scores.vetoed.map(function (vetoed) { return vetoed ? palette.red : palette.accent; })
      }] },
      options: {
        indexAxis: "y",
        scales: { x: { min: 0, max: scores.max || undefined } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { afterLabel: function (item) {
            return scores.vetoed[item.dataIndex] ? scores.words.vetoed : "";
          } } }
        }
      }
    });
  }

  // the print stylesheet gives the figures A4 sizes: draw again at those sizes, and back after printing
  var redraw = function () { charts.forEach(function (chart) { chart.resize(); }); };
  window.addEventListener("beforeprint", redraw);
  window.addEventListener("afterprint", redraw);
  if (window.matchMedia) {
    var printing = window.matchMedia("print");
    if (printing.addEventListener) {
      printing.addEventListener("change", redraw);
    }
  }
});
