// The leaderboard redraws itself from live `leaderboard` messages (rows slide to their new
// places); the points race and per-game tables refresh from the page.
import { leaderboardRows, renderBoard } from "../board.js";
import * as patches from "../deltas.js";
import { follow } from "../follow.js";

const overall = !new URLSearchParams(location.search).has("game");
const table = () => document.querySelector("#board table.board");
// The points race draws each team's overall points: it changes only when one of them does
// (most results move nobody's points until a game's places are certain).
const pointsOf = (rows) => rows.map((row) => `${row.team.id}:${row.points}`).sort().join(" ");
let shown = null;

follow({
  channels: ["tournament"],
  keep: ["leaderboard"],
  patches,
  skip: overall ? new Set(["board"]) : new Set(),
  onMessage: (channel, message) => {
    const rows = message.kind === "leaderboard" ? leaderboardRows(message) : null;
    if (rows && overall && table()) {
      renderBoard(table(), rows);
      const points = pointsOf(rows);
      const moved = points !== shown;
      shown = points;
      return moved; // then refresh the race
    }
    return ["leaderboard", "game_updated", "team_updated", "team_joined"].includes(message.kind);
  },
  onSnapshot: (channel, state) => {
    const rows = leaderboardRows(state);
    if (overall && table() && rows) {
      renderBoard(table(), rows);
      shown = pointsOf(rows);
    }
  },
});
