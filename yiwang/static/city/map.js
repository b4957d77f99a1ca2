/* Maps of city management, drawn offline with Leaflet from our own vector data (the grids
   from OGC API Features): no tile server, labels in the page's own fonts.

   <div class="case-map" data-lon data-lat data-grids="/ogcapi/…/items?bbox=…"> shows a place;
   inputs [data-pick=lon|lat] in the page are filled by a click on the map (or by a
   [data-locate] button, from the device's position), so the same page works without a
   map: the fields can be typed. */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }

  function fill(lon, lat) {
    document.querySelectorAll("[data-pick=lon]").forEach(function (input) {
      input.value = lon.toFixed(6);
    });
    document.querySelectorAll("[data-pick=lat]").forEach(function (input) {
      input.value = lat.toFixed(6);
    });
  }

  function drawGrids(map, url) {
    if (!url) { return; }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/geo+json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        L.geoJSON(data, {
          style: {color: "#1f6feb", weight: 1, fillOpacity: 0.04},
          onEachFeature: function (feature, layer) {
            var p = feature.properties || {};
            layer.bindTooltip((p.name || "") + " " + (p.code || ""), {sticky: true});
          }
        }).addTo(map);
      });
  }

  document.querySelectorAll(".case-map, .pick-map").forEach(function (element) {
    var lon = parseFloat(element.dataset.lon), lat = parseFloat(element.dataset.lat);
    var map = L.map(element, {attributionControl: false, zoomSnap: 0.5});
    map.setView([lat, lon], parseFloat(element.dataset.zoom || "16"));
    drawGrids(map, element.dataset.grids);
    var picked = null;
    if (element.classList.contains("case-map")) {
      L.circleMarker([lat, lon], {radius: 9, color: "#d1242f", weight: 3, fillOpacity: 0.6})
        .addTo(map).bindTooltip(element.getAttribute("aria-label") || "");
    }
    if (document.querySelector("[data-pick=lon]")) {
      map.on("click", function (event) {
        fill(event.latlng.lng, event.latlng.lat);
        if (picked) { picked.setLatLng(event.latlng); } else {
          picked = L.circleMarker(event.latlng, {radius: 7, color: "#1a7f37", weight: 3})
            .addTo(map);
        }
      });
    }
  });

  document.querySelectorAll("[data-locate]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { return; }
      navigator.geolocation.getCurrentPosition(function (position) {
        fill(position.coords.longitude, position.coords.latitude);
      });
    });
  });
}());
