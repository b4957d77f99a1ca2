/* Live behaviour of forms rendered by templates/forms/render.html: conditions (show/hide),
 * calculations, table rows (add/remove), the region picker of addresses and the signature
 * pad. Everything it does is redone by the server (forms.service.validate_submission). */
(function () {
  "use strict";
  var L = window.YiwangLogic;

  function numeric(type, value) {
    if (type !== "number" || typeof value !== "string") return value;
    var s = value.replace(/,/g, "").trim();
    if (s === "") return null;
    return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(s) ? Number(s) : value;
  }

  function hiddenByCondition(el) {
    return !!el.closest("[data-fm-field][hidden], [data-fm-cell][hidden]");
  }

  function fieldValue(field) {
    var type = field.getAttribute("data-type");
    var enabled = function (el) { return !el.disabled; };
    var named = [].slice.call(field.querySelectorAll("[name]")).filter(enabled);
    if (type === "table") return tableValue(field);
    if (field.hasAttribute("data-calculate")) {
      var out = field.querySelector("[data-fm-calculated]");
      return out ? numeric(type, out.value) : null;
    }
    if (type === "choice") {
      var multiple = field.getAttribute("data-multiple") === "true";
      var chosen = [];
      named.forEach(function (el) {
        if (el.name.slice(-8) === ".present") return;
        if (el.tagName === "SELECT") {
          [].forEach.call(el.selectedOptions, function (o) { if (o.value) chosen.push(o.value); });
        } else if (el.checked) {
          chosen.push(el.value);
        }
      });
      return multiple ? chosen : (chosen[0] || null);
    }
    if (type === "address" || type === "map_point") {
      var obj = {};
      named.forEach(function (el) {
        var part = el.name.slice(el.name.lastIndexOf(".") + 1);
        obj[part] = type === "map_point" ? numeric("number", el.value) : el.value;
      });
      return obj;
    }
    if (type === "file") {
      return named.filter(function (el) { return el.type === "checkbox" && el.checked; })
        .map(function (el) { return el.value; });
    }
    var input = named.filter(function (el) { return el.name.indexOf(".present") === -1; })[0];
    return input ? numeric(type, input.value) : null;
  }

  function rowValue(row) {
    var values = {};
    [].forEach.call(row.querySelectorAll("[data-fm-cell]"), function (cell) {
      if (cell.hidden) return;
      var key = cell.getAttribute("data-key");
      var type = cell.getAttribute("data-type");
      var input = cell.querySelector("input, select, textarea");
      if (!input) return;
      if (input.tagName === "SELECT" && input.multiple) {
        values[key] = [].map.call(input.selectedOptions, function (o) { return o.value; });
      } else {
        var v = numeric(type, input.value);
        if (v !== "" && v !== null) values[key] = v;
      }
    });
    return values;
  }

  function tableValue(field) {
    return [].map.call(field.querySelectorAll("tbody [data-fm-row]"), rowValue)
      .filter(function (r) { return Object.keys(r).length > 0; });
  }

  function ownFields(root) {
    // Fields of this form only (not cells, not fields of a nested builder preview).
    return [].filter.call(root.querySelectorAll("[data-fm-field]"), function (f) {
      return f.closest("[data-forms-render]") === root;
    });
  }

  function readData(root) {
    var data = {};
    ownFields(root).forEach(function (field) {
      var type = field.getAttribute("data-type");
      if (type === "section" || type === "content" || field.hidden || hiddenByCondition(field)) return;
      var v = fieldValue(field);
      if (v !== null && v !== "" && !(Array.isArray(v) && v.length === 0)) data[field.getAttribute("data-key")] = v;
    });
    return data;
  }

  function parseRule(el, attr) {
    if (!el.hasAttribute(attr)) return undefined;
    if (!el["_fm" + attr]) {
      try { el["_fm" + attr] = { rule: JSON.parse(el.getAttribute(attr)) }; } catch (e) { el["_fm" + attr] = { rule: null }; }
    }
    return el["_fm" + attr].rule;
  }

  function show(el, visible) {
    if (el.hidden === !visible) return false;
    el.hidden = !visible;
    return true;
  }

  function syncDisabled(root) {
    [].forEach.call(root.querySelectorAll("[name]"), function (input) {
      if (input.closest("template")) return;
      input.disabled = hiddenByCondition(input);
    });
  }

  function formatted(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return String(Math.round(v * 1e10) / 1e10);
    return typeof v === "object" ? "" : String(v);
  }

  function update(root) {
    for (var pass = 0; pass < 4; pass++) {
      var data = readData(root);
      var changed = false;
      // Calculations of the form's own fields, then of table cells per row.
      ownFields(root).forEach(function (field) {
        var rule = parseRule(field, "data-calculate");
        if (rule === undefined) return;
        var out = field.querySelector("[data-fm-calculated]");
        var value = formatted(L.evaluate(rule, data));
        if (out && out.value !== value) { out.value = value; changed = true; }
      });
      [].forEach.call(root.querySelectorAll("tbody [data-fm-row]"), function (row) {
        var context = Object.assign({}, data, rowValue(row));
        [].forEach.call(row.querySelectorAll("[data-fm-cell]"), function (cell) {
          var calc = parseRule(cell, "data-calculate");
          if (calc !== undefined) {
            var out = cell.querySelector("[data-fm-calculated]");
            var value = formatted(L.evaluate(calc, context));
            if (out && out.value !== value) { out.value = value; changed = true; }
          }
          var cond = parseRule(cell, "data-conditional");
          if (cond !== undefined && show(cell, L.truthy(L.evaluate(cond, context)))) changed = true;
        });
      });
      ownFields(root).forEach(function (field) {
        var cond = parseRule(field, "data-conditional");
        if (cond !== undefined && show(field, L.truthy(L.evaluate(cond, data)))) changed = true;
      });
      syncDisabled(root);
      if (!changed) break;
    }
  }

  /* --- table rows --------------------------------------------------------------------- */
  function announce(field, text) {
    var live = field.querySelector("[data-fm-announce]");
    if (live) { live.textContent = ""; window.setTimeout(function () { live.textContent = text; }, 50); }
  }

  function renumber(field) {
    var rows = field.querySelectorAll("tbody [data-fm-row]");
    [].forEach.call(rows, function (row, i) {
      var th = row.querySelector(".fm-row-number");
      if (th) th.textContent = String(i + 1);
    });
    var max = parseInt(field.getAttribute("data-max-rows"), 10) || 50;
    var add = field.querySelector("[data-fm-add-row]");
    if (add) add.disabled = rows.length >= max;
  }

  function setupTable(root, field) {
    var tbody = field.querySelector("tbody[data-fm-rows]");
    var template = field.querySelector("template[data-fm-row-template]");
    if (!tbody || !template) return;
    var add = document.createElement("button");
    add.type = "button";
    add.className = "button button--secondary fm-row-add";
    add.setAttribute("data-fm-add-row", "");
    add.setAttribute("data-testid", field.getAttribute("data-key") + "-add-row");
    add.textContent = root.getAttribute("data-msg-add-row");
    template.parentNode.insertBefore(add, template);
    var next = 0;
    [].forEach.call(tbody.querySelectorAll("[data-fm-row]"), function (row) {
      next = Math.max(next, (parseInt(row.getAttribute("data-index"), 10) || 0) + 1);
    });
    add.addEventListener("click", function () {
      var count = tbody.querySelectorAll("[data-fm-row]").length;
      var html = template.innerHTML.replace(/__index__/g, String(next)).replace(/__number__/g, String(count + 1));
      next += 1;
      tbody.insertAdjacentHTML("beforeend", html);
      var row = tbody.lastElementChild;
      row.querySelectorAll("[data-fm-remove-row]").forEach(function (b) { b.hidden = false; });
      renumber(field);
      var first = row.querySelector("input:not([readonly]), select, textarea");
      if (first) first.focus();
      announce(field, root.getAttribute("data-msg-row-added"));
      update(root);
    });
    tbody.addEventListener("click", function (event) {
      var button = event.target.closest("[data-fm-remove-row]");
      if (!button) return;
      var row = button.closest("[data-fm-row]");
      var min = parseInt(field.getAttribute("data-min-rows"), 10) || 0;
      if (tbody.querySelectorAll("[data-fm-row]").length <= Math.max(min, 1)) {
        row.querySelectorAll("input:not([readonly]), textarea").forEach(function (i) { i.value = ""; });
        row.querySelectorAll("select").forEach(function (s) { s.selectedIndex = s.multiple ? -1 : 0; });
      } else {
        row.parentNode.removeChild(row);
      }
      renumber(field);
      add.focus();
      announce(field, root.getAttribute("data-msg-row-removed"));
      update(root);
    });
    tbody.querySelectorAll("[data-fm-remove-row]").forEach(function (b) { b.hidden = false; });
    renumber(field);
  }

  /* --- addresses: cascading selects over /api/v1/regions -------------------------------- */
  function fetchJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
  }

  function setupAddress(root, field) {
    var box = field.querySelector("[data-fm-region]");
    var input = field.querySelector("[data-fm-region-code]");
    if (!box || !input || !window.fetch) return;
    var api = root.getAttribute("data-regions-api") || "/api/v1/regions";
    var within = field.getAttribute("data-within") || "";
    var legend = field.querySelector("legend");
    var fieldLabel = legend ? legend.firstChild.textContent.trim() : "";
    var selects = document.createElement("div");
    selects.className = "fm-region__selects";
    box.appendChild(selects);

    function list(parent) {
      var url = api + "?limit=500" + (parent ? "&parent=" + encodeURIComponent(parent) : "");
      return fetchJson(url).then(function (page) { return page.items || []; });
    }
    function addSelect(items, chosen, depth) {
      if (!items.length) return;
      var id = input.id + "__level" + depth;
      var wrap = document.createElement("div");
      wrap.className = "fm-region__level";
      var label = document.createElement("label");
      label.className = "label fm-sublabel";
      label.htmlFor = id;
      label.textContent = fieldLabel + " · " + (items[0].level_label || root.getAttribute("data-msg-region-level"));
      var select = document.createElement("select");
      select.className = "input";
      select.id = id;
      select.setAttribute("data-testid", field.getAttribute("data-key") + "-region-" + depth);
      var none = document.createElement("option");
      none.value = "";
      none.textContent = root.getAttribute("data-msg-choose");
      select.appendChild(none);
      items.forEach(function (item) {
        var o = document.createElement("option");
        o.value = item.code;
        o.textContent = item.name;
        o.setAttribute("data-children", String(item.child_count || 0));
        if (item.code === chosen) o.selected = true;
        select.appendChild(o);
      });
      select.addEventListener("change", function () {
        while (wrap.nextSibling) selects.removeChild(wrap.nextSibling);
        var option = select.selectedOptions[0];
        var prev = wrap.previousSibling && wrap.previousSibling.querySelector("select");
        input.value = select.value || (prev ? prev.value : within ? within : "");
        if (select.value && option && option.getAttribute("data-children") !== "0") {
          list(select.value).then(function (children) { addSelect(children, "", depth + 1); });
        }
        update(root);
      });
      wrap.appendChild(label);
      wrap.appendChild(select);
      selects.appendChild(wrap);
    }
    // Keep the 12-digit code as the posted value; the selects drive it.
    var codeLabel = box.querySelector("label[for='" + input.id + "']");
    if (codeLabel) codeLabel.hidden = true;
    input.type = "hidden";
    var start = within || null;
    var current = input.value;
    function fallback() {
      // No regions API (offline, or an unknown code): the person types the code.
      selects.innerHTML = "";
      if (codeLabel) codeLabel.hidden = false;
      input.type = "text";
    }
    function fresh() {
      return list(start).then(function (items) {
        if (!items.length) throw new Error("no regions");
        addSelect(items, "", 0);
      });
    }
    if (current && /^\d{12}$/.test(current)) {
      fetchJson(api + "/" + current).then(function (region) {
        var chain = (region.ancestors || []).map(function (a) { return a.code; }).concat([region.code]);
        if (start) {
          if (chain.indexOf(start) === -1) throw new Error("outside");
          chain = chain.slice(chain.indexOf(start) + 1);
        }
        var parents = [start].concat(chain.slice(0, -1));
        return Promise.all(parents.map(function (p) { return list(p); })).then(function (levels) {
          levels.forEach(function (items, i) { addSelect(items, chain[i], i); });
          if (region.child_count) return list(region.code).then(function (c) { addSelect(c, "", levels.length); });
          return null;
        });
      }).catch(fallback);
    } else {
      fresh().catch(fallback);
    }
  }

  /* --- signature pad --------------------------------------------------------------------- */
  function setupSignature(root, field) {
    var canvas = field.querySelector("[data-fm-pad]");
    var png = field.querySelector("[data-fm-png]");
    var clear = field.querySelector("[data-fm-clear]");
    if (!canvas || !png || !canvas.getContext) return;
    canvas.hidden = false;
    if (clear) clear.hidden = false;
    var ctx = canvas.getContext("2d");
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.strokeStyle = "#0b0c0c";
    var drawing = false, drawn = false;
    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: (event.clientX - rect.left) * canvas.width / rect.width,
               y: (event.clientY - rect.top) * canvas.height / rect.height };
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = point(event);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      drawn = true;
    });
    function finish() {
      if (!drawing) return;
      drawing = false;
      if (drawn) {
        png.value = canvas.toDataURL("image/png");
        announce(field, root.getAttribute("data-msg-signed"));
      }
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointerleave", finish);
    if (clear) clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      png.value = "";
      drawn = false;
      announce(field, root.getAttribute("data-msg-cleared"));
    });
  }

  /* --- map points: click on the outline of the region (inputs stay the accessible way) ----- */
  var SVG = "http://www.w3.org/2000/svg";

  function setupMap(root, field) {
    var box = field.querySelector("[data-fm-map]");
    var within = field.getAttribute("data-within");
    var lng = field.querySelector("input[name$='.lng']"), lat = field.querySelector("input[name$='.lat']");
    if (!box || !within || !lng || !lat || !window.fetch) return;
    var api = root.getAttribute("data-regions-api") || "/api/v1/regions";
    Promise.all([fetchJson(api + "/" + within), fetchJson(api + "/" + within + "/geojson")]).then(function (both) {
      var bbox = both[0].bbox, features = (both[1].features || []);
      if (!bbox) return;
      var w = 400, x0 = bbox[0], y0 = bbox[1], x1 = bbox[2], y1 = bbox[3];
      // Equirectangular, corrected for latitude: fine at city scale.
      var k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
      var h = Math.max(80, Math.round(w * (y1 - y0) / ((x1 - x0) * k || 1)));
      var px = function (x) { return (x - x0) / (x1 - x0) * w; };
      var py = function (y) { return (y1 - y) / (y1 - y0) * h; };
      var svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 " + w + " " + h);
      svg.setAttribute("class", "fm-point__svg");
      svg.setAttribute("aria-hidden", "true");
      features.forEach(function (f) {
        var g = f.geometry;
        if (!g) return;
        var polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
        polygons.forEach(function (rings) {
          var path = document.createElementNS(SVG, "path");
          path.setAttribute("d", rings.map(function (ring) {
            return ring.map(function (p, i) { return (i ? "L" : "M") + px(p[0]).toFixed(1) + " " + py(p[1]).toFixed(1); }).join("") + "Z";
          }).join(""));
          path.setAttribute("class", "fm-point__area");
          var title = document.createElementNS(SVG, "title");
          title.textContent = (f.properties && f.properties.name) || "";
          path.appendChild(title);
          svg.appendChild(path);
        });
      });
      var marker = document.createElementNS(SVG, "circle");
      marker.setAttribute("r", "5");
      marker.setAttribute("class", "fm-point__marker");
      svg.appendChild(marker);
      function place() {
        var x = parseFloat(lng.value), y = parseFloat(lat.value);
        var inside = isFinite(x) && isFinite(y) && x >= x0 && x <= x1 && y >= y0 && y <= y1;
        marker.style.display = inside ? "" : "none";
        if (inside) { marker.setAttribute("cx", px(x)); marker.setAttribute("cy", py(y)); }
      }
      svg.addEventListener("click", function (event) {
        var rect = svg.getBoundingClientRect();
        var sx = (event.clientX - rect.left) * w / rect.width, sy = (event.clientY - rect.top) * h / rect.height;
        lng.value = (x0 + sx / w * (x1 - x0)).toFixed(6);
        lat.value = (y1 - sy / h * (y1 - y0)).toFixed(6);
        place();
        update(root);
      });
      lng.addEventListener("input", place);
      lat.addEventListener("input", place);
      box.appendChild(svg);
      box.hidden = false;
      place();
    }).catch(function () { /* no map: the inputs remain */ });
  }

  function setup(root) {
    if (root.getAttribute("data-fm-ready")) return;
    root.setAttribute("data-fm-ready", "1");
    ownFields(root).forEach(function (field) {
      var type = field.getAttribute("data-type");
      if (type === "table") setupTable(root, field);
      else if (type === "address") setupAddress(root, field);
      else if (type === "signature") setupSignature(root, field);
      else if (type === "map_point") setupMap(root, field);
    });
    root.addEventListener("input", function () { update(root); });
    root.addEventListener("change", function () { update(root); });
    update(root);
  }

  window.YiwangForms = { setup: setup, update: update, readData: readData };
  function init() { [].forEach.call(document.querySelectorAll("[data-forms-render]"), setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
