// Site-wide behaviour. No inline scripts: the CSP allows only same-origin files.
(function () {
  "use strict";
  // Confirmation before irreversible actions: <button data-confirm="确定要…？">
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  }, true);
  // Auto-submit filter selects: <select data-autosubmit>
  document.addEventListener("change", function (ev) {
    if (ev.target.matches("select[data-autosubmit]")) ev.target.form.submit();
  });
})();
