/* Row editors of the workbench's service pages (fee decision table, guide lists): "添加一行"
   copies the last row, empty. The pages work without it: the server always renders one empty
   row, and saving adds another. */
(function () {
  "use strict";
  function addRow(body) {
    var last = body.lastElementChild;
    if (!last) { return; }
    var row = last.cloneNode(true);
    var n = body.children.length + 1;
    row.querySelectorAll("input, textarea, select").forEach(function (input) {
      if (input.tagName === "SELECT") { input.selectedIndex = 0; } else { input.value = ""; }
      var label = input.getAttribute("aria-label") || "";
      input.setAttribute("aria-label", label.replace(/\d+/, String(n)));
      var testid = input.getAttribute("data-testid") || "";
      input.setAttribute("data-testid", testid.replace(/\d+$/, String(n)));
    });
    body.appendChild(row);
    var first = row.querySelector("input, textarea, select");
    if (first) { first.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-add-row]").forEach(function (button) {
      button.addEventListener("click", function () {
        var body = document.getElementById(button.getAttribute("data-add-row"));
        if (body) { addRow(body); }
      });
    });
    var fee = document.querySelector("[data-add-fee-row]");
    var feeBody = document.querySelector("[data-fee-rows]");
    if (fee && feeBody) { fee.addEventListener("click", function () { addRow(feeBody); }); }
    // A refused save: take keyboard and screen-reader users to the list of problems.
    var summary = document.querySelector(".error-summary[tabindex='-1']");
    if (summary) { summary.focus(); }
  });
})();
