// Application editor (申报书): table rows, live budget totals, autosave, local safety copy.
// No inline scripts (CSP): everything hangs off data-* attributes of templates/applications/edit.html.
(function () {
  "use strict";

  var LOCAL_DEBOUNCE_MS = 800;

  // ---- the receipt page clears the local copy of an application that was submitted ----------
  var clear = document.querySelector("[data-clear-local]");
  if (clear) {
    var prefix = "incubator.app." + clear.getAttribute("data-clear-local") + ".";
    try {
      for (var k = window.localStorage.length - 1; k >= 0; k--) {
        var key = window.localStorage.key(k);
        if (key && key.indexOf(prefix) === 0) window.localStorage.removeItem(key);
      }
    } catch (e) { /* storage unavailable: nothing to clear */ }
  }

  var root = document.getElementById("app-editor");
  if (!root) return;
  root.classList.add("has-js");
  var form = document.getElementById("app-form");
  var statusEl = document.getElementById("save-status");
  var noticeEl = document.getElementById("restore-notice");
  var versionInput = form.querySelector("[data-version-input]");
  var storageKey = "incubator.app." + root.dataset.appId + ".u" + root.dataset.userId;

  var dirty = false;
  var changeSeq = 0;
  var saving = false;
  var submitting = false;
  var localTimer = null;

  // ---- exact money in JS (display only; the server recomputes with Decimal) -------------------
  function normalise(text) {
    var out = "";
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c >= 0xff01 && c <= 0xff5e) c -= 0xfee0; // full-width ASCII
      if (c === 0x3000) c = 0x20;
      out += String.fromCharCode(c);
    }
    return out.replace(/[\s,¥]/g, "");
  }
  // "12.5" → 1250n (hundredths), or null when not a plain non-negative amount with ≤ 2 decimals.
  function hundredths(text) {
    var s = normalise(text || "");
    var m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(s);
    if (!m) return null;
    var frac = (m[2] || "").padEnd(2, "0");
    return BigInt(m[1]) * 100n + BigInt(frac);
  }
  function centsText(cents) {
    var neg = cents < 0n;
    if (neg) cents = -cents;
    var s = cents.toString().padStart(3, "0");
    return (neg ? "-" : "") + s.slice(0, -2) + "." + s.slice(-2);
  }
  function thousands(cents) {
    var t = centsText(cents).split(".");
    return t[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + t[1];
  }
  function grouped(cents) { return "¥" + thousands(cents); }

  function recompute() {
    var grant = 0n, matching = 0n;
    form.querySelectorAll("[data-budget-row]").forEach(function (row) {
      var price = hundredths(row.querySelector("[data-budget=price]").value);
      var qty = hundredths(row.querySelector("[data-budget=qty]").value);
      var out = row.querySelector("[data-budget=amount]");
      if (price === null || qty === null || qty === 0n) { out.textContent = ""; return; }
      var cents = (price * qty + 50n) / 100n; // ROUND_HALF_UP to the 分
      out.textContent = thousands(cents);
      if (row.querySelector("[data-budget=source]").value === "matching") matching += cents; else grant += cents;
    });
    var total = grant + matching;
    var set = function (name, v) { var el = form.querySelector("[data-total=" + name + "]"); if (el) el.textContent = grouped(v); };
    set("grant", grant); set("matching", matching); set("total", total);
    var shareEl = form.querySelector("[data-grant-share]");
    var capEl = form.querySelector("[data-grant-share-cap]");
    if (shareEl) {
      if (total > 0n) {
        var pct = (grant * 10000n + total / 2n) / total; // hundredths of a percent
        var text = "占总预算 " + centsText(pct) + "%";
        var cap = capEl ? hundredths(capEl.textContent) : null;
        shareEl.textContent = text + (cap !== null && pct > cap ? "，超过上限" : "");
        shareEl.classList.toggle("text-danger", cap !== null && pct > cap);
      } else {
        shareEl.textContent = "";
      }
    }
  }

  // ---- table rows ---------------------------------------------------------------------------
  function nextIndex(table) {
    var max = -1;
    table.querySelectorAll("[name]").forEach(function (el) {
      var m = /^[a-z]+-(\d+)-/.exec(el.name);
      if (m) max = Math.max(max, parseInt(m[1], 10));
    });
    return max + 1;
  }
  function addRow(kind, index) {
    var table = form.querySelector("table[data-rows=" + kind + "]");
    var tpl = document.getElementById("tpl-" + kind);
    if (!table || !tpl) return null;
    var i = index === undefined ? nextIndex(table) : index;
    var holder = document.createElement("tbody");
    holder.innerHTML = tpl.innerHTML.replace(/__i__/g, String(i));
    var row = holder.querySelector("tr");
    table.querySelector("tbody").appendChild(row);
    return row;
  }
  root.addEventListener("click", function (ev) {
    var add = ev.target.closest("[data-add-row]");
    if (add) {
      var row = addRow(add.getAttribute("data-add-row"));
      if (row) { var first = row.querySelector("input, textarea, select"); if (first) first.focus(); }
      markDirty();
      return;
    }
    var remove = ev.target.closest("[data-remove-row]");
    if (remove) {
      var tr = remove.closest("tr[data-row]");
      if (tr) tr.parentNode.removeChild(tr);
      recompute();
      markDirty();
    }
  });

  // ---- dirty state and the local safety copy ------------------------------------------------
  function formEntries() {
    var entries = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && typeof value === "string") entries.push([name, value]);
    });
    return entries;
  }
  function writeLocal(extra) {
    try {
      var data = { version: versionInput.value, at: new Date().toISOString(), entries: formEntries() };
      if (extra) for (var k in extra) data[k] = extra[k];
      window.localStorage.setItem(storageKey, JSON.stringify(data));
    } catch (e) { /* storage full or disabled: autosave still works */ }
  }
  function clearLocal() {
    try { window.localStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
  }
  function markDirty() {
    dirty = true;
    root.dataset.dirty = "1";
    changeSeq++;
    window.clearTimeout(localTimer);
    localTimer = window.setTimeout(function () { writeLocal(); }, LOCAL_DEBOUNCE_MS);
  }
  form.addEventListener("input", function (ev) {
    if (ev.target.closest("[data-budget-row]")) recompute();
    markDirty();
  });
  form.addEventListener("change", function (ev) {
    if (ev.target.closest("[data-budget-row]")) recompute();
    markDirty();
  });

  function showStatus(text, tone, link) {
    statusEl.textContent = text;
    statusEl.className = "save-status" + (tone ? " text-" + tone : "");
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      a.className = "ms-1";
      statusEl.appendChild(a);
    }
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // ---- autosave -----------------------------------------------------------------------------
  function approxSize(fd) {
    var n = 0;
    fd.forEach(function (value, name) { n += (name.length + String(value).length) * 3 + 50; });
    return n;
  }
  function autosave(leaving) {
    if (!dirty || saving || submitting) return Promise.resolve(false);
    saving = true;
    var seq = changeSeq;
    // Leaving: if the page is gone before the answer, the next visit knows this copy was sent.
    writeLocal(leaving ? { beacon: true } : null);
    showStatus("正在自动保存…", "muted");
    var body = new FormData(form);
    return fetch(root.dataset.autosaveUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
      redirect: "manual",
      // A tab going to the background may be frozen or closed: let the request outlive it
      // (browsers allow keepalive bodies up to 64 KB).
      keepalive: !!leaving && approxSize(body) < 60000
    }).then(function (resp) {
      var isJson = (resp.headers.get("Content-Type") || "").indexOf("application/json") >= 0;
      return (isJson ? resp.json() : Promise.resolve({})).then(function (body) { return { resp: resp, body: body }; });
    }).then(function (r) {
      saving = false;
      var resp = r.resp, body = r.body || {};
      if (resp.ok && body.ok) {
        versionInput.value = body.version_id;
        root.dataset.version = body.version_id;
        if (seq === changeSeq) { dirty = false; root.dataset.dirty = "0"; clearLocal(); } else { writeLocal(); }
        var n = body.errors ? Object.keys(body.errors).length : 0;
        showStatus("已自动保存于 " + body.saved_at + (n ? "（有 " + n + " 处格式有误，提交前请修改）" : ""), n ? "warning" : "success");
        return true;
      }
      if (resp.type === "opaqueredirect" || resp.status === 401 || resp.status === 400 || resp.status === 403) {
        showStatus("登录已过期，未保存的内容已暂存在本机浏览器中。", "danger", { href: root.dataset.loginUrl, text: "重新登录后继续" });
      } else if (resp.status === 409) {
        showStatus(body.error || "此申报书已在其他页面保存过，请刷新页面。未保存的内容已暂存在本机。", "danger");
      } else {
        showStatus(body.error || ("自动保存失败（" + resp.status + "），稍后重试；内容已暂存在本机。"), "danger");
      }
      return false;
    }).catch(function () {
      saving = false;
      showStatus("网络异常，暂未保存；内容已暂存在本机，恢复网络后将自动保存。", "danger");
      return false;
    });
  }
  // Every ~20 s when something changed (APPLICATION_AUTOSAVE_MS on the server).
  window.setInterval(function () { autosave(false); }, parseInt(root.dataset.autosaveMs, 10) || 20000);

  function flushOnLeave() {
    if (!dirty || submitting || saving) { if (dirty) writeLocal(); return; }
    writeLocal();
    if (navigator.sendBeacon) {
      try {
        // Fire and forget: the answer is never seen, so the local copy stays until the next visit
        // shows that the server has the same content. Sent once per change.
        if (navigator.sendBeacon(root.dataset.autosaveUrl, new FormData(form))) {
          dirty = false;
          writeLocal({ beacon: true });
        }
      } catch (e) { /* too large: the local copy is kept */ }
    }
  }
  // Switching tabs or minimising: a normal save whose answer (the new version) is still read.
  // Closing or navigating away (pagehide): a beacon, fire and forget.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") autosave(true);
  });
  window.addEventListener("pagehide", flushOnLeave);

  // The save and submit buttons post the form normally; keep a copy in case the session expired.
  form.addEventListener("submit", function () {
    writeLocal({ pendingSubmit: true });
    submitting = true;
    dirty = false;
  });

  // Uploading a file leaves the page: save the form first.
  document.querySelectorAll("form[data-upload-form]").forEach(function (up) {
    up.addEventListener("submit", function (ev) {
      if (!dirty) { submitting = true; return; }
      ev.preventDefault();
      autosave(false).then(function () { submitting = true; up.submit(); });
    });
  });

  // ---- restoring the local copy after a reload or a new login ---------------------------------
  function restore(entries) {
    var seen = {};
    entries.forEach(function (pair) {
      var name = pair[0], value = pair[1];
      if (name === "version_id" || name === "csrf_token" || name === "editor") return;
      var els = form.querySelectorAll("[name='" + name.replace(/'/g, "") + "']");
      if (!els.length) {
        var m = /^(plan|team|budget)-(\d+)-/.exec(name);
        if (m) { addRow(m[1], parseInt(m[2], 10)); els = form.querySelectorAll("[name='" + name + "']"); }
      }
      if (!els.length) return;
      seen[name] = true;
      els[0].value = value;
    });
    recompute();
  }
  function readLocal() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "null"); } catch (e) { return null; }
  }
  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : (d.getMonth() + 1) + "月" + d.getDate() + "日 " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function differsFromForm(entries) {
    var current = {};
    formEntries().forEach(function (pair) { current[pair[0]] = pair[1]; });
    return entries.some(function (pair) {
      var name = pair[0];
      if (name === "version_id" || name === "editor") return false;
      var now = Object.prototype.hasOwnProperty.call(current, name) ? current[name] : "";
      return String(now).replace(/\r\n/g, "\n").trim() !== String(pair[1]).replace(/\r\n/g, "\n").trim();
    });
  }
  var local = readLocal();
  if (local && local.entries && !differsFromForm(local.entries)) {
    clearLocal(); // the server already has exactly this (e.g. the beacon sent when leaving arrived)
    local = null;
  }
  if (local && local.entries) {
    var sameBase = String(local.version) === String(versionInput.value);
    if (sameBase) {
      restore(local.entries);
      dirty = true;
      changeSeq++;
      noticeEl.textContent = "已恢复您在 " + when(local.at) + " 填写但尚未保存到服务器的内容（可能因登录过期或页面关闭）。系统将自动保存。";
      noticeEl.classList.remove("d-none");
      window.setTimeout(function () { autosave(false); }, 1000);
    } else if (local.pendingSubmit || local.beacon) {
      clearLocal(); // that save (a form post or the beacon sent when leaving) went through
    } else {
      noticeEl.textContent = "本机浏览器中有一份 " + when(local.at) + " 的未保存内容，但服务器上的申报书之后又被保存过。";
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "btn btn-sm btn-outline-primary ms-2";
      btn.textContent = "用本机内容覆盖";
      btn.addEventListener("click", function () {
        restore(local.entries); dirty = true; changeSeq++; noticeEl.classList.add("d-none"); autosave(false);
      });
      var drop = document.createElement("button");
      drop.type = "button";
      drop.className = "btn btn-sm btn-link";
      drop.textContent = "忽略";
      drop.addEventListener("click", function () { clearLocal(); noticeEl.classList.add("d-none"); });
      noticeEl.appendChild(btn);
      noticeEl.appendChild(drop);
      noticeEl.classList.remove("d-none");
    }
  }
  recompute();

  var problems = document.getElementById("problems");
  if (problems) problems.focus();
})();
