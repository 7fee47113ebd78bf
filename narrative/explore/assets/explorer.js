/* narrative explorer: charts of the embedded drift tables and the paragraphs behind them.
 *
 * Every piece of text here comes from articles and is untrusted. The DOM is built with
 * createElement and text nodes only (never innerHTML), links are made only for http(s) URLs,
 * and text handed to plotly (which reads a few HTML-like tags in labels) is entity-escaped
 * first, so it is shown as written and never becomes markup.
 */
(function () {
  "use strict";

  var PAGE = 50;
  var data = JSON.parse(document.getElementById("explorer-data").textContent);
  var P = data.paragraphs, A = data.articles, C = data.cells;
  var NARR = data.narratives, OUTLETS = data.outlets, PERIODS = data.periods;
  var PERIOD_WORD = { day: "Day", week: "Week", month: "Month" }[data.period_kind] || "Period";
  var state = { narrative: -1, outlet: -1, period: -1, words: "", shown: PAGE };
  var searchText = null; // lower-cased title + text of each paragraph, built on first search

  // -- small helpers ------------------------------------------------------------------------
  function node(tag, className) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      element.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return element;
  }
  function setText(id, text) { document.getElementById(id).textContent = text; }
  function httpHref(url) {
    if (typeof url !== "string") return null;
    try {
      var parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }
  function clip(text, limit) {
    text = String(text);
    return text.length <= limit ? text : text.slice(0, limit - 1) + "\u2026";
  }
  // plotly reads <b>, <br>, <a href> ... in labels: escape so it shows the characters instead.
  function plotlyText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function pct(value) { return value === null || value === undefined ? "n/a" : (100 * value).toFixed(1) + "%"; }
  function interval(low, high, insufficient) {
    if (insufficient || low === null || high === null) return "(too few articles for an interval)";
    return "(95% CI " + pct(low) + "\u2013" + pct(high) + ")";
  }
  function count(n, word) { return n.toLocaleString("en") + " " + word + (n === 1 ? "" : "s"); }
  function periodName(i) { return i < 0 ? "undated" : PERIOD_WORD + " of " + PERIODS[i]; }

  // -- selection ----------------------------------------------------------------------------
  function outletOf(i) { return A.outlet[P.article[i]]; }
  function inSelection(narrative, outlet, period) {
    return (state.narrative < 0 || narrative === state.narrative) &&
           (state.outlet < 0 || outlet === state.outlet) &&
           (state.period < 0 || period === state.period);
  }
  function selectionTotal() {
    var total = 0;
    for (var c = 0; c < C.n.length; c++) {
      if (inSelection(C.narrative[c], C.outlet[c], C.period[c])) total += C.n[c];
    }
    return total;
  }
  function wordsMatch(i, words) {
    if (!words.length) return true;
    if (searchText === null) {
      searchText = P.text.map(function (text, k) {
        return ((A.title[P.article[k]] || "") + "\n" + text).toLowerCase();
      });
    }
    for (var w = 0; w < words.length; w++) if (searchText[i].indexOf(words[w]) < 0) return false;
    return true;
  }
  function selectedRows() {
    var words = state.words.toLowerCase().split(/\s+/).filter(Boolean);
    var inSel = [], matching = [];
    for (var i = 0; i < P.id.length; i++) {
      if (!inSelection(P.narrative[i], outletOf(i), P.period[i])) continue;
      inSel.push(i);
      if (wordsMatch(i, words)) matching.push(i);
    }
    return { inSelection: inSel, matching: matching, words: words };
  }
  function describe() {
    var parts = [];
    if (state.narrative >= 0) parts.push("narrative \u201c" + NARR[state.narrative].name + "\u201d");
    if (state.outlet >= 0) parts.push("outlet \u201c" + OUTLETS[state.outlet] + "\u201d");
    if (state.period >= 0) parts.push(periodName(state.period).toLowerCase());
    return parts.length ? parts.join(", ") : "all paragraphs";
  }
  function select(narrative, outlet, period) {
    state.narrative = narrative; state.outlet = outlet; state.period = period;
    state.shown = PAGE;
    update();
    document.getElementById("paragraphs-heading").scrollIntoView({ block: "nearest" });
  }

  // -- the list -----------------------------------------------------------------------------
  function paragraphItem(i) {
    var article = P.article[i], narrative = NARR[P.narrative[i]];
    var href = httpHref(A.url[article]);
    var title = A.title[article] || "(no title)";
    var titleNode = href ? node("a", "title", title) : node("span", "title", title);
    if (href) { titleNode.href = href; titleNode.rel = "noopener noreferrer nofollow"; titleNode.target = "_blank"; }
    var swatch = node("span", "swatch");
    swatch.style.backgroundColor = narrative.color;
    var meta = node("div", "meta",
      node("span", "outlet", OUTLETS[A.outlet[article]] || ""),
      node("time", null, A.date[article] || "no date"),
      titleNode,
      node("span", "narrative", swatch, narrative.name + (P.sub[i] ? " \u203a " + P.sub[i] : "")),
      node("span", "typicality", "typicality " + (P.probability[i] === null ? "n/a" : P.probability[i].toFixed(2))),
      P.copy[i] ? node("span", "copy", "copy") : null);
    var item = node("li", null, meta, node("p", "text", P.text[i]));
    item.dataset.paragraphId = P.id[i];
    return item;
  }
  function renderList() {
    var rows = selectedRows();
    var total = selectionTotal();
    var list = document.getElementById("paragraph-list");
    list.replaceChildren();
    var fragment = document.createDocumentFragment();
    var shown = rows.matching.slice(0, state.shown);
    shown.forEach(function (i) { fragment.appendChild(paragraphItem(i)); });
    list.appendChild(fragment);
    var status = count(total, "paragraph") + ": " + describe();
    if (rows.words.length) {
      status = count(rows.matching.length, "paragraph") + " with \u201c" + rows.words.join(" ") +
        "\u201d among the " + count(rows.inSelection.length, "listed paragraph") + " of " + describe();
    }
    setText("list-status", status + (shown.length < rows.matching.length
      ? " \u2014 showing the first " + shown.length.toLocaleString("en") : ""));
    var note = document.getElementById("sample-note");
    if (rows.inSelection.length < total) {
      note.hidden = false;
      note.textContent = "A sample is shown: this file embeds " + rows.inSelection.length.toLocaleString("en") +
        " of these " + total.toLocaleString("en") + " paragraphs, the " +
        (data.sample.per_cell === 1 ? "most typical one" : data.sample.per_cell + " most typical") +
        " of each narrative \u00d7 outlet \u00d7 " + PERIOD_WORD.toLowerCase() +
        ". The word filter searches the embedded ones. `narrative export` writes every paragraph.";
    } else {
      note.hidden = true;
    }
    var more = document.getElementById("more");
    more.hidden = shown.length >= rows.matching.length;
  }

  // -- controls -----------------------------------------------------------------------------
  function fillSelect(id, anyLabel, names) {
    var element = document.getElementById(id);
    element.appendChild(new Option(anyLabel, "-1"));
    names.forEach(function (name, i) { element.appendChild(new Option(clip(name, 60), String(i))); });
    element.addEventListener("change", function () {
      var key = id.replace("pick-", "");
      state[key] = parseInt(element.value, 10);
      state.shown = PAGE;
      update();
    });
  }
  function syncControls() {
    document.getElementById("pick-narrative").value = String(state.narrative);
    document.getElementById("pick-outlet").value = String(state.outlet);
    document.getElementById("pick-period").value = String(state.period);
  }

  // -- charts -------------------------------------------------------------------------------
  var CONFIG = { displaylogo: false, responsive: true, typesetMath: false,
                 modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };
  var FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12 };

  function sharesOf(outlet) {
    // narrative -> period -> row number in data.shares, for one outlet (-1: all outlets)
    var S = data.shares, table = NARR.map(function () { return {}; });
    for (var r = 0; r < S.share.length; r++) {
      if (S.outlet[r] === outlet && S.narrative[r] >= 0 && S.period[r] >= 0) table[S.narrative[r]][S.period[r]] = r;
    }
    return table;
  }
  function timeTraces() {
    var S = data.shares, rows = sharesOf(state.outlet), traces = [], volume = {};
    NARR.forEach(function (narrative, j) {
      // Periods with enough articles make the line; thinner ones (no interval) are hollow
      // markers off the line, as the report leaves them out of its lines.
      var x = [], y = [], custom = [], tx = [], ty = [], tcustom = [], seen = false;
      PERIODS.forEach(function (period, p) {
        var r = rows[j][p];
        if (r === undefined) return;
        volume[p] = S.n_articles[r];
        if (S.share[r]) seen = true;
        var point = [plotlyText(narrative.name), plotlyText(periodName(p)),
                     interval(S.ci_low[r], S.ci_high[r], S.insufficient[r]), S.n_articles[r], p];
        // (a thin period where the narrative is absent draws nothing: it has no paragraphs to list)
        if (S.insufficient[r] && S.share[r]) { tx.push(period); ty.push(S.share[r]); tcustom.push(point); }
        x.push(period); y.push(S.insufficient[r] ? null : S.share[r]); custom.push(point);
      });
      if (!seen) return;
      var selected = state.narrative === j, dim = state.narrative >= 0 && !selected;
      var errors = null;
      if (selected) {  // the selected narrative shows its intervals
        errors = { type: "data", symmetric: false, color: narrative.color, thickness: 1.2, width: 3,
                   array: custom.map(function (c, k) { return y[k] === null ? null : S.ci_high[rows[j][c[4]]] - y[k]; }),
                   arrayminus: custom.map(function (c, k) { return y[k] === null ? null : y[k] - S.ci_low[rows[j][c[4]]]; }) };
      }
      var hover = "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>share %{y:.1%} %{customdata[2]}" +
        "<br>%{customdata[3]} articles<extra></extra>";
      traces.push({
        type: "scatter", mode: "lines+markers", x: x, y: y, customdata: custom, legendgroup: "n" + j,
        name: plotlyText(clip(narrative.name, 38)), meta: { kind: "share", narrative: j },
        line: { color: narrative.color, width: selected ? 3.5 : 2,
                dash: narrative.kind === "unassigned" ? "dot" : "solid" },
        marker: { size: selected ? 7 : 5 }, opacity: dim ? 0.25 : 1, error_y: errors, hovertemplate: hover
      });
      if (tx.length) {
        traces.push({
          type: "scatter", mode: "markers", x: tx, y: ty, customdata: tcustom, legendgroup: "n" + j,
          showlegend: false, meta: { kind: "share", narrative: j }, hovertemplate: hover,
          marker: { color: narrative.color, symbol: "circle-open", size: selected ? 8 : 6 },
          opacity: dim ? 0.2 : 0.7
        });
      }
    });
    var px = [], py = [], colors = [];
    PERIODS.forEach(function (period, p) {
      if (volume[p] === undefined) return;
      px.push(period); py.push(volume[p]);
      colors.push(p === state.period ? "#1d1d1f" : "#b8bec7");
    });
    traces.push({ type: "bar", x: px, y: py, yaxis: "y2", name: "articles", showlegend: false,
                  marker: { color: colors }, meta: { kind: "volume" },
                  customdata: px.map(function (period) { return PERIODS.indexOf(period); }),
                  hovertemplate: PERIOD_WORD + " of %{x}<br>%{y} articles \u2014 click for its paragraphs<extra></extra>" });
    return traces;
  }
  function periodTicks() {
    // Ticks on the first day of periods (plotly's own weekly ticks fall on Sundays).
    // Over a longer span plotly's own month and year ticks read better.
    var every = Math.max(1, Math.ceil(PERIODS.length / 12));
    if (data.period_kind === "week" && PERIODS.length && PERIODS.length <= 26) {
      return { tick0: PERIODS[0], dtick: every * 7 * 86400000 };
    }
    return {};
  }
  function drawTime() {
    setText("time-scope", state.outlet >= 0 ? "outlet \u201c" + OUTLETS[state.outlet] + "\u201d" : "all outlets");
    var layout = {
      font: FONT, margin: { l: 56, r: 10, t: 34, b: 40 }, hovermode: "closest",
      xaxis: Object.assign({ type: "date", anchor: "y2", showgrid: false }, periodTicks()),
      yaxis: { domain: [0.3, 1], tickformat: ".0%", title: { text: "share" }, rangemode: "tozero" },
      yaxis2: { domain: [0, 0.2], title: { text: "articles" }, rangemode: "tozero" },
      legend: { font: { size: 11 }, itemclick: false, itemdoubleclick: false, traceorder: "normal" },
      uirevision: "time"
    };
    return Plotly.react("time-chart", timeTraces(), layout, CONFIG);
  }
  function outletTraces() {
    // narratives are rows (their names can be long and read best level), outlets are columns
    var O = data.outlet_shares, z = NARR.map(function () { return OUTLETS.map(function () { return null; }); });
    var custom = NARR.map(function (narrative) {
      return OUTLETS.map(function (outlet) { return [plotlyText(outlet), plotlyText(narrative.name), "", 0]; });
    });
    var articles = OUTLETS.map(function () { return 0; });
    for (var r = 0; r < O.share.length; r++) {
      var o = O.outlet[r], j = O.narrative[r];
      if (o < 0 || j < 0) continue;
      z[j][o] = O.share[r];
      custom[j][o][2] = O.share[r] === null ? "too few articles for a share"
        : "share " + pct(O.share[r]) + " " + interval(O.ci_low[r], O.ci_high[r], false);
      custom[j][o][3] = O.n_articles[r];
      articles[o] = O.n_articles[r];
    }
    var columns = OUTLETS.map(function (_, i) { return i; });
    var largest = Math.max.apply(null, z.flat().filter(function (v) { return v !== null; }).concat([0.05]));
    return [{
      type: "heatmap", z: z, x: columns, y: NARR.map(function (_, j) { return j; }), customdata: custom,
      colorscale: [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]], zmin: 0, zmax: largest,
      xgap: 1, ygap: 1, texttemplate: OUTLETS.length <= 12 ? "%{z:.0%}" : "", textfont: { size: 10 },
      showscale: OUTLETS.length > 12, colorbar: { tickformat: ".0%", thickness: 10, len: 0.6, y: 0.3 },
      meta: { kind: "cell" },
      hovertemplate: "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{customdata[2]}" +
        "<br>%{customdata[3]} articles<extra></extra>"
    }, {
      type: "bar", x: columns, y: articles, xaxis: "x", yaxis: "y2", meta: { kind: "outlet" },
      customdata: OUTLETS.map(plotlyText), showlegend: false,
      marker: { color: columns.map(function (i) { return i === state.outlet ? "#1d1d1f" : "#b8bec7"; }) },
      hovertemplate: "<b>%{customdata}</b><br>%{y} articles \u2014 click for its paragraphs<extra></extra>"
    }];
  }
  function drawOutlets() {
    var shapes = [];
    if (state.outlet >= 0 && state.narrative >= 0) {
      shapes.push({ type: "rect", xref: "x", yref: "y", x0: state.outlet - 0.5, x1: state.outlet + 0.5,
                    y0: state.narrative - 0.5, y1: state.narrative + 0.5, line: { color: "#d55e00", width: 3 } });
    }
    var rows = 22 * NARR.length, bars = 70;
    var height = Math.max(380, rows + bars + 150);
    var layout = {
      font: FONT, margin: { l: 10, r: 10, t: 10, b: 10 }, hovermode: "closest", height: height,
      xaxis: { tickvals: OUTLETS.map(function (_, i) { return i; }), automargin: true, showgrid: false,
               range: [-0.5, OUTLETS.length - 0.5], zeroline: false,
               tickangle: OUTLETS.length > 8 ? -60 : -35,
               ticktext: OUTLETS.map(function (o) { return plotlyText(clip(o, 26)); }) },
      yaxis: { domain: [0, 1 - (bars + 20) / height], tickvals: NARR.map(function (_, j) { return j; }),
               range: [NARR.length - 0.5, -0.5], automargin: true, showgrid: false, zeroline: false,
               ticktext: NARR.map(function (n) { return plotlyText(clip(n.name, 40)); }) },
      yaxis2: { domain: [1 - bars / height, 1], anchor: "x", title: { text: "articles", font: { size: 11 } },
                nticks: 3, showgrid: false, rangemode: "tozero" },
      shapes: shapes, uirevision: "outlets",
      annotations: data.outlet_shares.share.some(function (v) { return v !== null; }) ? [] : [{
        xref: "paper", yref: "paper", x: 0.5, y: 0.4, showarrow: false, font: { size: 13, color: "#5f6368" },
        text: "No outlet has " + count(data.min_articles, "article") + " or more:<br>too few for shares by outlet" }]
    };
    document.getElementById("outlet-chart").style.height = height + "px";
    return Plotly.react("outlet-chart", outletTraces(), layout, CONFIG);
  }
  function onTimeClick(event) {
    var point = event.points && event.points[0];
    if (!point) return;
    var meta = point.data.meta || {};
    if (meta.kind === "share") select(meta.narrative, state.outlet, point.customdata[4]);
    else if (meta.kind === "volume") select(-1, state.outlet, point.customdata);
  }
  function onOutletClick(event) {
    var point = event.points && event.points[0];
    if (!point) return;
    var meta = point.data.meta || {};
    if (meta.kind === "cell") select(point.y, point.x, -1);
    else if (meta.kind === "outlet") select(-1, point.x, -1);
  }
  function onLegendClick(event) {
    var meta = event.data[event.curveNumber].meta || {};
    if (meta.kind === "share") select(meta.narrative, state.outlet, -1);
    return false; // a click selects the narrative; it does not hide its line
  }

  // -- page ---------------------------------------------------------------------------------
  function update() {
    syncControls();
    renderList();
    document.body.dataset.ready = "false";  // charts redrawing: "true" again once both are done
    Promise.all([drawTime(), drawOutlets()]).then(function () { document.body.dataset.ready = "true"; });
  }
  function init() {
    var nArticles = A.title.length, total = C.n.reduce(function (a, b) { return a + b; }, 0);
    setText("summary", count(total, "paragraph") + " from " + count(OUTLETS.length, "outlet") + ", " +
      count(PERIODS.length, PERIOD_WORD.toLowerCase()) + " \u00b7 " + count(NARR.length, "narrative") +
      " \u00b7 run " + data.run_id + (P.id.length < total ? " \u00b7 embeds " + P.id.length.toLocaleString("en") +
      " paragraphs of " + nArticles.toLocaleString("en") + " articles" : ""));
    setText("period-label", PERIOD_WORD);
    setText("time-gaps", "Periods with fewer than " + count(data.min_articles, "article") +
      " (too few for an interval) are hollow points off the lines.");
    setText("footer", "Shares count syndicated copies " + (data.copies === "once" ? "once" : "once per outlet") +
      "; copies are marked in the list. Typicality is the paragraph's similarity to its narrative's centre; " +
      "the list is ordered by it. Texts longer than " + data.sample.text_chars + " characters are cut. " +
      "This file works offline: it loads nothing from the network.");
    fillSelect("pick-narrative", "any narrative", NARR.map(function (n) { return n.name; }));
    fillSelect("pick-outlet", "any outlet", OUTLETS);
    fillSelect("pick-period", "any " + PERIOD_WORD.toLowerCase(), PERIODS);
    var search = document.getElementById("search"), timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.words = search.value; state.shown = PAGE; renderList(); }, 120);
    });
    document.getElementById("selection").addEventListener("submit", function (event) { event.preventDefault(); });
    document.getElementById("clear").addEventListener("click", function () {
      search.value = ""; state.words = ""; select(-1, -1, -1);
    });
    document.getElementById("more").addEventListener("click", function () { state.shown += PAGE; renderList(); });
    syncControls();
    renderList();
    Promise.all([drawTime(), drawOutlets()]).then(function () {
      var time = document.getElementById("time-chart"), outlets = document.getElementById("outlet-chart");
      time.on("plotly_click", onTimeClick);
      time.on("plotly_legendclick", onLegendClick);
      outlets.on("plotly_click", onOutletClick);
      document.body.dataset.ready = "true";
    });
  }
  init();
})();
