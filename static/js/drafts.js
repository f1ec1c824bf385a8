// Drafts (docs/drafts.md): what a member types in a composer is never lost.
// Progressive enhancement: without this file the server still pre-fills a composer from the
// member's draft and "Discard draft" is a plain button; only the autosave needs it.
//  * Every change is copied at once into this browser (localStorage), under the account and
//    the composer's key, and sent to the server 1.5 s after the last keystroke, when the
//    field loses focus and when the page goes away (fetch keepalive). Once the server has it,
//    the browser copy is dropped; while it can't be reached (offline, signed out, an error)
//    the browser copy stays and comes back the next time this composer opens.
//  * Posting: the page after a stored post names its composer in <meta name="drafts-posted">,
//    and its browser copy is forgotten (the server deleted its own in the posting transaction).
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var token = csrf ? csrf.getAttribute("content") : "";
  var postedMeta = document.querySelector('meta[name="drafts-posted"]');
  var posted = postedMeta ? (postedMeta.getAttribute("content") || "").split(/\s+/).filter(Boolean) : [];
  var PREFIX = "forum.draft.";
  var MAX_AGE_MS = 30 * 24 * 3600 * 1000;
  var DELAY_MS = 1500;
  var store = null;
  try { store = window.localStorage; store.getItem(PREFIX); } catch (e) { store = null; }

  function readLocal(name) {
    if (!store) { return null; }
    try { return JSON.parse(store.getItem(name) || "null"); } catch (e) { return null; }
  }
  function writeLocal(name, value) {
    if (!store) { return; }
    try { store.setItem(name, JSON.stringify(value)); } catch (e) { /* full or private mode */ }
  }
  function dropLocal(name) {
    if (store) { try { store.removeItem(name); } catch (e) { /* ignore */ } }
  }

  // Forget browser copies of the composers whose post was just stored (this page may not show
  // that composer: the ask page lands on the question) and those nobody came back to within
  // 30 days (the server purges its own too).
  if (store) {
    var now = Date.now();
    for (var i = store.length - 1; i >= 0; i--) {
      var name = store.key(i);
      if (name && name.indexOf(PREFIX) === 0) {
        var old = readLocal(name);
        var ofKey = name.slice(name.indexOf(".", PREFIX.length) + 1);
        if (!old || !old.at || now - old.at > MAX_AGE_MS || posted.indexOf(ofKey) >= 0) { dropLocal(name); }
      }
    }
  }

  function enhance(form) {
    var key = form.getAttribute("data-draft");
    var url = form.getAttribute("data-draft-url");
    var local = PREFIX + (form.getAttribute("data-draft-scope") || "anon") + "." + key;
    var fields = {
      title: form.querySelector('input[name="title"]'),
      body: form.querySelector('textarea[name="body"], textarea[name="summary"]'),
      tags: form.querySelector('input[name="tags"]')
    };
    var status = form.querySelector("[data-draft-status]");
    var discard = form.querySelector("[data-draft-discard]");
    var bar = status ? status.closest(".draft-bar") : null;
    var serverAt = bar && bar.getAttribute("data-draft-saved-at") ? Date.parse(bar.getAttribute("data-draft-saved-at")) : 0;

    function read() {
      return {
        title: fields.title ? fields.title.value : "",
        body: fields.body ? fields.body.value : "",
        tags: fields.tags ? fields.tags.value : ""
      };
    }
    function same(a, b) { return a.title === b.title && a.body === b.body && a.tags === b.tags; }
    function empty(t) { return !(t.title.trim() || t.body.trim() || t.tags.trim()); }
    function say(text) { if (status) { status.textContent = text; } }
    function showDiscard(on) { if (discard) { discard.hidden = !on; } }

    var saved = read();  // what the server holds as far as we know (the page was pre-filled with it)
    var timer = null;
    var sending = false;
    var submitting = false;

    function keepLocally(text) {
      if (empty(text)) { dropLocal(local); } else { writeLocal(local, { title: text.title, body: text.body, tags: text.tags, at: Date.now() }); }
    }

    function refused(response) {
      return response.json().catch(function () { return null; }).then(function (json) {
        var message = json && json.error && json.error.message;
        if (response.status === 400 && json && json.error && json.error.field) {
          say(message + " (Kept in this browser.)");
        } else if (response.status === 400 || response.status === 401 || response.status === 403) {
          say("You seem to be signed out: the draft is kept in this browser only. Sign in again to post it.");
        } else {
          say("The server couldn't save the draft just now; it is kept in this browser.");
        }
      });
    }

    function push(keepalive) {
      clearTimeout(timer);
      timer = null;
      var text = read();
      if (same(text, saved) || (sending && !keepalive)) { return; }
      sending = true;
      var data = new URLSearchParams();
      data.append("csrf_token", token);
      data.append("title", text.title);
      data.append("body", text.body);
      data.append("tags", text.tags);
      fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        keepalive: !!keepalive,
        headers: { "Accept": "application/json", "X-CSRFToken": token }
      }).then(function (response) {
        if (!response.ok) { return refused(response); }
        return response.json().then(function (json) {
          saved = text;
          showDiscard(!!json.saved);
          if (same(read(), text)) {  // else more was typed meanwhile: the next save says it
            dropLocal(local);
            say(json.saved ? "Draft saved" : "Draft discarded");
          }
        });
      }).catch(function () {
        say("Offline: the draft is kept in this browser and sent when you're back.");
      }).then(function () {
        sending = false;
        if (!same(read(), saved) && !submitting && !timer) { timer = setTimeout(push, DELAY_MS); }
      });
    }

    function changed() {
      if (submitting) { return; }
      // "Draft saved" stops being true at the next keystroke: clear it (silently; an empty
      // live region is not announced) so that it only ever describes the text on screen.
      if (status && (status.textContent === "Draft saved" || status.textContent === "Draft discarded")) { say(""); }
      keepLocally(read());
      clearTimeout(timer);
      timer = setTimeout(push, DELAY_MS);
    }

    // Coming back: the page after a stored post forgets the browser copy; otherwise a browser
    // copy newer than what the server pre-filled (it never reached the server) is put back,
    // unless the page shows the form again after a refusal (it holds what was just sent).
    var copy = readLocal(local);
    var refusedForm = form.querySelector(".form-errors, .field-invalid") !== null;
    if (posted.indexOf(key) >= 0 || (copy && same(copy, read()) && serverAt > 0)) {
      dropLocal(local);  // posted, or the server got it after all (the save sent on leaving)
    } else if (copy && !same(copy, read()) && !refusedForm && (copy.at || 0) > serverAt &&
               (empty(read()) || serverAt > 0)) {
      ["title", "body", "tags"].forEach(function (name) {
        if (fields[name]) {
          fields[name].value = copy[name] || "";
          fields[name].dispatchEvent(new Event("input", { bubbles: true }));
        }
      });
      var details = form.closest("details");
      if (details) { details.open = true; }
      say("Your unsaved text from this browser is restored.");
      showDiscard(true);
    }
    if (refusedForm && !empty(read())) {
      saved = { title: null, body: null, tags: null };  // keep what was just sent as the draft
    }
    if (!same(read(), saved)) { keepLocally(read()); timer = setTimeout(push, 0); }

    form.addEventListener("input", changed);
    form.addEventListener("focusout", function () { if (timer) { push(false); } });
    form.addEventListener("submit", function (event) {
      var by = event.submitter;
      if (by && by.hasAttribute("data-draft-discard")) {
        event.preventDefault();
        clearTimeout(timer);
        ["title", "body", "tags"].forEach(function (name) {
          if (fields[name]) {
            fields[name].value = "";
            fields[name].dispatchEvent(new Event("input", { bubbles: true }));
          }
        });
        clearTimeout(timer);
        dropLocal(local);
        saved = { title: null, body: null, tags: null };
        push(false);
        say("Draft discarded");
        showDiscard(false);
        return;
      }
      if (!event.defaultPrevented) {
        // Posting: no autosave may land after the post (it would bring the draft back). The
        // browser copy stays until the next page says the post was stored.
        submitting = true;
        clearTimeout(timer);
        keepLocally(read());
      }
    });
    var sentOnLeaving = null;  // beforeunload and pagehide both fire: send the text once
    function leaving() {
      if (submitting) { return; }
      var text = read();
      keepLocally(text);
      if (sentOnLeaving && same(sentOnLeaving, text)) { return; }
      sentOnLeaving = text;
      push(true);
    }
    window.addEventListener("pageshow", function () { sentOnLeaving = null; submitting = false; });
    window.addEventListener("pagehide", leaving);
    window.addEventListener("beforeunload", leaving);
    window.addEventListener("online", function () { if (!same(read(), saved)) { push(false); } });
  }

  document.querySelectorAll("form[data-draft]").forEach(enhance);
})();
