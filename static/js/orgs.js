// 社会组织名录: dependent district → street → community selects, the USCC check, type-dependent
// blocks. Everything here is an enhancement: the forms work and validate on the server without it.
(function () {
  "use strict";

  function option(value, label) {
    var o = document.createElement("option");
    o.value = String(value);
    o.textContent = label;
    return o;
  }

  // ---- district → street → community -------------------------------------------------------
  function fillSelect(select, items, keep) {
    var placeholder = select.options.length ? select.options[0].cloneNode(true) : option(0, "请选择");
    while (select.firstChild) select.removeChild(select.firstChild);
    select.appendChild(placeholder);
    items.forEach(function (it) { select.appendChild(option(it.id, it.name)); });
    select.value = items.some(function (it) { return String(it.id) === String(keep); }) ? String(keep) : placeholder.value;
  }

  function loadChildren(url, param, id, select, keep) {
    if (!select) return Promise.resolve();
    if (!id || id === "0") { fillSelect(select, [], null); return Promise.resolve(); }
    return fetch(url + "?" + param + "=" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) { fillSelect(select, data.items || [], keep); })
      .catch(function () { /* keep the server-rendered full list */ });
  }

  function initRegions(box) {
    var url = box.getAttribute("data-regions-url");
    var district = box.querySelector("[data-region=district]");
    var street = box.querySelector("[data-region=street]");
    var community = box.querySelector("[data-region=community]");
    if (!district || !street) return;
    district.addEventListener("change", function () {
      loadChildren(url, "district", district.value, street, null).then(function () {
        return loadChildren(url, "street", street.value, community, null);
      });
    });
    street.addEventListener("change", function () {
      loadChildren(url, "street", street.value, community, null);
    });
    // On load: narrow the grouped lists to what the chosen parents contain, keeping the choices.
    var keepStreet = street.value, keepCommunity = community ? community.value : null;
    loadChildren(url, "district", district.value, street, keepStreet).then(function () {
      return loadChildren(url, "street", street.value, community, keepCommunity);
    });
  }

  // ---- USCC check ---------------------------------------------------------------------------
  function debounce(fn, ms) {
    var t;
    return function () { clearTimeout(t); var args = arguments; t = setTimeout(function () { fn.apply(null, args); }, ms); };
  }

  function showResult(box, data) {
    while (box.firstChild) box.removeChild(box.firstChild);
    if (!data) return;
    var main = document.createElement("span");
    if (data.ok) {
      main.className = "badge text-bg-success";
      main.textContent = data.host ? ("✓ " + data.host) : (data.category || "代码校验通过");
    } else {
      main.className = "text-danger";
      main.textContent = data.message;
    }
    box.appendChild(main);
    if (data.warning) {
      var w = document.createElement("div");
      w.className = "text-warning-emphasis mt-1";
      w.textContent = "⚠ " + data.warning;
      box.appendChild(w);
    }
  }

  function initCodeCheck(input, box, url, purpose) {
    if (!input || !box || !url) return;
    var check = debounce(function () {
      var code = input.value.trim();
      if (code.length < 18) { showResult(box, null); return; }
      fetch(url + "?for=" + purpose + "&code=" + encodeURIComponent(code), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          showResult(box, data);
          if (data && data.ok) {
            // The code is fine now: the server's earlier complaint about it no longer applies.
            input.classList.remove("is-invalid");
            var group = input.closest(".mb-3");
            if (group) group.querySelectorAll(".invalid-feedback").forEach(function (el) { el.classList.add("d-none"); });
          }
        })
        .catch(function () {});
    }, 300);
    input.addEventListener("input", check);
    input.addEventListener("blur", check);
  }

  // ---- blocks that depend on the organisation type ------------------------------------------
  function initTypeBlocks(form) {
    var type = form.querySelector("[data-org-type]");
    if (!type) return;
    function apply() {
      var filed = type.value === "filed_community_org";
      var known = type.value !== "";
      form.querySelectorAll("[data-show-for]").forEach(function (el) {
        var forFiled = el.getAttribute("data-show-for") === "filed";
        el.classList.toggle("d-none", known && forFiled !== filed);
      });
    }
    type.addEventListener("change", apply);
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-regions-url]").forEach(initRegions);
    document.querySelectorAll("form[data-org-form]").forEach(function (form) {
      initTypeBlocks(form);
      var result = document.getElementById("uscc-result");
      var url = result ? result.getAttribute("data-check-url") : null;
      initCodeCheck(form.querySelector("#uscc"), result, url, "org");
      initCodeCheck(form.querySelector("#host_uscc"), document.getElementById("host-result"), url, "host");
    });
  });
})();
