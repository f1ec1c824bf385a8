// Progressive enhancement only: every action works without this file.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var token = csrf ? csrf.getAttribute("content") : "";

  // Ask before destructive POST buttons.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // Live Markdown preview, rendered by the server through the same pipeline as saved posts.
  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  document.querySelectorAll(".editor[data-preview-url]").forEach(function (editor) {
    var input = editor.querySelector("textarea");
    var box = editor.querySelector(".preview");
    var body = editor.querySelector(".preview-body");
    if (!input || !box || !body) { return; }
    var url = editor.getAttribute("data-preview-url");
    var last = null;
    var update = debounce(function () {
      var text = input.value;
      if (text === last) { return; }
      last = text;
      if (!text.trim()) { box.hidden = true; return; }
      var data = new FormData();
      data.append("body", text);
      fetch(url, { method: "POST", body: data, headers: { "X-CSRFToken": token }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (json) {
          if (!json) { return; }
          // The server returns sanitised HTML (same allowlist as stored posts).
          body.innerHTML = json.html;
          box.hidden = false;
        })
        .catch(function () { /* preview is optional; the form still works */ });
    }, 350);
    input.addEventListener("input", update);
    if (input.value.trim()) { update(); }
  });
})();
