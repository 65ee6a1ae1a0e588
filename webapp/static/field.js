// pingan: the phone's outbox. A form marked data-offline (a hazard found, a check-in, a rectification
// reported fixed) is kept on the phone (IndexedDB "pingan-outbox") before it is sent, and sent again
// until the server has answered: a capture made with no signal waits here, shown as 「待上传 N 条」,
// and goes when the signal returns. Each keeps the form's one-time key (form_key), so a send whose
// answer was lost is answered "submitted before" when it is sent again, never recorded twice. A
// refusal (the item was closed meanwhile) is kept and shown with the server's reason until the
// person discards it. Also: the service worker is registered here, and signing out drops the pages
// it kept. Every page works without this file (plain forms).
"use strict";
(function () {
  var DB_NAME = "pingan-outbox";
  var ITEMS = "items";
  // the keys this phone has queued: a page kept by the worker and opened again offline carries the
  // same form_key as before, which must not turn a second capture into "submitted before"
  var USED = "used";
  var PAGES = "pingan-pages";
  // seconds between tries while sends fail; the "online" event and every page load try at once
  var BACKOFF = [5, 15, 30, 60, 120, 300];
  // the hidden fields the page rendered, which the form's next capture needs as they are
  var KEEP_HIDDEN = ["csrf_token", "next", "form_key"];
  var backoffStep = 0;
  var retryTimer = null;
  var chain = Promise.resolve();
  // the last try found nobody signed in: what waits goes once someone signs in again
  var signedOut = false;

  if (!window.indexedDB || !window.fetch || !window.Promise) { return; }

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { return null; });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[action$='/logout']")) {
      event.preventDefault();
      forgetPages().then(function () { HTMLFormElement.prototype.submit.call(form); });
    } else if (form.matches("form[data-offline]")) {
      event.preventDefault();
      captureAndSend(form, event.submitter);
    } else if (navigator.onLine === false && form.method === "post") {
      // a form that cannot wait on the phone: kept on the page, not lost to the browser's
      // "no connection" page
      event.preventDefault();
      note(text("needsSignal"), "error");
    }
  });

  document.addEventListener("click", function (event) {
    var discard = event.target.closest("[data-outbox-discard]");
    if (discard) {
      removeItem(discard.getAttribute("data-outbox-discard")).then(show);
    } else if (event.target.closest("[data-outbox-send]")) {
      backoffStep = 0;
      flush();
    }
  });

  window.addEventListener("online", function () { backoffStep = 0; flush(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { flush(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (navigator.onLine === false) { note(text("offlineCopy"), "info", true); }
    var notKept = document.querySelector("[data-outbox-not-kept]");
    if (notKept && location.pathname !== "/outbox") { notKept.hidden = false; }
    show().then(function () { flush(); });
  });

  // --- capturing

  function captureAndSend(form, submitter) {
    if (form.getAttribute("data-capturing")) { return; }  // a double tap
    form.setAttribute("data-capturing", "1");
    capture(form, submitter).then(function (item) {
      return show().then(flush).then(function (outcomes) {
        settle(form, item, outcomes[item.key] || { waiting: true });
      }).catch(function () { form.removeAttribute("data-capturing"); });
    }, function () {
      // IndexedDB refused (private mode, a full disk) and nothing was kept: the form goes as a
      // plain form does
      form.removeAttribute("data-capturing");
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  // What the person sees of what they just captured: the page the answer names, the refusal above
  // the form, or word that it waits on the phone and a fresh form for the next one.
  function settle(form, item, outcome) {
    if (outcome.sent) {
      location.assign(outcome.sent.url || location.href);
      return;
    }
    if (outcome.refused) {
      // the form still holds what was typed: shown there to correct, not kept twice
      return removeItem(item.key).then(show).then(function () {
        note(outcome.refused, "error");
        form.removeAttribute("data-capturing");
      });
    }
    note(signedOut ? text("saved") + " " + text("signIn") : text("saved"), "info");
    form.reset();
    // a reset leaves hidden fields as they are: what a script filled in for this capture (the
    // phone's time, the place) must not travel with the next one
    form.querySelectorAll("input[type=hidden]").forEach(function (field) {
      if (KEEP_HIDDEN.indexOf(field.name) < 0) { field.value = ""; }
    });
    form.querySelectorAll("input[data-photos-scaled]").forEach(function (input) {
      input.dataset.photosScaled = "";
    });
    form.querySelectorAll(".photo-previews").forEach(function (box) { box.textContent = ""; });
    var key = form.querySelector("input[name=form_key]");
    if (key) { key.value = newKey(); }
    form.removeAttribute("data-capturing");
  }

  // The form's fields and files, photos scaled first (photos.js, when the page has it), kept under
  // the form's one-time key.
  function capture(form, submitter) {
    var captured = new Date();
    var phoneTime = form.querySelector("[name=phone_time]");
    if (phoneTime) { phoneTime.value = captured.toISOString(); }
    var data = submitter ? new FormData(form, submitter) : new FormData(form);
    var key = data.get("form_key");
    return used(key).then(function (seen) {
      if (!key || seen) { key = newKey(); }
      data.set("form_key", key);
      data.delete("csrf_token");  // a fresh one is asked for when it is sent
      // photos.js scales a photo as it is chosen: those are not scaled (and re-encoded) twice
      var scaled = Array.from(form.querySelectorAll("input[type=file][data-photos-scaled]"))
        .filter(function (input) { return input.dataset.photosScaled; })
        .map(function (input) { return input.name; });
      return Promise.all(Array.from(data.entries()).map(function (entry) {
        return field(entry, scaled.indexOf(entry[0]) >= 0);
      }));
    }).then(function (fields) {
      var item = {
        key: key,
        action: new URL(form.action, location.href).pathname,
        label: label(form),
        summary: summary(form, data),
        kind: form.getAttribute("data-offline"),
        captured: captured.toISOString(),
        person: badge() ? badge().getAttribute("data-person") : "",
        fields: fields.filter(Boolean),
        state: "waiting",
        message: ""
      };
      return store(ITEMS, "readwrite", function (items) { return items.put(item); })
        .then(function () { return store(USED, "readwrite", function (keys) { return keys.put({ key: key, at: Date.now() }); }); })
        .then(function () { return item; });
    });
  }

  function field(entry, scaledAlready) {
    var name = entry[0], value = entry[1];
    if (typeof value === "string") { return { name: name, value: value }; }
    if (!value.size && !value.name) { return null; }  // a file input left empty
    var scale = !scaledAlready && window.pinganPhotos && window.pinganPhotos.scale
      && /^image\//.test(value.type)
      ? Promise.resolve(window.pinganPhotos.scale(value)).catch(function () { return value; })
      : Promise.resolve(value);
    return scale.then(function (blob) {
      return { name: name, blob: blob || value, filename: value.name || "photo.jpg" };
    });
  }

  // --- sending

  // Send what waits, one at a time (and one tab at a time), oldest first. Resolves to what became
  // of each item tried: {sent: answer}, {refused: message} or {waiting: true}.
  function flush() {
    chain = chain.then(function () {
      return navigator.locks ? navigator.locks.request("pingan-outbox", sendAll) : sendAll();
    }).catch(function () { return {}; });
    return chain;
  }

  function sendAll() {
    var outcomes = {};
    return all().then(function (items) {
      var waiting = items.filter(function (item) { return item.state === "waiting"; });
      waiting.sort(function (a, b) { return a.captured < b.captured ? -1 : 1; });
      if (!waiting.length) { return outcomes; }
      if (navigator.onLine === false) { return later(outcomes); }
      return token().then(function (answer) {
        if (!answer) { return later(outcomes); }
        signedOut = !!answer.signedOut;
        if (signedOut) {
          note(text("signIn"), "error", true);
          return outcomes;
        }
        var mine = waiting.filter(function (item) {
          return !item.person || String(item.person) === String(answer.person);
        });
        // one at a time; no signal stops the round (the rest would fail too), an item the server
        // could not take just now does not hold up the ones behind it
        return mine.reduce(function (previous, item) {
          return previous.then(function (goOn) {
            if (!goOn) { return false; }
            return send(item, answer.csrf_token).then(function (outcome) {
              outcomes[item.key] = outcome;
              return !outcome.unreachable;
            });
          });
        }, Promise.resolve(true)).then(function () {
          var sent = Object.keys(outcomes).filter(function (key) { return outcomes[key].sent; });
          if (sent.length) { note(text("sent").replace("{n}", sent.length), "success", true); }
          var left = Object.keys(outcomes).some(function (key) { return outcomes[key].waiting; });
          if (left) { return later(outcomes); }
          backoffStep = 0;
          return outcomes;
        });
      });
    }).then(function (result) { return show().then(function () { return result; }); });
  }

  function send(item, csrfToken) {
    var body = new FormData();
    item.fields.forEach(function (entry) {
      if (entry.blob) { body.append(entry.name, entry.blob, entry.filename); }
      else { body.append(entry.name, entry.value); }
    });
    body.set("csrf_token", csrfToken);
    return fetch(item.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, "X-Pingan-Queue": "1" }
    }).then(function (response) {
      return json(response).then(function (answer) {
        if (response.ok && answer && answer.ok) {
          return removeItem(item.key).then(function () { return { sent: answer }; });
        }
        if (response.status >= 500 || response.status === 408 || response.status === 429
            || (response.status === 400 && !answer) || (response.ok && !answer)) {
          // the server is away, or answered a page: the session ended or changed between the
          // token and now (the sign-in page, a form token refused); tried again with a new one
          return { waiting: true };
        }
        item.state = "refused";
        item.message = (answer && answer.message)
          || text("refusedStatus").replace("{status}", response.status);
        return store(ITEMS, "readwrite", function (items) { return items.put(item); })
          .then(function () { return { refused: item.message }; });
      });
    }, function () {
      // no signal, or the answer was lost: the same key goes again
      return { waiting: true, unreachable: true };
    });
  }

  function token() {
    return fetch("/field/token", { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.status === 401) { return { signedOut: true }; }
      return response.ok ? json(response) : null;
    }, function () { return null; });
  }

  function later(outcomes) {
    clearTimeout(retryTimer);
    var seconds = BACKOFF[Math.min(backoffStep, BACKOFF.length - 1)];
    backoffStep += 1;
    retryTimer = setTimeout(flush, seconds * 1000);
    return outcomes;
  }

  // --- showing

  // The badge (「待上传 N 条」) on every page; the list on the outbox page.
  function show() {
    return all().then(function (items) {
      var mark = badge();
      if (mark) {
        mark.hidden = items.length === 0;
        mark.textContent = text("waiting").replace("{n}", items.length);
        mark.classList.toggle("has-refused", items.some(function (item) { return item.state === "refused"; }));
      }
      var list = document.querySelector("[data-outbox-list]");
      if (!list) { return; }
      list.textContent = "";
      items.sort(function (a, b) { return a.captured < b.captured ? -1 : 1; }).forEach(function (item) {
        list.appendChild(entry(item));
      });
      var empty = document.querySelector("[data-outbox-empty]");
      if (empty) { empty.hidden = items.length > 0; }
      var sendNow = document.querySelector("[data-outbox-send]");
      if (sendNow) { sendNow.hidden = !items.some(function (item) { return item.state === "waiting"; }); }
    }).catch(function () { return null; });
  }

  function entry(item) {
    var li = element("li", "item outbox-item outbox-" + item.state);
    li.setAttribute("data-outbox-key", item.key);
    li.appendChild(element("strong", "outbox-label", item.label));
    if (item.summary) { li.appendChild(element("span", "outbox-summary", item.summary)); }
    li.appendChild(element("span", "muted", text("captured").replace("{when}", when(item.captured))));
    var mine = !item.person || !badge() || !badge().getAttribute("data-person")
      || badge().getAttribute("data-person") === String(item.person);
    if (item.state === "refused") {
      li.appendChild(element("p", "outbox-reason", text("refused").replace("{reason}", item.message)));
      var discard = element("button", "outbox-discard", text("discard"));
      discard.type = "button";
      discard.setAttribute("data-outbox-discard", item.key);
      li.appendChild(discard);
    } else {
      li.appendChild(element("span", "outbox-state", mine ? text("noSignal") : text("otherPerson")));
    }
    return li;
  }

  // A message at the top of the page (once: a new one replaces the last).
  function note(message, category, quiet) {
    var main = document.querySelector("main");
    if (!main || !message) { return; }
    var old = main.querySelector("p.outbox-note");
    if (old) { old.remove(); }
    var p = element("p", "flash flash-" + category + " outbox-note", message);
    p.setAttribute("role", category === "error" ? "alert" : "status");
    if (quiet) { p.setAttribute("aria-live", "polite"); }
    main.insertBefore(p, main.firstChild);
  }

  // --- helpers

  function badge() { return document.getElementById("outbox-badge"); }

  // the texts are the page's (base.html renders them through the catalogue onto the badge)
  function text(name) {
    var mark = badge();
    return (mark && mark.dataset[name]) || "";
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    node.className = className;
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  // what the list calls it: the form's label, else the page's title
  function label(form) {
    return form.getAttribute("data-offline-label") || document.title.split(" · ")[0];
  }

  // the start of what was typed (data-offline-summary names the field), to tell items apart
  function summary(form, data) {
    var words = data.get(form.getAttribute("data-offline-summary") || "");
    if (typeof words !== "string") { return ""; }
    words = words.trim();
    return words.length > 60 ? words.slice(0, 60) + "…" : words;
  }

  function when(iso) {
    var lang = document.documentElement.lang || "zh-CN";
    try { return new Date(iso).toLocaleString(lang, { dateStyle: "short", timeStyle: "short" }); }
    catch (error) { return iso; }
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function json(response) {
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") !== 0) { return Promise.resolve(null); }
    return response.json().catch(function () { return null; });
  }

  function forgetPages() {
    if (!window.caches) { return Promise.resolve(); }
    // at most a second: signing out must not hang on a slow phone
    return Promise.race([
      caches.delete(PAGES).catch(function () { return null; }),
      new Promise(function (resolve) { setTimeout(resolve, 1000); })
    ]);
  }

  function all() { return store(ITEMS, "readonly", function (items) { return items.getAll(); }); }

  function removeItem(key) { return store(ITEMS, "readwrite", function (items) { return items.delete(key); }); }

  function used(key) {
    if (!key) { return Promise.resolve(false); }
    return store(USED, "readonly", function (keys) { return keys.getKey(key); }).then(function (found) {
      return found !== undefined;
    });
  }

  // One transaction on one object store; resolves to the result of the request ``work`` makes.
  function store(name, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(name, mode);
        var request = work(transaction.objectStore(name));
        var result;
        request.onsuccess = function () { result = request.result; };
        transaction.oncomplete = function () { db.close(); resolve(result); };
        transaction.onerror = transaction.onabort = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(ITEMS, { keyPath: "key" });
        request.result.createObjectStore(USED, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
}());
