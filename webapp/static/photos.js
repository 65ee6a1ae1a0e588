/* Photos before upload: each image chosen in an <input type=file data-photos> is scaled to at most
   LONG_SIDE pixels on its long side and sent as JPEG. A phone's 12-megapixel photo (3–6 MB) becomes
   some 300–600 KB: quicker on a village's mobile network, and within the server's limits. The
   server decodes and re-encodes every photo anyway (workflow/field/photos.py): this only saves the
   upload, so anything that fails here is sent as it was. Non-images (a PDF) are left alone.

   window.pinganPhotos.scale(file) -> Promise<File> is the same scaling for other scripts (the
   offline outbox, field.js). */
(function () {
  "use strict";
  var LONG_SIDE = 1600;
  var QUALITY = 0.85;

  function isImage(file) {
    return file && /^image\//.test(file.type || "") && !/svg/.test(file.type);
  }

  function jpegName(name) {
    var stem = (name || "photo").replace(/\.[^.\/\\]*$/, "");
    return (stem || "photo") + ".jpg";
  }

  function decode(file) {
    // imageOrientation 'from-image' applies the EXIF orientation: a portrait photo stays upright
    if (window.createImageBitmap) {
      return window.createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return decodeWithImg(file);
      });
    }
    return decodeWithImg(file);
  }

  function decodeWithImg(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not an image")); };
      img.src = url;
    });
  }

  function scale(file) {
    if (!isImage(file)) return Promise.resolve(file);
    return decode(file).then(function (source) {
      var width = source.width || source.naturalWidth;
      var height = source.height || source.naturalHeight;
      var ratio = Math.min(1, LONG_SIDE / Math.max(width, height));
      // already small and already JPEG: nothing to gain by re-encoding it here
      if (ratio === 1 && file.type === "image/jpeg") {
        if (source.close) source.close();
        return file;
      }
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(width * ratio));
      canvas.height = Math.max(1, Math.round(height * ratio));
      var context = canvas.getContext("2d");
      context.fillStyle = "#fff"; // JPEG has no transparency: what was transparent shows white
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      if (source.close) source.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob) { resolve(file); return; }
          resolve(new File([blob], jpegName(file.name), {
            type: "image/jpeg",
            lastModified: file.lastModified || Date.now()
          }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () {
      return file; // the server says what is wrong with it, in the person's language
    });
  }

  function showPreviews(input, files) {
    var box = input.nextElementSibling;
    if (!box || !box.classList || !box.classList.contains("photo-previews")) {
      box = document.createElement("div");
      box.className = "photo-previews";
      input.parentNode.insertBefore(box, input.nextSibling);
    }
    Array.prototype.forEach.call(box.querySelectorAll("img"), function (img) {
      URL.revokeObjectURL(img.src);
    });
    box.textContent = "";
    files.forEach(function (file) {
      if (!isImage(file)) return;
      var img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      box.appendChild(img);
    });
  }

  function onChange(event) {
    var input = event.target;
    if (input.dataset.photosBusy === "1") return; // the change our own assignment causes
    var chosen = Array.prototype.slice.call(input.files || []);
    if (!chosen.length || !window.DataTransfer) return;
    var form = input.form;
    var buttons = form ? form.querySelectorAll("button[type=submit], button:not([type])") : [];
    // a submit before the scaling ends would send the originals: hold the form's buttons meanwhile
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    input.setAttribute("aria-busy", "true");
    Promise.all(chosen.map(scale)).then(function (scaled) {
      var transfer = new DataTransfer();
      scaled.forEach(function (file) { transfer.items.add(file); });
      input.dataset.photosBusy = "1";
      input.files = transfer.files;
      input.dataset.photosBusy = "";
      input.dataset.photosScaled = String(scaled.length);
      showPreviews(input, scaled);
    }).finally(function () {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      input.removeAttribute("aria-busy");
    });
  }

  window.pinganPhotos = { scale: scale, LONG_SIDE: LONG_SIDE };

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("input[type=file][data-photos]")) {
      onChange(event);
    }
  });
})();
