/* 好差评 in the workbench: each matter's count of evaluations (bars) and 好评率 (line) from
   the figures the page carries (json_script); the table under the chart holds the same
   figures for people who do not see it. */
(function () {
  "use strict";
  var el = document.getElementById("evaluations-chart");
  var source = document.getElementById("evaluations-chart-data");
  if (!el || !source || typeof echarts === "undefined") { return; }
  var rows = JSON.parse(source.textContent || "[]");
  if (!rows.length) { el.hidden = true; return; }
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var chart = echarts.init(el, null, {renderer: "canvas"});
  chart.setOption({
    animation: !still, animationDuration: 300,
    tooltip: {trigger: "axis"},
    legend: {top: 0},
    grid: {left: 50, right: 50, top: 36, bottom: 80},
    xAxis: {type: "category", data: rows.map(function (r) { return r.name; }),
            axisLabel: {interval: 0, rotate: 30, width: 110, overflow: "truncate"}},
    yAxis: [{type: "value", minInterval: 1},
            {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}}],
    series: [
      {type: "bar", name: el.dataset.labelCount, itemStyle: {color: "#1f6feb"},
       data: rows.map(function (r) { return r.count; })},
      {type: "line", name: el.dataset.labelGood, yAxisIndex: 1, itemStyle: {color: "#1a7f37"},
       data: rows.map(function (r) { return r.good_rate; })}
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
