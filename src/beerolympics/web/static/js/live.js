// Follows a tournament's live channels, as docs/live-protocol.md describes.
//
// A WebSocket (or, where that keeps failing, Server-Sent Events) per page. Every channel
// remembers the `to` of the last frame it processed; a reconnect subscribes again with that as
// `since`, so the server sends exactly what was missed. A frame whose `from` is past the last
// `to` means a gap: reconnect and resume. Reconnects wait min(maxDelay, 0.5 s × 2^attempt)
// times a random 0.5–1.5 (jitter, so a restarted server is not hit by every phone at once).

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
    if (Number.isInteger(o.since) && o.since > 0) for (const channel of this.channels) this.last.set(channel, o.since);
    this.attempt = 0;
    this.wsFailures = 0;
    this.transport = "ws";
    this.stopped = false;
    this.conn = null;
    this.timer = null;
    this.watchdog = null;
    this.heartbeat = 15;
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
    if (this.welcomed) this.send({ type: "subscribe", channel, ...this.since(channel) });
  }

  unsubscribe(channel) {
    this.channels.delete(channel);
    this.last.delete(channel);
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
    const params = new URLSearchParams();
    for (const channel of this.channels) params.append("channel", channel);
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
    for (const type of ["welcome", "subscribed", "frame", "snapshot", "heartbeat", "unsubscribed", "message"]) {
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
        this.heartbeat = Number(msg.heartbeat) || 15;
        this.arm();
        if (this.conn && this.conn.kind === "ws") {
          for (const channel of this.channels) {
            this.send({ type: "subscribe", channel, ...this.since(channel) });
          }
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
        this.onSnapshot(msg.channel, msg.state || {}, msg.position);
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
    // A frame that starts before what we have (over SSE one `since` serves every channel)
    // is replayed only from where this channel stopped.
    const fresh = (msg.messages || []).filter((m) => last === undefined || m.p === undefined || m.p > last);
    for (const message of fresh) {
      try {
        this.onMessage(channel, message);
      } catch (error) {
        console.error("live message handler failed", error);
      }
    }
  }
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
