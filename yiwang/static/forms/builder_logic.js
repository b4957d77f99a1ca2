/* The builder's JSON Logic editors (templates/forms/builder.html): a "field / operator /
 * value" condition editor, a calculation editor, and the raw JSON boxes they write into. Mixed
 * into the builder by builder.js. */
(function () {
  "use strict";
  window.YiwangFormBuilderLogic = function (proto, el, getPath) {
    proto.jsonBox = function (c, prop) {
      var id = "fb-prop-" + this.root.getAttribute("data-field") + "-" + prop.replace(/\./g, "-");
      var value = getPath(c, prop);
      var box = el("textarea", { className: "input", id: id, rows: "3", "data-prop": prop, "data-json": "" });
      box.value = value === undefined ? "" : JSON.stringify(value);
      return el("div", { className: "field" }, [
        el("label", { className: "label", "for": id, text: this.t[prop] || prop }), box,
        el("p", { className: "error-message", "data-json-error": "", "aria-live": "polite" })
      ]);
    };

    proto.fieldSelect = function (id, keys) {
      var select = el("select", { className: "input", id: id });
      keys.forEach(function (k) { select.appendChild(el("option", { value: k.key, text: k.label + "（" + k.key + "）" })); });
      return select;
    };
    proto.scopeKeys = function (c, inTable) {
      var keys = this.valueKeys().filter(function (k) { return k.key !== c.key; });
      if (inTable) {
        var table = this.at(this.selected.slice(0, -1));
        keys = (table.components || []).filter(function (col) { return col.key !== c.key; })
          .map(function (col) { return { key: col.key, label: col.label || col.key, type: col.type }; }).concat(keys);
      }
      return keys;
    };

    /* "field / operator / value" → JSON Logic for the condition. */
    proto.conditionEditor = function (c, inTable) {
      var self = this, t = this.t, base = "fb-cond-" + this.root.getAttribute("data-field");
      var keys = this.scopeKeys(c, inTable);
      var field = this.fieldSelect(base + "-field", keys);
      field.setAttribute("data-testid", "cond-field");
      var op = el("select", { className: "input", id: base + "-op", "data-testid": "cond-op" });
      [["==", t.op_eq], ["!=", t.op_ne], [">", t.op_gt], [">=", t.op_ge], ["<", t.op_lt], ["<=", t.op_le],
       ["in", t.op_in], ["!!", t.op_set], ["!", t.op_unset]].forEach(function (o) {
        op.appendChild(el("option", { value: o[0], text: o[1] }));
      });
      var value = el("input", { className: "input", id: base + "-value", type: "text", "data-testid": "cond-value" });
      var set = el("button", { type: "button", className: "button button--secondary", "data-testid": "cond-set", text: t.set_condition });
      var clear = el("button", { type: "button", className: "fb__tool", text: t.clear });
      var box = this.jsonBox(c, "conditional");
      set.addEventListener("click", function () {
        if (!field.value) return;
        var v = value.value.trim(), ref = { "var": field.value }, rule;
        var literal = v !== "" && !isNaN(Number(v)) ? Number(v) : v;
        if (op.value === "!!" || op.value === "!") rule = {}, rule[op.value] = ref;
        else if (op.value === "in") rule = { "in": [literal, ref] };
        else { rule = {}; rule[op.value] = [ref, literal]; }
        var textarea = box.querySelector("textarea");
        textarea.value = JSON.stringify(rule);
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      });
      clear.addEventListener("click", function () {
        var textarea = box.querySelector("textarea");
        textarea.value = "";
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      });
      void self;
      return el("fieldset", { className: "fb__logic", "data-testid": "condition-editor" }, [
        el("legend", { className: "label", text: t.condition_editor }),
        el("div", { className: "fb__logic-row" }, [
          el("div", {}, [el("label", { className: "label fm-sublabel", "for": field.id, text: t.field }), field]),
          el("div", {}, [el("label", { className: "label fm-sublabel", "for": op.id, text: t.operator }), op]),
          el("div", {}, [el("label", { className: "label fm-sublabel", "for": value.id, text: t.value }), value]),
          set, clear
        ]), box
      ]);
    };

    /* "field op field-or-number", or the sum of a table column → JSON Logic calculation. */
    proto.calculationEditor = function (c, inTable) {
      var t = this.t, base = "fb-calc-" + this.root.getAttribute("data-field");
      var keys = this.scopeKeys(c, inTable);
      var first = this.fieldSelect(base + "-a", keys);
      first.setAttribute("data-testid", "calc-a");
      var op = el("select", { className: "input", id: base + "-op", "data-testid": "calc-op" });
      [["+", "+"], ["-", "−"], ["*", "×"], ["/", "÷"], ["sum", t.op_sum_column]].forEach(function (o) {
        op.appendChild(el("option", { value: o[0], text: o[1] }));
      });
      var second = el("input", { className: "input", id: base + "-b", type: "text", "data-testid": "calc-b" });
      var set = el("button", { type: "button", className: "button button--secondary", "data-testid": "calc-set", text: t.set_calculation });
      var box = this.jsonBox(c, "calculate");
      set.addEventListener("click", function () {
        if (!first.value) return;
        var b = second.value.trim(), rule;
        if (op.value === "sum") {
          // second = the column key of the table chosen as first
          rule = { reduce: [{ "var": first.value }, { "+": [{ "var": "accumulator" }, { "var": "current." + b }] }, 0] };
        } else {
          var operand = b !== "" && !isNaN(Number(b)) ? Number(b) : { "var": b };
          rule = {};
          rule[op.value] = [{ "var": first.value }, operand];
        }
        var textarea = box.querySelector("textarea");
        textarea.value = JSON.stringify(rule);
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      });
      return el("fieldset", { className: "fb__logic", "data-testid": "calculation-editor" }, [
        el("legend", { className: "label", text: t.calculation_editor }),
        el("div", { className: "fb__logic-row" }, [
          el("div", {}, [el("label", { className: "label fm-sublabel", "for": first.id, text: t.field }), first]),
          el("div", {}, [el("label", { className: "label fm-sublabel", "for": op.id, text: t.operator }), op]),
          el("div", {}, [el("label", { className: "label fm-sublabel", "for": second.id, text: t.second }), second]),
          set
        ]), box
      ]);
    };

  };
})();
