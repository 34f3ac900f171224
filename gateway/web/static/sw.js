// Lotse's service worker: the shell, the last public pages and the saved events, readable offline.
// Written by the gateway from gateway/web/static/sw.js (version and lists filled in).
"use strict";

const VERSION = "__VERSION__";
const SHELL = "lotse-shell-" + VERSION;
const PAGES = "lotse-pages-" + VERSION;
// Pages that show members-only news to a signed-in person: kept only while signed in.
const SESSION = "lotse-session-" + VERSION;
// Events the person saved ("save event"): kept until they remove them or sign out, and
// carried over into the next release's cache (the person chose them, a release did not).
const SAVED = "lotse-saved-" + VERSION;
const CURRENT = [SHELL, PAGES, SESSION, SAVED];
const SHELL_URLS = __SHELL__;
const PERSONAL = __PERSONAL__;
const MAX_PAGES = 40;
const STATE = "/__lotse-offline-state";  // a kept Response holding "offline since"

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_URLS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (!name.startsWith("lotse-") || CURRENT.includes(name)) continue;
      if (name.startsWith("lotse-saved-")) {
        const old = await caches.open(name);
        const kept = await caches.open(SAVED);
        for (const request of await old.keys()) {
          const response = await old.match(request);
          if (response && !(await kept.match(request))) await kept.put(request, response);
        }
      }
      await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  const reply = (answer) => { if (event.ports && event.ports[0]) event.ports[0].postMessage(answer); };
  if (data.type === "clear") {
    event.waitUntil(clearAll());
  } else if (data.type === "save") {
    event.waitUntil(save(data.urls).then((ok) => reply({ ok }), () => reply({ ok: false })));
  } else if (data.type === "unsave") {
    event.waitUntil(unsave(data.urls).then(() => reply({ ok: true })));
  }
});

function ownPaths(urls) {
  return (Array.isArray(urls) ? urls : []).map((u) => new URL(u, self.location.origin))
    .filter((u) => u.origin === self.location.origin && !personal(u)).map((u) => u.pathname + u.search);
}

async function save(urls) {
  // The event's page and its .ics, fetched now as the person sees them; nothing personal.
  const cache = await caches.open(SAVED);
  const paths = ownPaths(urls);
  if (!paths.length) return false;
  const responses = await Promise.all(paths.map((path) => fetch(path, { credentials: "same-origin" })));
  if (responses.some((r) => !r.ok || /no-store/i.test(r.headers.get("Cache-Control") || ""))) return false;
  await Promise.all(paths.map((path, n) => cache.put(new URL(path, self.location.origin).href, responses[n])));
  return true;
}

async function unsave(urls) {
  const cache = await caches.open(SAVED);
  for (const path of ownPaths(urls)) await cache.delete(new URL(path, self.location.origin).href);
}

async function clearAll() {
  for (const name of await caches.keys()) {
    if (name.startsWith("lotse-")) await caches.delete(name);
  }
}

function personal(url) {
  return PERSONAL.some((path) => url.pathname === path || url.pathname.startsWith(path + "/"));
}

function keepable(request, response) {
  if (!response || response.status !== 200 || response.type !== "basic") return false;
  if (request.headers.get("HX-Request")) return false;  // a fragment is never a page to show
  const cacheControl = response.headers.get("Cache-Control") || "";
  if (/no-store/i.test(cacheControl)) return false;
  return (response.headers.get("Content-Type") || "").startsWith("text/html");
}

async function offlineSince() {
  const cache = await caches.open(PAGES);
  const kept = await cache.match(STATE);
  if (kept) return kept.text();
  const now = new Date().toISOString();
  await cache.put(STATE, new Response(now));
  return now;
}

async function online() {
  const cache = await caches.open(PAGES);
  await cache.delete(STATE);
}

async function keep(request, response) {
  // A page kept only while signed in goes to its own cache, a public one to the pages; the
  // older copy in the other cache goes, so offline shows the newest.
  const session = Boolean(response.headers.get("X-Lotse-Kept"));
  const cache = await caches.open(session ? SESSION : PAGES);
  await (await caches.open(session ? PAGES : SESSION)).delete(request.url);
  await cache.put(request.url, response);
  const keys = (await cache.keys()).filter((r) => !r.url.endsWith(STATE));
  for (const old of keys.slice(0, Math.max(0, keys.length - MAX_PAGES))) await cache.delete(old);
}

async function marked(response, since) {
  // The page says since when the network is gone; app.js shows it with the page's age.
  const html = (await response.text()).replace('data-offline-since=""', 'data-offline-since="' + since + '"');
  return new Response(html, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function page(event) {
  const request = event.request;
  const url = new URL(request.url);
  try {
    const response = await fetch(request);
    event.waitUntil(online());
    // The session ended (elsewhere, or it ran out): what was kept for it goes.
    if (response.headers.get("X-Lotse-Session") === "none") event.waitUntil(caches.delete(SESSION));
    if (!personal(url) && keepable(request, response)) event.waitUntil(keep(request, response.clone()));
    return response;
  } catch (error) {
    const since = await offlineSince();
    if (!personal(url)) {
      for (const cacheName of [PAGES, SESSION, SAVED, SHELL]) {
        const kept = await caches.match(request.url, { cacheName, ignoreVary: true });
        if (kept) return marked(kept, since);
      }
    }
    const fallback = await caches.match("/offline", { cacheName: SHELL, ignoreVary: true });
    if (fallback) return marked(fallback, since);
    throw error;
  }
}

async function calendarFile(request) {
  // A saved event's .ics: from the network while there is one, else as saved.
  try {
    return await fetch(request);
  } catch (error) {
    const kept = await caches.match(request.url, { cacheName: SAVED, ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
}

async function shellFile(request) {
  const kept = await caches.match(request, { ignoreVary: true });
  return kept || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(shellFile(request));
  } else if (url.pathname.startsWith("/events/") && url.pathname.endsWith(".ics")) {
    event.respondWith(calendarFile(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(event));
  }
  // Everything else (fragments, GraphQL, exports) goes to the network as it would without us.
});
