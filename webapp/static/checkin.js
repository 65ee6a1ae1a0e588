// The check-in form at a key site (巡查打卡): the phone's own time when the form is sent (a check-in
// that waits with no signal is sent later, and its time is this one), the place only when the person
// ticks the box and the browser is allowed; and the print button of the sheet of QR codes.
(function () {
  "use strict";

  function stampTime(form) {
    var field = form.querySelector("input[name=phone_time]");
    if (field && !field.value) field.value = new Date().toISOString();
  }

  function locate(box) {
    var form = box.form;
    var status = document.getElementById("location-status");
    var fields = ["latitude", "longitude", "accuracy"].map(function (name) {
      return form.querySelector("input[name=" + name + "]");
    });
    fields.forEach(function (field) { field.value = ""; });
    if (!box.checked) return;
    if (!navigator.geolocation) {
      status.textContent = box.dataset.unlocated;
      box.checked = false;
      return;
    }
    status.textContent = box.dataset.locating;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        fields[0].value = position.coords.latitude;
        fields[1].value = position.coords.longitude;
        fields[2].value = Math.round(position.coords.accuracy);
        status.textContent = box.dataset.located.replace("{m}", Math.round(position.coords.accuracy));
      },
      function () {
        status.textContent = box.dataset.unlocated;
        box.checked = false;
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-offline=check-in]").forEach(function (form) {
      // capture phase: the time is stamped before the offline outbox reads the form
      form.addEventListener("submit", function () { stampTime(form); }, true);
    });
    var box = document.getElementById("share-location");
    if (box) box.addEventListener("change", function () { locate(box); });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
