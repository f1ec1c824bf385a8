// The theme switch in the footer (templates/_partials/theme_switch.html, docs/theming.md).
// Without JavaScript the form posts and the page comes back in the new theme. With it, the
// choice shows at once: <html data-theme> changes, then the same form is posted in the
// background so the cookie is set for the next page. If that post fails, the form is submitted.
(function () {
  "use strict";
  var form = document.querySelector("form.theme-switch");
  if (!form || !window.fetch || !window.FormData) return;
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=theme]");
    if (!button) return;
    event.preventDefault();
    var value = button.value;
    document.documentElement.setAttribute("data-theme", value);
    form.querySelectorAll("button[name=theme]").forEach(function (b) {
      b.setAttribute("aria-pressed", b === button ? "true" : "false");
    });
    var data = new FormData(form);
    data.set("theme", value);
    var headers = { "Accept": "application/json" };
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) headers["X-CSRFToken"] = meta.content;
    fetch(form.action, { method: "POST", body: data, headers: headers, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(String(response.status)); })
      .catch(function () {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = "theme"; input.value = value;
        form.appendChild(input);
        form.submit();
      });
  });
})();
