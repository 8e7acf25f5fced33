// Kiosk: go back to an empty survey after a while without input, so the next client starts
// fresh, in the tablet's language rather than the one the last client chose.
(function () {
  var idle = parseInt(document.body.getAttribute("data-kiosk-idle") || "0", 10);
  if (!idle) return;
  var timer;
  function reset() { window.location.replace(window.location.pathname); }
  function arm() { clearTimeout(timer); timer = setTimeout(reset, idle * 1000); }
  ["pointerdown", "keydown", "input"].forEach(function (e) { document.addEventListener(e, arm, true); });
  arm();
})();
