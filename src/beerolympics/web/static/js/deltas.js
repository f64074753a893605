// Applies the patches of the live protocol (docs/live-protocol.md, "Deltas"; the server's side
// is live/deltas.py): the leaderboard and the station board change by what a frame says.
// Loaded only by pages that keep those states (they hand it to live.js as `patches`).

import { expand } from "./matchview.js";

/** The key of a list item: its id, its team's id (a leaderboard row), or game and station. */
export function keyOf(item) {
  if (!item || typeof item !== "object" || Array.isArray(item)) return null;
  if (typeof item.id === "string") return item.id;
  if (item.id === undefined && typeof item.$ref === "string") return item.$ref;
  if (item.id === undefined && typeof item.$team === "string") return item.$team;
  if (item.team && typeof item.team === "object") {
    const team = item.team.id !== undefined ? item.team.id : item.team.$team;
    if (typeof team === "string") return team;
  }
  if (item.station && typeof item.station === "object" && typeof item.game_id === "string" && typeof item.station.id === "string") {
    return `${item.game_id}/${item.station.id}`;
  }
  return null;
}

/** `value` with `patch` applied; `value` itself is left as it was. */
export function applyPatch(value, patch) {
  if (Array.isArray(value)) return applyList(value, patch);
  if (!value || typeof value !== "object") throw new TypeError("a patch applies to an object or a list of keyed items");
  const out = { ...value };
  for (const [key, entry] of Object.entries(patch)) {
    if (Array.isArray(entry)) {
      if (entry.length) out[key] = entry[0];
      else delete out[key];
    } else if (entry !== null && typeof entry === "object") {
      out[key] = applyPatch(out[key], entry);
    } else {
      out[key] = entry;
    }
  }
  return out;
}

function applyList(old, patch) {
  const items = patch.i || {};
  let list;
  if (patch.o) {
    list = [];
    for (const run of patch.o) {
      // (A new item that only refers to a match is said by its key alone.)
      if (typeof run === "string") list.push(run in items ? items[run][0] : { $ref: run });
      else list.push(...old.slice(run[0], run[0] + run[1]));
    }
  } else {
    list = old.slice();
  }
  const keys = Object.keys(items);
  if (keys.length) {
    const at = new Map(list.map((item, i) => [keyOf(item), i]));
    for (const key of keys) {
      const i = at.get(key);
      if (i === undefined) throw new Error(`no item ${key} to patch`);
      const entry = items[key];
      list[i] = Array.isArray(entry) ? entry[0] : applyPatch(list[i], entry);
    }
  }
  return list;
}

/** A patched state as the HTTP API has it: each `{"$ref": id}` replaced by the match view of
 * that id in `$matches`, each `{"$team": id}` by the team in `$teams`, the station board's free
 * tables given their next matches from `$next` (the server keeps each once, see
 * live/deltas.py), and the ranks said once filled in again (`$ditto`). */
export function denormalize(state) {
  const matches = state && state.$matches;
  const teams = state && state.$teams;
  const lifted = state && state.$next;
  if (!matches && !teams && !lifted && !(state && state.$ditto)) return state;
  const tables = new Set(["$matches", "$teams", "$next", "$ditto"]);
  const out = {};
  for (const key of Object.keys(state)) {
    if (tables.has(key)) continue;
    let value = key === "stations" && lifted && Array.isArray(state.stations) ? lowerNext(state.stations, lifted) : state[key];
    if (key === "rows" && state.$ditto && Array.isArray(value)) value = fillDitto(value);
    out[key] = dereference(value, matches || {}, teams || {}, false);
  }
  return out;
}

/** A leaderboard row without a `rank` has the row above's (`$ditto`). */
function fillDitto(rows) {
  const out = [];
  for (const row of rows) {
    const filled = row && typeof row === "object" && !("rank" in row) && out.length ? { ...row, rank: out[out.length - 1].rank } : row;
    out.push(filled);
  }
  return out;
}

/** `value`, a part of the normalized `state` (a match of its `$matches`, say), with its
 * references replaced by what they refer to and filled in (`expand`); an error for one the
 * state does not hold. */
export function resolve(value, state) {
  return expand(dereference(value, state.$matches || {}, state.$teams || {}, true));
}

/** `value` with each `{"$ref": id}` and `{"$team": id}` replaced by what it refers to (a match
 * filled in); one the tables do not hold is an error when `strict`, else left undefined. */
function dereference(value, matches, teams, strict) {
  const walk = (v) => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === "$ref") {
        if (strict && !Object.hasOwn(matches, v.$ref)) throw new Error(`no match ${v.$ref}`);
        return walk(expand(matches[v.$ref]));
      }
      if (keys.length === 1 && keys[0] === "$team") {
        if (strict && !Object.hasOwn(teams, v.$team)) throw new Error(`no team ${v.$team}`);
        return teams[v.$team];
      }
      return Object.fromEntries(keys.map((k) => [k, walk(v[k])]));
    }
    return v;
  };
  return walk(value);
}

/** The i-th free table of a game shows the i-th of the game's next matches (`$next`); a busy
 * table shows none. */
function lowerNext(boards, lifted) {
  const seen = new Map();
  return boards.map((board) => {
    const game = board && typeof board === "object" ? board.game_id : undefined;
    if (typeof game !== "string" || !Object.hasOwn(lifted, game)) return board;
    let entry;
    if (board.now_playing === null || board.now_playing === undefined) {
      const i = seen.has(game) ? seen.get(game) + 1 : 0;
      seen.set(game, i);
      entry = lifted[game][i];
    }
    return {
      ...board,
      up_next: entry ? { $ref: entry.$ref } : null,
      waits_for: entry && entry.waits_for !== undefined ? entry.waits_for : [],
      ready_at: entry && entry.ready_at !== undefined ? entry.ready_at : null,
    };
  });
}
