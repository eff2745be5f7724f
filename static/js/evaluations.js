// 绩效评价 scoring form: an estimate of the total as the evaluator types (the server computes the real one).
(function () {
  "use strict";
  var form = document.querySelector("form[data-score-form]");
  if (!form) return;
  var out = form.querySelector("[data-live-total]");
  var overdueEl = form.querySelector("[data-overdue]");
  function num(v) {
    var n = parseFloat(String(v || "").replace(/[^0-9.\-]/g, ""));
    return isFinite(n) ? n : 0;
  }
  function update() {
    var sum = 0;
    form.querySelectorAll("input[data-score]").forEach(function (el) {
      var v = num(el.value), max = num(el.getAttribute("data-max"));
      el.classList.toggle("is-invalid", el.value.trim() !== "" && (v < 0 || v > max || !/^\s*[0-9０-９]+([.．][0-9０-９]{1,2})?\s*$/.test(el.value)));
      sum += Math.min(Math.max(v, 0), max);
    });
    var bonus = form.querySelector("[name=bonus]"), deduction = form.querySelector("[name=deduction]");
    sum += num(bonus && bonus.value) - num(deduction && deduction.value) - num(overdueEl && overdueEl.getAttribute("data-overdue"));
    sum = Math.min(Math.max(sum, 0), 100);
    if (out) out.textContent = sum.toFixed(2);
  }
  form.addEventListener("input", update);
  update();
})();
