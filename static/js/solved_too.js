// "This solved my problem too": the form posts in the background and the count and the
// button's pressed state change in place. Without this script it is a plain POST form that
// redirects back to the thread.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";

  function show(box, json) {
    var count = box.querySelector("[data-solved-too-count]");
    var button = box.querySelector(".solved-too-button");
    var note = box.querySelector("[data-solved-too-note]");
    if (count) {
      count.setAttribute("data-count", String(json.count));
      count.textContent = "";
      if (json.count > 0) {
        var strong = document.createElement("strong");
        strong.textContent = String(json.count);
        count.appendChild(strong);
        count.appendChild(document.createTextNode(
          (json.count === 1 ? " person" : " people") + " said this solved their problem too"));
      } else {
        count.textContent = "Had the same problem? Say so when this thread solves it.";
      }
    }
    var mark = box.querySelector("[data-solved-too-mark]");
    if (mark) { mark.value = json.marked ? "0" : "1"; }
    if (button) {
      button.classList.toggle("is-active", json.marked);
      button.setAttribute("aria-pressed", json.marked ? "true" : "false");
      button.title = json.marked ? "Click again to take it back" : "Tell others this thread solved your problem too";
    }
    if (note) {
      note.classList.remove("solved-too-error");
      note.textContent = json.marked ? "You said this solved your problem too. Click again to take it back." : "";
    }
  }

  function explain(box, message) {
    var note = box.querySelector("[data-solved-too-note]");
    if (!note) { window.alert(message); return; }
    note.classList.add("solved-too-error");
    note.textContent = message;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-solved-too") || event.defaultPrevented) { return; }
    event.preventDefault();
    var box = form.closest("[data-solved-too-box]");
    if (!box || box.getAttribute("aria-busy") === "true") { return; }
    box.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    })
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (json) { return { ok: r.ok, json: json }; });
      })
      .then(function (res) {
        if (res.ok && res.json) {
          show(box, res.json);
        } else if (res.json && res.json.error) {
          explain(box, res.json.error.message);
        } else {
          form.submit();  // fall back to the plain form (e.g. signed out)
        }
      })
      .catch(function () { form.submit(); })
      .then(function () { box.removeAttribute("aria-busy"); });
  });
})();
