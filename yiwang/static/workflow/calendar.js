/* 工作日历 pages: after a refused form, focus the list of problems (keyboard and screen-reader
   users land on it); the pages work without this script. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary[tabindex='-1']");
    if (summary) { summary.focus(); }
  });
})();
