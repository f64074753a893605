// TV mode: rotates leaderboard, now playing, brackets, news, highlights, photos and the points
// race by itself;
// follows the tournament live and, after a server restart, is back within seconds (it retries
// at most every 4 s: one TV is no crowd).

import { leaderboardRows, renderBoard } from "../board.js";
import * as patches from "../deltas.js";
import { follow } from "../follow.js";
import { playFrames } from "../reel.js";

const params = new URLSearchParams(location.search);
// ?every=20: seconds per slide (12 by default).
const SLIDE_MS = Math.max(2, Number(params.get("every")) || 12) * 1000;
const slides = document.getElementById("slides");
let activeKey = "leaderboard";

function available() {
  return [...slides.querySelectorAll(".slide")].filter((slide) => {
    if (slide.dataset.slide === "news") return Boolean(slide.querySelector(".ann[data-key]"));
    return true;
  });
}

/** Shrink what is too big for the screen (a bracket), measured against the room inside the
 * main area's padding: the last column must not be cut off. */
function fit(slide) {
  const main = document.getElementById("main");
  const style = getComputedStyle(main);
  for (const box of slide.querySelectorAll("[data-fit]")) {
    box.style.transform = "";
    const room = main.getBoundingClientRect();
    const at = box.getBoundingClientRect();
    const width = room.right - parseFloat(style.paddingRight) - at.left;
    const height = room.bottom - parseFloat(style.paddingBottom) - at.top;
    const scale = Math.min(1, width / box.scrollWidth, height / box.scrollHeight);
    if (scale < 1) box.style.transform = `scale(${scale})`;
  }
}

// The reel (the last slide once the tournament is finished) plays its frames at half a slide
// each, and holds the rotation until it has played them all.
const FRAME_MS = SLIDE_MS / 2;
let reel = null;

function show(key) {
  const list = available();
  const slide =
    list.find((s) => s.dataset.slide === key) || list.find((s) => s.dataset.slide.startsWith(`${key}-`)) || list[0];
  if (!slide) return;
  activeKey = slide.dataset.slide;
  for (const s of slides.querySelectorAll(".slide")) s.classList.toggle("active", s === slide);
  fit(slide);
  document.body.dataset.slide = activeKey;
  // Shown again (its region refreshed, the screen resized), the reel goes on where it was.
  const from = reel && activeKey === "reel" ? reel.at : 0;
  if (reel) reel.stop();
  reel = activeKey === "reel" ? playFrames(slide.querySelector(".frames"), FRAME_MS, from) : null;
}

function next() {
  const list = available();
  const at = list.findIndex((s) => s.dataset.slide === activeKey);
  show(list[(at + 1) % list.length].dataset.slide);
}

function rotate() {
  next();
  setTimeout(rotate, reel ? reel.length * FRAME_MS : SLIDE_MS);
}

// ?slide=race shows one slide and holds it (for screenshots, or a second screen).
const pinned = params.get("slide");
slides.classList.add("rotating");
show(pinned || activeKey);
if (!pinned) setTimeout(rotate, SLIDE_MS);
addEventListener("resize", () => show(activeKey));
// After the page refreshed its regions, the same slide stays on screen.
// A pinned slide that was not there yet (the first photo) is shown once it comes.
// A new highlight is the next thing on screen, once the page has it.
let wanted = null;
document.addEventListener("regions-refreshed", () => {
  show(pinned || wanted || activeKey);
  if (activeKey === wanted) wanted = null;
});

const table = () => document.querySelector("#tv-leaders table.board");

follow({
  channels: ["tournament"],
  keep: ["leaderboard"],
  patches,
  personal: false,
  announcements: false,
  highlights: false,
  maxDelay: 4000,
  skip: new Set(["tv-leaders"]),
  onMessage: (channel, message) => {
    const rows = message.kind === "leaderboard" ? leaderboardRows(message) : null;
    if (rows && table()) renderBoard(table(), rows, 10);
    if (message.kind === "announcement" && message.announcement && message.announcement.audience === "all") {
      document.getElementById("tv-ticker").textContent = `📣 ${message.announcement.message}`;
      show("news");
    }
    if (message.kind === "highlight" && message.highlight && !message.highlight.removed) wanted = "highlights";
    return true;
  },
  onSnapshot: (channel, state) => {
    const rows = leaderboardRows(state);
    if (table() && rows) renderBoard(table(), rows, 10);
  },
});
