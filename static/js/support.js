// Support desk, progressive enhancement: "Insert reply" fills a canned or suggested reply on
// the server (placeholders for this question) and inserts it at the cursor without a reload.
// Without this file the picker is a GET form that reloads the page with the text in the composer.
(function () {
  "use strict";

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart || 0;
    var end = textarea.selectionEnd || 0;
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    var gap = before && !/\n$/.test(before) ? "\n\n" : "";
    textarea.value = before + gap + text + after;
    var caret = (before + gap + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    // Let the live preview notice the change.
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.querySelectorAll("[data-canned-picker]").forEach(function (box) {
    var form = box.querySelector("form");
    var note = box.querySelector("[data-canned-note]");
    var textarea = document.getElementById(box.getAttribute("data-target"));
    if (!form || !textarea) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var params = new URLSearchParams(new FormData(form));
      params.set("question", box.getAttribute("data-question"));
      fetch(box.getAttribute("data-fill-url") + "?" + params.toString(),
            { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          insertAtCursor(textarea, data.text);
          if (note) { note.textContent = data.note || "Inserted. Edit it before posting."; }
        })
        .catch(function () { form.submit(); });
    });
  });
})();
