/* Peta: draws the households of points.json on a Leaflet canvas layer.
   Tiles are optional: when they fail (offline), the points stay on a plain background. */
(function () {
  "use strict";
  var element = document.getElementById("map");
  var status = document.getElementById("map-status");
  if (!element || typeof L === "undefined") { return; }

  function say(key, n) {
    var text = status.getAttribute("data-" + key) || "";
    status.textContent = text.replace("{n}", n === undefined ? "" : n.toLocaleString());
  }

  var map = L.map(element, { preferCanvas: true, zoomControl: true }).setView([-7.05, 107.6], 10);
  var tiles = element.getAttribute("data-tiles");
  var tileFailures = 0;
  if (tiles) {
    var layer = L.tileLayer(tiles, { maxZoom: 18, attribution: element.getAttribute("data-attribution") });
    layer.on("tileerror", function () {
      tileFailures += 1;
      if (tileFailures === 1) {
        element.classList.add("tiles-offline");
        var note = document.createElement("p");
        note.className = "map-offline muted";
        note.textContent = status.getAttribute("data-offline");
        element.parentNode.insertBefore(note, status);
      }
    });
    layer.addTo(map);
  } else {
    element.classList.add("tiles-offline");
  }

  function popup(point, template) {
    var box = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = point[4];
    var link = document.createElement("a");
    link.href = template.replace("HOUSEHOLD_ID", encodeURIComponent(point[3]));
    link.textContent = element.getAttribute("data-open-label");
    box.appendChild(name);
    box.appendChild(document.createElement("br"));
    if (point[5]) {
      box.appendChild(document.createTextNode(point[5]));
      box.appendChild(document.createElement("br"));
    }
    box.appendChild(link);
    return box;
  }

  say("loading");
  fetch(element.getAttribute("data-points-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (data) {
      var renderer = L.canvas({ padding: 0.5 });
      var bounds = [];
      data.points.forEach(function (p) {
        var marker = L.circleMarker([p[0], p[1]], {
          renderer: renderer, radius: 6, weight: 1, color: "#ffffff",
          fillColor: data.colours[p[2]], fillOpacity: 0.9
        });
        marker.bindPopup(function () { return popup(p, data.household_url); });
        marker.addTo(map);
        bounds.push([p[0], p[1]]);
      });
      element.setAttribute("data-points", String(data.points.length));
      if (bounds.length) {
        map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14, animate: false });
        say(data.truncated ? "truncated" : "count", data.points.length);
      } else {
        say("none");
      }
    })
    .catch(function () { say("failed"); });
})();
