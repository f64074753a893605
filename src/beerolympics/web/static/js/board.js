// The overall leaderboard table, redrawn from a live `leaderboard` message with the rows
// sliding to their new places.

import { flip, h, points, teamChip } from "./dom.js";

/** Secured points and, for a team still in a game, what it can still reach (as the
 * `points_cell` macro draws them). */
function pointsCell(score, provisional) {
  const reach =
    provisional && score.max_points > score.points
      ? h(
          "span",
          { class: "reach", title: "can still reach" },
          h("span", { class: "vh" }, " secured, can still reach "),
          h("span", { "aria-hidden": "true" }, "→"),
          points(score.max_points),
        )
      : null;
  return h("td", { class: "num pts" }, points(score.points), reach);
}

function gameCell(score) {
  if (!score) return h("td", { class: "num wide" }, "–");
  const reach =
    score.place === null && score.max_points > score.points
      ? h("span", { class: "reach" }, h("span", { "aria-hidden": "true" }, "→"), h("span", { class: "vh" }, " up to "), points(score.max_points))
      : null;
  return h("td", { class: "num wide" }, points(score.points), reach);
}

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
        const ranked = row.rank !== null && row.rank !== undefined;
        const moved = !ranked || old === undefined || Number.isNaN(old) ? "" : row.rank < old ? "up moved" : row.rank > old ? "down moved" : "";
        const link = h("a", { href: `/t/${encodeURIComponent(tournament)}/teams/${encodeURIComponent(row.team.id)}` });
        const chip = teamChip(row.team);
        const name = chip.querySelector(".name");
        link.textContent = row.team.name;
        name.replaceWith(Object.assign(link, { className: "name" }));
        const classes = [row.status !== "active" ? "gone" : "", row.provisional ? "provisional" : "", moved];
        return h(
          "tr",
          { dataset: { key: row.team.id, rank: ranked ? row.rank : "" }, class: classes.join(" ").trim() || null },
          h("td", { class: "rank" }, ranked ? String(row.rank) : "–"),
          h(
            "th",
            { scope: "row" },
            chip,
            row.decided_by && games.length
              ? [" ", h("span", { class: "small muted why", title: "tie broken by" }, `(${row.decided_by.replaceAll("_", " ")})`)]
              : null,
          ),
          pointsCell(row, row.provisional),
          ...games.map((g) => gameCell(row.games && row.games[g])),
          games.length ? h("td", { class: "num wide" }, points(row.bonus_points)) : null,
          games.length ? h("td", { class: "num wide" }, points(row.rating || 0)) : null,
        );
      }),
    );
  });
  const legend = table.parentElement && table.parentElement.querySelector("[data-board-legend]");
  if (legend) legend.hidden = !shown.some((row) => row.provisional);
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
