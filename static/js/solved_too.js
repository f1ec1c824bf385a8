// "This solved my problem too": the form posts in the background (app.js's in-place forms) and
// the count and the button's pressed state change here. Without scripts it is a plain POST
// form that redirects back to the thread.
(function () {
  "use strict";
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

  // app.js (loaded after this script, both deferred) posts the form and calls these.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.Forum && window.Forum.inPlace) {
      window.Forum.inPlace("data-solved-too", "[data-solved-too-box]", show, function (box, error) {
        explain(box, error.message);
      });
    }
  });
})();
