// Pages follow their tournament live: a message that changes what the page shows makes it
// fetch itself again (debounced, jittered) and swap the regions that changed. Wherever they
// are, members also hear their team's "you're up" and announcements meant for them, and
// everyone sees the tournament's highlights as toasts.

import { debounce, h, refreshRegions } from "./dom.js";
import { Live, showStatus } from "./live.js";

const body = document.body.dataset;
const tournament = body.tournament;

function flash(node) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.prepend(node);
  while (box.children.length > 3) box.lastElementChild.remove();
}

/** "You're up at Table 2": a banner on whatever page the member is on, and a buzz. */
export function youreUp(message) {
  if (!message.match) return;
  const station = (message.station && message.station.name) || (message.match.station && message.match.station.name) || "your table";
  const match = message.match;
  const banner = h(
    "a",
    { class: "banner up", href: `/t/${encodeURIComponent(tournament)}/matches/${encodeURIComponent(match.id)}` },
    h("strong", {}, "You're up!"),
    " Go to ",
    h("strong", {}, station),
    ` — ${match.game || ""}${match.label ? `, ${match.label}` : ""}.`,
    h("span", { class: "go" }, "Open the match →"),
  );
  const inPage = document.getElementById("youre-up");
  if (inPage) inPage.replaceChildren(banner);
  else flash(banner);
  if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
}

/** "Quarters: round 2 is paired again" — a correction changed the scores it was paired on. */
function repaired(message) {
  flash(
    h(
      "p",
      { class: "banner warn", role: "status" },
      `${message.game || "A game"}: round ${message.from_round} is paired again (${message.reason}).`,
    ),
  );
}

function announce(message) {
  const a = message.announcement;
  if (!a || document.querySelector(`#flash [data-key="${CSS.escape(a.id)}"]`)) return;
  flash(
    h(
      "p",
      { class: `banner ann pr-${a.priority || "info"}`, role: a.priority === "urgent" ? "alert" : "status", dataset: { key: a.id } },
      "📣 ",
      a.message,
    ),
  );
}

const TOAST_MS = 6000;
const TOAST_QUEUE = 3;
const toasts = [];
let toasting = null;

/** "Upset! Crew 4 beat Crew 1…": one toast at a time (a result can make several), each opens
 * its match and goes by itself; a hidden or retracted highlight goes at once. */
function highlightToast(message) {
  const hl = message.highlight;
  if (!hl) return;
  if (hl.removed) {
    const queued = toasts.findIndex((q) => q.id === hl.id);
    if (queued >= 0) toasts.splice(queued, 1);
    if (toasting && toasting.dataset.key === hl.id) nextToast();
    return;
  }
  if (toasts.some((q) => q.id === hl.id) || (toasting && toasting.dataset.key === hl.id)) return;
  toasts.push(hl);
  // A busy night makes highlights faster than a phone shows them: the newest ones win.
  while (toasts.length > TOAST_QUEUE) toasts.shift();
  if (!toasting) nextToast();
}

function nextToast() {
  if (toasting) {
    clearTimeout(Number(toasting.dataset.timer));
    toasting.remove();
    toasting = null;
  }
  const hl = toasts.shift();
  if (!hl) return;
  const toast = h(
    "a",
    {
      class: `banner hl hl-${hl.kind}`,
      role: "status",
      href: `/t/${encodeURIComponent(tournament)}/matches/${encodeURIComponent(hl.match)}`,
      dataset: { key: hl.id },
    },
    "✨ ",
    hl.text,
  );
  toast.dataset.timer = String(setTimeout(nextToast, TOAST_MS));
  toasting = toast;
  flash(toast);
}

/**
 * @param {object} o
 * @param {string[]} o.channels
 * @param {(channel: string, message: object) => boolean|void} [o.onMessage]
 *   return false when the page already shows the message (no refresh needed)
 * @param {(channel: string, state: object) => void} [o.onSnapshot]
 * @param {(status: string, detail?: object) => void} [o.onStatus]
 * @param {Set<string>} [o.skip]  regions the page keeps up to date by itself
 * @param {number} [o.maxDelay]  longest reconnect wait, ms
 * @param {boolean} [o.personal]  also follow the member's team and captains channels
 * @param {boolean} [o.highlights]  toast highlights (default true)
 * @param {string[]} [o.keep]  patched states the page keeps (see live.js): "leaderboard"
 * @param {object} [o.patches]  deltas.js, for a page that keeps states
 */
export function follow(o) {
  const channels = new Set(o.channels);
  if (o.personal !== false && body.team) channels.add(`team:${body.team}`);
  if (o.personal !== false && body.role === "captain") channels.add("captains");
  // Spread the refreshes of many phones over a few hundred milliseconds.
  const refresh = debounce(() => refreshRegions(o.skip), 150 + Math.random() * 350);
  const poller = new Poller(() => refreshRegions(), (status, detail) => {
    showStatus(status, detail);
    if (o.onStatus) o.onStatus(status, detail);
  });
  const live = new Live({
    tournament,
    channels: [...channels],
    maxDelay: o.maxDelay,
    keep: o.keep,
    patches: o.patches,
    // The page shows the tournament as of this position: resuming from it, the live channel
    // sends only what changed since (no snapshot, no second download of the page).
    since: Number(body.position) || undefined,
    onStatus: (status, detail) => poller.follow(status, detail),
    onMessage: (channel, message) => {
      if (message.kind === "you_are_up") youreUp(message);
      if (message.kind === "rounds_withdrawn") repaired(message);
      if (message.kind === "announcement" && o.announcements !== false) announce(message);
      if (message.kind === "highlight" && o.highlights !== false) highlightToast(message);
      if (o.onMessage && o.onMessage(channel, message) === false) return;
      refresh();
    },
    onSnapshot: (channel, state) => {
      if (o.onSnapshot) o.onSnapshot(channel, state);
      refresh();
    },
  });
  live.start();
  document.addEventListener("outbox-sent", refresh);
  addEventListener("online", refresh);
  return { live, refresh };
}

/**
 * When live updates are off — refused (too many live connections on this network), stopped,
 * or not back after a while — the page asks for itself every POLL_S seconds instead (the
 * server's `live_fallback_poll`; an unchanged page costs a 304, pages carry an ETag) and says
 * so; once live again, it stops.
 */
const POLL_S = Number(body.poll) || 10;
const POLL_AFTER_MS = 15000; // reconnecting for this long: poll meanwhile

class Poller {
  constructor(poll, show) {
    this.poll = poll;
    this.show = show;
    this.timer = null;
    this.pending = null;
  }

  follow(status, detail) {
    if (status === "live") {
      this.stop();
      this.show(status, detail);
    } else if (status === "limited" || (status === "stopped" && !(detail && detail.code === 4004))) {
      this.start();
    } else if (status === "retrying" && !this.timer) {
      if (!this.pending) this.pending = setTimeout(() => this.start(), POLL_AFTER_MS);
      this.show(status, detail);
    } else if (!this.timer) {
      this.show(status, detail);
    }
  }

  start() {
    clearTimeout(this.pending);
    this.pending = null;
    if (!this.timer) {
      // Jittered, so a room full of phones does not ask at the same instant.
      this.timer = setInterval(() => this.poll(), POLL_S * 1000 * (0.8 + Math.random() * 0.4));
      this.poll();
    }
    this.show("polling", { every: POLL_S });
  }

  stop() {
    clearTimeout(this.pending);
    this.pending = null;
    clearInterval(this.timer);
    this.timer = null;
  }
}
