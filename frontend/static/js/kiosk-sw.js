// The kiosk's service worker (scope /k/): the kiosk pages and their assets stay usable
// without the network. Pages: the network first (a fresh page, a fresh signed issue time),
// the copy from the last time when the network is gone. Assets: the copy first (their
// names change with their content). Answers are not handled here: kiosk.js keeps them in
// IndexedDB until the server has confirmed them.
var CACHE = "resonanz-kiosk-1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function keep(request, response) {
  if (response.ok && response.type === "basic") {
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
  }
  return response;
}

function forget(pathname) {
  // a link that is gone or switched off: no page of it is served from the cache again
  var token = pathname.split("/")[2];
  return caches.open(CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (r) {
        return new URL(r.url).pathname.split("/")[2] === token;
      }).map(function (r) { return cache.delete(r); }));
    });
  });
}

self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.warm) || [];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      url = new URL(url, self.location.href).href;
      if (new URL(url).origin !== self.location.origin) return null;
      return fetch(url, {credentials: "omit", cache: "no-store"}).then(function (response) {
        if (response.ok) return cache.put(url, response);
      }).catch(function () {});
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) { return keep(request, response); });
    }));
  } else if (url.pathname.indexOf("/k/") === 0 && url.pathname !== "/k/sw.js") {
    event.respondWith(fetch(request).then(function (response) {
      if (response.status === 404 || response.status === 410) forget(url.pathname);
      return keep(request, response);
    }, function () {
      return caches.match(request, {ignoreVary: true}).then(function (hit) {
        return hit || caches.match(url.pathname.split("/").slice(0, 3).join("/"));
      }).then(function (hit) { return hit || Response.error(); });
    }));
  }
});
