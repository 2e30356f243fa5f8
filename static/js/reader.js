/*
 * The e-book reader: keeps the reader's place.
 *
 * The place is the block (heading, paragraph, list...) at the top of the screen: the n-th child
 * of the chapter's text, counted from 0. It is sent with
 * PUT <data-progress-url> {"chapter", "position", "percent"} at most once every two seconds
 * while reading, and once more when the page is hidden or left. Opening the chapter again
 * scrolls back to the saved block (`#block-<n>` in the address, or `data-resume`).
 */
(function () {
  "use strict";

  var INTERVAL = 2000;
  var text = document.querySelector("[data-reader]");
  if (!text || !window.fetch) {
    return;
  }

  var url = text.dataset.progressUrl;
  var chapter = Number(text.dataset.chapter);
  var chapterIndex = Number(text.dataset.chapterIndex);
  var chapters = Math.max(Number(text.dataset.chapters), 1);
  var percentLabel = document.querySelector("[data-reader-percent]");
  var percentMeter = document.querySelector("[data-reader-meter]");
  var toolbar = document.querySelector("[data-reader-toolbar]");

  var sent = null; // the last place saved, as "block:percent"
  var lastSentAt = 0;
  var timer = null;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : text.dataset.csrf;
  }

  /* Where the text shows from: the bottom of the toolbar that stays at the top, if any. */
  function topLine() {
    return toolbar ? Math.max(toolbar.getBoundingClientRect().bottom, 0) : 0;
  }

  /* Blocks land just below the toolbar, whatever its height (see .reader__text in store.css). */
  function keepBlocksClearOfToolbar() {
    if (toolbar) {
      text.style.setProperty("--reader-offset", toolbar.offsetHeight + 8 + "px");
    }
  }

  /* The first block whose bottom is below the top line (blocks run down the page). */
  function blockAtTop(line) {
    var blocks = text.children;
    var low = 0;
    var high = blocks.length - 1;
    if (high < 0) {
      return 0;
    }
    while (low < high) {
      var middle = (low + high) >> 1;
      if (blocks[middle].getBoundingClientRect().bottom > line + 1) {
        high = middle;
      } else {
        low = middle + 1;
      }
    }
    return low;
  }

  /* The block being read and how far through the book it is; null when the text is out of
     sight (the reader went down to the contents): that is no place to come back to. */
  function place() {
    var line = topLine();
    var bounds = text.getBoundingClientRect();
    if (bounds.bottom <= line || bounds.top >= window.innerHeight) {
      return null;
    }
    var block = blockAtTop(line);
    var blocks = Math.max(text.children.length, 1);
    var endInSight = bounds.bottom <= window.innerHeight;
    var withinChapter = endInSight ? 1 : block / blocks;
    var percent = (100 * (chapterIndex + withinChapter)) / chapters;
    return { block: block, percent: Math.min(Math.round(percent * 100) / 100, 100) };
  }

  function show(percent) {
    if (percentLabel) {
      percentLabel.textContent = String(Math.floor(percent));
    }
    if (percentMeter) {
      percentMeter.value = percent;
    }
  }

  function save(leaving) {
    clearTimeout(timer);
    timer = null;
    var now = place();
    if (now === null) {
      return;
    }
    var key = now.block + ":" + now.percent;
    show(now.percent);
    if (key === sent) {
      return;
    }
    sent = key;
    lastSentAt = Date.now();
    fetch(url, {
      method: "PUT",
      credentials: "same-origin",
      keepalive: Boolean(leaving),
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify({ chapter: chapter, position: now.block, percent: now.percent }),
    }).catch(function () {
      sent = null; // offline for a moment: try again with the next scroll
    });
  }

  /* At most one save every INTERVAL: the first scroll saves at once, later ones wait. */
  function schedule() {
    if (timer !== null) {
      return;
    }
    var wait = Math.max(INTERVAL - (Date.now() - lastSentAt), 0);
    timer = setTimeout(save, wait);
  }

  function resume() {
    var match = /^#block-(\d+)$/.exec(window.location.hash);
    var index = match ? Number(match[1]) : Number(text.dataset.resume || 0);
    var block = text.children[index];
    if (index > 0 && block) {
      block.scrollIntoView({ block: "start" });
    }
  }

  /* Pictures that load later can push the block down: place it again unless the reader moved. */
  var moved = false;
  ["wheel", "touchstart", "keydown", "mousedown"].forEach(function (name) {
    window.addEventListener(
      name,
      function () {
        moved = true;
      },
      { passive: true, once: true }
    );
  });
  if (document.readyState !== "complete") {
    window.addEventListener("load", function () {
      if (!moved) {
        resume();
      }
    });
  }

  keepBlocksClearOfToolbar();
  window.addEventListener("resize", keepBlocksClearOfToolbar);
  resume();
  save(false);
  window.addEventListener("scroll", schedule, { passive: true });
  window.addEventListener("pagehide", function () {
    save(true);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      save(true);
    }
  });
})();
