/* Recovery codes page: adds a print button (the download works without JavaScript). */
(function () {
  "use strict";

  function start() {
    document.querySelectorAll("[data-print-label]").forEach(function (form) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button--secondary";
      button.textContent = form.dataset.printLabel;
      button.addEventListener("click", function () { window.print(); });
      form.appendChild(document.createTextNode(" "));
      form.appendChild(button);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
