/* The builder's live preview (templates/forms/builder.html): the same markup as
 * templates/forms/render.html, so render.js drives it exactly as on the portal. Mixed into the
 * builder by builder.js. */
(function () {
  "use strict";
  window.YiwangFormBuilderPreview = function (Builder, el) {
    var proto = Builder;
    proto.renderPreview = function () {
      var self = this, preview = this.preview;
      var form = el("div", { "data-forms-render": "", "data-prefix": "" });
      ["data-regions-api", "data-msg-add-row", "data-msg-remove-row", "data-msg-choose", "data-msg-row-removed",
       "data-msg-row-added", "data-msg-region-level", "data-msg-signed", "data-msg-cleared"].forEach(function (a) {
        if (preview.hasAttribute(a)) form.setAttribute(a, preview.getAttribute(a));
      });
      (this.def.components || []).forEach(function (c) { var n = self.previewField(c, ""); if (n) form.appendChild(n); });
      // Preview inputs belong to no form: nothing of them is posted with the caller's form.
      [].forEach.call(form.querySelectorAll("input, select, textarea, button"), function (n) { n.setAttribute("form", "fb-preview-none"); });
      preview.innerHTML = "";
      preview.appendChild(form);
      if (window.YiwangForms) window.YiwangForms.setup(form);
    };
    proto.previewField = function (c, name) {
      var self = this, key = c.key || "", id = "fbp-" + (name || key);
      name = name || key;
      var cond = c.conditional !== undefined ? JSON.stringify(c.conditional) : null;
      var labelText = (c.label || key) + (c.required ? " *" : "");
      var wrap;
      if (c.type === "section") {
        wrap = el("fieldset", { className: "fm-section", "data-fm-field": "", "data-key": key, "data-type": "section", "data-conditional": cond },
          [el("legend", { className: "fm-section__title", text: c.label || key })]);
        (c.components || []).forEach(function (child) { var n = self.previewField(child, ""); if (n) wrap.appendChild(n); });
        return wrap;
      }
      if (c.type === "content") {
        return el("div", { className: "fm-content", "data-fm-field": "", "data-key": key, "data-type": "content", "data-conditional": cond },
          String(c.text || "").split("\n").map(function (p) { return el("p", { text: p }); }));
      }
      var attrs = { className: "field fm-field", "data-fm-field": "", "data-key": key, "data-type": c.type, "data-conditional": cond };
      if (c.calculate !== undefined) attrs["data-calculate"] = JSON.stringify(c.calculate);
      if (c.type === "choice") attrs["data-multiple"] = c.multiple ? "true" : "false";
      wrap = el("div", attrs, [el("label", { className: "label", "for": id, text: labelText })]);
      if (c.help) wrap.appendChild(el("p", { className: "hint", text: c.help }));
      wrap.appendChild(this.previewInput(c, name, id));
      return wrap;
    };
    proto.previewInput = function (c, name, id) {
      var self = this;
      if (c.calculate !== undefined) return el("input", { className: "input fm-calculated", id: id, readonly: true, "data-fm-calculated": "" });
      switch (c.type) {
        case "textarea": return el("textarea", { className: "input", id: id, name: name, rows: "3" });
        case "choice": {
          var select = el("select", { className: "input", id: id, name: name, multiple: !!c.multiple });
          if (!c.multiple) select.appendChild(el("option", { value: "", text: "—" }));
          (c.options || []).forEach(function (o) { select.appendChild(el("option", { value: o.value, text: o.label })); });
          return select;
        }
        case "date": return el("input", { className: "input", type: "date", id: id, name: name });
        case "address": return el("div", {}, [el("input", { className: "input", id: id, name: name + ".region", "data-fm-region-code": "", placeholder: "区划代码" }),
          el("input", { className: "input", name: name + ".detail", "aria-label": "详细地址" })]);
        case "map_point": return el("div", { className: "fm-point__inputs" }, [
          el("input", { className: "input", id: id, name: name + ".lng", "aria-label": "经度" }),
          el("input", { className: "input", name: name + ".lat", "aria-label": "纬度" })]);
        case "file": return el("input", { className: "input", type: "file", id: id });
        case "signature": return el("canvas", { className: "fm-signature__pad", width: "480", height: "160", id: id });
        case "table": {
          var columns = c.components || [];
          var head = el("tr", {}, [el("th", { text: "#" })].concat(columns.map(function (col) { return el("th", { text: col.label || col.key }); })));
          var row = el("tr", { "data-fm-row": "", "data-index": "0" }, [el("th", { className: "fm-row-number", text: "1" })].concat(columns.map(function (col) {
            var cellAttrs = { className: "fm-cell", "data-fm-cell": "", "data-key": col.key, "data-type": col.type };
            if (col.conditional !== undefined) cellAttrs["data-conditional"] = JSON.stringify(col.conditional);
            if (col.calculate !== undefined) cellAttrs["data-calculate"] = JSON.stringify(col.calculate);
            return el("td", cellAttrs, [self.previewInput(col, name + "[0]." + col.key, id + "-0-" + col.key)]);
          })));
          return el("table", { className: "table fm-table__grid", id: id }, [el("thead", {}, [head]), el("tbody", {}, [row])]);
        }
        default: return el("input", { className: "input", type: c.type === "phone" ? "tel" : "text", id: id, name: name });
      }
    };

  };
})();
