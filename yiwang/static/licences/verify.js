// Licence verification page: show the input the chosen kind needs, and scan a QR code with
// the camera where the browser has the BarcodeDetector API. Without JavaScript both inputs
// stay visible and the form works the same.
(function () {
  "use strict";
  function init() {
    var form = document.querySelector(".lic-verify");
    if (!form) { return; }
    var file = form.querySelector(".lic-verify__file");
    var text = form.querySelector(".lic-verify__text");
    function update() {
      var checked = form.querySelector("input[name=kind]:checked");
      var kind = checked ? checked.value : "pdf";
      file.hidden = kind !== "pdf";
      text.hidden = kind === "pdf";
    }
    form.querySelectorAll("input[name=kind]").forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
    var scan = form.querySelector(".lic-scan");
    var video = form.querySelector(".lic-scan__video");
    var area = form.querySelector("textarea");
    scan.hidden = false;
    scan.querySelector("button").addEventListener("click", function () {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        function stop() { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; }
        function tick() {
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              area.value = codes[0].rawValue;
              var qr = form.querySelector("input[name=kind][value=qr]");
              if (qr) { qr.checked = true; update(); }
              stop();
            } else {
              window.requestAnimationFrame(tick);
            }
          }, function () { window.requestAnimationFrame(tick); });
        }
        tick();
      }, function () { scan.hidden = true; });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
