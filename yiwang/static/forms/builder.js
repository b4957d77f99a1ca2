/* The drag-and-drop form builder of templates/forms/builder.html.
 *
 * State: one form definition {"version": 1, "components": [...]}. The palette adds
 * components (click, or HTML5 drag onto the canvas); canvas items move by drag or by their
 * up/down buttons (keyboard); the property panel edits the selected component; conditions
 * and calculations are JSON Logic, written by a small "field / operator / value" editor or
 * typed in a raw JSON box. Every change is written as JSON into the hidden input the caller
 * posts; the server checks it (forms.service.check_definition). */
(function () {
  "use strict";
  var L = window.YiwangLogic;
  var KEY_RE = /^[a-z][a-z0-9_]{0,62}$/;
  var NEW = "application/x-yiwang-new";
  var MOVE = "application/x-yiwang-move";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function clone(x) { return JSON.parse(JSON.stringify(x)); }
  function getPath(obj, path) {
    return path.split(".").reduce(function (o, p) { return o && o[p]; }, obj);
  }
  function setPath(obj, path, value) {
    var parts = path.split("."), last = parts.pop(), cur = obj;
    parts.forEach(function (p) { if (!cur[p] || typeof cur[p] !== "object") cur[p] = {}; cur = cur[p]; });
    if (value === undefined) delete cur[last]; else cur[last] = value;
    if (parts.length && Object.keys(cur).length === 0) delete obj[parts[0]];
  }

  function Builder(root) {
    this.root = root;
    this.config = JSON.parse(document.getElementById("fb-config").textContent);
    this.t = this.config.messages;
    this.output = root.querySelector("[data-fb-output]");
    this.canvas = root.querySelector("[data-fb-canvas]");
    this.props = root.querySelector("[data-fb-props]");
    this.raw = root.querySelector("[data-fb-raw]");
    this.rawError = root.querySelector("[data-fb-raw-error]");
    this.live = root.querySelector("[data-fb-announce]");
    this.preview = document.querySelector("[data-fb-preview='" + root.getAttribute("data-field") + "']");
    this.selected = null;  // path: array of indices
    try {
      this.def = JSON.parse(this.output.value || "{}");
    } catch (e) {
      this.def = {};
    }
    if (!this.def || !Array.isArray(this.def.components)) this.def = { version: 1, components: [] };
    this.def.version = 1;
    this.bind();
    this.changed(true);
  }

  Builder.prototype.announce = function (text) {
    var live = this.live;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 30);
  };

  Builder.prototype.typeLabel = function (type) { return this.config.types[type] || type; };

  /* --- the tree --------------------------------------------------------------------------- */
  Builder.prototype.list = function (containerPath) {
    var list = this.def.components;
    (containerPath || []).forEach(function (i) { list = list[i].components; });
    return list;
  };
  Builder.prototype.at = function (path) {
    return this.list(path.slice(0, -1))[path[path.length - 1]];
  };
  Builder.prototype.depthOf = function (containerPath) {
    var depth = 0, list = this.def.components;
    containerPath.forEach(function (i) { if (list[i].type === "section") depth += 1; list = list[i].components; });
    return depth;
  };
  Builder.prototype.keys = function () {
    var keys = [];
    (function walk(list) {
      list.forEach(function (c) {
        if (c.key) keys.push(c.key);
        if (c.type === "section" || c.type === "table") walk(c.components || []);
      });
    })(this.def.components);
    return keys;
  };
  Builder.prototype.valueKeys = function () {
    var keys = [], vt = this.config.value_types;
    (function walk(list) {
      list.forEach(function (c) {
        if (c.type === "section") walk(c.components || []);
        else if (vt.indexOf(c.type) !== -1) keys.push({ key: c.key, label: c.label || c.key, type: c.type, columns: c.components });
      });
    })(this.def.components);
    return keys;
  };
  Builder.prototype.newKey = function (type) {
    var keys = this.keys(), n = 1;
    while (keys.indexOf(type + "_" + n) !== -1) n += 1;
    return type + "_" + n;
  };
  Builder.prototype.make = function (type) {
    var c = { type: type, key: this.newKey(type), label: this.typeLabel(type) };
    if (type === "choice") c.options = [{ value: "a", label: "选项一", label_en: "Option 1" }, { value: "b", label: "选项二", label_en: "Option 2" }];
    if (type === "section") c.components = [];
    if (type === "table") c.components = [{ type: "text", key: "col_1", label: "列一" }];
    if (type === "content") { delete c.label; c.text = this.typeLabel(type); }
    return c;
  };
  /* Where a component of ``type`` may go: null if allowed, else a message. */
  Builder.prototype.refusal = function (type, containerPath) {
    if (!containerPath.length) return null;
    var container = this.at(containerPath);
    if (container.type === "table" && this.config.cell_types.indexOf(type) === -1) return this.t.not_in_table;
    if (container.type === "section" && type === "section" && this.depthOf(containerPath) >= this.config.max_section_depth) return this.t.too_deep;
    return null;
  };
  Builder.prototype.insert = function (component, containerPath, index) {
    var refusal = this.refusal(component.type, containerPath);
    if (refusal) { this.announce(refusal); return null; }
    var list = this.list(containerPath);
    if (index === undefined || index > list.length) index = list.length;
    list.splice(index, 0, component);
    return containerPath.concat([index]);
  };
  Builder.prototype.remove = function (path) {
    return this.list(path.slice(0, -1)).splice(path[path.length - 1], 1)[0];
  };
  Builder.prototype.move = function (from, containerPath, index) {
    // Not into itself or its own children.
    var fromStr = from.join("."), toStr = containerPath.join(".");
    if (toStr === fromStr || toStr.indexOf(fromStr + ".") === 0) return null;
    var component = this.at(from);
    var refusal = this.refusal(component.type, containerPath);
    if (refusal) { this.announce(refusal); return null; }
    var sameList = from.slice(0, -1).join(".") === toStr;
    var fromIndex = from[from.length - 1];
    // Removing an earlier sibling of the target container shifts its path.
    var adjusted = containerPath.slice();
    var parentLen = from.length - 1;
    if (adjusted.length > parentLen && adjusted.slice(0, parentLen).join(".") === from.slice(0, -1).join(".") && adjusted[parentLen] > fromIndex) adjusted[parentLen] -= 1;
    this.remove(from);
    if (sameList && index > fromIndex) index -= 1;
    return this.insert(component, adjusted, index);
  };

  /* --- output ----------------------------------------------------------------------------- */
  Builder.prototype.changed = function (first) {
    var json = JSON.stringify(this.def);
    this.output.value = json;
    if (document.activeElement !== this.raw) this.raw.value = JSON.stringify(this.def, null, 2);
    this.renderCanvas();
    if (first) this.renderProps();
    this.schedulePreview();
    this.output.dispatchEvent(new Event("change", { bubbles: true }));
  };

  /* --- canvas ----------------------------------------------------------------------------- */
  Builder.prototype.renderCanvas = function () {
    var self = this;
    var focusedAction = document.activeElement && document.activeElement.getAttribute("data-fb-focus-id");
    this.canvas.innerHTML = "";
    this.fillList(this.canvas, this.def.components, []);
    if (!this.def.components.length) this.canvas.appendChild(el("li", { className: "fb__empty", text: this.t.empty_canvas }));
    if (this.focusAfter) { focusedAction = this.focusAfter; this.focusAfter = null; }
    if (focusedAction) {
      var again = this.canvas.querySelector("[data-fb-focus-id='" + focusedAction + "']");
      if (again) again.focus();
    }
    this.canvas.setAttribute("data-fb-container", "");
    void self;
  };
  Builder.prototype.fillList = function (ul, list, containerPath) {
    var self = this;
    ul.setAttribute("data-fb-container", containerPath.join("."));
    list.forEach(function (c, i) {
      var path = containerPath.concat([i]);
      var id = path.join("-");
      var selected = self.selected && self.selected.join(".") === path.join(".");
      var title = (c.label || c.text || c.key || "").slice(0, 40);
      var tool = function (action, text, testid) {
        return el("button", { type: "button", className: "fb__tool", "data-fb-action": action, "data-fb-path": path.join("."),
          "data-fb-focus-id": c.key + "-" + action, "data-testid": c.key + "-" + testid,
          "aria-label": text + "：" + title, text: text });
      };
      var head = el("div", { className: "fb__item-head" }, [
        el("button", { type: "button", className: "fb__item-title", "data-fb-action": "select", "data-fb-path": path.join("."),
          "data-fb-focus-id": c.key + "-select", "data-testid": "item-" + c.key, "aria-pressed": selected ? "true" : "false",
          text: title }),
        el("span", { className: "fb__item-type", text: self.typeLabel(c.type) + " · " + c.key + (c.required ? " · *" : "") +
          (c.conditional !== undefined ? " · " + self.t.condition_editor : "") +
          (c.calculate !== undefined ? " · " + self.t.calculation_editor : "") }),
        tool("up", self.t.move_up, "up"), tool("down", self.t.move_down, "down"),
        // Keyboard users restructure with these (drag and drop does the same by pointer).
        (i > 0 && (list[i - 1].type === "section" || list[i - 1].type === "table") &&
          !self.refusal(c.type, containerPath.concat([i - 1]))) ? tool("indent", self.t.move_in, "in") : null,
        containerPath.length ? tool("outdent", self.t.move_out, "out") : null,
        tool("remove", self.t.remove, "remove")
      ]);
      var li = el("li", { className: "fb__item" + (selected ? " fb__item--selected" : ""), draggable: "true",
        "data-fb-path": path.join("."), "data-testid": "canvas-item-" + c.key, id: "fb-item-" + id }, [head]);
      if (c.type === "section" || c.type === "table") {
        var children = el("ul", { className: "fb__children", "data-testid": "children-" + c.key });
        self.fillList(children, c.components || [], path);
        if (!(c.components || []).length) children.appendChild(el("li", { className: "fb__empty", text: self.t.empty_children }));
        li.appendChild(children);
      }
      ul.appendChild(li);
    });
  };

  Builder.prototype.bind = function () {
    var self = this;
    this.root.addEventListener("click", function (event) {
      var palette = event.target.closest("[data-fb-palette]");
      if (palette) { self.addFromPalette(palette.getAttribute("data-fb-palette")); return; }
      var action = event.target.closest("[data-fb-action]");
      if (action && self.canvas.contains(action)) {
        var path = action.getAttribute("data-fb-path").split(".").map(Number);
        self.act(action.getAttribute("data-fb-action"), path);
      }
    });
    this.root.querySelector("[data-fb-apply]").addEventListener("click", function () { self.applyRaw(); });
    // Drag and drop.
    this.root.addEventListener("dragstart", function (event) {
      var palette = event.target.closest && event.target.closest("[data-fb-palette]");
      if (palette) {
        event.dataTransfer.setData(NEW, palette.getAttribute("data-fb-palette"));
        event.dataTransfer.setData("text/plain", palette.getAttribute("data-fb-palette"));
        event.dataTransfer.effectAllowed = "copy";
        return;
      }
      var item = event.target.closest && event.target.closest("li[data-fb-path]");
      if (item) {
        event.dataTransfer.setData(MOVE, item.getAttribute("data-fb-path"));
        event.dataTransfer.setData("text/plain", item.getAttribute("data-fb-path"));
        event.dataTransfer.effectAllowed = "move";
        event.stopPropagation();
      }
    });
    this.root.addEventListener("dragover", function (event) {
      var target = self.dropTarget(event);
      if (!target) return;
      event.preventDefault();
      self.clearDropMarks();
      target.list.classList.add("fb--over");
      if (target.before) target.before.classList.add("fb__item--drop-before");
    });
    this.root.addEventListener("dragleave", function (event) {
      if (!self.root.contains(event.relatedTarget)) self.clearDropMarks();
    });
    this.root.addEventListener("drop", function (event) {
      var target = self.dropTarget(event);
      self.clearDropMarks();
      if (!target) return;
      event.preventDefault();
      var types = [].slice.call(event.dataTransfer.types || []);
      var containerPath = target.containerPath, index = target.index, path;
      if (types.indexOf(MOVE) !== -1) {
        path = self.move(event.dataTransfer.getData(MOVE).split(".").map(Number), containerPath, index);
      } else {
        var type = event.dataTransfer.getData(NEW) || event.dataTransfer.getData("text/plain");
        if (self.config.types[type] === undefined) return;
        path = self.insert(self.make(type), containerPath, index);
        if (path) self.announce(self.t.added + "：" + self.typeLabel(type));
      }
      if (path) { self.selected = path; self.changed(); self.renderProps(); }
    });
  };
  Builder.prototype.clearDropMarks = function () {
    [].forEach.call(this.root.querySelectorAll(".fb--over, .fb__item--drop-before"), function (n) {
      n.classList.remove("fb--over");
      n.classList.remove("fb__item--drop-before");
    });
  };
  /* The list under the pointer and the index to insert at (before the item hovered). */
  Builder.prototype.dropTarget = function (event) {
    var list = event.target.closest && event.target.closest("[data-fb-container]");
    if (!list || !this.canvas.contains(list) && list !== this.canvas) return null;
    var containerAttr = list.getAttribute("data-fb-container");
    var containerPath = containerAttr ? containerAttr.split(".").map(Number) : [];
    var items = [].filter.call(list.children, function (n) { return n.matches("li[data-fb-path]"); });
    var before = null, index = items.length;
    for (var i = 0; i < items.length; i++) {
      var rect = items[i].getBoundingClientRect();
      if (event.clientY < rect.top + Math.min(rect.height, 40) / 2) { before = items[i]; index = i; break; }
    }
    return { list: list, containerPath: containerPath, index: index, before: before };
  };

  Builder.prototype.addFromPalette = function (type) {
    var containerPath = [];
    if (this.selected) {
      var sel = this.at(this.selected);
      if (sel && (sel.type === "section" || sel.type === "table") && !this.refusal(type, this.selected)) containerPath = this.selected;
    }
    var path = this.insert(this.make(type), containerPath);
    if (!path) return;
    this.selected = path;
    this.changed();
    this.renderProps();
    this.announce(this.t.added + "：" + this.typeLabel(type));
    var first = this.props.querySelector("[data-prop='label'], [data-prop='text']");
    if (first) first.focus();
  };

  Builder.prototype.act = function (action, path) {
    var list = this.list(path.slice(0, -1)), i = path[path.length - 1];
    var c = list[i];
    if (action === "select") {
      this.selected = path;
      this.renderCanvas();
      this.renderProps();
      var first = this.props.querySelector("[data-prop]");
      if (first) first.focus();
      return;
    }
    if (action === "up" && i > 0) {
      list.splice(i - 1, 0, list.splice(i, 1)[0]);
      this.selected = path.slice(0, -1).concat([i - 1]);
      this.announce(this.t.moved_up + "：" + (c.label || c.key));
    } else if (action === "down" && i < list.length - 1) {
      list.splice(i + 1, 0, list.splice(i, 1)[0]);
      this.selected = path.slice(0, -1).concat([i + 1]);
      this.announce(this.t.moved_down + "：" + (c.label || c.key));
    } else if (action === "indent" && i > 0) {
      var into = path.slice(0, -1).concat([i - 1]);
      var moved = this.move(path, into, (list[i - 1].components || []).length);
      if (!moved) return;
      this.selected = moved;
      this.announce(this.t.moved_in + "：" + (list[i - 1].label || list[i - 1].key));
      this.focusAfter = c.key + "-select";
    } else if (action === "outdent" && path.length > 1) {
      var container = path.slice(0, -1);
      var out = this.move(path, container.slice(0, -1), container[container.length - 1] + 1);
      if (!out) return;
      this.selected = out;
      this.announce(this.t.moved_out + "：" + (c.label || c.key));
      this.focusAfter = c.key + "-select";
    } else if (action === "remove") {
      list.splice(i, 1);
      this.selected = null;
      this.announce(this.t.removed + "：" + (c.label || c.key));
      this.changed();
      this.renderProps();
      this.canvas.focus();
      var next = this.canvas.querySelector(".fb__item-title");
      if (next) next.focus();
      return;
    } else {
      return;
    }
    this.changed();
    this.renderProps();
  };

  Builder.prototype.applyRaw = function () {
    var parsed;
    try {
      parsed = JSON.parse(this.raw.value);
    } catch (e) {
      this.rawError.textContent = this.t.invalid_json + "：" + e.message;
      return;
    }
    if (!parsed || !Array.isArray(parsed.components)) {
      this.rawError.textContent = this.t.invalid_json;
      return;
    }
    this.rawError.textContent = this.t.applied;
    this.def = parsed;
    this.selected = null;
    this.changed();
    this.renderProps();
  };

  /* --- properties -------------------------------------------------------------------------- */
  var COMMON = ["key", "label", "label_en", "help", "help_en"];
  var FIELD = COMMON.concat(["required", "prefill"]);
  var PROPS = {
    text: FIELD.concat(["placeholder", "validate.min_length", "validate.max_length", "validate.pattern", "validate.pattern_message"]),
    textarea: FIELD.concat(["rows", "validate.min_length", "validate.max_length"]),
    number: FIELD.concat(["unit", "unit_en", "validate.min", "validate.max", "validate.integer", "validate.decimals"]),
    date: FIELD.concat(["validate.min", "validate.max"]),
    choice: FIELD.concat(["options", "multiple", "widget", "validate.min_items", "validate.max_items"]),
    id_number: FIELD.concat(["validate.min_age", "validate.max_age"]),
    credit_code: FIELD.slice(),
    phone: FIELD.concat(["validate.kind"]),
    address: FIELD.concat(["validate.within", "validate.min_level"]),
    map_point: FIELD.concat(["validate.within"]),
    file: COMMON.concat(["required", "material", "accept", "max_files", "max_bytes", "validate.min_files"]),
    signature: COMMON.concat(["required", "material"]),
    table: COMMON.concat(["required", "min_rows", "max_rows"]),
    section: COMMON.slice(),
    content: ["key", "text", "text_en"]
  };
  var NUMBERS = ["validate.min_length", "validate.max_length", "validate.decimals", "validate.min_items",
    "validate.max_items", "validate.min_age", "validate.max_age", "validate.min_files", "rows", "max_files",
    "max_bytes", "min_rows", "max_rows"];
  var BOOLS = ["required", "multiple", "validate.integer"];
  var LONG = ["help", "help_en", "text", "text_en", "options"];

  Builder.prototype.propInput = function (c, prop) {
    var self = this, t = this.t;
    var id = "fb-prop-" + this.root.getAttribute("data-field") + "-" + prop.replace(/\./g, "-");
    var labelKey = prop;
    if (c.type === "date" && (prop === "validate.min" || prop === "validate.max")) labelKey = prop + "_date";
    var labelText = t[labelKey] || prop;
    var value = getPath(c, prop);
    var input;
    if (BOOLS.indexOf(prop) !== -1) {
      input = el("input", { type: "checkbox", id: id, "data-prop": prop });
      input.checked = !!value;
      return el("div", { className: "checkbox-field field" }, [input, el("label", { "for": id, text: labelText })]);
    }
    var selects = {
      "prefill": [""].concat(this.config.prefill_sources),
      "widget": [""].concat(this.config.widgets),
      "validate.kind": [""].concat(this.config.phone_kinds),
      "validate.min_level": [""].concat(this.config.address_levels)
    };
    if (selects[prop]) {
      input = el("select", { className: "input", id: id, "data-prop": prop });
      var options = selects[prop].slice();
      if (prop === "prefill" && value && options.indexOf(value) === -1) options.push(value);
      options.forEach(function (o) {
        var option = el("option", { value: o, text: o || t.any });
        if ((value || "") === o) option.selected = true;
        input.appendChild(option);
      });
    } else if (prop === "options") {
      input = el("textarea", { className: "input", id: id, rows: "5", "data-prop": prop });
      input.value = (value || []).map(function (o) { return [o.value, o.label, o.label_en || ""].join("|"); }).join("\n");
    } else if (prop === "accept") {
      input = el("input", { className: "input", id: id, type: "text", "data-prop": prop });
      input.value = (value || this.config.upload_types).join(",");
    } else if (LONG.indexOf(prop) !== -1) {
      input = el("textarea", { className: "input", id: id, rows: "3", "data-prop": prop });
      input.value = value || "";
    } else {
      input = el("input", { className: "input", id: id, type: "text", "data-prop": prop,
        inputmode: NUMBERS.indexOf(prop) !== -1 || (c.type === "number" && /validate\.m(in|ax)$/.test(prop)) ? "decimal" : null });
      input.value = value === undefined || value === null ? "" : String(value);
    }
    void self;
    return el("div", { className: "field" }, [el("label", { className: "label", "for": id, text: labelText }), input]);
  };

  Builder.prototype.readProp = function (c, prop, input) {
    var raw = input.type === "checkbox" ? input.checked : input.value;
    var value;
    if (BOOLS.indexOf(prop) !== -1) value = raw ? true : (prop === "required" ? false : undefined);
    else if (prop === "options") {
      value = raw.split("\n").map(function (line) { return line.trim(); }).filter(Boolean).map(function (line) {
        var parts = line.split("|");
        return { value: parts[0].trim(), label: (parts[1] || parts[0]).trim(), label_en: (parts[2] || "").trim() };
      });
    } else if (prop === "accept") {
      value = raw.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    } else if (NUMBERS.indexOf(prop) !== -1 || (c.type === "number" && /^validate\.m(in|ax)$/.test(prop))) {
      value = raw.trim() === "" ? undefined : Number(raw);
      if (value !== undefined && isNaN(value)) value = raw;  // the server names the problem
    } else {
      value = raw === "" ? undefined : raw;
    }
    return value;
  };

  Builder.prototype.problemsOf = function (c) {
    var problems = [], t = this.t;
    if (!KEY_RE.test(c.key || "")) problems.push(t.invalid_key);
    var keys = this.keys();
    if (keys.filter(function (k) { return k === c.key; }).length > 1) problems.push(t.duplicate_key + "：" + c.key);
    var self = this;
    ["conditional", "calculate"].forEach(function (name) {
      if (c[name] === undefined) return;
      var bad = self.badOperator(c[name]);
      if (bad) problems.push(t.bad_operator + "：" + bad);
    });
    return problems;
  };
  Builder.prototype.badOperator = function (rule) {
    var allowed = this.config.operators, bad = null;
    (function walk(node) {
      if (Array.isArray(node)) { node.forEach(walk); return; }
      if (node && typeof node === "object") {
        var ops = Object.keys(node);
        if (ops.length !== 1 || allowed.indexOf(ops[0]) === -1) { bad = bad || ops.join(","); return; }
        walk(node[ops[0]]);
      }
    })(rule);
    return bad;
  };

  Builder.prototype.renderProps = function () {
    var self = this, t = this.t;
    this.props.innerHTML = "";
    var c = this.selected ? this.at(this.selected) : null;
    if (!c) { this.props.appendChild(el("p", { className: "hint", text: t.no_selection })); return; }
    var heading = el("p", { className: "notice__title", text: this.typeLabel(c.type) + " · " + c.key });
    var problems = el("ul", { className: "fb__problems", "aria-live": "polite", "data-testid": "prop-problems" });
    this.props.appendChild(heading);
    this.props.appendChild(problems);
    (PROPS[c.type] || COMMON).forEach(function (prop) { self.props.appendChild(self.propInput(c, prop)); });
    var inTable = this.selected.length > 1 && this.at(this.selected.slice(0, -1)).type === "table";
    this.props.appendChild(this.conditionEditor(c, inTable));
    if (this.config.calculable_types.indexOf(c.type) !== -1) this.props.appendChild(this.calculationEditor(c, inTable));
    if (c.type !== "section" && c.type !== "content") {
      this.props.appendChild(this.jsonBox(c, "validate.rule"));
      this.props.appendChild(this.propInput(c, "validate.message"));
      this.props.appendChild(this.propInput(c, "validate.message_en"));
    }
    var showProblems = function () {
      problems.innerHTML = "";
      self.problemsOf(c).forEach(function (p) { problems.appendChild(el("li", { text: p })); });
    };
    showProblems();
    this.props.oninput = this.props.onchange = function (event) {
      var input = event.target;
      var prop = input.getAttribute("data-prop");
      if (!prop) return;
      if (input.getAttribute("data-json") !== null) {
        var error = input.parentNode.querySelector("[data-json-error]");
        var text = input.value.trim();
        if (text === "") { setPath(c, prop, undefined); error.textContent = ""; }
        else {
          try { setPath(c, prop, JSON.parse(text)); error.textContent = ""; } catch (e) { error.textContent = t.invalid_json; return; }
        }
      } else {
        setPath(c, prop, self.readProp(c, prop, input));
      }
      if (prop === "key") heading.textContent = self.typeLabel(c.type) + " · " + c.key;
      showProblems();
      self.changed();
    };
  };

  /* --- preview: the same markup as render.html, driven by render.js -------------------------- */
  Builder.prototype.schedulePreview = function () {
    var self = this;
    if (!this.preview || !this.renderPreview) return;
    window.clearTimeout(this.previewTimer);
    // Marked while a redraw is pending, for tests and assistive tools that wait for it.
    this.preview.setAttribute("aria-busy", "true");
    this.previewTimer = window.setTimeout(function () {
      self.renderPreview();
      self.preview.removeAttribute("aria-busy");
    }, 250);
  };
  // The preview's markup lives in builder_preview.js (loaded before this file).
  if (window.YiwangFormBuilderPreview) window.YiwangFormBuilderPreview(Builder.prototype, el);
  // The JSON Logic editors live in builder_logic.js (loaded before this file).
  window.YiwangFormBuilderLogic(Builder.prototype, el, getPath);

  function init() {
    [].forEach.call(document.querySelectorAll("[data-forms-builder]"), function (root) {
      if (!root.yiwangBuilder) root.yiwangBuilder = new Builder(root);
    });
  }
  window.YiwangFormBuilder = { init: init };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
