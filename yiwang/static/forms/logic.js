/* JSON Logic for yiwang forms: the allow-listed operators only (the same list as
 * yiwang/enablement/forms/logic.py), bounded depth and bounded work. Our own small evaluator:
 * conditions and calculations run live in the browser, and the server recomputes them on
 * submission. The bounds are the server's (logic.py MAX_OPERATIONS, MAX_RESULT_STRING,
 * MAX_RESULT_ITEMS): a step is one operation evaluated, one item visited by a scoped operator,
 * one item produced by merge, or 100 characters produced by cat; past a bound the rule gives
 * null, as on the server. */
(function () {
  "use strict";
  var MAX_DEPTH = 24;
  var MAX_OPERATIONS = 100000, MAX_RESULT_STRING = 20000, MAX_RESULT_ITEMS = 1000;
  var left = MAX_OPERATIONS;
  function OverBudget() {}
  function spend(n) { left -= n; if (left < 0) throw new OverBudget(); }
  function capped(list) { if (list.length > MAX_RESULT_ITEMS) throw new OverBudget(); return list; }
  function codePoints(s) {  // Python's len(): astral characters count once
    if (s.length > 2 * MAX_RESULT_STRING) throw new OverBudget();
    return Array.from(s).length;
  }
  var SCOPED = { map: 1, filter: 1, reduce: 1, all: 1, some: 1, none: 1 };

  function isRule(x) {
    return x !== null && typeof x === "object" && !Array.isArray(x) && Object.keys(x).length === 1;
  }
  function truthy(v) {
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === "number") return v !== 0 && !isNaN(v);
    return !!v;
  }
  function toNumber(v) {
    if (typeof v === "number") return v;
    if (v === null || v === undefined) return 0;
    if (Array.isArray(v)) return v.length === 0 ? 0 : (v.length === 1 ? toNumber(v[0]) : NaN);
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v === "string") { var s = v.trim(); return s === "" ? 0 : Number(s); }
    return NaN;
  }
  function toString(v) {
    if (v === null || v === undefined) return "null";
    if (Array.isArray(v)) return v.map(toString).join(",");
    if (typeof v === "object") return "[object Object]";
    return String(v);
  }
  function getVar(data, key, dflt) {
    if (key === null || key === undefined || key === "") return data;
    var parts = String(key).split(".");
    var cur = data;
    for (var i = 0; i < parts.length; i++) {
      if (cur === null || cur === undefined) return dflt === undefined ? null : dflt;
      if (Array.isArray(cur) && parts[i] === "length") { cur = cur.length; continue; }
      cur = Object.prototype.hasOwnProperty.call(cur, parts[i]) ? cur[parts[i]] : undefined;
    }
    return (cur === null || cur === undefined) ? (dflt === undefined ? null : dflt) : cur;
  }
  function missing(data, keys) {
    return keys.filter(function (k) { var v = getVar(data, k); return v === null || v === ""; });
  }
  function compare(a, b, op) {
    if (typeof a !== "number" && typeof b !== "number" && typeof a === "string" && typeof b === "string") {
      return op(a, b);
    }
    return op(toNumber(a), toNumber(b));
  }
  var lt = function (a, b) { return a < b; }, gt = function (a, b) { return a > b; };
  var le = function (a, b) { return a <= b; }, ge = function (a, b) { return a >= b; };
  function chain(args, op) {
    if (args.length >= 3) return compare(args[0], args[1], op) && compare(args[1], args[2], op);
    return compare(args[0], args[1], op);
  }

  var OPS = {
    "==": function (a, b) { return a == b; },  // eslint-disable-line eqeqeq
    "!=": function (a, b) { return a != b; },  // eslint-disable-line eqeqeq
    "===": function (a, b) { return a === b; },
    "!==": function (a, b) { return a !== b; },
    "!": function (a) { return !truthy(a); },
    "!!": function (a) { return truthy(a); },
    "<": function () { return chain([].slice.call(arguments), lt); },
    ">": function () { return chain([].slice.call(arguments), gt); },
    "<=": function () { return chain([].slice.call(arguments), le); },
    ">=": function () { return chain([].slice.call(arguments), ge); },
    "+": function () { return [].reduce.call(arguments, function (s, x) { return s + toNumber(x); }, 0); },
    "*": function () { return [].reduce.call(arguments, function (s, x) { return s * toNumber(x); }, 1); },
    "-": function (a, b) { return arguments.length < 2 ? -toNumber(a) : toNumber(a) - toNumber(b); },
    "/": function (a, b) { var d = toNumber(b); return d ? toNumber(a) / d : null; },
    "%": function (a, b) { var d = toNumber(b); return d ? toNumber(a) % d : null; },
    "min": function () { return Math.min.apply(null, [].map.call(arguments, toNumber)); },
    "max": function () { return Math.max.apply(null, [].map.call(arguments, toNumber)); },
    "cat": function () { return [].map.call(arguments, function (x) { return typeof x === "string" ? x : toString(x); }).join(""); },
    "substr": function (s, start, len) {
      s = toString(s); start = toNumber(start) || 0;
      if (start < 0) start = Math.max(0, s.length + start);
      if (len === undefined || len === null) return s.substr(start);
      len = toNumber(len);
      return len < 0 ? s.substring(start, Math.max(start, s.length + len)) : s.substr(start, len);
    },
    "in": function (a, b) {
      if (Array.isArray(b)) return b.indexOf(a) !== -1;
      if (typeof b === "string") return b.indexOf(toString(a)) !== -1;
      return false;
    },
    "merge": function () {
      var out = [];
      [].forEach.call(arguments, function (x) { if (Array.isArray(x)) { out.push.apply(out, x); } else { out.push(x); } });
      return out;
    }
  };
  var CONTROL = ["if", "?:", "and", "or", "map", "filter", "reduce", "all", "some", "none",
                 "var", "missing", "missing_some"];
  var OPERATORS = Object.keys(OPS).concat(CONTROL);

  function apply(rule, data, depth) {
    depth = depth || 0;
    if (depth > MAX_DEPTH) throw new Error("too deep");
    if (Array.isArray(rule)) return rule.map(function (r) { return apply(r, data, depth + 1); });
    if (!isRule(rule)) return rule;
    spend(1);
    var op = Object.keys(rule)[0];
    var args = rule[op];
    if (!Array.isArray(args)) args = [args];
    var ev = function (r, d) { return apply(r, d === undefined ? data : d, depth + 1); };
    var i, current;
    switch (op) {
      case "if": case "?:":
        for (i = 0; i < args.length - 1; i += 2) { if (truthy(ev(args[i]))) return ev(args[i + 1]); }
        return args.length % 2 === 1 ? ev(args[args.length - 1]) : null;
      case "and":
        for (i = 0; i < args.length; i++) { current = ev(args[i]); if (!truthy(current)) return current; }
        return current === undefined ? null : current;
      case "or":
        for (i = 0; i < args.length; i++) { current = ev(args[i]); if (truthy(current)) return current; }
        return current === undefined ? null : current;
      case "var": {
        var name = ev(args[0]);
        return getVar(data, name, args.length > 1 ? ev(args[1]) : undefined);
      }
      case "missing": {
        var keys = args.map(function (a) { return ev(a); });
        if (keys.length === 1 && Array.isArray(keys[0])) keys = keys[0];
        return missing(data, keys);
      }
      case "missing_some": {
        var need = toNumber(ev(args[0])), list = ev(args[1]);
        if (!Array.isArray(list)) return [];
        var miss = missing(data, list);
        return list.length - miss.length >= need ? [] : miss;
      }
      case "map": case "filter": case "all": case "some": case "none": {
        var items = ev(args[0]);
        if (!Array.isArray(items)) return op === "map" || op === "filter" ? [] : (op === "none");
        spend(items.length);
        if (op === "map") return capped(items.map(function (it) { return ev(args[1], it); }));
        if (op === "filter") return capped(items.filter(function (it) { return truthy(ev(args[1], it)); }));
        if (op === "all") return items.length > 0 && items.every(function (it) { return truthy(ev(args[1], it)); });
        if (op === "some") return items.some(function (it) { return truthy(ev(args[1], it)); });
        return !items.some(function (it) { return truthy(ev(args[1], it)); });
      }
      case "reduce": {
        var list2 = ev(args[0]), acc = args.length > 2 ? ev(args[2]) : null;
        if (!Array.isArray(list2)) return acc;
        spend(list2.length);
        list2.forEach(function (it) { acc = ev(args[1], { current: it, accumulator: acc }); });
        return acc;
      }
    }
    if (!Object.prototype.hasOwnProperty.call(OPS, op)) throw new Error("operator not allowed: " + op);
    var result = OPS[op].apply(null, args.map(function (a) { return ev(a); }));
    if (op === "merge") { spend(result.length); return capped(result); }
    if (op === "cat") {
      var n = codePoints(result);
      if (n > MAX_RESULT_STRING) throw new OverBudget();
      spend(Math.floor(n / 100));
    }
    return result;
  }

  /* Evaluate; any error (unknown operator, too deep) gives null, like the server. */
  function evaluate(rule, data) {
    left = MAX_OPERATIONS;
    try {
      var v = apply(rule, data, 0);
      return (typeof v === "number" && !isFinite(v)) ? null : v;
    } catch (e) {
      return null;
    }
  }

  /* Field keys a rule refers to (first dotted segment), outside iteration scopes. */
  function references(rule, found, scoped) {
    found = found || [];
    if (Array.isArray(rule)) { rule.forEach(function (r) { references(r, found, scoped); }); return found; }
    if (!isRule(rule)) return found;
    var op = Object.keys(rule)[0], args = rule[op];
    if (!Array.isArray(args)) args = [args];
    if (op === "var" && !scoped && typeof args[0] === "string" && args[0]) {
      var k = args[0].split(".")[0];
      if (found.indexOf(k) === -1) found.push(k);
    }
    args.forEach(function (a, i) { references(a, found, scoped || (SCOPED[op] && i >= 1)); });
    return found;
  }

  window.YiwangLogic = { evaluate: evaluate, truthy: truthy, references: references, OPERATORS: OPERATORS };
})();
