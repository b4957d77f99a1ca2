// The chat widget of the portal: opens a panel, sends questions to /assistant/messages,
// shows the answers with their links to the guides, offers the clarifying choices as
// buttons, hands over to a person, and polls for the person's replies while waiting.
// Without JavaScript the toggle is a link to the assistant's page.
(function () {
  "use strict";
  var root = document.querySelector("[data-testid='chat-widget']");
  if (!root) { return; }
  var toggle = root.querySelector(".chat__toggle");
  var panel = root.querySelector(".chat__panel");
  var log = panel.querySelector(".chat__log");
  var form = panel.querySelector("form");
  var input = form.querySelector("input[name='text']");
  var token = "", last = 0, timer = null, loaded = null;

  function load() {  // the conversation so far, and a CSRF token for the posts
    if (!loaded) {
      loaded = fetch(root.getAttribute("data-messages"), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (j) { token = j.csrf || ""; j.ok = true; handle(j); });
    }
    return loaded;
  }
  function post(url, data) {
    var body = new URLSearchParams(data || {});
    return load().then(function () { return fetch(url, { method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRFToken": token, "Accept": "application/json" } }); })
      .then(function (r) { return r.json().then(function (j) { j.ok = r.ok; return j; }); });
  }
  function show(message) {
    if (message.id && message.id <= last) { return; }
    if (message.id) { last = message.id; }
    var li = document.createElement("li");
    li.className = "chat__msg chat__msg--" + message.role;
    li.setAttribute("data-testid", "chat-message");
    li.setAttribute("data-role", message.role);
    li.setAttribute("data-outcome", message.outcome || "");
    var p = document.createElement("p"); p.textContent = message.text; li.appendChild(p);
    if (message.citations && message.citations.length) {
      var ul = document.createElement("ul"); ul.className = "chat__cites";
      message.citations.forEach(function (c) {
        var item = document.createElement("li"), a = document.createElement("a");
        a.href = c.url; a.textContent = c.title + (c.section ? " · " + c.section : "");
        item.appendChild(a); ul.appendChild(item);
      });
      li.appendChild(ul);
    }
    if (message.choices && message.choices.length) {
      var box = document.createElement("div"); box.className = "chat__choices";
      message.choices.forEach(function (c) {
        var b = document.createElement("button"); b.type = "button";
        b.className = "button button--secondary"; b.textContent = c.label;
        b.setAttribute("data-testid", "chat-choice");
        b.addEventListener("click", function () { send(c.value); });
        box.appendChild(b);
      });
      li.appendChild(box);
    }
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }
  function note(text) { show({ role: "system", text: text }); }
  function handle(result) {
    (result.messages || []).forEach(show);
    if (!result.ok && result.detail) { note(result.detail); }
    poll(result.state);
  }
  function poll(state) {
    clearTimeout(timer);
    if (state === "waiting" || state === "human") {
      timer = setTimeout(function () {
        fetch(root.getAttribute("data-messages") + "?after=" + last, { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (j) { j.ok = true; handle(j); })
          .catch(function () { poll(state); });
      }, 3000);
    }
  }
  function send(text) {
    text = (text || "").trim();
    if (!text) { input.focus(); return; }
    input.value = "";
    post(root.getAttribute("data-messages"), { text: text }).then(handle)
      .catch(function () { note("网络不稳定,请稍后再试。"); });
  }
  function open() {
    panel.hidden = false; toggle.setAttribute("aria-expanded", "true"); input.focus();
    load();
  }
  function close() { panel.hidden = true; toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
  toggle.addEventListener("click", function (e) { e.preventDefault(); if (panel.hidden) { open(); } else { close(); } });
  panel.querySelector(".chat__close").addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { close(); } });
  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value); });
  panel.querySelector(".chat__human").addEventListener("click", function () {
    post(root.getAttribute("data-human"), {}).then(handle);
  });
})();
