// The create-a-tournament wizard: four steps, then one tournament, its games and bonuses,
// created through the API. Every write carries a key kept for this tab, so pressing "Create"
// again after a dropped connection finishes the job instead of making a second tournament.

import { busy, explain, forgetKey, keyFor, send } from "../api.js";
import { h } from "../dom.js";
import { addEditor, bonusBody, checkGame, gameBody } from "../editors.js";

const form = document.getElementById("wizard");
const steps = [...form.querySelectorAll("[data-step]")];
const links = [...form.querySelectorAll("[data-step-link]")];
const games = document.getElementById("games");
const bonuses = document.getElementById("bonuses");
const errorBox = document.getElementById("wizard-error");
let current = 0;

function basics() {
  // By id: the game and bonus editors in the same form have fields called "name" too.
  const step = steps[0];
  const f = (name) => step.querySelector(`[name="${name}"]`);
  const body = {
    name: f("name").value.trim(),
    venue: f("venue").value.trim(),
    rules: f("rules").value,
    max_teams: Number(f("max_teams").value || 32),
    max_team_size: Number(f("max_team_size").value || 6),
    open_registration: f("open_registration").checked,
  };
  if (f("date").value) body.date = f("date").value;
  if (f("password").value) body.password = f("password").value;
  return body;
}

function problem() {
  const b = basics();
  if (!b.name) return [0, "Give the tournament a name."];
  if (b.password && b.password.length < 8) return [0, "The password needs at least 8 characters (or leave it empty)."];
  const editors = [...games.querySelectorAll(".editor")];
  if (!editors.length) return [1, "Add at least one game."];
  for (const editor of editors) {
    const message = checkGame(gameBody(editor));
    if (message) return [1, message];
  }
  for (const editor of bonuses.querySelectorAll(".editor")) {
    if (!bonusBody(editor).name) return [2, "Every challenge needs a name."];
  }
  return null;
}

function go(step) {
  current = Math.max(0, Math.min(steps.length - 1, step));
  steps.forEach((el, i) => {
    el.hidden = i !== current;
  });
  links.forEach((a, i) => {
    if (i === current) a.setAttribute("aria-current", "step");
    else a.removeAttribute("aria-current");
  });
  if (current === 3) review();
  steps[current].querySelector("legend")?.scrollIntoView({ block: "start" });
  const first = steps[current].querySelector("input, select, textarea, button");
  first?.focus({ preventScroll: true });
}

function review() {
  const b = basics();
  const gameList = [...games.querySelectorAll(".editor")].map(gameBody);
  const bonusList = [...bonuses.querySelectorAll(".editor")].map(bonusBody);
  const box = document.getElementById("review");
  box.replaceChildren(
    h(
      "dl",
      {},
      h("dt", {}, "Name"),
      h("dd", {}, b.name || "—"),
      h("dt", {}, "Where, when"),
      h("dd", {}, [b.venue, b.date].filter(Boolean).join(", ") || "—"),
      h("dt", {}, "Teams"),
      h("dd", {}, `up to ${b.max_teams}, ${b.max_team_size} players each`),
      h("dt", {}, "Games"),
      h("dd", {}, gameList.map((g) => `${g.name || "?"} (${g.stations.join(", ")})`).join(" · ") || "none yet"),
      h("dt", {}, "Bonuses"),
      h("dd", {}, bonusList.map((x) => `${x.name} +${x.points}`).join(" · ") || "none"),
    ),
  );
  const wrong = problem();
  errorBox.textContent = wrong ? wrong[1] : "";
  errorBox.hidden = !wrong;
}

form.addEventListener("click", (event) => {
  const target = event.target.closest("button, a");
  if (!target) return;
  if (target.matches("[data-next]")) go(current + 1);
  else if (target.matches("[data-prev]")) go(current - 1);
  else if (target.matches("[data-step-link]")) {
    event.preventDefault();
    go(Number(target.dataset.stepLink));
  } else if (target.matches("[data-preset]")) addEditor(games, "game-editor", target.dataset.preset);
  else if (target.matches("[data-add-bonus]")) addEditor(bonuses, "bonus-editor");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const wrong = problem();
  if (wrong) {
    go(wrong[0]);
    errorBox.textContent = wrong[1];
    errorBox.hidden = false;
    return;
  }
  busy(form, true);
  errorBox.hidden = true;
  try {
    const created = await send("/api/v1/tournaments", basics(), { key: keyFor("tournament") });
    const id = created.tournament.id;
    const base = `/api/v1/tournaments/${encodeURIComponent(id)}`;
    const gameBodies = [...games.querySelectorAll(".editor")].map(gameBody);
    for (const [i, body] of gameBodies.entries()) {
      await send(`${base}/games`, body, { key: keyFor(`game-${i}`) });
    }
    const bonusBodies = [...bonuses.querySelectorAll(".editor")].map(bonusBody);
    for (const [i, body] of bonusBodies.entries()) {
      await send(`${base}/bonuses`, body, { key: keyFor(`bonus-${i}`) });
    }
    for (const name of ["tournament", ...gameBodies.map((_, i) => `game-${i}`), ...bonusBodies.map((_, i) => `bonus-${i}`)]) {
      forgetKey(name);
    }
    form.hidden = true;
    const done = document.getElementById("created");
    document.getElementById("created-code").textContent = created.join_code;
    document.getElementById("created-link").value = `${location.origin}/t/${encodeURIComponent(id)}/signin#token=${encodeURIComponent(created.token)}`;
    document.getElementById("created-go").href = `/t/${encodeURIComponent(id)}/admin`;
    const nudge = document.getElementById("created-password");
    nudge.querySelector("form").dataset.action = `${base}/password`;
    nudge.hidden = Boolean(basics().password);
    done.hidden = false;
    done.querySelector("h2").focus?.();
    done.scrollIntoView();
  } catch (error) {
    errorBox.textContent = explain(error);
    errorBox.hidden = false;
  } finally {
    busy(form, false);
  }
});

document.getElementById("created-link").addEventListener("focus", (e) => e.target.select());

// The date of the party: today unless the organizer says otherwise.
const date = document.getElementById("t-date");
if (date && !date.value) date.value = new Date().toLocaleDateString("sv"); // YYYY-MM-DD, local

document.getElementById("created-copy").addEventListener("click", async (event) => {
  const link = document.getElementById("created-link");
  try {
    await navigator.clipboard.writeText(link.value);
  } catch {
    link.select();
    document.execCommand("copy");
  }
  event.target.textContent = "Copied ✔";
});
