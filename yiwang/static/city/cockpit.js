/* The digital cockpit: reads /api/v1/cockpit/summary and draws the tiles, the map of the
   child areas (click to drill down) and the charts. Every chart has its figures in a list
   or table too, for people who do not see it. */
(function () {
  "use strict";
  var root = document.getElementById("cockpit");
  if (!root) { return; }
  var COLLECTION = {district: "districts", street: "streets", community: "communities"};
  // the series' names in the page's language (data-label-* attributes of the template)
  var REPORTED = root.dataset.labelReported, FILED = root.dataset.labelFiled,
      CLOSED = root.dataset.labelClosed;

  function pct(value) { return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%"; }
  function text(selector, value) { var el = root.querySelector(selector); if (el) { el.textContent = value; } }
  function link(code) {
    var params = new URLSearchParams(window.location.search);
    params.set("region", code);
    return "?" + params.toString();
  }

  function chart(id, option) {
    if (typeof echarts === "undefined") { return; }
    var el = document.getElementById(id);
    if (!el) { return; }
    var c = echarts.init(el, null, {renderer: "canvas"});
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    option.animation = !still;
    option.animationDuration = 300;
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
  }

  function bars(id, rows, field, label) {
    chart(id, {
      tooltip: {trigger: "axis"}, grid: {left: 110, right: 20, top: 10, bottom: 30},
      xAxis: {type: "value"}, yAxis: {type: "category", data: rows.map(function (r) { return r.name; }).reverse()},
      series: [{type: "bar", name: label, data: rows.map(function (r) { return r[field]; }).reverse(), itemStyle: {color: "#1f6feb"}}]
    });
  }

  function drawMap(data) {
    if (typeof L === "undefined" || !data.region.bbox || !data.children_level) { return; }
    var b = data.region.bbox;
    var map = L.map("cockpit-map", {attributionControl: false});
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    var filed = {}; var most = 1;
    data.areas.forEach(function (a) { filed[a.code] = a.filed; most = Math.max(most, a.filed); });
    var url = "/ogcapi/collections/" + COLLECTION[data.children_level] + "/items?limit=500&bbox=" + b.join(",");
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : null; }).then(function (fc) {
      if (!fc) { return; }
      fc.features = fc.features.filter(function (f) { return f.properties.parent === data.region.code; });
      L.geoJSON(fc, {
        style: function (f) {
          var share = (filed[f.properties.code] || 0) / most;
          return {color: "#0a3069", weight: 1, fillColor: "#cf222e", fillOpacity: 0.08 + 0.6 * share,
                  className: "cockpit-area"};
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(f.properties.name + "：" + (filed[f.properties.code] || 0), {sticky: true});
          layer.on("click", function () { window.location.search = link(f.properties.code); });
        }
      }).addTo(map);
      // the live alarms on top of the areas
      (data.perception.latest_alarms || []).forEach(function (a) {
        L.circleMarker([a.lat, a.lon], {radius: 6, color: a.severity === "critical" ? "#cf222e" : "#bf8700",
                                        weight: 3, className: "cockpit-alarm"})
          .addTo(map).bindTooltip(a.message);
      });
    });
  }

  function render(data) {
    text("[data-field=region-name]", data.region.name);
    text("[data-field=level-name]", data.region.level_name);
    var path = root.querySelector("[data-field=path]");
    data.path.forEach(function (p) {
      var li = document.createElement("li"); var a = document.createElement("a");
      a.href = link(p.code); a.textContent = p.name; li.appendChild(a); path.appendChild(li);
    });
    var k = data.indicators;
    ["reported", "filed", "closed"].forEach(function (n) { text("[data-kpi=" + n + "]", k[n]); });
    ["closure_rate", "on_time_rate", "rework_rate", "extension_rate"].forEach(function (n) { text("[data-kpi=" + n + "]", pct(k[n])); });
    text("[data-kpi=open]", data.live.open);
    text("[data-kpi=overdue]", data.live.overdue);
    text("[data-kpi=satisfaction]", k.satisfaction === null ? "—" : k.satisfaction + " / 5");
    ["critical", "major"].forEach(function (s) { text("[data-alarm=" + s + "]", data.perception.alarms[s]); });
    ["online", "silent"].forEach(function (s) { text("[data-device=" + s + "]", data.perception.devices[s]); });
    var body = root.querySelector("[data-field=areas]");
    data.areas.forEach(function (a) {
      var tr = document.createElement("tr");
      var th = document.createElement("th"); th.scope = "row";
      var anchor = document.createElement("a"); anchor.href = link(a.code); anchor.textContent = a.name;
      th.appendChild(anchor); tr.appendChild(th);
      [a.reported, a.filed, a.closed, pct(a.closure_rate), pct(a.on_time_rate)].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var hot = root.querySelector("[data-field=hotspots]");
    data.hotspots.forEach(function (h) {
      var li = document.createElement("li");
      li.textContent = h.community_name + " · " + h.category_name + "：" + h.count;
      hot.appendChild(li);
    });
    var alarms = root.querySelector("[data-field=alarms]");
    data.perception.latest_alarms.forEach(function (a) {
      var li = document.createElement("li"); li.textContent = a.message; alarms.appendChild(li);
    });
    chart("chart-trend", {
      tooltip: {trigger: "axis"}, legend: {data: [REPORTED, FILED, CLOSED], top: 0},
      grid: {left: 40, right: 20, top: 36, bottom: 30},
      xAxis: {type: "category", data: data.trend.map(function (d) { return d.day.slice(5); })},
      yAxis: {type: "value", minInterval: 1},
      series: [
        {name: REPORTED, type: "line", showSymbol: false, data: data.trend.map(function (d) { return d.reported; })},
        {name: FILED, type: "line", showSymbol: false, data: data.trend.map(function (d) { return d.filed; })},
        {name: CLOSED, type: "line", showSymbol: false, data: data.trend.map(function (d) { return d.closed; })}]
    });
    bars("chart-major", (data.by.major || []).slice(0, 10), "filed", FILED);
    bars("chart-department", (data.by.department || []).filter(function (d) { return d.key && d.filed; }).slice(0, 10), "filed", FILED);
    chart("chart-source", {
      tooltip: {trigger: "item"},
      legend: {top: 0},
      series: [{type: "pie", radius: ["35%", "65%"], center: ["50%", "58%"], data: (data.by.source || []).map(function (s) { return {name: s.name, value: s.reported}; })}]
    });
    drawMap(data);
    var status = root.querySelector("[data-field=status]");
    status.textContent = data.period.start + " — " + data.period.end;
  }

  var params = new URLSearchParams({days: root.dataset.days});
  if (root.dataset.region) { params.set("region", root.dataset.region); }
  fetch(root.dataset.api + "?" + params.toString(), {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : r.json().then(function (e) { throw new Error(e.detail); }); })
    .then(render)
    .catch(function (error) { text("[data-field=status]", error.message); });
}());
