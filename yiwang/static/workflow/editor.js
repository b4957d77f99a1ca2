/* The structured approval-flow editor of templates/workflow/editor.html.
 *
 * State: one flow spec {"version": 1, "steps": [...]} (see docs/workflow.md). Steps are
 * added with the toolbar (or the "add" buttons inside a gateway branch), moved with their
 * up/down buttons and removed; every field change is written as JSON into the textarea the
 * caller's form posts, and the SVG diagram is redrawn. Gateway conditions are JSON Logic,
 * written by a "field / operator / value" mini editor or typed as raw JSON. The server checks
 * everything again (workflow.service.check_spec). */
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var DYNAMIC = ["$matter", "$applicant_department"];
  var OPS = [["==", "ops_eq"], ["!=", "ops_ne"], [">", "ops_gt"], [">=", "ops_ge"],
             ["<", "ops_lt"], ["<=", "ops_le"], ["in", "ops_in"], ["!!", "ops_truthy"]];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (c) {
      if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVGNS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }
  function parse(text, fallback) {
    try { return JSON.parse(text); } catch (e) { return fallback; }
  }

  function Editor(root) {
    this.root = root;
    this.field = root.getAttribute("data-field");
    this.t = parse(root.querySelector("[data-wfe-messages]").textContent, {});
    this.departments = parse(root.querySelector("[data-wfe-departments]").textContent, []);
    this.output = root.querySelector("[data-wfe-output]");
    this.list = root.querySelector("[data-wfe-steps]");
    this.live = root.querySelector("[data-wfe-announce]");
    this.diagram = root.querySelector("[data-wfe-diagram]");
    this.rawError = root.querySelector("[data-wfe-raw-error]");
    var spec = parse(this.output.value, null);
    this.spec = spec && Array.isArray(spec.steps) ? spec : { version: 1, steps: [] };
    this.uid = 0;
    var self = this;
    root.querySelector("[data-wfe-toolbar]").hidden = false;
    root.querySelector("[data-wfe-figure]").hidden = false;
    var apply = root.querySelector("[data-wfe-apply]");
    apply.hidden = false;
    apply.addEventListener("click", function () { self.applyRaw(); });
    root.querySelectorAll("[data-wfe-add]").forEach(function (button) {
      button.addEventListener("click", function () {
        self.add(self.spec.steps, button.getAttribute("data-wfe-add"));
      });
    });
    this.render();
  }

  Editor.prototype.msg = function (key, n) {
    var text = this.t[key] || key;
    return n === undefined ? text : text.replace("%(n)s", n);
  };
  Editor.prototype.announce = function (text) {
    this.live.textContent = "";
    var live = this.live;
    window.setTimeout(function () { live.textContent = text; }, 50);
  };
  Editor.prototype.nextId = function (kind) {
    var used = {};
    (function walk(steps) {
      steps.forEach(function (s) {
        used[s.id] = true;
        (s.branches || []).forEach(function (b) { walk(b.steps || []); });
      });
    })(this.spec.steps);
    var n = 1;
    while (used[kind + "_" + n]) n += 1;
    return kind + "_" + n;
  };
  Editor.prototype.add = function (steps, kind) {
    var step = { kind: kind, id: this.nextId(kind) };
    if (kind === "task") {
      step.name = ""; step.department = "$matter"; step.position = null; step.days = 1;
    } else if (kind === "countersign") {
      step.name = ""; step.days = 3;
      step.parties = [{ department: "$matter", position: null }, { department: "$matter", position: null }];
    } else {
      step.name = "";
      step.branches = [{ when: { "==": [{ var: "" }, ""] }, steps: [] }, { otherwise: true, steps: [] }];
    }
    steps.push(step);
    this.changed(true, step.id + ":name");
    this.announce(this.msg("added") + " " + this.msg(kind));
  };
  Editor.prototype.move = function (steps, index, delta) {
    var target = index + delta;
    if (target < 0 || target >= steps.length) return;
    var step = steps.splice(index, 1)[0];
    steps.splice(target, 0, step);
    this.changed(true, step.id + (delta < 0 ? ":up" : ":down"));
    this.announce(this.msg("moved") + " " + this.msg("step_n", target + 1));
  };
  Editor.prototype.remove = function (steps, index) {
    steps.splice(index, 1);
    // keep the keyboard user in place: the neighbouring step, else the toolbar
    var near = steps[index] || steps[index - 1];
    this.changed(true, near ? near.id + ":remove" : "toolbar");
    this.announce(this.msg("removed"));
  };

  /* Write the JSON, redraw the diagram; re-render the list only for structural changes. */
  Editor.prototype.changed = function (structural, focusKey) {
    this.output.value = JSON.stringify(this.spec, null, 1);
    this.rawError.textContent = "";
    if (structural) this.render(focusKey);
    else this.draw();
  };
  Editor.prototype.applyRaw = function () {
    var spec = parse(this.output.value, null);
    if (!spec || typeof spec !== "object" || !Array.isArray(spec.steps)) {
      this.rawError.textContent = this.msg("bad_json");
      return;
    }
    this.spec = spec;
    this.render();
    this.announce(this.msg("applied"));
  };

  Editor.prototype.render = function (focusKey) {
    this.list.textContent = "";
    this.renderSteps(this.list, this.spec.steps);
    if (!this.spec.steps.length) this.list.appendChild(el("li", { className: "wfe__empty", text: this.msg("empty") }));
    this.draw();
    if (focusKey === "toolbar") {
      this.root.querySelector("[data-wfe-add]").focus();
    } else if (focusKey) {
      var target = this.root.querySelector("[data-focus-key='" + focusKey.replace(/'/g, "") + "']");
      if (target && !target.disabled) target.focus();
      else if (target) { var alt = target.parentNode.querySelector("button:not([disabled])"); if (alt) alt.focus(); }
    }
  };

  Editor.prototype.renderSteps = function (list, steps) {
    var self = this;
    steps.forEach(function (step, index) {
      var title = el("h4", { className: "wfe__title", id: "wfe-" + self.field + "-" + step.id,
        text: self.msg("step_n", index + 1) + " · " + self.msg(step.kind) });
      var controls = el("div", { className: "wfe__controls" }, [
        self.button(self.msg("move_up"), step.id + ":up", index === 0, function () { self.move(steps, index, -1); }, "wfe-up"),
        self.button(self.msg("move_down"), step.id + ":down", index === steps.length - 1, function () { self.move(steps, index, 1); }, "wfe-down"),
        self.button(self.msg("remove"), step.id + ":remove", false, function () { self.remove(steps, index); }, "wfe-remove")
      ]);
      controls.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-describedby", title.id); });
      var item = el("li", { className: "wfe__step wfe__step--" + step.kind, "data-step-id": step.id,
        "data-testid": "wfe-step-" + step.id, "aria-labelledby": title.id }, [title, controls]);
      item.appendChild(self.input(step, "name", self.msg("name"), "text", step.id + ":name"));
      if (step.kind === "task") {
        item.appendChild(self.assignment(step, step.id));
      }
      if (step.kind === "task" || step.kind === "countersign") {
        item.appendChild(self.input(step, "days", self.msg("days"), "number", step.id + ":days"));
      }
      if (step.kind === "countersign") item.appendChild(self.parties(step));
      if (step.kind !== "gateway") item.appendChild(self.timer(step));
      if (step.kind === "gateway") item.appendChild(self.branches(step));
      list.appendChild(item);
    });
  };

  Editor.prototype.button = function (text, key, disabled, onClick, testid) {
    var b = el("button", { type: "button", className: "button button--secondary wfe__small",
      "data-focus-key": key, "data-testid": testid, text: text, disabled: disabled });
    b.addEventListener("click", onClick);
    return b;
  };

  Editor.prototype.input = function (obj, prop, label, type, key) {
    var self = this;
    var id = "wfe-" + this.field + "-" + key.replace(/[^A-Za-z0-9_-]/g, "-");
    var value = obj[prop];
    var input = el("input", { className: "input" + (type === "number" ? " input--short" : ""), type: type, id: id,
      value: value === null || value === undefined ? "" : String(value), "data-focus-key": key,
      "data-testid": "wfe-" + prop, min: type === "number" ? "0" : null, max: type === "number" ? "365" : null });
    input.addEventListener("input", function () {
      if (type === "number") obj[prop] = input.value === "" ? null : parseInt(input.value, 10);
      else obj[prop] = input.value;
      self.changed(false);
    });
    return el("div", { className: "field" }, [el("label", { className: "label", "for": id, text: label }), input]);
  };

  Editor.prototype.departmentOf = function (code) {
    for (var i = 0; i < this.departments.length; i++) if (this.departments[i].code === code) return this.departments[i];
    return null;
  };

  /* Department select + position select (or a free code for the dynamic departments). */
  Editor.prototype.assignment = function (obj, key) {
    var self = this;
    var base = "wfe-" + this.field + "-" + key.replace(/[^A-Za-z0-9_-]/g, "-");
    var dept = el("select", { className: "input", id: base + "-dept", "data-testid": "wfe-department", "data-focus-key": key + ":dept" });
    dept.appendChild(el("option", { value: "$matter", text: this.msg("matter_department") }));
    dept.appendChild(el("option", { value: "$applicant_department", text: this.msg("applicant_department") }));
    var known = DYNAMIC.indexOf(obj.department) >= 0;
    this.departments.forEach(function (d) {
      if (d.code === obj.department) known = true;
      dept.appendChild(el("option", { value: d.code, text: d.name + " (" + d.code + ")" }));
    });
    if (!known && obj.department) dept.appendChild(el("option", { value: obj.department, text: obj.department }));
    dept.value = obj.department || "$matter";
    var posWrap = el("div", { className: "field" });
    var drawPosition = function () {
      posWrap.textContent = "";
      var d = self.departmentOf(obj.department);
      var posId = base + "-pos";
      var control;
      if (d) {
        control = el("select", { className: "input", id: posId, "data-testid": "wfe-position" });
        control.appendChild(el("option", { value: "", text: self.msg("any_position") }));
        d.positions.forEach(function (p) { control.appendChild(el("option", { value: p.code, text: p.name + " (" + p.code + ")" })); });
        if (obj.position && !d.positions.some(function (p) { return p.code === obj.position; })) {
          control.appendChild(el("option", { value: obj.position, text: obj.position }));
        }
        control.value = obj.position || "";
        control.addEventListener("change", function () { obj.position = control.value || null; self.changed(false); });
      } else {
        control = el("input", { className: "input", id: posId, type: "text", list: "wfe-positions-" + self.field,
          value: obj.position || "", "data-testid": "wfe-position", pattern: "[A-Za-z0-9_-]*" });
        control.addEventListener("input", function () { obj.position = control.value.trim() || null; self.changed(false); });
      }
      posWrap.appendChild(el("label", { className: "label", "for": posId, text: self.msg("position") }));
      posWrap.appendChild(control);
    };
    dept.addEventListener("change", function () {
      obj.department = dept.value; obj.position = null; drawPosition(); self.changed(false);
    });
    drawPosition();
    return el("div", { className: "wfe__row" }, [
      el("div", { className: "field" }, [el("label", { className: "label", "for": dept.id, text: this.msg("department") }), dept]),
      posWrap
    ]);
  };

  Editor.prototype.parties = function (step) {
    var self = this;
    var list = el("ol", { className: "wfe__parties", "data-testid": "wfe-parties" });
    step.parties.forEach(function (party, index) {
      var li = el("li", {}, [self.assignment(party, step.id + "-p" + index)]);
      li.appendChild(self.button(self.msg("remove_party"), step.id + ":party" + index, step.parties.length <= 2, function () {
        step.parties.splice(index, 1); self.changed(true, step.id + ":addparty"); self.announce(self.msg("removed"));
      }, "wfe-remove-party"));
      list.appendChild(li);
    });
    var add = this.button(this.msg("add_party"), step.id + ":addparty", false, function () {
      step.parties.push({ department: "$matter", position: null });
      self.changed(true, step.id + ":addparty");
      self.announce(self.msg("added"));
    }, "wfe-add-party");
    return el("fieldset", { className: "wfe__group" }, [el("legend", { className: "label", text: this.msg("parties") }), list, add]);
  };

  Editor.prototype.timer = function (step) {
    var self = this;
    var id = "wfe-" + this.field + "-" + step.id + "-timer";
    var on = el("input", { type: "checkbox", id: id, "data-testid": "wfe-timer-on", checked: !!step.timer, "data-focus-key": step.id + ":timer" });
    var body = el("div", { className: "wfe__row" });
    var draw = function () {
      body.textContent = "";
      if (!step.timer) return;
      body.appendChild(self.input(step.timer, "after_days", self.msg("after_days"), "number", step.id + ":after"));
      var actionId = id + "-action";
      var action = el("select", { className: "input", id: actionId, "data-testid": "wfe-timer-action" }, [
        el("option", { value: "warn", text: self.msg("warn") }), el("option", { value: "escalate", text: self.msg("escalate") })]);
      action.value = step.timer.action || "warn";
      action.addEventListener("change", function () { step.timer.action = action.value; self.changed(false); });
      body.appendChild(el("div", { className: "field" }, [el("label", { className: "label", "for": actionId, text: self.msg("action") }), action]));
      var posId = id + "-to";
      var to = el("input", { className: "input", id: posId, type: "text", value: step.timer.to_position || "",
        list: "wfe-positions-" + self.field, "data-testid": "wfe-timer-to" });
      to.addEventListener("input", function () { step.timer.to_position = to.value.trim() || null; self.changed(false); });
      body.appendChild(el("div", { className: "field" }, [el("label", { className: "label", "for": posId, text: self.msg("to_position") }), to]));
    };
    on.addEventListener("change", function () {
      if (on.checked) step.timer = { after_days: 1, action: "warn", to_position: null };
      else delete step.timer;
      draw(); self.changed(false);
    });
    draw();
    return el("fieldset", { className: "wfe__group" }, [
      el("legend", { className: "label", text: this.msg("timer") }),
      el("div", { className: "wfe__check" }, [on, el("label", { "for": id, text: " " + this.msg("timer_on") })]), body]);
  };

  Editor.prototype.formKeys = function () {
    var name = this.root.getAttribute("data-form-field");
    var input = name && document.querySelector("[name='" + name.replace(/'/g, "") + "']");
    var def = input ? parse(input.value, null) : null;
    var keys = [];
    (function walk(components) {
      (components || []).forEach(function (c) {
        if (c.type === "section") walk(c.components);
        else if (c.key && c.type !== "content" && c.type !== "table") keys.push({ key: c.key, label: c.label || c.key });
      });
    })(def && def.components);
    return keys;
  };

  Editor.prototype.branches = function (step) {
    var self = this;
    var list = el("ol", { className: "wfe__branches", "data-testid": "wfe-branches" });
    step.branches.forEach(function (branch, index) {
      var head = el("h5", { className: "wfe__branch-title", id: "wfe-" + self.field + "-" + step.id + "-b" + index,
        text: branch.otherwise ? self.msg("otherwise") : self.msg("branch") + " " + (index + 1) });
      var li = el("li", { className: "wfe__branch", "data-testid": "wfe-branch", "aria-labelledby": head.id }, [head]);
      if (!branch.otherwise) {
        li.appendChild(self.condition(branch, step.id + "-b" + index));
        li.appendChild(self.button(self.msg("remove_branch"), step.id + ":branch" + index, step.branches.length <= 2, function () {
          step.branches.splice(index, 1); self.changed(true, step.id + ":addbranch"); self.announce(self.msg("removed"));
        }, "wfe-remove-branch"));
      }
      var inner = el("ol", { className: "wfe__steps wfe__steps--nested" });
      self.renderSteps(inner, branch.steps);
      if (!branch.steps.length) inner.appendChild(el("li", { className: "wfe__empty", text: self.msg("empty_branch") }));
      li.appendChild(inner);
      var adds = el("div", { className: "wfe__toolbar", role: "group", "aria-labelledby": head.id });
      ["task", "countersign", "gateway"].forEach(function (kind) {
        adds.appendChild(self.button(self.msg("add_" + kind), step.id + ":b" + index + ":" + kind, false,
          function () { self.add(branch.steps, kind); }, "wfe-branch-add-" + kind));
      });
      li.appendChild(adds);
      list.appendChild(li);
    });
    var add = this.button(this.msg("add_branch"), step.id + ":addbranch", false, function () {
      step.branches.splice(step.branches.length - 1, 0, { when: { "==": [{ var: "" }, ""] }, steps: [] });
      self.changed(true, step.id + ":addbranch");
      self.announce(self.msg("added"));
    }, "wfe-add-branch");
    return el("fieldset", { className: "wfe__group" }, [el("legend", { className: "label", text: this.msg("branches") }), list, add]);
  };

  /* field / operator / value → JSON Logic, plus the raw rule. */
  Editor.prototype.condition = function (branch, key) {
    var self = this;
    var base = "wfe-" + this.field + "-" + key;
    var parsed = this.simple(branch.when);
    var keys = this.formKeys();
    var listId = base + "-keys";
    var datalist = el("datalist", { id: listId });
    keys.forEach(function (k) { datalist.appendChild(el("option", { value: k.key, text: k.label })); });
    var field = el("input", { className: "input", id: base + "-field", list: listId, value: parsed ? parsed.field : "", "data-testid": "wfe-cond-field" });
    var op = el("select", { className: "input", id: base + "-op", "data-testid": "wfe-cond-op" });
    OPS.forEach(function (o) { op.appendChild(el("option", { value: o[0], text: self.msg(o[1]) })); });
    op.value = parsed ? parsed.op : "==";
    var value = el("input", { className: "input", id: base + "-value", value: parsed ? parsed.value : "", "data-testid": "wfe-cond-value" });
    var raw = el("textarea", { className: "input", id: base + "-raw", rows: "2", spellcheck: "false", "data-testid": "wfe-cond-raw" });
    raw.value = JSON.stringify(branch.when);
    var error = el("p", { className: "error-message", "aria-live": "polite" });
    var build = function () {
      var v = value.value.trim();
      var literal = v === "" ? "" : (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : (v === "true" ? true : (v === "false" ? false : v)));
      var left = { var: field.value.trim() };
      if (op.value === "!!") branch.when = { "!!": [left] };
      else if (op.value === "in") branch.when = { "in": [left, v.split(/[,，]/).map(function (s) { return s.trim(); }).filter(Boolean)] };
      else { var rule = {}; rule[op.value] = [left, literal]; branch.when = rule; }
      raw.value = JSON.stringify(branch.when);
      error.textContent = "";
      self.changed(false);
    };
    [field, value].forEach(function (c) { c.addEventListener("input", build); });
    op.addEventListener("change", build);
    raw.addEventListener("change", function () {
      var rule = parse(raw.value, undefined);
      if (rule === undefined) { error.textContent = self.msg("bad_json"); return; }
      error.textContent = "";
      branch.when = rule;
      var s = self.simple(rule);
      if (s) { field.value = s.field; op.value = s.op; value.value = s.value; }
      self.changed(false);
    });
    var f = function (label, control) { return el("div", { className: "field" }, [el("label", { className: "label", "for": control.id, text: label }), control]); };
    return el("fieldset", { className: "wfe__group wfe__condition", "data-testid": "wfe-condition" }, [
      el("legend", { className: "label", text: this.msg("condition") }), datalist,
      el("div", { className: "wfe__row" }, [f(this.msg("field"), field), f(this.msg("operator"), op), f(this.msg("value"), value)]),
      f(this.msg("raw_condition"), raw), error]);
  };

  /* A rule the mini editor can show: {op: [{var}, literal]}, {"!!": [{var}]}, {in: [{var}, [..]]}. */
  Editor.prototype.simple = function (rule) {
    if (!rule || typeof rule !== "object" || Array.isArray(rule)) return null;
    var ops = Object.keys(rule);
    if (ops.length !== 1) return null;
    var args = rule[ops[0]];
    if (!Array.isArray(args) || !args[0] || typeof args[0] !== "object" || !("var" in args[0])) return null;
    var name = String(args[0]["var"]);
    if (ops[0] === "!!" && args.length === 1) return { field: name, op: "!!", value: "" };
    if (ops[0] === "in" && Array.isArray(args[1])) return { field: name, op: "in", value: args[1].join(",") };
    if (OPS.some(function (o) { return o[0] === ops[0]; }) && args.length === 2 && typeof args[1] !== "object") {
      return { field: name, op: ops[0], value: args[1] === "" ? "" : String(args[1]) };
    }
    return null;
  };

  /* --- the SVG diagram: a left-to-right layout like the server's BPMNDI ------------------ */
  Editor.prototype.draw = function () {
    var nodes = [], edges = [], self = this;
    var add = function (node) { nodes.push(node); return node; };
    var place = function (steps, prev, col, row, label) {
      var rows = 1, last = prev, first = true;
      steps.forEach(function (step) {
        var r = self.placeStep(step, col, row, add, edges, place);
        edges.push({ from: last, to: r.entry, label: first ? label : "" });
        first = false;
        last = r.exit; col = r.col; rows = Math.max(rows, r.rows);
      });
      return { last: steps.length ? last : null, col: col, rows: rows };
    };
    var start = add({ type: "start", name: this.msg("start"), col: 0, row: 0 });
    var res = place(this.spec.steps, start, 1, 0, "");
    var end = add({ type: "end", name: this.msg("end"), col: res.col, row: 0 });
    edges.push({ from: res.last || start, to: end });
    this.paint(nodes, edges);
  };

  Editor.prototype.placeStep = function (step, col, row, add, edges, place) {
    var self = this;
    var label = function (d, p) {
      var dept = d === "$matter" ? self.msg("matter_department") : (d === "$applicant_department" ? self.msg("applicant_department") : ((self.departmentOf(d) || {}).name || d || ""));
      return dept + (p ? "/" + p : "");
    };
    if (step.kind === "task") {
      var n = add({ type: "task", name: step.name || step.id, sub: label(step.department, step.position), col: col, row: row, timer: !!step.timer });
      return { entry: n, exit: n, col: col + 1, rows: 1 };
    }
    if (step.kind === "countersign") {
      var split = add({ type: "parallel", col: col, row: row });
      var join = add({ type: "parallel", col: col + 2, row: row });
      (step.parties || []).forEach(function (p, i) {
        var t = add({ type: "task", name: step.name || step.id, sub: label(p.department, p.position), col: col + 1, row: row + i, timer: !!step.timer });
        edges.push({ from: split, to: t }); edges.push({ from: t, to: join });
      });
      return { entry: split, exit: join, col: col + 3, rows: Math.max(1, (step.parties || []).length) };
    }
    var gw = add({ type: "exclusive", name: step.name || "", col: col, row: row });
    var offset = 0, endCol = col + 1, ends = [];
    (step.branches || []).forEach(function (b, i) {
      var text = b.otherwise ? self.msg("otherwise") : (self.msg("branch") + " " + (i + 1));
      var r = place(b.steps || [], gw, col + 1, row + offset, text);
      ends.push({ last: r.last, label: text });
      offset += r.rows; endCol = Math.max(endCol, r.col);
    });
    var merge = add({ type: "exclusive", col: endCol, row: row });
    ends.forEach(function (e) { edges.push(e.last ? { from: e.last, to: merge } : { from: gw, to: merge, label: e.label }); });
    return { entry: gw, exit: merge, col: endCol + 1, rows: Math.max(1, offset) };
  };

  Editor.prototype.paint = function (nodes, edges) {
    var COL = 170, ROW = 130, X0 = 40, Y0 = 60;
    var size = { start: [36, 36], end: [36, 36], task: [130, 64], parallel: [44, 44], exclusive: [44, 44] };
    var maxX = 0, maxY = 0;
    nodes.forEach(function (n) {
      var s = size[n.type];
      n.w = s[0]; n.h = s[1];
      n.cx = X0 + n.col * COL + 65; n.cy = Y0 + n.row * ROW;
      maxX = Math.max(maxX, n.cx + n.w / 2); maxY = Math.max(maxY, n.cy + n.h / 2 + 20);
    });
    var root = svg("svg", { viewBox: "0 0 " + (maxX + 30) + " " + (maxY + 30), width: String(maxX + 30), role: "img",
      "aria-label": this.msg("diagram"), "class": "wf-diagram", "data-testid": "wfe-svg" });
    var defs = svg("defs", {});
    var marker = svg("marker", { id: "wfe-arrow-" + this.field, viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    marker.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z" }));
    defs.appendChild(marker); root.appendChild(defs);
    var arrow = "url(#wfe-arrow-" + this.field + ")";
    edges.forEach(function (e) {
      var x1 = e.from.cx + e.from.w / 2, y1 = e.from.cy, x2 = e.to.cx - e.to.w / 2, y2 = e.to.cy;
      var pts = y1 === y2 ? [[x1, y1], [x2, y2]] : (y2 > y1 && e.from.type !== "task" ? [[e.from.cx, e.from.cy + e.from.h / 2], [e.from.cx, y2], [x2, y2]]
        : (y1 > y2 && e.to.type !== "task" ? [[x1, y1], [e.to.cx, y1], [e.to.cx, e.to.cy + e.to.h / 2]] : [[x1, y1], [x2 - 20, y1], [x2 - 20, y2], [x2, y2]]));
      root.appendChild(svg("polyline", { points: pts.map(function (p) { return p.join(","); }).join(" "), "class": "wf-flow", "marker-end": arrow }));
      if (e.label) root.appendChild(svg("text", { x: String(pts[pts.length - 1][0] - 8), y: String(pts[pts.length - 1][1] - 6), "class": "wf-flow-label", "text-anchor": "end" }, e.label));
    });
    nodes.forEach(function (n) {
      var g = svg("g", {});
      if (n.type === "start" || n.type === "end") {
        g.appendChild(svg("circle", { cx: n.cx, cy: n.cy, r: 18, "class": "wf-event", "stroke-width": n.type === "end" ? 3 : 1.5 }));
        g.appendChild(svg("text", { x: n.cx, y: n.cy + 34, "class": "wf-label" }, n.name));
      } else if (n.type === "task") {
        g.appendChild(svg("rect", { x: n.cx - n.w / 2, y: n.cy - n.h / 2, width: n.w, height: n.h, rx: 8, "class": "wf-task" }));
        g.appendChild(svg("text", { x: n.cx, y: n.cy - 4, "class": "wf-label" }, n.name));
        g.appendChild(svg("text", { x: n.cx, y: n.cy + 16, "class": "wf-sub" }, n.sub || ""));
        if (n.timer) g.appendChild(svg("circle", { cx: n.cx + n.w / 2 - 14, cy: n.cy + n.h / 2, r: 9, "class": "wf-event wf-timer", "stroke-dasharray": "3 2" }));
      } else {
        g.appendChild(svg("polygon", { points: [[n.cx, n.cy - 22], [n.cx + 22, n.cy], [n.cx, n.cy + 22], [n.cx - 22, n.cy]].join(" "), "class": "wf-gateway" }));
        g.appendChild(svg("text", { x: n.cx, y: n.cy + 6, "class": "wf-mark" }, n.type === "parallel" ? "+" : "×"));
        if (n.name) g.appendChild(svg("text", { x: n.cx, y: n.cy - 28, "class": "wf-label" }, n.name));
      }
      root.appendChild(g);
    });
    this.diagram.textContent = "";
    this.diagram.appendChild(root);
  };

  function init() {
    document.querySelectorAll("[data-workflow-editor]").forEach(function (root) {
      if (root.wfe) return;
      // one shared datalist of every known position code, for free position inputs
      var editor = new Editor(root);
      root.wfe = editor;
      var codes = {};
      editor.departments.forEach(function (d) { d.positions.forEach(function (p) { codes[p.code] = p.name; }); });
      var list = el("datalist", { id: "wfe-positions-" + editor.field });
      Object.keys(codes).sort().forEach(function (c) { list.appendChild(el("option", { value: c, text: codes[c] })); });
      root.appendChild(list);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  window.YiwangFlowEditor = { init: init };
})();
