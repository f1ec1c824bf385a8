// Progressive enhancement only: every action works without this file.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var token = csrf ? csrf.getAttribute("content") : "";

  // Header menus (<details>): they work without this; with it, one is open at a time and
  // Escape or a click elsewhere closes it.
  var menus = document.querySelectorAll("details.menu");
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (!menu.open) { return; }
      menus.forEach(function (other) { if (other !== menu) { other.open = false; } });
    });
  });
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    menus.forEach(function (menu) {
      if (menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });

  // Ask before destructive POST buttons.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // A form that only finishes a step the visitor already took (single sign-on's "Continue")
  // submits itself; without this file it is one button.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) { form.submit(); });

  // Live Markdown preview, rendered by the server through the same pipeline as saved posts.
  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }
  // Shared with the scripts loaded after this one (composer.js), so there is one copy.
  window.Forum = window.Forum || {};
  window.Forum.debounce = debounce;

  document.querySelectorAll(".editor[data-preview-url]").forEach(function (editor) {
    var input = editor.querySelector("textarea");
    var box = editor.querySelector(".preview");
    var body = editor.querySelector(".preview-body");
    if (!input || !box || !body) { return; }
    var url = editor.getAttribute("data-preview-url");
    // A preview served with the page is that of the text it was served with: not fetched again.
    var last = box.hidden ? null : input.value;
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

  // Similar questions while typing a title on the ask page: the customer may find the
  // answer before posting. Text is inserted with textContent, never as HTML.
  document.querySelectorAll("[data-similar-url]").forEach(function (box) {
    var form = box.closest("form");
    var input = form ? form.querySelector('input[name="title"]') : null;
    var list = box.querySelector(".similar-list");
    if (!input || !list) { return; }
    var url = box.getAttribute("data-similar-url");
    // The page lists the questions for the title it was served with: not fetched again.
    var last = box.getAttribute("data-similar-for") || "";
    var lookup = debounce(function () {
      var title = input.value.trim();
      if (title === last) { return; }
      last = title;
      if (title.split(/\s+/).length < 3) { box.hidden = true; return; }
      fetch(url + "?title=" + encodeURIComponent(title), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (json) {
          if (!json || title !== last) { return; }
          list.textContent = "";
          json.results.forEach(function (item) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = item.url;
            a.textContent = item.title;
            a.target = "_blank";
            a.rel = "noopener";
            // static/js/deflection.js reports an opened suggestion (docs/insights.md).
            a.setAttribute("data-deflect", "suggestion");
            a.setAttribute("data-target-type", item.kind === "article" ? "article" : "question");
            a.setAttribute("data-target-id", String(item.id));
            li.appendChild(a);
            if (item.kind === "article") {
              var off = document.createElement("span");
              off.className = "official-mark";
              off.textContent = "Official";
              li.appendChild(off);
            }
            if (item.solved) {
              var mark = document.createElement("span");
              mark.className = "solved-mark";
              mark.textContent = "✓ Solved";
              li.appendChild(mark);
            }
            if (item.kind !== "article") {
              var meta = document.createElement("span");
              meta.className = "similar-meta";
              meta.textContent = item.score + (Math.abs(item.score) === 1 ? " vote · " : " votes · ") +
                item.answers + (item.answers === 1 ? " answer" : " answers");
              li.appendChild(meta);
            }
            list.appendChild(li);
          });
          box.hidden = json.results.length === 0;
        })
        .catch(function () { box.hidden = true; });
    }, 300);
    input.addEventListener("input", lookup);
    if (input.value.trim()) { lookup(); }
  });
})();

// Votes: forms marked data-vote post in the background and update the score in place.
// Without this script they are plain POST forms that redirect back to the post.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var token = csrf ? csrf.getAttribute("content") : "";

  function show(box, json) {
    var value = box.querySelector(".score-value");
    var label = box.querySelector(".score-label");
    if (value) { value.textContent = String(json.score); }
    if (label) { label.textContent = (json.score === 1 || json.score === -1) ? "vote" : "votes"; }
    box.querySelectorAll("form[data-vote]").forEach(function (form) {
      var input = form.querySelector("input[data-vote-value]");
      var button = form.querySelector("button");
      if (!input) { return; }
      var own = parseInt(input.getAttribute("data-vote-value"), 10);
      var active = json.my_vote === own;
      input.value = active ? "0" : String(own);
      if (button) {
        button.classList.toggle("is-active", active);
        button.setAttribute("aria-pressed", active ? "true" : "false");
      }
    });
  }

  // A refused vote (e.g. "Downvoting needs 125 reputation; you have 12.") is explained in a
  // note at the top of the post, with a link to the privileges page when the server gives one.
  function explain(box, error) {
    var post = box.closest(".post");
    var main = post ? post.querySelector(".post-main") : null;
    if (!main) { window.alert(error.message); return; }
    var note = main.querySelector(".vote-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "notice vote-note";
      note.setAttribute("role", "alert");
      main.insertBefore(note, main.firstChild);
    }
    note.textContent = error.message + " ";
    if (error.help_url) {
      var link = document.createElement("a");
      link.href = error.help_url;
      link.textContent = "See privileges";
      note.appendChild(link);
    }
  }

  // Forms that post in the background and update their box in place; without JavaScript
  // (or when the answer is not JSON, e.g. signed out) they are plain POST forms. Other
  // scripts add a kind with Forum.inPlace(attribute, boxSelector, show, explain); show(box,
  // json) updates the box, explain(box, error) shows a refusal ({"message", "help_url"}).
  var inPlaceKinds = [];

  function inPlace(attribute, boxSelector, onShow, onExplain) {
    inPlaceKinds.push({ attribute: attribute, box: boxSelector, show: onShow, explain: onExplain });
  }

  window.Forum = window.Forum || {};
  window.Forum.inPlace = inPlace;
  inPlace("data-vote", "[data-vote-box]", show, explain);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || event.defaultPrevented) { return; }
    var kind = null;
    inPlaceKinds.forEach(function (k) { if (!kind && form.hasAttribute(k.attribute)) { kind = k; } });
    if (!kind) { return; }
    event.preventDefault();
    var box = form.closest(kind.box);
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
          kind.show(box, res.json);
        } else if (res.json && res.json.error) {
          kind.explain(box, res.json.error);
        } else {
          form.submit();  // fall back to the plain form (e.g. signed out)
        }
      })
      .catch(function () { form.submit(); })
      .then(function () { box.removeAttribute("aria-busy"); });
  });
})();
