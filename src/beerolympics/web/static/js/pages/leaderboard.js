// The leaderboard redraws itself from live `leaderboard` messages (rows slide to their new
// places); the points race and per-game tables refresh from the page.
import { leaderboardRows, renderBoard } from "../board.js";
import * as patches from "../deltas.js";
import { follow } from "../follow.js";

const overall = !new URLSearchParams(location.search).has("game");
const table = () => document.querySelector("#board table.board");

follow({
  channels: ["tournament"],
  keep: ["leaderboard"],
  patches,
  skip: overall ? new Set(["board"]) : new Set(),
  onMessage: (channel, message) => {
    const rows = message.kind === "leaderboard" ? leaderboardRows(message) : null;
    if (rows && overall && table()) {
      renderBoard(table(), rows);
      return true; // and refresh the race
    }
    return ["leaderboard", "game_updated", "team_updated", "team_joined"].includes(message.kind);
  },
  onSnapshot: (channel, state) => {
    const rows = leaderboardRows(state);
    if (overall && table() && rows) renderBoard(table(), rows);
  },
});
