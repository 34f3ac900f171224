// Lotse's service worker: the shell and the last public pages, readable offline.
// Written by the gateway from gateway/web/static/sw.js (version and lists filled in).
"use strict";

const VERSION = "__VERSION__";
const SHELL = "lotse-shell-" + VERSION;
const PAGES = "lotse-pages-" + VERSION;
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
      if (name.startsWith("lotse-") && name !== SHELL && name !== PAGES) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "clear") {
    event.waitUntil(clearAll());
  }
});

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
  const cache = await caches.open(PAGES);
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
    if (!personal(url) && keepable(request, response)) event.waitUntil(keep(request, response.clone()));
    return response;
  } catch (error) {
    const since = await offlineSince();
    if (!personal(url)) {
      const kept = await caches.match(request.url, { cacheName: PAGES, ignoreVary: true });
      if (kept) return marked(kept, since);
    }
    const fallback = await caches.match("/offline", { cacheName: SHELL, ignoreVary: true });
    if (fallback) return marked(fallback, since);
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
  } else if (request.mode === "navigate") {
    event.respondWith(page(event));
  }
  // Everything else (fragments, GraphQL, exports) goes to the network as it would without us.
});
