// Live notifications for signed-in pages: the header's unread badge, and new entries at the
// top of the inbox as they come. Server-Sent Events from /notifications/live (the browser
// resumes after the last event id it saw when it reconnects); where EventSource is missing or
// keeps failing, /notifications/since is asked every 30 seconds. Text only, never markup.
(function () {
  "use strict";

  var inbox = document.getElementById("inbox");
  var lastId = inbox && inbox.dataset.live ? (inbox.dataset.after || "") : "";
  var failures = 0;
  var polling = null;

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }

  function showCount(n) {
    var badge = document.getElementById("unread-badge");
    if (badge) {
      var number = badge.querySelector(".n");
      if (number) number.textContent = String(n);
      badge.dataset.count = String(n);
      badge.hidden = n === 0;
    }
    var line = document.getElementById("inbox-count");
    if (line && inbox && inbox.dataset.textUnread) line.textContent = fill(inbox.dataset.textUnread, { n: n });
  }

  function show(n) {
    lastId = n.id;
    if (!inbox || !inbox.dataset.live || document.getElementById("n-" + n.id)) return;
    var item = document.createElement("li");
    item.className = "card notification unread";
    item.id = "n-" + n.id;
    var meta = document.createElement("p");
    meta.className = "muted";
    var fresh = document.createElement("span");
    fresh.className = "new";
    fresh.textContent = inbox.dataset.textNew;
    meta.appendChild(fresh);
    meta.appendChild(document.createTextNode(" · " + n.when + (n.actor ? " · " + n.actor : "")));
    var heading = document.createElement("h2");
    heading.lang = n.language;
    heading.dir = n.dir;
    var link = document.createElement("a");
    link.href = n.url;
    link.textContent = n.title;
    heading.appendChild(link);
    item.appendChild(meta);
    item.appendChild(heading);
    if (n.summary) {
      var summary = document.createElement("p");
      summary.lang = n.language;
      summary.dir = n.dir;
      summary.textContent = n.summary;
      item.appendChild(summary);
    }
    if (n.reasons && n.reasons.length) {
      var why = document.createElement("p");
      why.className = "hint";
      why.textContent = n.reasons.join(" · ");
      item.appendChild(why);
    }
    inbox.insertBefore(item, inbox.firstChild);
    var empty = document.getElementById("inbox-empty");
    if (empty) empty.hidden = true;
  }

  function poll() {
    var url = "/notifications/since" + (lastId ? "?after=" + encodeURIComponent(lastId) : "");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        body.notifications.forEach(show);
        showCount(body.unread);
      })
      .catch(function () { /* offline: the next look tries again */ });
  }

  function startPolling() {
    if (polling) return;
    polling = window.setInterval(poll, 30000);
    poll();
  }

  function listen() {
    if (!window.EventSource) { startPolling(); return; }
    var source = new EventSource("/notifications/live" + (lastId ? "?after=" + encodeURIComponent(lastId) : ""));
    source.addEventListener("open", function () { failures = 0; });
    source.addEventListener("notification", function (event) { show(JSON.parse(event.data)); });
    source.addEventListener("count", function (event) { showCount(JSON.parse(event.data).unread); });
    source.addEventListener("error", function () {
      failures += 1;
      if (failures >= 3) {  // the browser's own retries keep failing: look now and then instead
        source.close();
        startPolling();
      }
    });
  }

  if (document.getElementById("unread-badge") || inbox) listen();
})();
