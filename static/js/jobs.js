// Background-job progress: polls system.job_status (JSON) and updates the page in place.
// Detail page: .job-card[data-poll] every second. List page: each unfinished .job-row every 2 s.
(function () {
  "use strict";
  var DONE = { finished: true, failed: true };

  function setText(el, text) { if (el) el.textContent = text; }

  function apply(root, download, data) {
    var pill = root.querySelector("[data-role=pill] .status-pill");
    if (pill) {
      pill.className = "badge rounded-pill text-bg-" + data.tone + " status-pill";
      pill.setAttribute("data-status", data.status);
      pill.textContent = data.status_label;
    }
    var bar = root.querySelector("[data-role=progress]");
    if (bar) { bar.value = data.progress; bar.textContent = data.progress + "%"; }
    setText(root.querySelector("[data-role=percent]"), data.progress + "%");
    setText(root.querySelector("[data-role=message]"), data.message);
    if (download && data.download_url) {
      download.setAttribute("href", data.download_url);
      download.classList.remove("d-none");
    }
    var failure = root.querySelector("[data-role=failure]");
    if (failure && data.status === "failed") {
      failure.classList.remove("d-none");
      var err = failure.querySelector("[data-role=error]");
      if (err && data.error) { err.textContent = data.error; err.classList.remove("d-none"); }
    }
    root.setAttribute("data-status", data.status);
  }

  function watch(root, download, interval) {
    var url = root.getAttribute("data-job-status-url");
    var delay = interval;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (r) {
          if (r.status === 401 || r.status === 403 || r.status === 404) throw new Error("stop");
          if (!r.ok) throw new Error("retry");
          return r.json();
        })
        .then(function (data) {
          apply(root, download, data);
          delay = interval;
          if (DONE[data.status]) {
            if (root.hasAttribute("data-poll")) { setTimeout(function () { window.location.reload(); }, 600); }
            return;
          }
          setTimeout(tick, delay);
        })
        .catch(function (e) {
          if (e && e.message === "stop") return;
          delay = Math.min(delay * 2, 10000);  // server or network trouble: back off
          setTimeout(tick, delay);
        });
    }
    setTimeout(tick, interval);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var card = document.querySelector(".job-card[data-poll]");
    if (card && !DONE[card.getAttribute("data-status")]) {
      watch(card, document.querySelector(".page-actions [data-role=download]"), 1000);
    }
    Array.prototype.forEach.call(document.querySelectorAll(".job-row[data-job-status-url]"), function (row) {
      if (!DONE[row.getAttribute("data-status")]) watch(row, row.querySelector("[data-role=download]"), 2000);
    });
  });
})();
