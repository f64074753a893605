// Firefox (Debian's ESR, driven by puppeteer-core over WebDriver BiDi) follows a tournament's
// live frames while announcements come in bursts, over a WebSocket (compressed) and over
// Server-Sent Events (gzipped), and prints what it decoded as one JSON line.
// Run by tests/integration/test_firefox.py:
//   node frames.mjs '{"firefox": "/usr/bin/firefox-esr", "base": "http://127.0.0.1:8000",
//                     "tournament": "<id>", "token": "<organizer credential>"}'
import puppeteer from "puppeteer-core";

const o = JSON.parse(process.argv[2]);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: o.firefox,
  headless: true,
});
try {
  const page = await browser.newPage();
  await page.goto(`${o.base}/t/${o.tournament}`);
  await page.waitForFunction(() => document.body.dataset.live === "live", { timeout: 15000 });
  // A socket of its own beside the page's, keeping both patched states: every message it reads.
  await page.evaluate(
    (tournament) =>
      new Promise((resolve) => {
        window.seen = [];
        window.failures = [];
        const url = `${location.origin.replace("http", "ws")}/api/v1/tournaments/${tournament}/live`;
        const ws = (window.socket = new WebSocket(url));
        const subscribe = { type: "subscribe", channel: "tournament", protocol: 5 };
        subscribe.have = { leaderboard: -1, stations: -1 };
        ws.onopen = () => ws.send(JSON.stringify(subscribe));
        ws.onmessage = (event) => {
          try {
            const message = JSON.parse(event.data);
            window.seen.push(message);
            if (message.type === "snapshot") resolve();
          } catch (error) {
            window.failures.push(`${error}: ${event.data.slice(0, 80)}`);
          }
        };
        ws.onclose = (event) => {
          window.failures.push(`closed ${event.code}`);
          resolve();
        };
      }),
    o.tournament,
  );
  // And Server-Sent Events, as a page follows where WebSockets are blocked: gzipped.
  const encoding = await page.evaluate((tournament) => {
    const url = `/api/v1/tournaments/${tournament}/live/events?channel=tournament&protocol=5`;
    window.sse = [];
    const source = (window.source = new EventSource(url));
    source.addEventListener("frame", (event) => {
      for (const m of JSON.parse(event.data).messages) {
        if (m.kind === "announcement") window.sse.push(m.announcement.message);
      }
    });
    const aborted = new AbortController();
    return fetch(url, { signal: aborted.signal }).then((reply) => {
      aborted.abort();
      return reply.headers.get("content-encoding");
    });
  }, o.tournament);
  await page.waitForFunction(() => window.source.readyState === EventSource.OPEN);
  const sent = [];
  for (let i = 0; i < 40; i++) {
    const message = `${i} Pizza is at the bar; the next round starts at table ${i % 5}`;
    const reply = await fetch(`${o.base}/api/v1/tournaments/${o.tournament}/announcements`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${o.token}` },
      body: JSON.stringify({ message }),
    });
    if (!reply.ok) throw new Error(await reply.text());
    sent.push(message);
    await pause(i % 4 ? 30 : 1100); // bursts that share frames, and heartbeats between
  }
  // The page's own live connection shows the last one as a banner.
  await page.waitForFunction(
    (last) => [...document.querySelectorAll("#flash .ann")].some((b) => b.textContent.includes(last)),
    { timeout: 15000 },
    sent.at(-1),
  );
  // Over Server-Sent Events too, while the stream goes on (no event waits for the next).
  await page.waitForFunction((last) => window.sse.includes(last), { timeout: 15000 }, sent.at(-1));
  await pause(500);
  const read = await page.evaluate(() => ({
    extensions: window.socket.extensions,
    failures: window.failures,
    seen: window.seen,
    live: document.body.dataset.live,
    sse: window.sse,
    sseOpen: window.source.readyState === EventSource.OPEN,
  }));
  console.log(JSON.stringify({ version: await browser.version(), sent, encoding, ...read }));
} finally {
  await browser.close();
}
