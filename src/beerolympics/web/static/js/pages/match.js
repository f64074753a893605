// The match page follows its match channel; a change (the other side confirmed, an organizer
// stepped in) refreshes the page, with the new version for the next button press.
import { follow } from "../follow.js";

const region = document.querySelector("[data-match-id]");
if (region) {
  follow({ channels: [`match:${region.dataset.matchId}`] });
}

// "Counts by itself in 4:12": a countdown to the confirmation deadline.
function tick() {
  for (const el of document.querySelectorAll("time[data-countdown]")) {
    const left = Math.round((Date.parse(el.dateTime) - Date.now()) / 1000);
    if (Number.isNaN(left)) continue;
    if (!el.dataset.clock) el.dataset.clock = el.textContent;
    el.textContent =
      left > 0 ? `${el.dataset.clock} (in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")})` : el.dataset.clock;
  }
}
tick();
setInterval(tick, 1000);
