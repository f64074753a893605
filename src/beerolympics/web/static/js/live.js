// Follows a tournament's live channels, as docs/live-protocol.md describes.
//
// A WebSocket (or, where that keeps failing, Server-Sent Events) per page. Every channel
// remembers the `to` of the last frame it processed; a reconnect subscribes again with that as
// `since`, so the server sends exactly what was missed. A frame whose `from` is past the last
// `to` means a gap: reconnect and resume. Reconnects wait min(maxDelay, 0.5 s × 2^attempt)
// times a random 0.5–1.5 (jitter, so a restarted server is not hit by every phone at once).
//
// Deltas: a page that keeps the leaderboard or the station board (`keep`) applies their
// patches, or asks for them again; pages that keep nothing take patches as notices.

import { expand } from "./matchview.js";

/** The live protocol this script speaks; a server that speaks another makes the page reload. */
export const PROTOCOL = 5;
const PATCHED = new Set(["leaderboard", "stations"]);

const CLOSE_STOP = new Set([4004]); // no such tournament
const CLOSE_BUG = new Set([1009, 4000]); // our message was wrong: retrying would repeat it
const PRIVATE = /^(team:|captains$|presence$)/;
const LIMITED_RETRY_MS = 60000;

export class Live {
  /**
   * @param {object} o
   * @param {string} o.tournament  the tournament id
   * @param {string[]} o.channels  channels to follow, e.g. ["tournament", "match:gm_x.W1-1"]
   * @param {(channel: string, message: object) => void} [o.onMessage]  each message of a frame
   * @param {(channel: string, state: object, position: number) => void} [o.onSnapshot]
   * @param {(status: string, detail?: object) => void} [o.onStatus]
   *   "connecting", "live", "retrying", "offline", "stopped"
   * @param {(channel: string) => void} [o.onResume]  after a reconnect resumed the channel
   * @param {number} [o.maxDelay]  longest wait between reconnects, ms (30 s by the spec)
   * @param {number} [o.since]  the position the page already shows: channels resume from it
   *   (no snapshot, so the page need not load itself again)
   * @param {string[]} [o.keep]  patched states the page keeps ("leaderboard", "stations"): their
   *   messages reach onMessage with the whole state, patches applied
   * @param {object} [o.patches]  deltas.js, which applies them: a page that keeps states passes
   *   it (pages that keep none do not load it)
   */
  constructor(o) {
    this.tournament = o.tournament;
    this.channels = new Set(o.channels);
    this.onMessage = o.onMessage || (() => {});
    this.onSnapshot = o.onSnapshot || (() => {});
    this.onStatus = o.onStatus || (() => {});
    this.onResume = o.onResume || (() => {});
    this.maxDelay = o.maxDelay ?? 30000;
    this.last = new Map(); // channel -> `to` of the last frame processed
    this.keep = new Set(o.keep || []);
    this.patches = o.patches;
    if (this.keep.size && !this.patches) throw new Error("a page that keeps states passes patches (deltas.js)");
    this.states = new Map(); // channel -> Map(kind -> {at, value}): the patched states kept
    this.asked = new Set(); // channels whose states were asked for again
    this.shown = new Map(); // channel -> Map(kind -> label of the state the page shows)
    this.toCache = new Map();
    this.cacheTimer = null;
    if (Number.isInteger(o.since) && o.since > 0) {
      for (const channel of this.channels) {
        this.last.set(channel, o.since);
        // The page, as served, shows the states as of `since`.
        this.shown.set(channel, new Map([...this.keep].map((kind) => [kind, o.since])));
      }
    }
    this.attempt = 0;
    this.wsFailures = 0;
    this.transport = "ws";
    this.stopped = false;
    this.conn = null;
    this.timer = null;
    this.watchdog = null;
    this.heartbeat = 15;
    this.build = this.heldBuild = null; // the server's code; the code of the states kept
    this.welcomed = false;
    this.everLive = false;
    addEventListener("online", () => this.now());
    addEventListener("offline", () => this.onStatus("offline"));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && !this.welcomed) this.now();
    });
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.drop();
    this.onStatus("stopped");
  }

  subscribe(channel) {
    this.channels.add(channel);
    if (this.welcomed) this.send(this.subscription(channel));
  }

  unsubscribe(channel) {
    this.channels.delete(channel);
    this.last.delete(channel);
    this.states.delete(channel);
    if (this.welcomed) this.send({ type: "unsubscribe", channel });
  }

  /** Reconnect at once (the network came back, the tab became visible). */
  now() {
    if (this.stopped) return;
    this.attempt = 0;
    clearTimeout(this.timer);
    if (!this.welcomed) {
      this.drop();
      this.connect();
    }
  }

  since(channel) {
    return this.last.has(channel) ? { since: this.last.get(channel) } : {};
  }

  /** The subscribe message: where the channel stopped, and the labels of the states kept. */
  subscription(channel) {
    const message = { type: "subscribe", channel, protocol: PROTOCOL, ...this.since(channel) };
    if (channel === "tournament" && this.keep.size) {
      const held = this.stateOf(channel);
      message.have = Object.fromEntries([...this.keep].map((kind) => [kind, held.has(kind) ? held.get(kind).at : -1]));
      if (this.heldBuild) message.build = this.heldBuild; // (labels hold within one build)
    }
    return message;
  }

  stateOf(channel) {
    if (!this.states.has(channel)) this.states.set(channel, new Map());
    return this.states.get(channel);
  }

  // -- connecting ------------------------------------------------------------------------

  connect() {
    if (this.stopped) return;
    this.welcomed = false;
    this.onStatus(this.everLive ? "retrying" : "connecting");
    if (this.transport === "ws" && "WebSocket" in window) this.openSocket();
    else this.openEvents();
  }

  base() {
    return `/api/v1/tournaments/${encodeURIComponent(this.tournament)}/live`;
  }

  openSocket() {
    let ws;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    try {
      ws = new WebSocket(`${scheme}//${location.host}${this.base()}`);
    } catch {
      this.transport = "sse";
      this.retry();
      return;
    }
    // `opened` turns true with the first message: a proxy that accepts the upgrade and then
    // drops it counts as a failure too (and three of those switch to Server-Sent Events).
    this.conn = { kind: "ws", ws, opened: false };
    const conn = this.conn;
    ws.onopen = () => this.arm();
    ws.onmessage = (e) => {
      if (this.conn !== conn) return;
      conn.opened = true;
      this.wsFailures = 0;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      this.receive(msg);
    };
    ws.onclose = (e) => {
      if (this.conn !== conn) return;
      this.conn = null;
      this.closed(e.code, conn.opened);
    };
  }

  openEvents() {
    const params = new URLSearchParams({ protocol: String(PROTOCOL) });
    for (const channel of this.channels) params.append("channel", channel);
    for (const kind of this.keep) params.append("keep", kind);
    const known = [...this.channels].filter((c) => this.last.has(c)).map((c) => this.last.get(c));
    // One `since` for every channel: the oldest, so none misses anything (duplicates are
    // dropped below by position).
    if (known.length === this.channels.size && known.length) {
      params.set("since", String(Math.min(...known)));
    }
    const source = new EventSource(`${this.base()}/events?${params}`);
    this.conn = { kind: "sse", source, opened: false };
    const conn = this.conn;
    const handle = (e) => {
      if (this.conn !== conn || !e.data) return;
      conn.opened = true;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (!msg.type) msg.type = e.type;
      this.receive(msg);
    };
    for (const type of ["welcome", "subscribed", "frame", "snapshot", "state", "heartbeat", "unsubscribed", "message"]) {
      source.addEventListener(type, handle);
    }
    source.addEventListener("error", (e) => {
      if (e instanceof MessageEvent && e.data) {
        handle(e); // an `error` message of the protocol, not a broken connection
        return;
      }
      if (this.conn !== conn) return;
      source.close();
      this.conn = null;
      this.closed(1006, conn.opened);
    });
    this.welcomed = true; // SSE subscribes in the URL: there is nothing to send
    this.arm();
  }

  drop() {
    clearTimeout(this.watchdog);
    const conn = this.conn;
    this.conn = null;
    this.welcomed = false;
    if (!conn) return;
    if (conn.kind === "ws") {
      conn.ws.onclose = null;
      try {
        conn.ws.close(1000);
      } catch {
        /* already closed */
      }
    } else {
      conn.source.close();
    }
  }

  closed(code, opened) {
    clearTimeout(this.watchdog);
    this.welcomed = false;
    if (this.stopped) return;
    if (CLOSE_STOP.has(code)) {
      this.stopped = true;
      this.onStatus("stopped", { code, reason: "no such tournament" });
      return;
    }
    if (CLOSE_BUG.has(code)) {
      this.stopped = true;
      this.onStatus("stopped", { code, reason: "the page sent something the server refused" });
      return;
    }
    if (code === 4009) {
      // Too many live connections for this sign-in or this network: try again in a minute
      // or so (someone may have left); the page meanwhile polls (see follow.js).
      this.onStatus("limited", { code });
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.connect(), LIMITED_RETRY_MS * (0.5 + Math.random()));
      return;
    }
    if (code === 4001) {
      // The credential was revoked: forget it and go on as a spectator, public channels only.
      for (const channel of [...this.channels]) if (PRIVATE.test(channel)) this.channels.delete(channel);
      fetch(`/api/v1/tournaments/${encodeURIComponent(this.tournament)}/sessions/current`, {
        method: "DELETE",
      }).finally(() => this.retry());
      this.onStatus("retrying", { code, reason: "signed out" });
      return;
    }
    if (!opened && this.transport === "ws") {
      this.wsFailures += 1;
      if (this.wsFailures >= 3) this.transport = "sse";
    } else if (!opened && this.transport === "sse") {
      this.transport = "ws";
      this.wsFailures = 0;
    }
    if (code === 4029) this.attempt = Math.max(this.attempt, 6); // too many messages: back off
    this.retry();
  }

  retry() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const wait = Math.min(this.maxDelay, 500 * 2 ** this.attempt) * (0.5 + Math.random());
    this.attempt += 1;
    this.onStatus(navigator.onLine === false ? "offline" : "retrying", { wait });
    this.timer = setTimeout(() => this.connect(), wait);
  }

  /** A watchdog: hearing nothing for two heartbeats means the connection is dead. */
  arm() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      const conn = this.conn;
      this.drop();
      this.closed(1006, Boolean(conn && conn.opened));
    }, 2 * this.heartbeat * 1000 + 1000);
  }

  send(message) {
    const conn = this.conn;
    if (conn && conn.kind === "ws" && conn.ws.readyState === WebSocket.OPEN) {
      conn.ws.send(JSON.stringify(message));
    }
  }

  // -- receiving -------------------------------------------------------------------------

  receive(msg) {
    this.arm();
    switch (msg.type) {
      case "welcome":
        if (msg.protocol !== undefined && msg.protocol !== PROTOCOL && reloadOnce()) return;
        this.heartbeat = Number(msg.heartbeat) || 15;
        this.build = msg.build;
        this.arm();
        this.asked.clear();
        if (this.conn && this.conn.kind === "ws") {
          for (const channel of this.channels) this.send(this.subscription(channel));
        }
        this.welcomed = true;
        this.attempt = 0;
        this.onStatus("live", { role: msg.role, transport: this.conn ? this.conn.kind : "" });
        if (this.everLive) for (const channel of this.channels) this.onResume(channel);
        this.everLive = true;
        break;
      case "subscribed":
        if (!this.last.has(msg.channel)) this.last.set(msg.channel, msg.position);
        if (this.conn && this.conn.kind === "sse" && !this.everLive) {
          this.attempt = 0;
          this.everLive = true;
          this.onStatus("live", { transport: "sse" });
        }
        break;
      case "frame":
        this.frame(msg);
        break;
      case "snapshot":
        this.last.set(msg.channel, msg.position);
        this.hold(msg.channel, (msg.state && msg.state.bases) || {}, msg.state || {});
        this.onSnapshot(msg.channel, msg.state || {}, msg.position);
        break;
      case "state":
        // The patched states, asked for again (or lacked when subscribing): whole.
        if (!this.channels.has(msg.channel) || !this.patches) break;
        this.asked.delete(msg.channel);
        this.hold(msg.channel, msg.bases || {}, msg.state || {});
        for (const [kind, value] of Object.entries(msg.state || {})) {
          // (Not when the page shows it already: as served, or as the last patch made it.)
          const at = (msg.bases || {})[kind];
          const shown = this.shown.get(msg.channel);
          if (shown && shown.has(kind) && shown.get(kind) >= at) continue;
          this.deliver(msg.channel, { kind, at, [kind]: this.patches.denormalize(value) });
        }
        break;
      case "error":
        if (msg.code === "forbidden_channel" || msg.code === "unknown_channel") {
          this.channels.delete(msg.channel);
          this.last.delete(msg.channel);
        }
        break;
      default:
        break; // heartbeat, pong, unsubscribed: the watchdog was fed above
    }
  }

  frame(msg) {
    const channel = msg.channel;
    if (!this.channels.has(channel)) return;
    const last = this.last.get(channel);
    if (last !== undefined && msg.to <= last) return; // already processed
    if (last !== undefined && msg.from > last) {
      // A gap: something was missed. Resume from what we have.
      this.drop();
      this.closed(1006, true);
      return;
    }
    this.last.set(channel, msg.to);
    // A frame that starts before what we have (over SSE one `since` serves every channel;
    // protocol 2 resumes from where the channel's frames stand) is taken only from where this
    // channel stopped — but for the patched states, which are the state at the frame's end.
    const fresh = (msg.messages || []).filter((m) => last === undefined || m.p === undefined || m.p > last || "at" in m);
    // A page that keeps the station board is told of its matches as the board's, at the
    // frame's start or its end: the states first, then the messages in order.
    const states = this.stateOf(channel);
    const boards = [states.get("stations")];
    const found = fresh.map((message) => (PATCHED.has(message.kind) ? this.patched(channel, message) : message));
    boards.push(states.get("stations"));
    for (const message of found) {
      let said = message;
      if (message.kind === "match_updated" && message.base !== undefined && this.patches) said = this.boardMatch(channel, message, boards);
      // (A match comes compact, or in brief to a page without the station board: whole for
      // the page; `expand` leaves a brief one as it is.)
      else if (message.kind === "match_updated" && message.match) said = { ...message, match: expand(message.match) };
      this.deliver(channel, said);
    }
  }

  /** A `match_updated` that says its match as the station board's, with the match whole. */
  boardMatch(channel, message, boards) {
    const { base, delta, ...rest } = message;
    const key = message.match && message.match.$ref;
    const board = boards.find((b) => b && b.at === base);
    try {
      if (!board || !board.value.$matches || !Object.hasOwn(board.value.$matches, key)) throw new Error(`no match ${key} at ${base}`);
      const view = board.value.$matches[key];
      return { ...rest, match: this.patches.resolve(delta === undefined ? view : this.patches.applyPatch(view, delta), board.value) };
    } catch (error) {
      // Without the board it was said against: which match, and the board again.
      console.error("live match did not resolve", error);
      this.resync(channel);
      return { ...rest, match: { id: key, game_id: String(key).split(".")[0] } };
    }
  }

  deliver(channel, message) {
    if (PATCHED.has(message.kind) && message.at !== undefined && message[message.kind] !== undefined) {
      if (!this.shown.has(channel)) this.shown.set(channel, new Map());
      this.shown.get(channel).set(message.kind, message.at);
    }
    try {
      this.onMessage(channel, message);
    } catch (error) {
      console.error("live message handler failed", error);
    }
  }

  /** Keep the patched states of a snapshot or a `state` message, with their labels. */
  hold(channel, bases, state) {
    for (const kind of this.keep) {
      if (state[kind] === undefined || bases[kind] === undefined) continue;
      this.heldBuild = this.build;
      this.stateOf(channel).set(kind, { at: bases[kind], value: state[kind] });
      this.cacheView(kind, this.patches.denormalize(state[kind]));
    }
  }

  /** A `leaderboard` or `stations` message with the whole state, patch applied (or, when
   * the page does not keep it or cannot apply the patch, as it came: a notice). */
  patched(channel, message) {
    const kind = message.kind;
    if (!this.keep.has(kind)) return message;
    const states = this.stateOf(channel);
    if (message.delta === undefined) {
      if (message[kind] === undefined) return message;
      states.set(kind, { at: message.at, value: message[kind] });
      const whole = this.patches.denormalize(message[kind]);
      this.cacheView(kind, whole);
      return { ...message, [kind]: whole };
    }
    const held = states.get(kind);
    if (!held || held.at !== message.base) {
      this.resync(channel);
      return message;
    }
    let value;
    try {
      value = this.patches.applyPatch(held.value, message.delta);
    } catch (error) {
      console.error("live patch did not apply", error);
      states.delete(kind);
      this.resync(channel);
      return message;
    }
    states.set(kind, { at: message.at, value });
    const whole = this.patches.denormalize(value);
    this.cacheView(kind, whole);
    return { ...message, [kind]: whole };
  }

  /** Ask for the patched states again (over SSE, where the page cannot ask: reconnect). */
  resync(channel) {
    if (this.asked.has(channel)) return;
    this.asked.add(channel);
    if (this.conn && this.conn.kind === "ws") {
      this.send({ type: "resync", channel, kinds: [...this.keep] });
    } else {
      this.drop();
      this.closed(1006, true);
    }
  }

  /** The service worker's saved copies of the boards follow the frames too (at most once a
   * second), so the board shown offline is the last one the page had. */
  cacheView(kind, value) {
    const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (!worker) return;
    this.toCache.set(kind, value);
    if (this.cacheTimer) return;
    this.cacheTimer = setTimeout(() => {
      this.cacheTimer = null;
      for (const [name, body] of this.toCache) {
        worker.postMessage({ type: "view", path: `/api/v1/tournaments/${encodeURIComponent(this.tournament)}/${name}`, body });
      }
      this.toCache.clear();
    }, 1000);
  }
}

/** Load the page again (the server speaks another protocol: the page it serves now has the
 * script that speaks it) — at most once a minute, so a mismatch cannot loop. */
function reloadOnce() {
  try {
    const last = Number(sessionStorage.getItem("bo-live-reload")) || 0;
    if (Date.now() - last < 60000) return false;
    sessionStorage.setItem("bo-live-reload", String(Date.now()));
  } catch {
    return false;
  }
  location.reload();
  return true;
}

/**
 * Show the connection state in the page header (`#net`) and wherever a page names it
 * (`[data-live-label]`, e.g. the TV's footer). "polling": live updates are off and the page
 * checks for changes every `detail.every` seconds instead.
 */
export function showStatus(status, detail) {
  const every = detail && detail.every ? `${detail.every} s` : "few seconds";
  const text = {
    connecting: "",
    live: "",
    retrying: "Reconnecting…",
    offline: "Offline — showing what we had",
    stopped: detail && detail.reason ? `Live updates off: ${detail.reason}` : "Live updates off",
    polling: `Live updates off — refreshing every ${every}`,
  }[status];
  const label = {
    connecting: "connecting…",
    live: "live",
    retrying: "reconnecting…",
    offline: "offline",
    stopped: "not live",
    polling: `not live · refreshing every ${every}`,
  }[status];
  const el = document.getElementById("net");
  if (el) {
    el.textContent = text || "";
    el.hidden = !text;
    el.classList.toggle("off", status === "offline" || status === "polling" || status === "stopped");
  }
  for (const node of document.querySelectorAll("[data-live-label]")) node.textContent = label || status;
  document.body.dataset.live = status;
  if (detail && detail.transport) document.body.dataset.transport = detail.transport;
}
