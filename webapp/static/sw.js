// pingan's service worker, served from the root (/sw.js, pages/field/offline.py) so that its scope
// is the whole site. It keeps the shell (styles, scripts, icons, the outbox page) and the pages the
// person opened, so that their inbox, their sites and the forms they capture with open with no
// signal. It never touches a POST: the outbox (field.js) sends those itself and must see every
// failure to keep what it sends.
"use strict";

var VERSION = "2";
var SHELL = "pingan-shell-" + VERSION;
// the person's pages: dropped when someone signs out (phones are shared)
var PAGES = "pingan-pages";
var FALLBACK = "/outbox";
// The field pages' own files (the other pages' scripts are kept the first time a page loads them:
// asset, below). Only files that are there: a 404 is answered with an error page, which for
// someone not signed in yet rewrites the session cookie, and arriving just after the sign-in's
// answer it signed the person out again (seen in a test run).
var SHELL_FILES = [
  "/static/app.css",
  "/static/app.js",
  "/static/field.js",
  "/static/photos.js",
  "/static/checkin.js",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
  "/static/icons/apple-touch-icon.png",
  "/manifest.webmanifest",
  FALLBACK
];
// a page is some 20–60 kB: 80 of them is a few MB, well inside what a phone gives a site
var MAX_PAGES = 80;

self.addEventListener("install", function (event) {
  event.waitUntil(Promise.all([routePostsToTheNetwork(event), keepTheShell()]).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("pingan-shell-") === 0 && name !== SHELL;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(page(request, url));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(asset(request, event));
  }
  // anything else (the token, evidence files, the API) goes to the network as if we were not here
});

// --- helpers

// Posts go straight to the network, without waking this worker first (seconds, on a slow phone): the
// outbox sends them and sees their answers itself. Browsers without static routes still leave them
// alone (the fetch handler returns at once).
function routePostsToTheNetwork(event) {
  if (!event.addRoutes) { return Promise.resolve(); }
  return event.addRoutes([{ condition: { requestMethod: "POST" }, source: "network" }])
    .catch(function () { return null; });
}

// One by one, not cache.addAll: a file that fails must not stop the others from being kept.
function keepTheShell() {
  return caches.open(SHELL).then(function (cache) {
    return Promise.all(SHELL_FILES.map(function (url) {
      // without cookies either way: an answer of the worker's that landed after the sign-in's could
      // otherwise write back the cookie of the session it was asked in, signing the person out
      return fetch(url, { credentials: "omit", cache: "no-cache" }).then(function (response) {
        if (response.ok && !response.redirected) { return cache.put(url, response); }
        return null;
      }).catch(function () { return null; });
    }));
  });
}

// A page: from the network while there is signal (and kept), else the copy kept on the phone, else
// the outbox page, which says this page was not kept.
function page(request, url) {
  return fetch(request).then(function (response) {
    if (url.pathname === "/login" && response.status === 200) {
      // the sign-in page is shown to nobody signed in: whoever used the phone left
      return caches.delete(PAGES).then(function () { return response; });
    }
    if (response.status === 200 && response.type === "basic" && isHtml(response)) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) {
        return cache.put(request.url, copy).then(function () { return trim(cache); });
      }).catch(function () { return null; });
    }
    return response;
  }, function () {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(request.url, { ignoreVary: true });
    }).then(function (kept) {
      return kept || caches.match(FALLBACK, { ignoreVary: true, cacheName: SHELL });
    }).then(function (fallback) {
      return fallback || Response.error();
    });
  });
}

// A style, script or icon: the kept copy at once, refreshed behind it for the next page, so a
// deploy reaches the phone one page later and no signal costs nothing.
function asset(request, event) {
  return caches.open(SHELL).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (kept) {
      var fresh = fetch(request.url, { credentials: "omit" }).then(function (response) {
        if (response.ok && response.type === "basic") { cache.put(request, response.clone()); }
        return response;
      });
      if (kept) {
        event.waitUntil(fresh.catch(function () { return null; }));
        return kept;
      }
      return fresh;
    });
  });
}

function trim(cache) {
  return cache.keys().then(function (keys) {
    // keys come oldest first: a page opened again is put again, at the end
    return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map(function (key) {
      return cache.delete(key);
    }));
  });
}

function isHtml(response) {
  return (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
}
