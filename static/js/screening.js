// 资格审查 list: row checkboxes, "select all on this page", and the batch bar (count + confirmation).
(function () {
  "use strict";
  var form = document.querySelector("form.batch-form");
  if (!form) return;
  var all = form.querySelector("[data-select-all]");
  var counter = form.querySelector("[data-selected-count]");
  var submit = form.querySelector("[data-batch-submit]");
  var bar = form.querySelector(".batch-bar");

  function boxes() {
    return Array.prototype.slice.call(form.querySelectorAll("input[data-row-check]:not([disabled])"));
  }

  function refresh() {
    var enabled = boxes();
    var chosen = enabled.filter(function (b) { return b.checked; });
    counter.textContent = String(chosen.length);
    submit.disabled = chosen.length === 0;
    bar.classList.toggle("has-selection", chosen.length > 0);
    submit.setAttribute("data-confirm",
      "确定通过所选 " + chosen.length + " 份申报书的资格审查吗？每一份都将记入办理记录并通知申报单位，此操作不可撤销。");
    enabled.forEach(function (b) { b.closest("tr").classList.toggle("is-selected", b.checked); });
    if (all) {
      all.disabled = enabled.length === 0;
      all.checked = enabled.length > 0 && chosen.length === enabled.length;
      all.indeterminate = chosen.length > 0 && chosen.length < enabled.length;
    }
  }

  form.addEventListener("change", function (ev) {
    if (ev.target === all) {
      boxes().forEach(function (b) { b.checked = all.checked; });
    }
    refresh();
  });
  refresh();
})();
