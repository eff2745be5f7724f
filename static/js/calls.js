// Calls for proposals: live countdowns and the row editors of the call form.
// No inline scripts (CSP): behaviour hangs on data-* attributes.
(function () {
  "use strict";
  document.documentElement.classList.add("calls-js");

  // ---- countdown: <span class="countdown" data-countdown-target="2026-03-01T01:00:00Z" ...>
  function two(n) { return (n < 10 ? "0" : "") + n; }
  // Same format as incubator.calls.services.format_remaining.
  function remaining(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var days = Math.floor(seconds / 86400), rest = seconds % 86400;
    var hours = Math.floor(rest / 3600); rest %= 3600;
    var minutes = Math.floor(rest / 60), secs = rest % 60;
    if (days) return days + "天" + hours + "小时" + minutes + "分" + two(secs) + "秒";
    if (hours) return hours + "小时" + minutes + "分" + two(secs) + "秒";
    return minutes + "分" + two(secs) + "秒";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown-target]").forEach(function (el) {
      var target = Date.parse(el.getAttribute("data-countdown-target"));
      if (isNaN(target)) return;
      var left = (target - now) / 1000;
      if (left <= 0) {
        el.textContent = el.getAttribute("data-countdown-done") || "已截止";
        el.classList.add("done");
      } else {
        el.textContent = el.getAttribute("data-countdown-prefix") + " " + remaining(left);
      }
    });
  }
  if (document.querySelector("[data-countdown-target]")) {
    tick();
    window.setInterval(tick, 1000);
  }

  // ---- row editors: [data-rows=name] holds [data-row] elements; names look like name-3-field
  function renumber(container) {
    var name = container.getAttribute("data-rows");
    var pattern = new RegExp("^" + name + "-\\d+-");
    container.querySelectorAll("[data-row]").forEach(function (row, i) {
      var prefix = name + "-" + i + "-";
      row.querySelectorAll("[name],[id],label[for]").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v && pattern.test(v)) el.setAttribute(attr, v.replace(pattern, prefix));
        });
      });
    });
  }
  function syncKind(row) {
    var select = row.querySelector("[data-field-kind]");
    if (select) row.classList.toggle("kind-not-choice", select.value !== "choice");
  }
  document.querySelectorAll(".field-row").forEach(syncKind);

  document.addEventListener("change", function (ev) {
    if (ev.target.matches("[data-field-kind]")) syncKind(ev.target.closest("[data-row]"));
  });
  document.addEventListener("click", function (ev) {
    var add = ev.target.closest("[data-add-row]");
    if (add) {
      var name = add.getAttribute("data-add-row");
      var container = document.querySelector('[data-rows="' + name + '"]');
      var tpl = document.querySelector('template[data-row-template="' + name + '"]');
      if (!container || !tpl) return;
      var row = tpl.content.firstElementChild.cloneNode(true);
      row.querySelectorAll(".is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
      row.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
      container.appendChild(row);
      renumber(container);
      syncKind(row);
      var first = row.querySelector("input:not([type=hidden]),select,textarea");
      if (first) first.focus();
      return;
    }
    var btn = ev.target.closest("[data-row-action]");
    if (!btn) return;
    var rowEl = btn.closest("[data-row]");
    var list = rowEl && rowEl.parentElement;
    if (!list || !list.hasAttribute("data-rows")) return;
    var action = btn.getAttribute("data-row-action");
    if (action === "remove") rowEl.remove();
    else if (action === "up" && rowEl.previousElementSibling) list.insertBefore(rowEl, rowEl.previousElementSibling);
    else if (action === "down" && rowEl.nextElementSibling) list.insertBefore(rowEl.nextElementSibling, rowEl);
    renumber(list);
  });
})();
