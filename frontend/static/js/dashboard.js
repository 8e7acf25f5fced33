// Draws the plotly figures embedded as JSON (<script type="application/json">) on staff pages.
// No inline scripts: the CSP allows scripts from 'self' only.
// plotly.js is fetched early (<link rel="preload">) but run only after the first paint, so the
// page's text and tables show before its 1.2 MB are compiled. The figures come without their
// plotly template; plotly-template.js brings it once for all of them.
(function () {
  "use strict";
  var plotly = document.currentScript && document.currentScript.getAttribute("data-plotly");
  function svgButton(label) {
    return {
      name: "svg",
      title: label,
      icon: { width: 1000, height: 1000, path: "M500 0 L900 400 H650 V900 H350 V400 H100 Z", transform: "matrix(1 0 0 -1 0 900)" },
      click: function (gd) { window.Plotly.downloadImage(gd, { format: "svg", filename: gd.id }); }
    };
  }
  // Point labels (a funnel plot's office names): in the order of importance the figure gives
  // (layout.meta.label_order), a label that would overlap one already kept, or run out of the
  // figure, is hidden; its name stays in the hover and in the table beside the chart. Runs
  // again after every resize.
  function declutter(el) {
    var box = el.getBoundingClientRect();
    var texts = Array.prototype.slice.call(el.querySelectorAll(".textpoint"));
    var meta = el.layout && el.layout.meta;
    var order = meta && meta.label_order && meta.label_order.length === texts.length
      ? meta.label_order : texts.map(function (_, i) { return i; });
    var kept = [];
    order.forEach(function (i) {
      var t = texts[i] && texts[i].querySelector("text");
      if (!t) { return; }
      t.style.display = "";
      if (!t.textContent) { return; }
      var r = t.getBoundingClientRect();
      var out = r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom;
      var hit = out || kept.some(function (k) {
        return r.left < k.right + 2 && k.left < r.right + 2 && r.top < k.bottom && k.top < r.bottom;
      });
      if (hit) { t.style.display = "none"; } else { kept.push(r); }
    });
  }
  // German month and day names for the date axes (a trend's "Mär 2026", not "Mar 2026") and
  // German numbers (decimal comma, thousands point: "75,3", as the tables beside the charts):
  // plotly's own "de" locale; plotly takes layout.separators from its decimal and thousands.
  var GERMAN = {
    moduleType: "locale",
    name: "de",
    dictionary: {},
    format: {
      days: ["Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"],
      shortDays: ["So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"],
      months: ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
        "September", "Oktober", "November", "Dezember"],
      shortMonths: ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt",
        "Nov", "Dez"],
      date: "%d.%m.%Y",
      decimal: ",",
      thousands: "."
    }
  };
  function draw() {
    if (!window.Plotly) { return; }
    var lang = document.documentElement.lang || "de";
    if (lang === "de" && !draw.registered) {
      window.Plotly.register(GERMAN);
      draw.registered = true;
    }
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var data = document.getElementById(el.getAttribute("data-figure"));
      if (!data) { return; }
      var fig = JSON.parse(data.textContent);
      var layout = fig.layout || {};
      layout.autosize = true;
      if (window.resonanzPlotlyTemplate && !(layout.template && layout.template.layout)) {
        layout.template = window.resonanzPlotlyTemplate;
      }
      // The stylesheet keeps room for a figure until it is drawn; one with its own height
      // (a chart of a single question) takes just that.
      if (layout.height) { el.style.minHeight = layout.height + "px"; }
      window.Plotly.newPlot(el, fig.data || [], layout, {
        responsive: true,
        locale: lang === "de" ? "de" : "en",
        displaylogo: false,
        toImageButtonOptions: { format: "png", filename: el.id, scale: 2 },
        modeBarButtonsToAdd: [svgButton(lang === "de" ? "Als SVG herunterladen" : "Download as SVG")],
        modeBarButtonsToRemove: ["lasso2d", "select2d"]
      }).then(function () {
        if (el.hasAttribute("data-declutter")) {
          declutter(el);
          el.on("plotly_afterplot", function () { declutter(el); });
        }
        el.setAttribute("data-drawn", "true");
      });
    });
  }
  function start() {
    if (window.Plotly) { draw(); return; }
    if (!plotly || !document.querySelector("[data-figure]")) { return; }
    window.requestAnimationFrame(function () {
      window.setTimeout(function () {
        var script = document.createElement("script");
        script.src = plotly;
        script.onload = draw;
        document.head.appendChild(script);
      }, 0);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
