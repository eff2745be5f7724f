// Accounts and administration pages. No inline scripts (CSP).
(function () {
  "use strict";
  // Recovery codes: <button data-print> prints the page (navigation hidden by accounts.css).
  document.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-print]")) window.print();
  });
  // Admin user form: show the district only for staff, the organisation only for applicants.
  function syncScope(form) {
    var role = form.querySelector("select[name=role]");
    if (!role) return;
    form.querySelectorAll("[data-role-only]").forEach(function (el) {
      var roles = el.getAttribute("data-role-only").split(" ");
      el.hidden = roles.indexOf(role.value) === -1;
    });
  }
  document.querySelectorAll("form[data-user-scope]").forEach(function (form) {
    syncScope(form);
    form.addEventListener("change", function (ev) {
      if (ev.target.name === "role") syncScope(form);
    });
  });
})();
