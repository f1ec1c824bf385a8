// Accessibility helpers, progressive enhancement only.
//  * A code block or table that scrolls sideways (a long line, a wide table, a narrow phone)
//    can be scrolled from the keyboard: it joins the tab order (tabindex="0") while it
//    overflows and leaves it when it no longer does. Checked at load, on resize, and when
//    the live preview or another script adds content.
(function () {
  "use strict";
  var SELECTOR = ".post-body pre, .post-body table, pre, .table-scroll";
  var MARK = "data-scroll-focus";

  function mark(root) {
    (root || document).querySelectorAll(SELECTOR).forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute(MARK, "");
      } else if (!scrolls && el.hasAttribute(MARK)) {
        el.removeAttribute("tabindex");
        el.removeAttribute(MARK);
      }
    });
  }

  var timer = null;
  function later() {
    clearTimeout(timer);
    timer = setTimeout(function () { mark(document); }, 150);
  }

  mark(document);
  window.addEventListener("resize", later);
  if (window.MutationObserver) {
    new MutationObserver(later).observe(document.body, { childList: true, subtree: true });
  }
  window.Forum = window.Forum || {};
  window.Forum.markScrollable = mark;
})();
