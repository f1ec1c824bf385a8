// Images in posts, progressive enhancement only (docs/uploads.md): without this file the
// "Add image" tools stay hidden and a member links an image by hand.
//  * "Add image" opens the file picker; pasting an image (a screenshot from the clipboard) or
//    dropping image files into the text does the same.
//  * Each file is sent to POST /uploads; a placeholder "![Uploading name…]()" is inserted at the
//    cursor at once and replaced by "![name](/uploads/<id>.<ext>)" when the server answers,
//    so typing can go on meanwhile. Progress and errors are announced in a live region.
// The server decides what is accepted (type from the bytes, size, pixels); the size check here
// only saves a pointless upload.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var token = csrf ? csrf.getAttribute("content") : "";
  var TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
  var counter = 0;

  function megabytes(n) {
    return (Math.round(n / 104857.6) / 10).toString().replace(/\.0$/, "") + " MB";
  }

  function altText(name) {
    // The file's name without extension, as Markdown-safe alt text.
    var stem = (name || "image").replace(/\.[A-Za-z0-9]+$/, "");
    return stem.replace(/[\[\]\\()!`*_<>]/g, " ").replace(/\s+/g, " ").trim().slice(0, 80) || "image";
  }

  function insertAtCursor(input, text) {
    var start = input.selectionStart, end = input.selectionEnd;
    if (typeof start !== "number") { start = end = input.value.length; }
    var before = input.value.slice(0, start);
    // An image on a line of its own reads best; keep the member's own line breaks.
    var lead = before && !/\s$/.test(before) ? " " : "";
    input.setRangeText(lead + text, start, end, "end");
    input.dispatchEvent(new Event("input", { bubbles: true }));  // the live preview follows
    return lead;
  }

  function replaceText(input, oldText, newText) {
    var at = input.value.indexOf(oldText);
    if (at < 0) { return false; }  // the member deleted the placeholder meanwhile
    var caret = input.selectionStart, caretEnd = input.selectionEnd;
    input.setRangeText(newText, at, at + oldText.length, "preserve");
    if (document.activeElement === input && caret > at) {
      var shift = newText.length - oldText.length;
      input.setSelectionRange(caret + shift, caretEnd + shift);
    }
    input.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  }

  function setup(editor) {
    var input = editor.querySelector("textarea");
    var tools = editor.querySelector("[data-upload-tools]");
    var button = editor.querySelector("[data-upload-button]");
    var picker = editor.querySelector("[data-upload-input]");
    var status = editor.querySelector("[data-upload-status]");
    if (!input || !tools || !button || !picker || !status || !window.FormData) { return; }
    var url = editor.getAttribute("data-upload-url");
    var max = parseInt(editor.getAttribute("data-upload-max"), 10) || 0;
    var pending = 0;
    tools.hidden = false;

    function say(message, isError) {
      status.textContent = message;
      status.classList.toggle("is-error", !!isError);
    }

    function upload(file) {
      var name = file.name && file.name !== "image.png" ? file.name : "screenshot.png";
      if (TYPES.indexOf(file.type) < 0 && file.type) {
        say(name + " is not an image we accept: use PNG, JPEG, GIF or WebP.", true);
        return;
      }
      if (max && file.size > max) {
        say(name + " is " + megabytes(file.size) + "; images up to " + megabytes(max) + " are accepted.", true);
        return;
      }
      counter += 1;
      var placeholder = "![Uploading " + altText(name) + " (" + counter + ")…]()";
      var lead = insertAtCursor(input, placeholder);  // a failed upload takes its space away too
      placeholder = lead + placeholder;
      pending += 1;
      editor.classList.add("is-uploading");
      say("Uploading " + name + "…");
      var data = new FormData();
      data.append("file", file, name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          say("Uploading " + name + ": " + Math.round(100 * event.loaded / event.total) + "%");
        }
      });
      function done() {
        pending -= 1;
        if (!pending) { editor.classList.remove("is-uploading"); }
      }
      xhr.addEventListener("load", function () {
        var json = null;
        try { json = JSON.parse(xhr.responseText); } catch (e) { json = null; }
        if (xhr.status === 201 && json && json.url) {
          replaceText(input, placeholder, lead + "![" + altText(name) + "](" + json.url + ")");
          say(name + " added.");
        } else {
          replaceText(input, placeholder, "");
          var message = json && json.error && json.error.message;
          say(name + " was not added: " + (message || "the upload failed (" + xhr.status + ")."), true);
        }
        done();
      });
      xhr.addEventListener("error", function () {
        replaceText(input, placeholder, "");
        say(name + " was not added: the connection failed. Try again.", true);
        done();
      });
      xhr.send(data);
    }

    function uploadAll(files) {
      Array.prototype.forEach.call(files, upload);
    }

    function imagesOf(list) {
      return Array.prototype.filter.call(list || [], function (f) { return f && /^image\//.test(f.type); });
    }

    button.addEventListener("click", function () { picker.click(); });
    picker.addEventListener("change", function () {
      uploadAll(picker.files);
      picker.value = "";
      input.focus();
    });

    input.addEventListener("paste", function (event) {
      var data = event.clipboardData;
      if (!data) { return; }
      var files = imagesOf(data.files);
      if (!files.length && data.items) {
        Array.prototype.forEach.call(data.items, function (item) {
          if (item.kind === "file" && /^image\//.test(item.type)) {
            var f = item.getAsFile();
            if (f) { files.push(f); }
          }
        });
      }
      if (!files.length) { return; }  // plain text pastes as usual
      event.preventDefault();
      uploadAll(files);
    });

    function hasFiles(event) {
      var types = event.dataTransfer && event.dataTransfer.types;
      return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
    }
    input.addEventListener("dragover", function (event) {
      if (!hasFiles(event)) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      editor.classList.add("is-dropping");
    });
    input.addEventListener("dragleave", function () { editor.classList.remove("is-dropping"); });
    input.addEventListener("drop", function (event) {
      editor.classList.remove("is-dropping");
      if (!hasFiles(event)) { return; }
      event.preventDefault();
      var files = event.dataTransfer.files;
      if (!imagesOf(files).length) {
        say("Only images can be dropped here: PNG, JPEG, GIF or WebP.", true);
        return;
      }
      input.focus();
      uploadAll(files);
    });
  }

  document.querySelectorAll(".editor[data-upload-url]").forEach(setup);
}());
