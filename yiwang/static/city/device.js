/* A device's page: one line chart per metric from the series API (raw readings, or hourly
   and daily roll-ups over longer ranges: mean with its min–max band), and the same figures
   in words under each chart for people who do not see it. */
(function () {
  "use strict";
  var root = document.querySelector(".device-charts");
  if (!root) { return; }

  function fmt(v) { return v === null || v === undefined ? "—" : (Math.round(v * 100) / 100).toString(); }

  function draw(el, data) {
    var summary = root.querySelector('[data-summary="' + el.dataset.metric + '"]');
    var points = data.points || [];
    if (!points.length) {
      el.hidden = true;
      if (summary) { summary.textContent = root.dataset.empty; }
      return;
    }
    var raw = data.resolution === "raw";
    var values = points.map(function (p) { return raw ? p.value : p.mean; });
    var low = Math.min.apply(null, points.map(function (p) { return raw ? p.value : p.min; }));
    var high = Math.max.apply(null, points.map(function (p) { return raw ? p.value : p.max; }));
    if (summary) {
      summary.textContent = points.length + " · min " + fmt(low) + " · max " + fmt(high) +
        " · " + fmt(values[values.length - 1]) + " " + (el.dataset.unit || "");
    }
    if (typeof echarts === "undefined") { return; }
    var series = [{type: "line", name: el.dataset.name, showSymbol: false, color: "#1f6feb",
                   data: points.map(function (p, i) { return [p.ts, values[i]]; })}];
    if (!raw) {
      series.push({type: "line", name: "min", showSymbol: false, lineStyle: {opacity: 0}, stack: "band",
                   data: points.map(function (p) { return [p.ts, p.min]; })});
      series.push({type: "line", name: "max", showSymbol: false, lineStyle: {opacity: 0}, stack: "band",
                   areaStyle: {color: "rgba(31,111,235,0.15)"},
                   data: points.map(function (p) { return [p.ts, p.max - p.min]; })});
    }
    var chart = echarts.init(el, null, {renderer: "canvas"});
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    chart.setOption({
      animation: !still, tooltip: {trigger: "axis"},
      grid: {left: 48, right: 16, top: 16, bottom: 32},
      xAxis: {type: "time"}, yAxis: {type: "value", scale: true, name: el.dataset.unit || ""},
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  root.querySelectorAll("[data-metric]").forEach(function (el) {
    var url = root.dataset.series + "?metric=" + encodeURIComponent(el.dataset.metric) +
      "&start=" + root.dataset.start + "&end=" + root.dataset.end;
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) { draw(el, data); })
      .catch(function () {
        var summary = root.querySelector('[data-summary="' + el.dataset.metric + '"]');
        if (summary) { summary.textContent = root.dataset.failed; }
      });
  });
}());
