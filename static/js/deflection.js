// Deflection beacons (docs/insights.md, "Measuring deflection"): tell the server that a
// suggestion on the ask page or a search result was opened, and that the ask page showed
// suggestions ("abandon", counted only if no question follows). navigator.sendBeacon survives
// the page navigating away, so a link opened in the same tab is reported too. The boxes that
// report carry data-beacon-url; their links carry data-deflect, data-target-type and -id.
(function () {
  "use strict";
  if (!navigator.sendBeacon || !window.URLSearchParams) { return; }

  function send(url, kind, type, id) {
    var body = new URLSearchParams();
    body.set("kind", kind);
    if (type) { body.set("target_type", type); body.set("target_id", id); }
    navigator.sendBeacon(url, body);
  }

  document.querySelectorAll("[data-beacon-url]").forEach(function (box) {
    var url = box.getAttribute("data-beacon-url");
    // "click" also fires for Enter on a focused link; "auxclick" is the middle button.
    function opened(event) {
      var link = event.target.closest ? event.target.closest("a[data-deflect]") : null;
      if (!link || !box.contains(link) || (event.type === "auxclick" && event.button !== 1)) { return; }
      send(url, link.getAttribute("data-deflect"), link.getAttribute("data-target-type"),
        link.getAttribute("data-target-id"));
    }
    box.addEventListener("click", opened);
    box.addEventListener("auxclick", opened);

    // Ask page: the first time the suggestion list appears with results, once per page.
    if (box.hasAttribute("data-similar-url")) {
      var observer = new MutationObserver(function () {
        if (box.hidden || !box.querySelector("a[data-deflect]")) { return; }
        observer.disconnect();
        send(url, "abandon");
      });
      observer.observe(box, { attributes: true, attributeFilter: ["hidden"], childList: true, subtree: true });
    }
  });
})();
