// Roadshow (路演): the live board polls its JSON every 2–3 s and redraws; a judge's session page reloads
// when a contestant becomes ready to score. No inline scripts (CSP); text is set with textContent only.
(function () {
  "use strict";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function poll(url, interval, onData, onError) {
    var busy = false;
    function tick() {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (data) { onData(data); })
        .catch(function () { if (onError) onError(); })
        .then(function () { busy = false; });
    }
    window.setInterval(tick, Math.max(1000, interval || 2500));
  }

  // ---- the live board -------------------------------------------------------------------------
  var board = document.querySelector("[data-board-url]");
  if (board) {
    var body = board.querySelector("[data-field=contestants]");
    var ranking = board.querySelector("[data-field=ranking]");
    var updated = board.querySelector("[data-field=updated]");
    var offline = board.querySelector("[data-field=offline]");
    var status = board.querySelector("[data-field=status]");

    var drawBoard = function (data) {
      offline.hidden = true;
      updated.textContent = data.updated_at;
      status.textContent = data.session.status_label;
      var rows = document.createDocumentFragment();
      data.contestants.forEach(function (c) {
        var tr = el("tr", "st-" + c.status);
        tr.appendChild(el("td", "", c.position));
        var name = el("td");
        name.appendChild(el("div", "title", c.title));
        name.appendChild(el("div", "sub", c.number + (c.org ? " · " + c.org : "")));
        tr.appendChild(name);
        var st = el("td");
        st.appendChild(el("span", "st", c.status_label));
        tr.appendChild(st);
        c.scores.forEach(function (v) {
          tr.appendChild(el("td", "text-end num" + (v === null ? " waiting" : ""), v === null ? "…" : v));
        });
        tr.appendChild(el("td", "text-end num", c.submitted + "/" + c.panel));
        tr.appendChild(el("td", "text-end num official", c.official || "—"));
        tr.appendChild(el("td", "text-end num rank", c.rank || "—"));
        rows.appendChild(tr);
      });
      body.replaceChildren(rows);
      var items = document.createDocumentFragment();
      data.ranking.forEach(function (r) {
        var li = el("li", r.complete ? "complete" : "");
        li.appendChild(el("span", "pos", r.rank));
        li.appendChild(el("span", "name", r.title));
        li.appendChild(el("span", "score", r.official));
        li.appendChild(el("span", "count", r.submitted + "/" + r.panel));
        items.appendChild(li);
      });
      if (!data.ranking.length) items.appendChild(el("li", "empty", "尚无评分"));
      ranking.replaceChildren(items);
    };
    poll(board.getAttribute("data-board-url"), parseInt(board.getAttribute("data-interval"), 10), drawBoard,
      function () { offline.hidden = false; });
  }

  // ---- a judge's session page -----------------------------------------------------------------
  var judge = document.querySelector("[data-judge-state-url]");
  if (judge) {
    var version = judge.getAttribute("data-version");
    var notice = judge.querySelector("[data-field=notice]");
    poll(judge.getAttribute("data-judge-state-url"), parseInt(judge.getAttribute("data-interval"), 10), function (data) {
      if (data.version !== version) {
        version = data.version;
        if (notice) notice.hidden = false;
        window.location.reload();
      }
    });
  }
})();
