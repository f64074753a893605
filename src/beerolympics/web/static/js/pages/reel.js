// The reel: highlights and photos full screen, one after the other, by themselves and round
// and round; it follows the tournament live (new photos and highlights join the next round).
import { follow } from "../follow.js";
import { playFrames } from "../reel.js";

const params = new URLSearchParams(location.search);
// ?every=8: seconds per frame (6 by default).
const reel = playFrames(document.getElementById("reel"), Math.max(2, Number(params.get("every")) || 6) * 1000);
follow({ channels: ["tournament"], personal: false, announcements: false, maxDelay: 4000 });
document.addEventListener("regions-refreshed", () => reel.restart());
