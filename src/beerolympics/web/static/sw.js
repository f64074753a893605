// The service worker (served at /sw.js with this build's values filled in).
//
// - Static assets: cache-first, in a cache named after the build; older builds' caches are
//   deleted when this worker takes over.
// - Pages and tournament/match data: network-first (a slow network falls back to the cached
//   copy after a few seconds), the cached copy when offline, else the offline page. A page's
//   refresh of its regions (X-Regions) goes past this worker: its answer is not the page.
// - Leaderboards: stale-while-revalidate — the cached board at once, refreshed behind it; pages
//   that apply the live frames to a board send it here, and the saved copy follows them.
// - Writes are never cached or replayed here: the outbox (IndexedDB) owns them, and this
//   worker sends it on Background Sync.
// - Pushes (the team's "you're up", "confirm your result", disputes, urgent news) are shown as
//   notifications, also with the phone locked; tapping one opens the page its push names.

import { SYNC_TAG, sync } from "__STATIC__/js/outbox.js";
import * as pushStore from "__STATIC__/js/pushstore.js";

const BUILD = "__BUILD__";
const PRECACHE = ["__PRECACHE__"];
const STATIC_CACHE = `bo-static-${BUILD}`;
const PAGES_CACHE = "bo-pages-v1";
const DATA_CACHE = "bo-data-v1";
const BOARD_CACHE = "bo-boards-v1";
// Photos' variants never change (their URL is their content's hash): saved once, shown offline.
const MEDIA_CACHE = "bo-media-v1";
const OFFLINE = "/offline";
const NETWORK_TIMEOUT_MS = 4000;
const BOARD = /^\/api\/v1\/tournaments\/[^/]+\/(leaderboard|stations)$/;
const LIVE = /^\/api\/v1\/tournaments\/[^/]+\/live/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(STATIC_CACHE);
      await cache.addAll(PRECACHE);
      const pages = await caches.open(PAGES_CACHE);
      await pages.add(new Request(OFFLINE, { cache: "reload" }));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("bo-static-") && name !== STATIC_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/sw.js" || LIVE.test(url.pathname)) return;
  // A page asking for the regions it lacks (X-Regions): the answer is not the page, never saved.
  // A page's compression dictionary is the browser's own to keep (see dictionaries.py).
  if (request.headers.has("X-Regions") || url.pathname.startsWith("/dictionaries/")) return;
  if (url.pathname.startsWith("/media/")) {
    // Clips stream with Range requests straight from the network.
    if (url.pathname.endsWith(".webp")) event.respondWith(cacheFirst(request, MEDIA_CACHE));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  } else if (BOARD.test(url.pathname)) {
    event.respondWith(staleWhileRevalidate(event, request));
  } else if (url.pathname.startsWith("/api/")) {
    event.respondWith(networkFirst(event, request, DATA_CACHE, false));
  } else {
    const page = request.mode === "navigate" || (request.headers.get("Accept") || "").includes("text/html");
    event.respondWith(networkFirst(event, request, PAGES_CACHE, page));
  }
});

async function cacheFirst(request, cacheName = STATIC_CACHE) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(cacheName);
    await cache.put(request, response.clone());
  }
  return response;
}

async function store(cacheName, request, response) {
  if (response && response.status === 200 && !/no-store/.test(response.headers.get("Cache-Control") || "")) {
    const cache = await caches.open(cacheName);
    await cache.put(request, response.clone());
  }
}

async function networkFirst(event, request, cacheName, page) {
  const network = fetch(request).then(async (response) => {
    await store(cacheName, request, response);
    return response;
  });
  event.waitUntil(network.catch(() => {}));
  const timeout = new Promise((resolve) => setTimeout(resolve, NETWORK_TIMEOUT_MS, null));
  try {
    const first = await Promise.race([network, timeout]);
    if (first) return first;
    // One bar of Wi-Fi: show the saved copy now (the fetch still refreshes it), or keep waiting.
    const cached = await caches.match(request, { ignoreVary: true });
    return cached || (await network);
  } catch {
    const cached = await caches.match(request, { ignoreVary: true });
    if (cached) return cached;
    if (page) {
      const offline = await caches.match(OFFLINE);
      if (offline) return offline;
    }
    return new Response(JSON.stringify({ status: 503, code: "offline", title: "Offline", detail: "No network." }), {
      status: 503,
      headers: { "Content-Type": "application/problem+json" },
    });
  }
}

async function staleWhileRevalidate(event, request) {
  const cached = await caches.match(request, { ignoreVary: true });
  const network = fetch(request).then(async (response) => {
    await store(BOARD_CACHE, request, response);
    return response;
  });
  event.waitUntil(network.catch(() => {}));
  if (cached) return cached;
  try {
    return await network;
  } catch {
    return new Response(JSON.stringify({ status: 503, code: "offline", title: "Offline", detail: "No network." }), {
      status: 503,
      headers: { "Content-Type": "application/problem+json" },
    });
  }
}

async function sendOutbox() {
  const result = await sync();
  for (const client of await self.clients.matchAll({ includeUncontrolled: true })) {
    client.postMessage("outbox-synced");
  }
  if (result.waiting && result.offline) throw new Error("still offline"); // the browser retries
}

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(sendOutbox());
});

self.addEventListener("message", (event) => {
  if (event.data === "sync") event.waitUntil(sendOutbox().catch(() => {}));
  else if (event.data && event.data.type === "view") event.waitUntil(saveView(event.data));
});

// A page applied a live frame to a board: the saved copy is that board now (so offline, or
// before the network answers, the board shown is the one the last frame made).
async function saveView({ path, body }) {
  if (typeof path !== "string" || !BOARD.test(path) || !body || typeof body !== "object") return;
  const cache = await caches.open(BOARD_CACHE);
  const headers = { "Content-Type": "application/json" };
  await cache.put(new Request(new URL(path, self.location.origin)), new Response(JSON.stringify(body), { headers }));
}

// -- Push notifications ---------------------------------------------------------------------
// A push's payload is JSON: {title, body, url, tag, urgent?} (see docs/notifications.md).

const ICON = "__STATIC__/icons/icon-192.png";

/** A path of this site to open: anything else (another origin, junk) opens the home page. */
function pageUrl(url) {
  try {
    const target = new URL(url || "/", self.location.origin);
    if (target.origin === self.location.origin) return target.href;
  } catch {
    // fall through
  }
  return new URL("/", self.location.origin).href;
}

function pushMessage(data) {
  if (!data) return {};
  try {
    const message = data.json();
    return message && typeof message === "object" ? message : { body: String(message) };
  } catch {
    return { body: data.text() };
  }
}

self.addEventListener("push", (event) => {
  const message = pushMessage(event.data);
  const tag = typeof message.tag === "string" && message.tag ? message.tag : undefined;
  // Every push shows a notification (browsers require it of push subscriptions); a newer one
  // with the same tag (the same match) replaces the older one and buzzes again.
  const options = {
    body: typeof message.body === "string" ? message.body : "",
    icon: ICON,
    badge: ICON,
    data: { url: pageUrl(message.url) },
    timestamp: Date.now(),
  };
  if (tag) Object.assign(options, { tag, renotify: true });
  if (message.urgent) Object.assign(options, { requireInteraction: true, vibrate: [300, 100, 300] });
  const title = typeof message.title === "string" && message.title ? message.title : "Beer Olympics";
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = pageUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(openPage(url));
});

/** Focus a window already showing ``url``; else take one of this site's windows there; else
 *  open a new one. */
async function openPage(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const showing = windows.find((client) => client.url === url);
  if (showing) return focus(showing);
  for (const client of windows) {
    try {
      const moved = await client.navigate(url);
      if (moved) return focus(moved);
    } catch {
      // not ours to move (not controlled by this worker): try the next one, or a new window
    }
  }
  return self.clients.openWindow(url);
}

async function focus(client) {
  try {
    return await client.focus();
  } catch {
    return client; // focusing needs the tap's activation; the page is there all the same
  }
}

// The browser renewed (or dropped) this phone's push subscription: subscribe again if needed
// and give the new one to every tournament that had the old one, or their pushes stop coming.
self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(renewSubscription(event.oldSubscription, event.newSubscription));
});

async function renewSubscription(old, fresh) {
  let subscription = fresh || (await self.registration.pushManager.getSubscription());
  if (!subscription && old && old.options && old.options.applicationServerKey) {
    subscription = await self.registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: old.options.applicationServerKey,
    });
  }
  if (!subscription) return;
  for (const tournament of await pushStore.tournaments()) {
    const api = `/api/v1/tournaments/${encodeURIComponent(tournament)}/push/subscriptions`;
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const before = await pushStore.subscriptionId(tournament);
    const body = JSON.stringify(subscription.toJSON());
    const response = await fetch(api, { method: "POST", credentials: "same-origin", headers, body }).catch(() => null);
    if (!response || !response.ok) continue;
    const { id } = await response.json();
    await pushStore.remember(tournament, id);
    if (before && before !== id) {
      // The old endpoint is dead: the server need not try it first.
      await fetch(`${api}/${encodeURIComponent(before)}`, { method: "DELETE", credentials: "same-origin" }).catch(() => null);
    }
  }
}
