// The tag box on the ask and edit pages, progressive enhancement only: without this file the
// field is a plain text input and the server checks the tags when the form is sent.
//  * Suggestions of existing tags for the word at the caret (GET /tag-suggestions?q=), as an
//    ARIA combobox: arrows move, Enter or Tab picks, Escape closes; each with its use count
//    and the start of its description.
//  * A preview under the field of the typed tags that do not exist yet, with what creating
//    them needs (the create_tag privilege) when the member doesn't have it.
// Text from the server is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var SEPARATORS = /[\s,]/;

  // The server's normalisation (services/questions.py parse_tags), for one word.
  function normalise(word) {
    return word.toLowerCase().replace(/[^a-z0-9+#.\-]/g, "").replace(/^[.\-]+|[.\-]+$/g, "");
  }

  function words(value) {
    var seen = [];
    value.split(/[\s,]+/).forEach(function (part) {
      var name = normalise(part);
      if (name && seen.indexOf(name) < 0) { seen.push(name); }
    });
    return seen;
  }

  function enhance(input, Forum) {
    var url = input.getAttribute("data-tag-suggest");
    var canCreate = input.getAttribute("data-tag-create") === "yes";
    var createNote = input.getAttribute("data-tag-create-note") || "";
    var list = Forum.newListbox("tag-list", "Tag suggestions");
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    // The page draws the preview of the tags it was served with (questions/_tags_field.html).
    var preview = document.getElementById(input.id + "-preview");
    if (!preview) {
      preview = document.createElement("p");
      preview.id = input.id + "-preview";
      preview.className = "tag-preview";
      preview.setAttribute("aria-live", "polite");
      preview.hidden = true;
    }
    list.insertAdjacentElement("afterend", preview);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    described.push(preview.id);
    input.setAttribute("aria-describedby", described.join(" "));

    var answers = {};  // prefix -> promise of the server's answer
    var known = {};  // tag name -> its suggestion, or false when no such tag exists

    function lookup(prefix) {
      if (!answers[prefix]) {
        answers[prefix] = fetch(url + "?q=" + encodeURIComponent(prefix),
                                { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
          .then(function (json) {
            json.tags.forEach(function (tag) { known[tag.name] = tag; });
            if (!(json.query in known)) { known[json.query] = false; }
            return json;
          })
          .catch(function () { delete answers[prefix]; return { query: prefix, tags: [] }; });
      }
      return answers[prefix];
    }

    // The word the caret is in: [start, end) of the field's value.
    function current() {
      var value = input.value;
      var caret = input.selectionStart === null ? value.length : input.selectionStart;
      var start = caret;
      var end = caret;
      while (start > 0 && !SEPARATORS.test(value.charAt(start - 1))) { start -= 1; }
      while (end < value.length && !SEPARATORS.test(value.charAt(end))) { end += 1; }
      return { start: start, end: end, text: value.slice(start, end) };
    }

    function render(li, tag) {
      var name = document.createElement("span");
      name.className = "tag";
      name.textContent = tag.name;
      li.appendChild(name);
      var count = document.createElement("span");
      count.className = "composer-meta";
      count.textContent = "× " + tag.count;
      li.appendChild(count);
      if (tag.excerpt) {
        var about = document.createElement("span");
        about.className = "tag-option-excerpt";
        about.textContent = tag.excerpt;
        li.appendChild(about);
      }
    }

    // The typed tags, but not the word still being typed (the suggestions cover that one).
    function typed() {
      if (document.activeElement !== input) { return words(input.value); }
      var word = current();
      return words(input.value.slice(0, word.start) + " " + input.value.slice(word.end));
    }

    function showPreview() {
      var names = typed();
      var pending = names.filter(function (n) { return !(n in known); });
      Promise.all(pending.map(lookup)).then(function () {
        if (typed().join(" ") !== names.join(" ")) { return; }  // typed on meanwhile
        var fresh = names.filter(function (n) { return known[n] === false; });
        preview.textContent = "";
        preview.hidden = fresh.length === 0;
        preview.classList.toggle("tag-preview-refused", !canCreate);
        if (!fresh.length) { return; }
        preview.appendChild(document.createTextNode(fresh.length === 1 ? "New tag: " : "New tags: "));
        fresh.forEach(function (n) {
          var chip = document.createElement("span");
          chip.className = "tag tag-new";
          chip.textContent = n;
          preview.appendChild(chip);
          preview.appendChild(document.createTextNode(" "));
        });
        var note = canCreate ? (fresh.length === 1 ? "— it will be created when you post." : "— they will be created when you post.")
          : "— " + createNote + " Pick an existing tag.";
        if (fresh.length > 1) {
          note += " Several words of one tag are joined with hyphens (" + fresh.slice(0, 2).join("-") + ").";
        }
        preview.appendChild(document.createTextNode(note));
      });
    }

    var box = new Forum.Listbox(input, list, function (tag) {
      var word = current();
      var after = input.value.slice(word.end).replace(/^[\s,]+/, "");
      input.value = input.value.slice(0, word.start) + tag.name + " " + after;
      var caret = word.start + tag.name.length + 1;
      input.setSelectionRange(caret, caret);
      known[tag.name] = tag;
      showPreview();
    });

    var suggest = Forum.debounce(function () {
      var prefix = normalise(current().text);
      if (!prefix) { box.hide(); return; }
      lookup(prefix).then(function (json) {
        if (document.activeElement !== input || normalise(current().text) !== prefix) { return; }
        box.show(json.tags, render);
      });
    }, 150);
    var later = Forum.debounce(showPreview, 400);

    input.addEventListener("input", function () { suggest(); later(); });
    input.addEventListener("keydown", function (event) { box.key(event, ["Enter", "Tab"]); });
    var pressing = false;  // a mouse button or finger is down somewhere on the page
    document.addEventListener("pointerdown", function () { pressing = true; }, true);
    document.addEventListener("pointerup", function () { pressing = false; }, true);
    input.addEventListener("blur", function () {
      function redraw() { if (document.activeElement !== input) { box.hide(); showPreview(); } }
      if (!pressing) { redraw(); return; }  // Tab, or a script moved the focus
      // A press elsewhere (the submit button takes the focus on mousedown): closing the list or
      // growing the note before the release would move the button from under the pointer, and
      // the click (the post) would never happen. Redraw once the click has been dispatched.
      document.addEventListener("pointerup", function () { setTimeout(redraw, 0); }, { once: true });
    });
    if (input.value) { showPreview(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var Forum = window.Forum;
    if (!Forum || !Forum.Listbox || !window.fetch || !window.Promise) { return; }
    document.querySelectorAll("input[data-tag-suggest]").forEach(function (input) { enhance(input, Forum); });
  });
})();
