// The control room: refreshes on every change in the tournament; adds games, challenges and
// referee phones (their answers are needed at once, so these go straight to the API).

import { busy, send, showError } from "../api.js";
import { h } from "../dom.js";
import { addEditor, bonusBody, checkGame, gameBody } from "../editors.js";
import { follow } from "../follow.js";

follow({ channels: ["tournament"] });

function setUp(formId, slotId, templateId, toBody, check) {
  const form = document.getElementById(formId);
  if (!form) return;
  const slot = document.getElementById(slotId);
  let editor = addEditor(slot, templateId, templateId === "game-editor" ? "blank" : {});
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = toBody(editor);
    const wrong = check(body);
    if (wrong) {
      showError(form, { message: wrong });
      return;
    }
    busy(form, true);
    try {
      await send(form.dataset.api, body, { key: crypto.randomUUID() });
      showError(form, null);
      editor.remove();
      editor = addEditor(slot, templateId, templateId === "game-editor" ? "blank" : {});
      document.dispatchEvent(new CustomEvent("outbox-sent"));
    } catch (error) {
      showError(form, error);
    } finally {
      busy(form, false);
    }
  });
}

setUp("add-game", "game-slot", "game-editor", gameBody, checkGame);
setUp("add-bonus", "bonus-slot", "bonus-editor", bonusBody, (b) => (b.name ? "" : "The challenge needs a name."));

const referee = document.getElementById("add-referee");
if (referee) {
  referee.addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = document.getElementById("referee-link");
    try {
      const label = referee.elements.namedItem("label").value;
      const made = await send(referee.dataset.api, { label }, { key: crypto.randomUUID() });
      const tournament = document.body.dataset.tournament;
      const link = `${location.origin}/t/${encodeURIComponent(tournament)}/signin#token=${encodeURIComponent(made.token)}`;
      out.replaceChildren(
        h("span", {}, "Open this on the referee's phone (shown once): "),
        h("input", { class: "copy", readonly: true, value: link, "aria-label": "Referee sign-in link" }),
      );
    } catch (error) {
      out.replaceChildren(h("span", { class: "banner warn" }, error.message));
    }
    out.hidden = false;
  });
}
