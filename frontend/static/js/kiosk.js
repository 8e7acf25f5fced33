// Kiosk: a tablet in the office that many clients use one after another.
// - Every screen replaces the previous one in the history, and a page shown again from the
//   back/forward cache goes back to the start: Back never shows an earlier client's answers.
//   The thank-you screen already has the start's address (no ?lang=): a reload after sending
//   starts the next client in the tablet's language, online or not.
// - Answers wait in IndexedDB until the server confirms them (201/200); the queue is sent in
//   shuffled order after a short random delay, retried with backoff, honours 429
//   Retry-After, and survives reloads and restarts. The thank-you screen never waits for it.
// - A service worker (/k/sw.js) keeps the pages, in every language of the link, for when
//   the network is gone.
(function () {
  var body = document.body;
  var start = body.getAttribute("data-kiosk-start");
  if (!start) return;
  var idle = parseInt(body.getAttribute("data-kiosk-idle") || "0", 10);
  var resetAfter = parseInt(body.getAttribute("data-kiosk-reset") || "8", 10);
  var form = document.getElementById("survey");

  // The language links' visit key is for tablets without JavaScript (survey/respond/visit.py):
  // here every screen replaces the one before, and the service worker keeps one copy a language.
  var keyed = document.querySelectorAll("a[href*='visit=']");
  for (var k = 0; k < keyed.length; k++) {
    var plain = new URL(keyed[k].href);
    plain.searchParams["delete"]("visit");
    keyed[k].href = plain.href;
  }

  function go(url) { window.location.replace(url); }
  // every sign of someone at the tablet starts its idle time again
  function onActivity(arm) {
    ["pointerdown", "touchstart", "keydown", "input", "wheel", "scroll"].forEach(function (e) {
      document.addEventListener(e, arm, {capture: true, passive: true});
    });
  }
  function later(fn, seconds) {
    var timer;
    function arm() { clearTimeout(timer); timer = setTimeout(fn, seconds * 1000); }
    onActivity(arm);
    arm();
  }

  // An unfinished survey left alone: `warn` seconds before the reset to the start, a dialog
  // asks "Are you still there?" (focus on its Continue button). Any touch or key keeps the
  // answers and starts the idle time again; the dialog covers the screen, so the tap that
  // closes it never chooses an answer underneath.
  function stillThere(seconds, warn) {
    var box = document.getElementById("still-there");
    if (!box || warn < 1 || warn >= seconds) { later(function () { go(start); }, seconds); return; }
    var timer, before = null;
    function close() {
      box.hidden = true;
      body.classList.remove("asking");
      if (before && before.focus) before.focus({preventScroll: true});
    }
    function arm(event) {
      // (Enter or Space on Continue closes it by its click: a key that closed it at once
      // would move the focus, and Space would then choose the answer focused before)
      var button = event && box.contains(event.target) && /^(Enter| )$/.test(event.key);
      if (!box.hidden && event) {
        // open: a click, a key or a scroll closes it; a touch or pointer press waits for its
        // click (so the countdown is neither left showing nor silently restarted)
        if (event.type === "click" || event.type === "wheel" || event.type === "scroll" ||
            event.type === "keydown" && !button) close();
        else return;
      }
      clearTimeout(timer);
      timer = setTimeout(function () {
        before = document.activeElement;
        box.hidden = false;
        body.classList.add("asking");
        box.querySelector("button").focus({preventScroll: true});
        timer = setTimeout(function () { go(start); }, warn * 1000);
      }, (seconds - warn) * 1000);
    }
    onActivity(arm);
    box.addEventListener("click", function (event) { event.stopPropagation(); arm(event); });
    arm();
  }

  // Nothing of a previous client: no history entries, no restored pages or form state.
  window.addEventListener("pageshow", function (event) { if (event.persisted) go(start); });
  document.addEventListener("click", function (event) {
    var a = event.target.closest && event.target.closest("a[href]");
    if (!a || a.target || a.origin !== window.location.origin || a.hash && a.pathname === window.location.pathname) return;
    event.preventDefault();
    go(a.href);
  });

  // ---- the queue ----------------------------------------------------------------------
  var DB = "resonanz-kiosk";
  var pauseUntil = 0;
  var flushing = false;

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("queue", {keyPath: "id"}); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function store(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("queue", mode);
        var result = work(tx.objectStore("queue"));
        tx.oncomplete = function () { db.close(); resolve(result && result.result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function all() { return store("readonly", function (s) { return s.getAll(); }); }
  function put(entry) { return store("readwrite", function (s) { s.put(entry); }); }
  function drop(id) { return store("readwrite", function (s) { s["delete"](id); }); }

  function showCount() {
    var mark = document.querySelector("[data-testid=queue]");
    if (!mark) return;
    all().then(function (entries) {
      mark.hidden = !entries.length;
      mark.textContent = entries.length ? "\u25cf " + entries.length : "";
      mark.title = entries.length + " waiting";
    }, function () {});
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function shuffle(list) {
    for (var i = list.length - 1; i > 0; i--) {
      var j = Math.floor(Math.random() * (i + 1));
      var t = list[i]; list[i] = list[j]; list[j] = t;
    }
    return list;
  }
  function retryLater(entry, seconds) {
    entry.attempts = (entry.attempts || 0) + 1;
    var backoff = Math.min(600, 2 * Math.pow(2, entry.attempts)) * (0.5 + Math.random());
    entry.next = Date.now() + 1000 * Math.max(seconds || 0, backoff);
    return put(entry);
  }
  function send(entry) {
    if (Date.now() < pauseUntil) return Promise.resolve();
    return fetch("/api/v1/responses", {
      method: "POST",
      headers: {"content-type": "application/json"},
      body: JSON.stringify(entry.payload),
      credentials: "omit",
      cache: "no-store"
    }).then(function (response) {
      if (response.status === 200 || response.status === 201) return drop(entry.id);
      if (response.status === 429) {
        var wait = parseInt(response.headers.get("retry-after") || "30", 10) || 30;
        pauseUntil = Date.now() + wait * 1000;
        return retryLater(entry, wait);
      }
      if (response.status >= 500 || response.status === 408) return retryLater(entry);
      // refused for good (the survey ended before this page was loaded, or invalid)
      return drop(entry.id);
    }, function () { return retryLater(entry); });
  }
  function flush(all_now) {
    if (flushing || !window.indexedDB) return;
    flushing = true;
    all().then(function (entries) {
      var due = shuffle(entries.filter(function (e) { return all_now === true || !e.next || e.next <= Date.now(); }));
      return due.reduce(function (chain, entry) {
        return chain.then(function () { return sleep(300 + Math.random() * 1700); })
          .then(function () { return send(entry); });
      }, Promise.resolve());
    }).then(done, done);
    function done() { flushing = false; showCount(); }
  }
  function uuid() {
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  if (window.indexedDB) {
    showCount();
    setTimeout(flush, 1000 + Math.random() * 4000);
    setInterval(flush, 20000);
    // the network is back: everything waiting goes now (shuffled, spaced), whatever its backoff
    window.addEventListener("online", function () {
      setTimeout(function () { flush(true); }, 500 + Math.random() * 3000);
    });
  }

  // ---- the service worker: every language's pages while the network is there -------------
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/k/sw.js", {scope: "/k/"}).catch(function () {});
    navigator.serviceWorker.ready.then(function (reg) {
      var urls = [new URL(start, window.location.href).href];
      var links = document.querySelectorAll("a.choice, .langs a, .foot a");
      for (var i = 0; i < links.length; i++) urls.push(links[i].href);
      var assets = document.querySelectorAll("script[src], link[rel=stylesheet]");
      for (var j = 0; j < assets.length; j++) urls.push(assets[j].src || assets[j].href);
      if (reg.active) reg.active.postMessage({warm: urls});
    });
  }

  // ---- the screens ---------------------------------------------------------------------
  if (!form) {  // the start screen waits; any other screen (the privacy notice) goes back
    later(function () { if (idle) go(start); else window.scrollTo(0, 0); }, idle || 30);
    return;
  }
  // the submission id is made here, so two clients of one cached page never share one
  if (window.crypto && crypto.getRandomValues) form.elements.submission_id.value = uuid();
  if (idle) stillThere(idle, parseInt(body.getAttribute("data-kiosk-warn") || "0", 10));
  form.addEventListener("submit", function (event) {
    if (!window.indexedDB || !window.Promise) return;  // the plain form POST does it
    window.resonanzSend(form, event, function (payload) {
      put({id: payload.submission_id, payload: payload, attempts: 0, next: 0}).then(function () {
        // the answers leave the screen at once, whatever the network does
        ["main", "top"].forEach(function (id) {
          var gone = document.getElementById(id);
          if (gone) gone.remove();
        });
        var skip = document.querySelector("a.skip");  // "skip to the questions": none left
        if (skip) skip.remove();
        var thanks = document.getElementById("done");
        thanks.hidden = false;
        thanks.focus();
        // the address is the start's again: a reload, or a browser restoring its tabs, shows
        // the next client the start screen in the tablet's language, not this one's survey
        history.replaceState(null, "", start);
        later(function () { go(start); }, resetAfter);
        setTimeout(flush, 1000 + Math.random() * 5000);
      }, function () {
        HTMLFormElement.prototype.submit.call(form);  // no storage here: the plain way
      });
    });
  });
})();
