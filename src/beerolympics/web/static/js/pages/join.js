// Joining: start a team with the tournament's join code, or join one with its invite code.
// The server answers with a credential, kept as this phone's cookie; then off to the team.

import { busy, keyFor, send, showError } from "../api.js";

const tournament = document.body.dataset.tournament;
const base = `/api/v1/tournaments/${encodeURIComponent(tournament)}`;

function wire(id, url, toBody) {
  const form = document.getElementById(id);
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    busy(form, true);
    try {
      const made = await send(url, toBody(form), { key: keyFor(`${id}:${tournament}`) });
      location.assign(`/t/${encodeURIComponent(tournament)}/teams/${encodeURIComponent(made.team.id)}`);
    } catch (error) {
      showError(form, error);
    } finally {
      busy(form, false);
    }
  });
  // Another attempt after an error must be a new request, not the replay of the refused one.
  form.addEventListener("input", () => sessionStorage.removeItem(`key:${id}:${tournament}`));
}

wire("join-team", `${base}/members`, (form) => ({
  invite_code: form.elements.namedItem("invite_code").value.trim().toUpperCase(),
  name: form.elements.namedItem("name").value.trim(),
}));

let customColour = null;
const picker = document.querySelector('input[name="colour_custom"]');
picker?.addEventListener("input", () => {
  customColour = picker.value.toUpperCase();
  for (const radio of document.querySelectorAll('input[name="colour"]')) radio.checked = false;
});
for (const radio of document.querySelectorAll('input[name="colour"]')) {
  radio.addEventListener("change", () => {
    customColour = null;
  });
}

wire("new-team", `${base}/teams`, (form) => {
  const chosen = form.querySelector('input[name="colour"]:checked');
  const body = {
    name: form.elements.namedItem("name").value.trim(),
    captain_name: form.elements.namedItem("captain_name").value.trim(),
    join_code: form.elements.namedItem("join_code").value.trim().toUpperCase(),
    colour: customColour || (chosen ? chosen.value : "#E4572E"),
    flag: form.elements.namedItem("flag").value,
  };
  const motto = form.elements.namedItem("motto").value.trim();
  if (motto) body.motto = motto;
  return body;
});
