// Organizer sign-in with the password; a sign-in link (#token=…) fills in and sends itself.

import { busy, send, showError } from "../api.js";

const tournament = document.body.dataset.tournament;
const form = document.getElementById("password-signin");
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  busy(form, true);
  try {
    await send(`/api/v1/tournaments/${encodeURIComponent(tournament)}/sessions`, {
      password: form.elements.namedItem("password").value,
      label: form.elements.namedItem("label").value,
    });
    location.assign(`/t/${encodeURIComponent(tournament)}/admin`);
  } catch (error) {
    showError(form, error);
  } finally {
    busy(form, false);
  }
});

const token = new URLSearchParams(location.hash.slice(1)).get("token");
if (token) {
  history.replaceState(null, "", location.pathname); // keep the token out of the history
  const tokenForm = document.getElementById("token-signin");
  tokenForm.elements.namedItem("token").value = token;
  tokenForm.submit();
}
