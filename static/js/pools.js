// 专家库: the organisation picker of the relation form (回避申报). An enhancement only: without it
// the form takes a typed name and USCC, and the server matches registered organisations by USCC.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var t = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function initPicker(form) {
    var url = form.getAttribute("data-org-search");
    var name = form.querySelector("[name=org_name]");
    var code = form.querySelector("[name=org_uscc]");
    var orgId = form.querySelector("[name=org_id]");
    var list = form.querySelector("[data-org-suggestions]");
    var picked = form.querySelector("[data-org-picked]");
    if (!url || !name || !orgId || !list) return;

    function clearList() {
      while (list.firstChild) list.removeChild(list.firstChild);
      list.hidden = true;
    }

    function choose(item) {
      name.value = item.name;
      if (code) code.value = item.uscc || "";
      orgId.value = String(item.id);
      if (picked) picked.hidden = false;
      clearList();
    }

    var search = debounce(function () {
      var q = name.value.trim();
      if (q.length < 2) { clearList(); return; }
      fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) {
          clearList();
          (data.items || []).forEach(function (item) {
            var li = document.createElement("li");
            li.className = "list-group-item list-group-item-action";
            li.setAttribute("role", "option");
            li.tabIndex = 0;
            li.textContent = item.name + " ";
            var small = document.createElement("small");
            small.textContent = item.uscc || "";
            li.appendChild(small);
            li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(item); });
            li.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); choose(item); } });
            list.appendChild(li);
          });
          list.hidden = !list.firstChild;
        })
        .catch(clearList);
    }, 250);

    name.setAttribute("autocomplete", "off");
    name.addEventListener("input", function () {
      orgId.value = "";  // typing again means the registry choice no longer holds
      if (picked) picked.hidden = true;
      search();
    });
    name.addEventListener("blur", function () { setTimeout(clearList, 150); });
    if (code) code.addEventListener("input", function () { orgId.value = ""; if (picked) picked.hidden = true; });
  }

  document.querySelectorAll("form[data-org-search]").forEach(initPicker);
})();
