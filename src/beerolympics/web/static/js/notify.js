// "Notify me" on a team page: this phone subscribes to its team's pushes (Web Push, with the
// server's VAPID key) or stops them. Shown only where the browser can do it; it says so when
// notifications are blocked. The subscription's id is kept per tournament (pushstore.js).

import { ApiError, explain, send } from "./api.js";
import * as pushStore from "./pushstore.js";

/** How long the browser's push service may take to hand out a subscription. */
const SUBSCRIBE_TIMEOUT_MS = 20_000;

const TEXT = {
  on: "On: this phone is told when your team is called to a table, when a result waits for your confirmation, when your result is disputed, and of urgent news — also when it is locked.",
  off: "Get a notification when your team is called, a result needs you, or there's urgent news.",
  denied:
    "Notifications are blocked for this site. Allow them in your browser's site settings (the lock or ⓘ next to the address), then reload this page.",
  dismissed: "Notifications were not allowed. Tap “Notify me” again to be asked once more.",
  slow: "Your browser's push service did not answer. Try again with a better connection.",
  refused:
    "This browser would not set up notifications here (a private window never gets them). Try a normal window, or the app added to your home screen.",
};

export function pushSupported() {
  return (
    window.isSecureContext &&
    "serviceWorker" in navigator &&
    "PushManager" in window &&
    "Notification" in window &&
    typeof PushSubscription !== "undefined"
  );
}

function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function sameKey(subscription, key) {
  const current = subscription.options && subscription.options.applicationServerKey;
  if (!current) return true; // the browser does not say: assume it is ours
  const a = new Uint8Array(current);
  return a.length === key.length && a.every((byte, i) => byte === key[i]);
}

function withTimeout(promise, ms) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new ApiError({ detail: TEXT.slow }, 0)), ms)),
  ]);
}

/** Wire the `[data-notify]` box of a team page, if there is one and the browser can push. */
export async function wireNotify(box = document.querySelector("[data-notify]")) {
  if (!box) return;
  if (!pushSupported()) return; // stays hidden: nothing this phone can do
  const api = box.dataset.notify;
  const tournament = document.body.dataset.tournament;
  const on = box.querySelector("[data-notify-on]");
  const off = box.querySelector("[data-notify-off]");
  const status = box.querySelector("[data-notify-status]");
  box.hidden = false;

  const say = (text, warn = false) => {
    status.textContent = text;
    status.classList.toggle("warn", warn);
  };
  const show = (subscribed) => {
    on.hidden = subscribed;
    off.hidden = !subscribed;
    box.dataset.state = subscribed ? "on" : "off";
  };
  const idle = (busy) => {
    on.disabled = busy;
    off.disabled = busy;
    box.setAttribute("aria-busy", String(busy));
  };

  async function current() {
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    const id = await pushStore.subscriptionId(tournament);
    if (!subscription || !id) return null;
    // The server forgets a phone its push service said is gone: ask it.
    try {
      const known = await send(`${api}/subscriptions`, undefined, { method: "GET" });
      return known.items.some((item) => item.id === id) ? { subscription, id } : null;
    } catch {
      return { subscription, id }; // offline: trust what this phone remembers
    }
  }

  async function turnOn() {
    const permission = await Notification.requestPermission();
    if (permission === "denied") throw new ApiError({ detail: TEXT.denied }, 0);
    if (permission !== "granted") throw new ApiError({ detail: TEXT.dismissed }, 0);
    const { public_key: publicKey } = await send(`${api}/key`, undefined, { method: "GET" });
    const key = keyBytes(publicKey);
    const registration = await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription, key)) {
      await subscription.unsubscribe(); // made for another server key: useless now
      subscription = null;
    }
    if (!subscription) {
      try {
        subscription = await withTimeout(
          registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }),
          SUBSCRIBE_TIMEOUT_MS,
        );
      } catch (error) {
        if (error instanceof ApiError) throw error;
        console.warn("push subscription refused:", error);
        throw new ApiError({ detail: TEXT.refused }, 0);
      }
    }
    const stored = await send(`${api}/subscriptions`, subscription.toJSON());
    await pushStore.remember(tournament, stored.id);
  }

  async function turnOff() {
    const id = await pushStore.subscriptionId(tournament);
    if (id) {
      try {
        await send(`${api}/subscriptions/${encodeURIComponent(id)}`, undefined, { method: "DELETE" });
      } catch (error) {
        if (error.status !== 404) throw error; // 404: the server had forgotten it already
      }
      await pushStore.forget(tournament);
    }
    // The browser's subscription is one per site: keep it while another tournament uses it.
    const others = (await pushStore.tournaments()).length > 0;
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    if (subscription && !others) await subscription.unsubscribe();
  }

  async function act(change, subscribed) {
    idle(true);
    try {
      await change();
      show(subscribed);
      say(subscribed ? TEXT.on : TEXT.off);
    } catch (error) {
      say(error instanceof ApiError ? explain(error) : `That didn't work: ${error.message}`, true);
    } finally {
      idle(false);
    }
  }

  on.addEventListener("click", () => act(turnOn, true));
  off.addEventListener("click", () => act(turnOff, false));

  if (Notification.permission === "denied") {
    show(false);
    on.disabled = true;
    say(TEXT.denied, true);
    return;
  }
  const found = Notification.permission === "granted" ? await current().catch(() => null) : null;
  show(Boolean(found));
  say(found ? TEXT.on : TEXT.off);
}
