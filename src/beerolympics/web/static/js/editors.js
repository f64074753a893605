// The game and bonus editors of the wizard and the control room: clone a <template>, read it
// back as the API's AddGame / AddBonus body.

const PRESETS = {
  "beer-pong": { name: "Beer Pong", format: "double_elimination", grand_final: "reset", stations: "Table 1\nTable 2" },
  "flip-cup": { name: "Flip Cup", format: "heats", heat_size: "4", heat_rounds: "1", heat_scoring: "lower", stations: "Lane A" },
  cornhole: { name: "Cornhole", format: "groups_playoffs", groups: "2", advance_per_group: "2", stations: "Board 1\nBoard 2" },
  quarters: { name: "Quarters", format: "swiss", stations: "Table 3" },
  chug: { name: "Chug Race", format: "heats", heat_size: "4", heat_rounds: "1", heat_scoring: "lower", stations: "Bar" },
  blank: { name: "", format: "single_elimination", stations: "Table 1" },
};

function field(root, name) {
  return root.querySelector(`[name="${name}"]`);
}

function showOptions(editor) {
  const format = field(editor, "format").value;
  for (const box of editor.querySelectorAll(".opts")) {
    const on = box.dataset.for.split(" ").includes(format);
    box.hidden = !on;
    for (const input of box.querySelectorAll("input, select")) input.disabled = !on;
  }
}

let count = 0;

/** A new editor from `<template id=…>` in `container`, filled from a preset. */
export function addEditor(container, templateId, preset = {}) {
  const fragment = document.getElementById(templateId).content.cloneNode(true);
  const editor = fragment.querySelector(".editor");
  count += 1;
  // Unique ids for labels: the template's inputs sit inside their labels, so none are needed.
  editor.dataset.index = String(count);
  container.append(fragment);
  const values = typeof preset === "string" ? PRESETS[preset] || {} : preset;
  for (const [name, value] of Object.entries(values)) {
    const input = field(editor, name);
    if (input) input.value = value;
  }
  const format = field(editor, "format");
  if (format) {
    format.addEventListener("change", () => showOptions(editor));
    showOptions(editor);
  }
  editor.querySelector("[data-remove]")?.addEventListener("click", () => editor.remove());
  // The options stay folded away; their summary says what is set.
  const recap = editor.querySelector("[data-recap]");
  if (recap) {
    const say = () => {
      const stations = field(editor, "stations").value.split(/\n|,/).map((x) => x.trim()).filter(Boolean);
      recap.textContent = `— ${stations.join(", ") || "Table 1"} · ${field(editor, "placement_points").value}`;
    };
    editor.addEventListener("input", say);
    say();
  }
  const first = field(editor, "name");
  if (first && !first.value) first.focus();
  return editor;
}

const num = (input, fallback = null) => (input && input.value !== "" ? Number(input.value) : fallback);
const checked = (input) => Boolean(input && input.checked && !input.disabled);

/** AddGame from an editor. */
export function gameBody(editor) {
  const f = (name) => field(editor, name);
  const format = f("format").value;
  const options = {};
  const bestOf = f("best_of");
  if (bestOf && !bestOf.disabled && Number(bestOf.value) !== 1) options.best_of = Number(bestOf.value);
  if (checked(f("third_place"))) options.third_place = true;
  if (format === "double_elimination") options.grand_final = f("grand_final").value;
  if (checked(f("allow_draws")) && !options.best_of) options.allow_draws = true;
  if (format === "groups_playoffs") {
    options.groups = num(f("groups"), 2);
    options.advance_per_group = num(f("advance_per_group"), 2);
  }
  if (format === "swiss" && num(f("rounds")) !== null) options.rounds = num(f("rounds"));
  const body = { name: f("name").value.trim(), format, options };
  if (format === "heats") {
    options.heat_size = num(f("heat_size"), 4);
    options.rounds = num(f("heat_rounds"), 1);
    if (options.rounds > 1) options.advance_per_heat = num(f("advance_per_heat"), 2);
    body.heat_scoring = f("heat_scoring").value;
  }
  body.stations = f("stations").value.split(/\n|,/).map((s) => s.trim()).filter(Boolean);
  if (!body.stations.length) body.stations = ["Table 1"];
  body.placement_points = f("placement_points").value.split(/[,\s/]+/).filter(Boolean).map(Number);
  body.points_beyond = num(f("points_beyond"), 0);
  body.participation_points = num(f("participation_points"), 0);
  body.lower_score_wins = checked(f("lower_score_wins"));
  body.auto_call = checked(f("auto_call"));
  return body;
}

/** AddBonus from an editor. */
export function bonusBody(editor) {
  const f = (name) => field(editor, name);
  const body = {
    name: f("name").value.trim(),
    points: num(f("points"), 0),
    description: f("description").value.trim(),
    per: f("per").value,
    needs_approval: checked(f("needs_approval")),
    max_completions: num(f("max_completions")),
  };
  return body;
}

/** What is wrong with an editor's values, in words, or "" when nothing. */
export function checkGame(body) {
  if (!body.name) return "Every game needs a name.";
  if (body.placement_points.some((p) => Number.isNaN(p) || p < 0)) return `${body.name}: points must be numbers, like 100, 75, 50.`;
  return "";
}
