// Every page loads this module: it registers the service worker, wires the action buttons and
// the outbox, and starts the page's own module (body[data-page]) if it has one.

import { wireActions } from "./actions.js";
import { absolutize, localTimes } from "./dom.js";

const PAGES = new Set(["photos", "home", "schedule", "game", "match", "leaderboard", "team", "teams", "admin", "tv", "wizard", "join", "signin", "recap", "reel"]);

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/", type: "module" }).catch((error) => {
    console.warn("no offline support:", error);
  });
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data === "outbox-synced") document.dispatchEvent(new CustomEvent("outbox-sent"));
  });
}

function showNetwork() {
  const el = document.getElementById("net");
  if (!el || ["stopped", "polling"].includes(document.body.dataset.live)) return;
  if (navigator.onLine === false) {
    el.textContent = "Offline — showing what we had";
    el.hidden = false;
    el.classList.add("off");
  } else if (el.classList.contains("off")) {
    el.hidden = true;
    el.classList.remove("off");
  }
}
addEventListener("online", showNetwork);
addEventListener("offline", showNetwork);
showNetwork();

wireActions();
absolutize();
localTimes();
document.addEventListener("regions-refreshed", () => localTimes());

// Galleries, the viewer and the photo uploads.
if (document.querySelector(".gallery-box")) {
  import("./media.js").catch((error) => console.error("media script failed", error));
}

const page = document.body.dataset.page;
if (PAGES.has(page)) {
  import(`./pages/${page}.js`).catch((error) => console.error(`page script ${page} failed`, error));
}
