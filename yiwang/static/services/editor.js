/* Service-version editor: add a row to the fee decision table (the page works without it:
   the server always renders one empty row). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-add-fee-row]");
    var body = document.querySelector("[data-fee-rows]");
    if (!button || !body) { return; }
    button.addEventListener("click", function () {
      var last = body.lastElementChild;
      if (!last) { return; }
      var row = last.cloneNode(true);
      var n = body.children.length + 1;
      row.querySelectorAll("input").forEach(function (input) {
        input.value = "";
        var label = input.getAttribute("aria-label") || "";
        input.setAttribute("aria-label", label.replace(/\d+/, String(n)));
        var testid = input.getAttribute("data-testid") || "";
        input.setAttribute("data-testid", testid.replace(/\d+$/, String(n)));
      });
      body.appendChild(row);
      row.querySelector("input").focus();
    });
  });
})();
