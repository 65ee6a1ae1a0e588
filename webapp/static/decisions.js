// pingan: the bulk decisions page (/decisions); the page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  ["decide-form", "reassign-form"].forEach(function (id) {
    var form = document.getElementById(id);
    if (!form) { return; }
    var boxes = document.querySelectorAll('input[type=checkbox][name=item][form="' + id + '"]');
    var all = document.querySelector('input[data-select-all="' + id + '"]');
    var buttons = form.querySelectorAll("[data-selected-count]");
    var labels = Array.prototype.map.call(buttons, function (button) { return button.textContent; });
    var update = function () {
      var selected = 0;
      boxes.forEach(function (box) { if (box.checked) { selected += 1; } });
      buttons.forEach(function (button, i) {
        button.disabled = selected === 0;
        button.textContent = selected ? labels[i] + " (" + selected + ")" : labels[i];
      });
      if (all) { all.checked = selected === boxes.length; }
    };
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    update();
  });
});
