// Review pages: rubric weight total and spare rows, live score preview, in-browser seed check.
(function () {
  "use strict";

  function num(text) {
    var v = String(text || "").trim();
    if (!/^\d+(\.\d+)?$/.test(v)) return null;
    return parseFloat(v);
  }

  // 评分细则: weight total and "增加一行".
  var criteria = document.querySelector("[data-criteria-form]");
  if (criteria) {
    var total = criteria.querySelector("[data-weight-total]");
    var update = function () {
      var sum = 0;
      criteria.querySelectorAll("tbody tr").forEach(function (tr) {
        var w = tr.querySelector("[data-weight]"), m = tr.querySelector("[data-max]");
        var wv = num(w && w.value), mv = num(m && m.value);
        if (wv !== null) sum += wv; else if (mv !== null && (!w || !w.value.trim())) sum += mv;
      });
      sum = Math.round(sum * 100) / 100;
      total.textContent = sum + " 分";
      total.classList.toggle("text-danger", sum !== 100);
      total.classList.toggle("text-success", sum === 100);
    };
    criteria.addEventListener("input", update);
    update();
    var add = criteria.querySelector("[data-add-row]");
    if (add) add.addEventListener("click", function () {
      var spare = criteria.querySelector("tr.spare-row.d-none");
      if (spare) { spare.classList.remove("d-none"); spare.querySelector("input").focus(); }
      else add.disabled = true;
    });
  }

  // 评分表: weighted total preview (the server computes the real one on submission).
  var scoreForm = document.querySelector("[data-score-form]");
  if (scoreForm) {
    var preview = scoreForm.querySelector("[data-total-preview]");
    var recompute = function () {
      var sum = 0, complete = true;
      scoreForm.querySelectorAll("[data-points]").forEach(function (input) {
        var v = String(input.value).trim(), max = parseFloat(input.dataset.max), weight = parseFloat(input.dataset.weight);
        if (!/^\d+$/.test(v) || parseInt(v, 10) > max) { complete = false; return; }
        sum += parseInt(v, 10) * weight / max;
      });
      preview.textContent = complete ? (Math.round(sum * 100) / 100).toFixed(2) : "—";
    };
    scoreForm.addEventListener("input", recompute);
    recompute();
  }

  // 抽取: check sha256(seed) == commitment in the browser too.
  document.querySelectorAll("[data-verify-seed]").forEach(function (el) {
    if (!(window.crypto && window.crypto.subtle && window.TextEncoder)) return;
    var seed = el.getAttribute("data-verify-seed"), expected = el.getAttribute("data-verify-commitment");
    window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(seed)).then(function (buf) {
      var hex = Array.prototype.map.call(new Uint8Array(buf), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      el.textContent = hex === expected ? "（本浏览器已独立核对：一致）" : "（本浏览器核对：不一致！）";
      el.className = "verify-result " + (hex === expected ? "text-success" : "text-danger fw-bold");
    });
  });
})();
