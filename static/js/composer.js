// Composer helpers, progressive enhancement only: without this file a member pastes a link
// (or types "#12") and types the full @username; the server links both when the post is saved.
//  * "Insert link": search questions and articles, insert [title](/questions/12) at the cursor.
//  * @username suggestions while typing, as an ARIA listbox (arrows, Enter/Tab, Escape).
// Text from the server is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var counter = 0;

  var debounce = window.Forum.debounce;  // from app.js, loaded first (both deferred, in order)

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .catch(function () { return { results: [] }; });
  }

  // A listbox driven from a text field (the field keeps focus; aria-activedescendant moves).
  function Listbox(field, list, onChoose) {
    this.field = field;
    this.list = list;
    this.onChoose = onChoose;
    this.items = [];
    this.active = -1;
    var self = this;
    list.addEventListener("mousedown", function (event) {
      var option = event.target.closest("[role=option]");
      if (!option) { return; }
      event.preventDefault();  // keep focus (and the caret) in the field
      self.choose(parseInt(option.getAttribute("data-index"), 10));
    });
  }
  Listbox.prototype.show = function (items, render) {
    var self = this;
    this.items = items;
    this.list.textContent = "";
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = self.list.id + "-opt-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("data-index", String(i));
      li.setAttribute("aria-selected", "false");
      render(li, item);
      self.list.appendChild(li);
    });
    this.list.hidden = items.length === 0;
    this.setExpanded(items.length > 0);
    this.move(items.length ? 0 : -1);
  };
  Listbox.prototype.hide = function () {
    this.items = [];
    this.list.hidden = true;
    this.list.textContent = "";
    this.setExpanded(false);
    this.field.removeAttribute("aria-activedescendant");
    this.active = -1;
  };
  // aria-expanded belongs to a combobox (the link picker's field); a textarea (the composer,
  // for @mentions) is a textbox, which may not carry it: it has aria-controls and
  // aria-activedescendant only.
  Listbox.prototype.setExpanded = function (open) {
    if (this.field.getAttribute("role") === "combobox") {
      this.field.setAttribute("aria-expanded", open ? "true" : "false");
    }
  };
  Listbox.prototype.isOpen = function () { return !this.list.hidden && this.items.length > 0; };
  Listbox.prototype.move = function (index) {
    var options = this.list.querySelectorAll("[role=option]");
    this.active = index;
    options.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
    if (index >= 0 && options[index]) {
      this.field.setAttribute("aria-activedescendant", options[index].id);
      if (options[index].scrollIntoView) { options[index].scrollIntoView({ block: "nearest" }); }
    } else {
      this.field.removeAttribute("aria-activedescendant");
    }
  };
  Listbox.prototype.choose = function (index) {
    var item = this.items[index];
    this.hide();
    if (item) { this.onChoose(item); }
  };
  // Returns true when the key was handled.
  Listbox.prototype.key = function (event, chooseKeys) {
    if (!this.isOpen()) { return false; }
    var n = this.items.length;
    if (event.key === "ArrowDown") { this.move((this.active + 1) % n); }
    else if (event.key === "ArrowUp") { this.move((this.active - 1 + n) % n); }
    else if (event.key === "Escape") { this.hide(); }
    else if (chooseKeys.indexOf(event.key) >= 0 && this.active >= 0) { this.choose(this.active); }
    else { return false; }
    event.preventDefault();
    return true;
  };

  function newList(className, label) {
    var list = document.createElement("ul");
    list.id = "composer-list-" + (++counter);
    list.className = "composer-list " + className;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", label);
    list.hidden = true;
    return list;
  }

  function insertAt(textarea, start, end, text) {
    textarea.focus();
    textarea.setRangeText(text, start, end, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));  // live preview, mentions
  }

  // ------------------------------------------------------------------ @username suggestions
  // Same rule as the server (forum/markup/links.py): not after a word, @, dot, slash or backslash.
  var MENTION_RE = /(^|[^\w@.+\-\/\\])@([A-Za-z0-9_]{1,30})$/;

  function enhanceMentions(textarea, url) {
    var list = newList("mention-list", "Usernames");
    textarea.insertAdjacentElement("afterend", list);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", list.id);
    var pending = null;
    var box = new Listbox(textarea, list, function (user) {
      if (!pending) { return; }
      insertAt(textarea, pending.start, pending.end, "@" + user.username + " ");
      pending = null;
    });
    var lookup = debounce(function (prefix, start, end) {
      getJSON(url + "?q=" + encodeURIComponent(prefix)).then(function (json) {
        var caret = textarea.selectionStart;
        var now = MENTION_RE.exec(textarea.value.slice(0, caret));
        if (!now || now[2] !== prefix) { return; }  // the member typed on
        pending = { start: start, end: end };
        box.show(json.results, function (li, user) {
          var name = document.createElement("strong");
          name.textContent = "@" + user.username;
          li.appendChild(name);
          if (user.name && user.name !== user.username) {
            var full = document.createElement("span");
            full.className = "composer-meta";
            full.textContent = user.name;
            li.appendChild(full);
          }
        });
      });
    }, 200);
    textarea.addEventListener("input", function () {
      var caret = textarea.selectionStart;
      var match = MENTION_RE.exec(textarea.value.slice(0, caret));
      if (!match) { box.hide(); return; }
      lookup(match[2], caret - match[2].length - 1, caret);
    });
    textarea.addEventListener("keydown", function (event) { box.key(event, ["Enter", "Tab"]); });
    textarea.addEventListener("blur", function () { box.hide(); });
  }

  // ------------------------------------------------------------------ "Insert link" picker
  function markdownTitle(title) { return title.replace(/([\\\[\]])/g, "\\$1"); }

  function enhanceLinks(textarea, url, anchor) {
    var id = "link-picker-" + (++counter);
    var tools = document.createElement("div");
    tools.className = "composer-tools";
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "button button-small link-picker-toggle";
    toggle.textContent = "Insert link";
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", id);
    var panel = document.createElement("div");
    panel.className = "link-picker";
    panel.id = id;
    panel.hidden = true;
    var label = document.createElement("label");
    label.setAttribute("for", id + "-q");
    label.textContent = "Find a question or article (words, #number or its link)";
    var input = document.createElement("input");
    input.type = "search";
    input.id = id + "-q";
    input.className = "link-picker-input";
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    var list = newList("link-list", "Questions and articles");
    input.setAttribute("aria-controls", list.id);
    var status = document.createElement("p");
    status.className = "link-picker-status muted";
    status.setAttribute("aria-live", "polite");
    panel.appendChild(label);
    panel.appendChild(input);
    panel.appendChild(list);
    panel.appendChild(status);
    tools.appendChild(toggle);
    tools.appendChild(panel);
    anchor.insertAdjacentElement("afterend", tools);

    var cursor = { start: 0, end: 0 };
    function close(focusBack) {
      panel.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      box.hide();
      if (focusBack) { toggle.focus(); }
    }
    var box = new Listbox(input, list, function (item) {
      var text = "[" + markdownTitle(item.title) + "](" + item.path + ")";
      close(false);
      insertAt(textarea, cursor.start, cursor.end, text);
    });
    toggle.addEventListener("click", function () {
      if (!panel.hidden) { close(true); return; }
      cursor = { start: textarea.selectionStart, end: textarea.selectionEnd };
      panel.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      status.textContent = "";
      input.focus();
      if (input.value.trim()) { search(); }
    });
    var last = "";
    var search = debounce(function () {
      var q = input.value.trim();
      last = q;
      if (!q) { box.hide(); status.textContent = ""; return; }
      getJSON(url + "?q=" + encodeURIComponent(q)).then(function (json) {
        if (q !== last) { return; }
        status.textContent = json.results.length ? json.results.length + " found; use the arrow keys and Enter." : "Nothing found.";
        box.show(json.results, function (li, item) {
          var title = document.createElement("span");
          title.className = "link-option-title";
          title.textContent = item.title;
          li.appendChild(title);
          var mark = document.createElement("span");
          mark.className = item.kind === "article" ? "official-mark" : (item.solved ? "solved-mark" : "composer-meta");
          mark.textContent = item.kind === "article" ? "Official" : (item.solved ? "✓ Solved" : "#" + item.id);
          li.appendChild(mark);
        });
      });
    }, 250);
    input.addEventListener("input", search);
    input.addEventListener("keydown", function (event) {
      if (box.key(event, ["Enter"])) { return; }
      if (event.key === "Enter") { event.preventDefault(); }  // never submit the post from here
      if (event.key === "Escape") { event.preventDefault(); close(true); }
    });
  }

  // Shared with static/js/tags.js (the tag box), which runs after this file.
  window.Forum.Listbox = Listbox;
  window.Forum.newListbox = newList;

  document.querySelectorAll("[data-composer]").forEach(function (container) {
    var textarea = container.querySelector("textarea");
    if (!textarea) { return; }
    var suggestUrl = container.getAttribute("data-suggest-url");
    var linkUrl = container.getAttribute("data-link-search-url");
    if (suggestUrl) { enhanceMentions(textarea, suggestUrl); }
    if (linkUrl) { enhanceLinks(textarea, linkUrl, textarea.closest(".field") || textarea); }
  });
})();
