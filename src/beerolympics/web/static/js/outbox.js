// The outbox: writes wait in IndexedDB until they reach the server, in the order they were
// made. Used by the pages and by the service worker (Background Sync), so it touches no DOM.
//
// Every entry carries an Idempotency-Key made when it was queued: if a request reached the
// server but its answer was lost, sending it again returns the first outcome and changes
// nothing — nothing is applied twice. Entries that need the state a previous entry leaves
// (report after start, on one match) name it in `after`; when it succeeds they take the version
// it returned as their If-Match. A refusal (409 with the current state, or another 4xx) stays
// in the outbox, shown to the user, until they dismiss or retry it: never dropped silently.

const DB_NAME = "beerolympics";
const STORE = "outbox";
const LOCK = "bo-outbox";
export const SYNC_TAG = "bo-outbox";

let dbPromise = null;

function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return dbPromise;
}

async function tx(mode, work) {
  const database = await db();
  return new Promise((resolve, reject) => {
    const t = database.transaction(STORE, mode);
    const store = t.objectStore(STORE);
    let result;
    Promise.resolve(work(store)).then((r) => {
      result = r;
    });
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(LOCK) : null;

function changed() {
  if (channel) channel.postMessage("changed");
  if (typeof dispatchEvent === "function" && typeof CustomEvent === "function") {
    dispatchEvent(new CustomEvent("outbox-changed"));
  }
}

/** Call `listener` whenever the outbox changes, in this tab or any other (or the worker). */
export function onChange(listener) {
  if (channel) channel.addEventListener("message", listener);
  addEventListener("outbox-changed", listener);
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Everything in the outbox, oldest first. */
export async function entries() {
  return tx("readonly", (store) => req(store.getAll()));
}

/**
 * Queue a write. `after` chains it to an earlier entry; by default an entry follows the last
 * pending entry for the same match, whose outcome it cannot know yet.
 */
export async function enqueue(entry) {
  const all = await entries();
  let after = entry.after ?? null;
  if (after === null && entry.match) {
    const earlier = all.filter((e) => e.match === entry.match && e.status === "pending");
    if (earlier.length) after = earlier[earlier.length - 1].id;
  }
  const record = {
    tournament: entry.tournament,
    url: entry.url,
    method: entry.method || "POST",
    body: entry.body ?? null,
    // A photo or clip: the file itself (IndexedDB keeps blobs), sent as the request body.
    blob: entry.blob ?? null,
    contentType: entry.contentType || null,
    // A given key (an upload's content hash) makes the same file one upload, however often
    // it is picked or sent.
    key: entry.key || newKey(),
    ifMatch: after === null ? entry.ifMatch || null : null,
    after,
    match: entry.match || null,
    label: entry.label || "Change",
    // Entries queued by one button press share a group: shown, dismissed and retried together.
    group: entry.group || null,
    page: entry.page || null,
    status: "pending",
    problem: null,
    created: Date.now(),
  };
  const id = await tx("readwrite", (store) => req(store.add(record)));
  changed();
  return id;
}

function together(all, id) {
  const entry = all.find((e) => e.id === id);
  if (!entry) return [];
  return entry.group ? all.filter((e) => e.group === entry.group) : [entry];
}

/** Drop an entry (and the rest of its button press): the user saw it was refused. */
export async function remove(id) {
  const all = await entries();
  await tx("readwrite", async (store) => {
    for (const e of together(all, id)) await req(store.delete(e.id));
  });
  changed();
}

/** Send a refused button press again, against the version the server reported as current. */
export async function retry(id) {
  const all = await entries();
  await tx("readwrite", async (store) => {
    let previous = null;
    for (const entry of together(all, id)) {
      if (entry.status === "pending") {
        previous = entry.id;
        continue;
      }
      const version = entry.problem && entry.problem.version;
      entry.ifMatch = previous === null && version !== undefined && version !== null ? `"v${version}"` : null;
      entry.after = previous;
      entry.status = "pending";
      entry.problem = null;
      entry.key = newKey();
      previous = entry.id;
      await req(store.put(entry));
    }
  });
  changed();
}

async function put(entry) {
  await tx("readwrite", (store) => req(store.put(entry)));
}

async function locked(work) {
  if (typeof navigator !== "undefined" && navigator.locks && navigator.locks.request) {
    return navigator.locks.request(LOCK, work);
  }
  return work();
}

/**
 * Send what waits, oldest first, one at a time. Stops at the first network failure (still
 * offline) or server error (try later). Returns {sent, waiting, offline}.
 */
export async function sync() {
  return locked(async () => {
    let sent = 0;
    let offline = false;
    const list = await entries();
    const byId = new Map(list.map((e) => [e.id, e]));
    for (const entry of list) {
      if (entry.status !== "pending") continue;
      if (entry.after !== null) {
        const before = byId.get(entry.after);
        if (before && before.status !== "pending") {
          entry.status = "failed";
          entry.problem = { detail: "Not sent: the step before it was refused.", status: 0 };
          await put(entry);
          changed();
          continue;
        }
        if (before) break; // the step before has not gone through yet
      }
      // Cancelled meanwhile (while an earlier request was on its way): not sent.
      if (!(await tx("readonly", (store) => req(store.get(entry.id))))) continue;
      const headers = { "Idempotency-Key": entry.key, Accept: "application/json" };
      if (entry.body !== null) headers["Content-Type"] = "application/json";
      if (entry.blob) headers["Content-Type"] = entry.contentType || "application/octet-stream";
      if (entry.ifMatch) headers["If-Match"] = entry.ifMatch;
      let response;
      try {
        if (entry.blob && typeof XMLHttpRequest === "function") {
          response = await upload(entry, headers);
        } else {
          response = await fetch(entry.url, {
            method: entry.method,
            headers,
            body: entry.blob || (entry.body === null ? undefined : JSON.stringify(entry.body)),
            credentials: "same-origin",
            cache: "no-store",
          });
        }
      } catch {
        offline = true;
        break;
      }
      if (response.status >= 500 || response.status === 429 || response.status === 408) {
        offline = true; // the server is busy or restarting: keep the order, try again later
        break;
      }
      if (response.ok) {
        const tag = response.headers.get("ETag");
        await tx("readwrite", async (store) => {
          await req(store.delete(entry.id));
          for (const next of list) {
            if (next.after === entry.id && next.status === "pending") {
              next.after = null;
              next.ifMatch = tag && /^"v\d+"$/.test(tag) ? tag : next.ifMatch;
              await req(store.put(next));
            }
          }
        });
        byId.delete(entry.id);
        sent += 1;
        changed();
        continue;
      }
      let problem;
      try {
        problem = await response.json();
      } catch {
        problem = { detail: `The server said ${response.status}.` };
      }
      entry.status = response.status === 409 ? "conflict" : "failed";
      entry.problem = { ...problem, status: response.status };
      await put(entry);
      changed();
    }
    const waiting = (await entries()).filter((e) => e.status === "pending").length;
    return { sent, waiting, offline };
  });
}

/**
 * Send a file with XMLHttpRequest, which (unlike fetch) reports upload progress: an
 * "outbox-progress" event {id, loaded, total} as it goes. Answers like fetch's Response.
 */
function upload(entry, headers) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(entry.method, entry.url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      dispatchEvent(
        new CustomEvent("outbox-progress", {
          detail: { id: entry.id, loaded: event.loaded, total: event.total || entry.blob.size },
        }),
      );
    };
    xhr.onerror = () => reject(new TypeError("network"));
    xhr.onabort = () => reject(new TypeError("aborted"));
    xhr.onload = () =>
      resolve({
        ok: xhr.status >= 200 && xhr.status < 300,
        status: xhr.status,
        headers: { get: (name) => xhr.getResponseHeader(name) },
        json: async () => JSON.parse(xhr.responseText),
      });
    xhr.send(entry.blob);
  });
}
