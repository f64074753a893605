// Which tournaments this phone gets pushes for, and the id each server gave the subscription
// (IndexedDB: the page and the service worker both read it, so the worker can tell them when
// the browser renews the subscription). Touches no DOM.

const DB_NAME = "bo-push";
const STORE = "tournaments";

let dbPromise = null;

function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "tournament" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return dbPromise;
}

async function run(mode, work) {
  const database = await db();
  return new Promise((resolve, reject) => {
    const t = database.transaction(STORE, mode);
    const request = work(t.objectStore(STORE));
    t.oncomplete = () => resolve(request.result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

/** The subscription's id on this tournament's server, or null. */
export async function subscriptionId(tournament) {
  const found = await run("readonly", (store) => store.get(tournament));
  return found ? found.id : null;
}

export function remember(tournament, id) {
  return run("readwrite", (store) => store.put({ tournament, id }));
}

export function forget(tournament) {
  return run("readwrite", (store) => store.delete(tournament));
}

/** Every tournament this phone gets pushes for. */
export async function tournaments() {
  const all = await run("readonly", (store) => store.getAll());
  return all.map((entry) => entry.tournament);
}
