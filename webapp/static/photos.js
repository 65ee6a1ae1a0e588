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
  var PREVIEW = 144; // pixels: 72 CSS pixels on a phone's 2× screen

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
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
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
      var encoded = new Promise(function (resolve) {
        canvas.toBlob(resolve, "image/jpeg", QUALITY);
      });
      return Promise.all([encoded, exifOf(file)]).then(function (parts) {
        var blob = parts[0], exif = parts[1];
        if (!blob) return file;
        return withExif(blob, exif).then(function (bytes) {
          return new File([bytes], jpegName(file.name), {
            type: "image/jpeg",
            lastModified: file.lastModified || Date.now()
          });
        });
      });
    }).catch(function () {
      return file; // the server says what is wrong with it, in the person's language
    });
  }

  // A canvas writes no EXIF: the photo's own block is carried over, so that the server still reads
  // when it was taken (and, where the campaign keeps it, where). Its orientation is set to 1: the
  // canvas has already turned the pixels upright. The server keeps nothing else of it.
  function exifOf(file) {
    if (file.type !== "image/jpeg" || !file.slice) return Promise.resolve(null);
    // the EXIF block is in the first 64 KB of a camera's JPEG (an APP1 segment holds at most that)
    return file.slice(0, 131072).arrayBuffer().then(function (buffer) {
      try { return exifSegment(buffer); } catch (e) { return null; }
    }, function () { return null; });
  }

  function exifSegment(buffer) {
    var view = new DataView(buffer);
    if (view.byteLength < 4 || view.getUint16(0) !== 0xFFD8) return null;
    var offset = 2;
    while (offset + 10 <= view.byteLength) {
      var marker = view.getUint16(offset);
      if ((marker & 0xFF00) !== 0xFF00 || marker === 0xFFDA) return null;
      var length = view.getUint16(offset + 2);
      if (marker === 0xFFE1 && view.getUint32(offset + 4) === 0x45786966 &&
          offset + 2 + length <= view.byteLength) {
        var segment = new Uint8Array(buffer.slice(offset, offset + 2 + length));
        upright(new DataView(segment.buffer));
        return segment;
      }
      offset += 2 + length;
    }
    return null;
  }

  function upright(view) {
    var tiff = 10; // FF E1, the length, "Exif\0\0"
    var little = view.getUint16(tiff) === 0x4949;
    var ifd = tiff + view.getUint32(tiff + 4, little);
    var count = view.getUint16(ifd, little);
    for (var i = 0; i < count; i++) {
      var entry = ifd + 2 + i * 12;
      if (view.getUint16(entry, little) === 0x0112) view.setUint16(entry + 8, 1, little);
    }
  }

  function withExif(blob, exif) {
    if (!exif) return Promise.resolve(blob);
    return blob.arrayBuffer().then(function (buffer) {
      var bytes = new Uint8Array(buffer);
      var at = 2; // after the start of image, and after the canvas's JFIF segment if there is one
      if (bytes[2] === 0xFF && bytes[3] === 0xE0) at = 4 + ((bytes[4] << 8) | bytes[5]);
      return new Blob([bytes.subarray(0, at), exif, bytes.subarray(at)], { type: "image/jpeg" });
    });
  }

  // a preview is drawn on a canvas: the Content-Security-Policy shows no blob: images
  function preview(file) {
    var canvas = document.createElement("canvas");
    canvas.width = canvas.height = PREVIEW;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", file.name);
    decode(file).then(function (source) {
      var width = source.width || source.naturalWidth;
      var height = source.height || source.naturalHeight;
      var side = Math.min(width, height); // the middle square, as a phone's gallery shows it
      canvas.getContext("2d").drawImage(
        source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, PREVIEW, PREVIEW);
      if (source.close) source.close();
    }).catch(function () {});
    return canvas;
  }

  function showPreviews(input, files) {
    var box = input.nextElementSibling;
    if (!box || !box.classList || !box.classList.contains("photo-previews")) {
      box = document.createElement("div");
      box.className = "photo-previews";
      input.parentNode.insertBefore(box, input.nextSibling);
    }
    box.textContent = "";
    files.forEach(function (file) {
      if (isImage(file)) box.appendChild(preview(file));
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
