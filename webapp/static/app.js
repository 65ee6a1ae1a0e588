// pingan: small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // The bulk check-off button says how many tasks are selected and waits for at least one.
  var bulk = document.getElementById("bulk-form");
  if (bulk) {
    var button = bulk.querySelector("[data-selected-count]");
    var label = button.textContent;
    var boxes = document.querySelectorAll('input[type=checkbox][form="bulk-form"]');
    var update = function () {
      var selected = 0;
      boxes.forEach(function (box) { if (box.checked) { selected += 1; } });
      button.disabled = selected === 0;
      button.textContent = selected ? label + " (" + selected + ")" : label;
    };
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }
  // A letter's print button (the report's own is report.js's): one A4 sheet, app.css @media print.
  document.querySelectorAll("[data-print-page]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
