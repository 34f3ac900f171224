// Lotse's own script: the service worker, "offline since …", clearing caches on sign-out,
// saving events for reading offline.
// Everything here is an addition: every page works without it.
(function () {
  "use strict";

  var status = document.getElementById("offline-status");

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }

  function clock(date) {
    return date.toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  }

  function age(since) {
    var minutes = Math.max(0, Math.round((Date.now() - since.getTime()) / 60000));
    var d = status.dataset;
    if (minutes < 2) return d.textNow;
    if (minutes < 120) return fill(d.textMinutes, { n: minutes });
    if (minutes < 48 * 60) return fill(d.textHours, { n: Math.round(minutes / 60) });
    return fill(d.textDays, { n: Math.round(minutes / 1440) });
  }

  function showOffline(since) {
    if (!status) return;
    var text = fill(status.dataset.textOffline, { time: clock(since) });
    if (!document.body.dataset.offlinePage) {
      text += " " + fill(status.dataset.textAge, { age: age(new Date(status.dataset.renderedAt)) });
    }
    status.textContent = text;
    status.hidden = false;
  }

  if (status && status.dataset.offlineSince) showOffline(new Date(status.dataset.offlineSince));
  window.addEventListener("offline", function () { showOffline(new Date()); });
  window.addEventListener("online", function () { if (status && !status.dataset.offlineSince) status.hidden = true; });

  function clearCaches() {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "clear" });
    }
    if (window.caches) {
      caches.keys().then(function (names) {
        names.forEach(function (name) { if (name.indexOf("lotse-") === 0) caches.delete(name); });
      });
    }
  }

  if (document.body.dataset.signedOut) {
    clearCaches();
  } else if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* offline reading stays off */ });
  }

  // The offline page lists the pages kept for reading without network; /saved the saved events.
  function listKept(list, prefix, only) {
    caches.keys().then(function (names) {
      var name = names.filter(function (n) { return n.indexOf(prefix) === 0; })[0];
      if (!name) return [];
      return caches.open(name).then(function (cache) {
        return cache.keys().then(function (requests) {
          return Promise.all(requests.filter(function (r) { return r.url.indexOf("/__lotse") < 0 && only(r.url); })
            .map(function (r) {
              return cache.match(r).then(function (response) { return response.text(); }).then(function (html) {
                var title = (/<title>([^<]*)<\/title>/.exec(html) || [null, r.url])[1];
                return { url: r.url, title: title.replace(/ · Lotse$/, "") };
              });
            }));
        });
      });
    }).then(function (pages) {
      if (!pages.length) {
        var none = document.createElement("li");
        none.textContent = list.dataset.textNone;
        list.appendChild(none);
      }
      pages.forEach(function (p) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = p.url;
        link.textContent = p.title;
        item.appendChild(link);
        list.appendChild(item);
      });
    });
  }

  var list = document.getElementById("offline-pages");
  if (list && window.caches) listKept(list, "lotse-pages-", function () { return true; });
  var saved = document.getElementById("saved-events");
  if (saved && window.caches) listKept(saved, "lotse-saved-", function (url) { return url.indexOf("/news/") >= 0; });

  // "Save event": the worker keeps the event's page and .ics until the person removes them.
  var button = document.getElementById("save-event");
  var worker = navigator.serviceWorker;
  if (button && worker && window.caches) {
    var urls = [button.dataset.page, button.dataset.ics];
    var note = document.getElementById("save-event-status");
    var isSaved = false;
    var show = function () { button.textContent = isSaved ? button.dataset.textSaved : button.dataset.textSave; };
    var ask = function (message) {
      return worker.ready.then(function (registration) {
        return new Promise(function (resolve) {
          var channel = new MessageChannel();
          channel.port1.onmessage = function (e) { resolve(e.data); };
          (worker.controller || registration.active).postMessage(message, [channel.port2]);
        });
      });
    };
    caches.keys().then(function (names) {
      var name = names.filter(function (n) { return n.indexOf("lotse-saved-") === 0; })[0];
      return name ? caches.open(name).then(function (c) { return c.match(new URL(urls[0], location.href).href); }) : null;
    }).then(function (found) { isSaved = !!found; show(); button.hidden = false; });
    button.addEventListener("click", function () {
      button.disabled = true;
      ask({ type: isSaved ? "unsave" : "save", urls: urls }).then(function (answer) {
        if (answer && answer.ok) {
          isSaved = !isSaved;
          if (note) note.textContent = isSaved ? button.dataset.textDone : "";
        }
        show();
        button.disabled = false;
      });
    });
  }
})();
