// Match views as live frames say them: compact, without the fields at their usual values.

/** What most match views say: a match view comes compact, without the fields at these values
 * (in `$matches`, and in `match_updated` messages); `expand` fills them in again (as
 * live/deltas.py's MATCH_DEFAULTS and SLOT_DEFAULTS). */
const MATCH_DEFAULTS = { kind: "head_to_head", best_of: 1, status: "ready", station: null, winner_to: null, loser_to: null, deadline: null, flagged: null };
const SLOT_DEFAULTS = { source: "team", score: null, place: null, winner: false, placeholder: "" };

/** A compact match view whole (anything else as it is). */
export function expand(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  if (typeof value.id !== "string" || typeof value.game_id !== "string" || !Array.isArray(value.slots)) return value;
  return {
    ...MATCH_DEFAULTS,
    ...value,
    slots: value.slots.map((s) => (s && typeof s === "object" && !Array.isArray(s) ? { ...SLOT_DEFAULTS, ...s } : s)),
  };
}
