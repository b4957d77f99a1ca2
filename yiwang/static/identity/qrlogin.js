/* 扫码登录 desktop page: ask the server every few seconds whether the phone approved.
 * Without JavaScript the page's "我已在手机上确认" button posts the same form. */
(function () {
  "use strict";

  var FINAL = { denied: true, consumed: true, expired: true, error: true };

  function start() {
    var root = document.querySelector("[data-qr-login]");
    if (!root || !window.fetch || !window.FormData) {
      return;
    }
    var form = root.querySelector("[data-qr-status-form]");
    var stateText = root.querySelector("[data-qr-state]");
    var confirm = root.querySelector("[data-qr-confirm]");
    var figure = root.querySelector(".qr-figure");
    var every = parseInt(root.dataset.pollMs, 10) || 2000;
    var deadline = Date.now() + ((parseInt(root.dataset.ttl, 10) || 120) + 5) * 1000;
    var timer = null;
    if (!form) {
      return;
    }
    // The script confirms by itself; the button comes back if the network keeps failing.
    // (style, not the hidden attribute: .button sets display, which would override it.)
    function showButton(visible) {
      if (confirm) {
        confirm.style.display = visible ? "" : "none";
      }
    }
    var failures = 0;
    showButton(false);

    function show(text) {
      if (stateText && text) {
        stateText.textContent = text;
      }
    }

    function stop(text) {
      window.clearTimeout(timer);
      timer = null;
      show(text);
      if (figure) {
        figure.hidden = true;
      }
    }

    function poll() {
      window.fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        body: new window.FormData(form)
      }).then(function (response) {
        return response.json();
      }).then(function (data) {
        failures = 0;
        showButton(false);
        if (data.redirect) {
          show(data.message);
          window.location.assign(data.redirect);
          return;
        }
        if (FINAL[data.state] || Date.now() > deadline) {
          stop(data.message);
          return;
        }
        show(data.message);
        timer = window.setTimeout(poll, every);
      }).catch(function () {
        failures += 1;
        showButton(failures >= 3);
        show(root.dataset.msgNetwork);
        if (Date.now() <= deadline) {
          timer = window.setTimeout(poll, every * 2);
        }
      });
    }

    timer = window.setTimeout(poll, every);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
