// The control room: refreshes on every change in the tournament; adds games, challenges and
// referee phones (their answers are needed at once, so these go straight to the API).

import { busy, send, showError } from "../api.js";
import { h, refreshRegions } from "../dom.js";
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

// Webhooks: the answer holds the signing secret, shown here this once.
const webhook = document.getElementById("add-webhook");
if (webhook) {
  const secretBox = document.getElementById("webhook-secret");
  webhook.addEventListener("submit", async (event) => {
    event.preventDefault();
    const url = webhook.elements.namedItem("url").value.trim();
    const events = [...webhook.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
    if (!url) return showError(webhook, { message: "Type the receiver's URL." });
    if (!events.length) return showError(webhook, { message: "Pick at least one thing to send." });
    busy(webhook, true);
    try {
      const made = await send(webhook.dataset.api, { url, events }, { key: crypto.randomUUID() });
      showError(webhook, null);
      webhook.reset();
      secretBox.replaceChildren(
        h("p", {}, h("strong", {}, "Webhook added. "), "Its signing secret, shown only this once — copy it into the receiver now:"),
        h("input", { class: "copy", readonly: true, value: made.secret, "aria-label": "Signing secret" }),
        h("p", { class: "small muted" }, `Deliveries to ${made.webhook.url} carry webhook-id, webhook-timestamp and webhook-signature headers (Standard Webhooks).`),
      );
      secretBox.hidden = false;
      document.dispatchEvent(new CustomEvent("outbox-sent"));
    } catch (error) {
      showError(webhook, error);
    } finally {
      busy(webhook, false);
    }
  });
}

// A delivery's attempts are not tournament news: while one is on its way, look again every few
// seconds (an unchanged page costs a 304). Open delivery logs stay open across refreshes.
const PENDING_POLL_MS = 5000;
setInterval(() => {
  if (!document.hidden && document.querySelector("#admin-webhooks [data-pending]")) refreshRegions();
}, PENDING_POLL_MS);
const openLogs = new Set();
document.addEventListener(
  "toggle",
  (event) => {
    const hook = event.target.closest && event.target.closest("[data-webhook]");
    if (!hook || !event.target.matches("details")) return;
    if (event.target.open) openLogs.add(hook.dataset.webhook);
    else openLogs.delete(hook.dataset.webhook);
  },
  true,
);
document.addEventListener("regions-refreshed", () => {
  for (const id of openLogs) {
    const log = document.querySelector(`[data-webhook="${CSS.escape(id)}"] details`);
    if (log) log.open = true;
  }
});
