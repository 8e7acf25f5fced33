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
  // Axis titles longer than the room their figure has (on a phone: the funnel's "Antworten
  // (wirksam: so genau wie der Wert)", the caterpillar's "Index bereinigt um die
  // Kundenstruktur (0–100)", cut at the right edge) are broken into lines at spaces, as even
  // as they go, each no wider than twice the distance from the axis' middle to the nearer
  // edge of the figure (plotly centres a title on its axis). A title that fits, as on a
  // desktop, stays one line. Runs again after every resize, from the figure's own titles.
  var measure = document.createElement("canvas").getContext("2d");
  function textWidth(text, size, family) {
    measure.font = size + "px " + family;
    return measure.measureText(text).width;
  }
  function greedy(words, room, width) {
    var lines = [];
    words.forEach(function (word) {
      var last = lines.length && lines[lines.length - 1] + " " + word;
      if (last && width(last) <= room) { lines[lines.length - 1] = last; } else { lines.push(word); }
    });
    return lines;
  }
  function wrapLine(text, room, size, family) {
    var width = function (s) { return textWidth(s, size, family); };
    var words = text.split(" ");
    if (width(text) <= room || words.length < 2) { return [text]; }
    var count = greedy(words, room, width).length;
    var low = Math.max.apply(null, words.map(width));
    var high = room;
    for (var i = 0; i < 12 && low < high; i++) {  // the narrowest room with as many lines
      var middle = (low + high) / 2;
      if (greedy(words, middle, width).length <= count) { high = middle; } else { low = middle + 0.5; }
    }
    return greedy(words, Math.max(high, low), width);
  }
  function wrapTitle(text, room, font) {
    return text.split(/<br\s*\/?>/i).map(function (line) {
      var span = /^<span style="font-size:(\d+)px">([^<]*)<\/span>$/.exec(line);
      var words = span ? span[2] : line;
      if (/[<&]/.test(words)) { return line; }  // other markup: as it is
      return wrapLine(words, room, span ? +span[1] : font.size, font.family).map(function (part) {
        return span ? '<span style="font-size:' + span[1] + 'px">' + part + "</span>" : part;
      }).join("<br>");
    }).join("<br>");
  }
  // A figure may name a shorter title for an axis whose own needs more than one line
  // (layout.meta.short_titles, e.g. {"xaxis": "Bereinigter Index (0–100)"}).
  function titlesThatFit(el) {
    var full = el._fullLayout;
    var meta = (el.layout && el.layout.meta) || {};
    var update = {};
    el.resonanzTitles = el.resonanzTitles || {};
    ["xaxis", "yaxis"].forEach(function (name) {
      var axis = full && full[name];
      var own = el.layout[name] && el.layout[name].title;  // (plotly's placeholder is not)
      if (!axis || !axis._length || !own || !own.text) { return; }
      if (!(name in el.resonanzTitles)) { el.resonanzTitles[name] = own.text; }
      var middle = axis._offset + axis._length / 2;
      var edge = name === "xaxis" ? full.width : full.height;
      var room = 2 * Math.min(middle, edge - middle) - 8;
      var text = wrapTitle(el.resonanzTitles[name], room, axis.title.font);
      var short = meta.short_titles && meta.short_titles[name];
      if (short && text !== el.resonanzTitles[name]) { text = wrapTitle(short, room, axis.title.font); }
      if (text !== own.text) { update[name + ".title.text"] = text; }
    });
    return Object.keys(update).length ? update : null;
  }
  // Relayout by make(el) until it has nothing to change: new margins may move an axis' middle,
  // a legend with more room may still lack height.
  function refit(el, make, pass) {
    var update = make(el);
    if (!update || (pass || 0) > 3) { return Promise.resolve(); }
    el.resonanzFitting = true;  // its own redraw does not start another
    return window.Plotly.relayout(el, update).then(function () {
      el.resonanzFitting = false;
      return refit(el, make, (pass || 0) + 1);
    }, function () { el.resonanzFitting = false; });
  }
  // On a phone (a figure under 480 px) a legend starts at the figure's left edge, not right of
  // the axis labels (where it ran out of the figure, or plotly scrolled it), and the figure
  // grows by the height it lacks. With layout.meta.labels_above (the caterpillar), names that
  // would take over 40% of the width (cut at the left edge) stand above their rows. Decided
  // again at each resize, from the layout as sent: a desktop keeps it.
  function own(el, path) {  // null: plotly's default
    var value = path.split(".").reduce(function (at, key) { return at && at[key]; }, el.resonanzOwn);
    return value === undefined ? null : value;
  }
  function phoneLayout(el) {
    var full = el._fullLayout;
    var names = own(el, "meta.labels_above") && own(el, "yaxis.categoryarray");
    var font = full.yaxis && full.yaxis.tickfont;  // (none while the labels are hidden)
    if (names && font && !el.resonanzWidest) {
      el.resonanzFont = font.size;
      el.resonanzWidest = Math.max.apply(null, names.map(function (name) {
        return textWidth(name, font.size, font.family);
      }));
    }
    var last = el.resonanzState || "0 false 0";
    var phone = full.width < 480;
    var above = !!names && el.resonanzWidest > 0.4 * full.width;
    var legend = full.legend;
    var extra = phone ? +last.split(" ")[2] + (legend && legend._height > legend._effHeight
      ? Math.ceil(legend._height - legend._effHeight) + 4 : 0) : 0;
    var state = [+phone, above, extra].join(" ");
    if (state === last) { return null; }
    el.resonanzState = state;
    var update = {
      "legend.xref": phone ? "container" : own(el, "legend.xref"),
      "legend.x": phone ? 0 : own(el, "legend.x"),
      "yaxis.showticklabels": above ? false : own(el, "yaxis.showticklabels"),
      "yaxis.title.text": above ? "" : own(el, "yaxis.title.text"),
      annotations: (own(el, "annotations") || []).concat(above ? names.map(function (name) {
        return { text: name, showarrow: false, x: 0, xref: "paper", xanchor: "left", y: name,
          yanchor: "bottom", yshift: 3, font: { size: el.resonanzFont } };
      }) : [])
    };
    var height = own(el, "height");
    if (height) {  // 16 px more a row for its name
      update.height = height + extra + (above ? 16 * names.length : 0);
      el.style.minHeight = update.height + "px";
    }
    if (el.resonanzTitles) { delete el.resonanzTitles.yaxis; }  // its own title, or none
    return update;
  }
  function fit(el) {
    return refit(el, phoneLayout).then(function () { return refit(el, titlesThatFit); });
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
      el.resonanzOwn = JSON.parse(JSON.stringify(layout));  // as sent, for phoneLayout
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
        return fit(el);
      }).then(function () {
        el.on("plotly_afterplot", function () { if (!el.resonanzFitting) { fit(el); } });
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
