// The overall leaderboard table, redrawn from a live `leaderboard` message with the rows
// sliding to their new places.

import { flip, h, points, teamChip } from "./dom.js";

/** Redraw `table` (a `.board`) from leaderboard rows; rows that moved up or down are marked. */
export function renderBoard(table, rows, limit) {
  const body = table.tBodies[0];
  if (!body) return;
  const tournament = document.body.dataset.tournament;
  const games = [...table.querySelectorAll("thead [data-game]")].map((th) => th.dataset.game);
  const before = new Map([...body.rows].map((tr) => [tr.dataset.key, Number(tr.dataset.rank)]));
  const shown = limit ? rows.slice(0, limit) : rows;
  flip(body, () => {
    body.replaceChildren(
      ...shown.map((row) => {
        const old = before.get(row.team.id);
        const moved = old === undefined || Number.isNaN(old) ? "" : row.rank < old ? "up moved" : row.rank > old ? "down moved" : "";
        const link = h("a", { href: `/t/${encodeURIComponent(tournament)}/teams/${encodeURIComponent(row.team.id)}` });
        const chip = teamChip(row.team);
        const name = chip.querySelector(".name");
        link.textContent = row.team.name;
        name.replaceWith(Object.assign(link, { className: "name" }));
        return h(
          "tr",
          { dataset: { key: row.team.id, rank: row.rank }, class: [row.status !== "active" ? "gone" : "", moved].join(" ").trim() || null },
          h("td", { class: "rank" }, String(row.rank)),
          h("th", { scope: "row" }, chip),
          h("td", { class: "num pts" }, points(row.points)),
          ...games.map((g) => h("td", { class: "num wide" }, row.games && row.games[g] ? points(row.games[g].points) : "–")),
          games.length ? h("td", { class: "num wide" }, points(row.bonus_points)) : null,
        );
      }),
    );
  });
}

/**
 * The rows of a `leaderboard` message. The protocol says `rows` (docs/live-protocol.md); a
 * server that sends the whole board as `leaderboard` is read too.
 */
export function leaderboardRows(message) {
  if (Array.isArray(message.rows)) return message.rows;
  const board = message.leaderboard;
  if (board && Array.isArray(board.rows)) return board.rows;
  if (Array.isArray(board)) return board;
  return null;
}
