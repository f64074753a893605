// Buttons that change things. A form with `data-action` becomes a write in the outbox: it is
// sent at once when there is a network, kept ("waiting to send") when there is not, and any
// refusal is shown here with what the server holds now.

import { explain, send } from "./api.js";
import { h } from "./dom.js";
import * as outbox from "./outbox.js";

const tournament = document.body.dataset.tournament || null;

/** The JSON body a form describes. `a.b` names nest; `@x` names are URL parts, not body. */
export function formBody(form, submitter) {
  const body = {};
  const url = { method: "POST", params: {} };
  const fields = [...form.elements].filter((el) => el.name && !el.disabled && el.type !== "submit");
  if (submitter && submitter.name) fields.push(submitter);
  for (const el of fields) {
    if ((el.type === "checkbox" || el.type === "radio") && !el.checked) {
      if (el.type === "checkbox" && el.dataset.kind === "bool") setPath(body, el.name, false);
      continue;
    }
    let value = el.type === "checkbox" && el.dataset.kind === "bool" ? true : el.value;
    if (el.name === "@method") {
      url.method = value;
      continue;
    }
    if (el.name.startsWith("@")) {
      url.params[el.name.slice(1)] = value;
      continue;
    }
    if (value === "") continue;
    if (el.dataset.kind === "number") value = Number(value);
    else if (el.dataset.kind === "bool") value = value === "true" || value === true;
    setPath(body, el.name, value);
  }
  // A group of fields that only makes sense complete (both scores) is left out when partial.
  for (const group of form.querySelectorAll("[data-complete]")) {
    const inputs = [...group.querySelectorAll("input")];
    if (inputs.some((i) => i.value === "")) delete body[group.dataset.complete];
  }
  return { body, ...url };
}

function setPath(target, path, value) {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) node = node[part] ??= {};
  node[parts[parts.length - 1]] = value;
}

function actionUrl(form, params) {
  return form.dataset.action.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(params[name] || ""));
}

/** Queue the form's write (and a "start" before it when the match must be started first). */
export async function submit(form, submitter) {
  if (form.dataset.confirm && !confirm(form.dataset.confirm)) return;
  const { body, method, params } = formBody(form, submitter);
  if ("direct" in form.dataset) {
    // Secrets (a password) never wait in the outbox: sent now, or an error now.
    form.querySelector(".form-error")?.remove();
    try {
      await send(actionUrl(form, params), body, { method, key: crypto.randomUUID() });
      form.reset();
      form.append(h("p", { class: "form-error banner ok", role: "status" }, "Saved."));
    } catch (error) {
      form.append(h("p", { class: "form-error banner warn", role: "alert" }, explain(error)));
    }
    return;
  }
  const match = form.dataset.match || null;
  const group = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  // "Report the result (Hop Stars won) — Beer Pong · Final: Hop Stars v Tap Dancers"
  const said = submitter && submitter.dataset && submitter.dataset.say ? ` (${submitter.dataset.say})` : "";
  const what = form.dataset.what ? ` — ${form.dataset.what}` : "";
  const label = `${form.dataset.label || "Change"}${said}${what}`;
  const common = { tournament, match, page: location.pathname, group, label };
  let after = null;
  if (form.dataset.start) {
    after = await outbox.enqueue({
      ...common,
      url: form.dataset.start,
      body: null,
      ifMatch: form.dataset.ifMatch ? `"${form.dataset.ifMatch}"` : null,
    });
  }
  await outbox.enqueue({
    ...common,
    url: actionUrl(form, params),
    method,
    body: method === "DELETE" ? null : body,
    ifMatch: form.dataset.ifMatch && after === null ? `"${form.dataset.ifMatch}"` : null,
    after,
  });
  form.reset?.();
  await flush();
}

let flushing = null;

/** Send what waits; ask the service worker to try again later if the network is gone. */
export async function flush() {
  if (flushing) return flushing;
  flushing = (async () => {
    try {
      const result = await outbox.sync();
      if (result.sent) document.dispatchEvent(new CustomEvent("outbox-sent", { detail: result }));
      if (result.waiting && "serviceWorker" in navigator) {
        const registration = await navigator.serviceWorker.getRegistration();
        if (registration && "sync" in registration) {
          await registration.sync.register(outbox.SYNC_TAG).catch(() => {});
        }
      }
      return result;
    } finally {
      flushing = null;
    }
  })();
  return flushing;
}

/** Describe a match as the server holds it now (from a 409's `current`). */
export function describeMatch(current) {
  const match = current && (current.match || current);
  if (!match || !match.slots) return "";
  const names = match.slots.map((s) => (s.team ? s.team.name : "?"));
  const status = {
    confirmed: "done",
    submitted: "a result waits for OK",
    disputed: "disputed",
    in_progress: "playing now",
    called: "called to a table",
    ready: "ready to play",
  }[match.status] || match.status;
  const winner = match.slots.find((s) => s.winner);
  const scores = match.slots.every((s) => s.score !== null && s.score !== undefined)
    ? ` ${match.slots.map((s) => s.score).join("–")}`
    : "";
  const result = winner && winner.team ? `: ${winner.team.name} won${scores}` : "";
  return `${names.join(" vs ")} — ${status}${result}`;
}

function entryView(entry) {
  const problem = entry.problem || {};
  if (entry.status === "pending") {
    return h(
      "div",
      { class: "item pending", role: "status", dataset: { entry: entry.id } },
      h("strong", {}, "⏳ Waiting to send: "),
      entry.label,
      h("span", { class: "small" }, navigator.onLine === false ? " — you're offline, it goes out when you're back." : " — sending…"),
      h("button", { type: "button", class: "btn small", dataset: { cancel: entry.id } }, "Cancel"),
    );
  }
  const conflict = entry.status === "conflict";
  const now = conflict ? describeMatch(problem.current) : "";
  return h(
    "div",
    { class: `item ${entry.status}`, role: "alert", dataset: { entry: entry.id } },
    h("strong", {}, conflict ? "⚠️ Not sent — things changed: " : "⚠️ Not sent: "),
    entry.label,
    h("span", { class: "small" }, ` (${problem.detail || "refused"})`),
    now ? h("span", { class: "now" }, `Now: ${now}`) : null,
    h("button", { type: "button", class: "btn small", dataset: { dismiss: entry.id } }, "OK, got it"),
    conflict && problem.version !== undefined && problem.version !== null
      ? h("button", { type: "button", class: "btn small", dataset: { retry: entry.id } }, "Send it anyway")
      : null,
  );
}

/** Show this tournament's waiting and refused writes at the top of the page. */
export async function renderOutbox() {
  const box = document.getElementById("outbox");
  if (!box) return;
  const all = (await outbox.entries()).filter((e) => !tournament || e.tournament === tournament);
  // One line per button press: its refusal if any, else its first waiting step.
  const groups = new Map();
  for (const entry of all) {
    const key = entry.group || `id-${entry.id}`;
    const shown = groups.get(key);
    if (!shown || (shown.status === "pending" && entry.status !== "pending") || (shown.status === "failed" && entry.status === "conflict")) {
      groups.set(key, entry);
    }
  }
  box.replaceChildren(...[...groups.values()].sort((x, y) => x.id - y.id).map(entryView));
  const pendingMatches = new Set(all.filter((e) => e.status === "pending" && e.match).map((e) => e.match));
  for (const actions of document.querySelectorAll("[data-actions]")) {
    const region = actions.closest("[data-match-id]");
    const pending = region && pendingMatches.has(region.dataset.matchId);
    actions.toggleAttribute("data-pending", Boolean(pending));
    let note = actions.querySelector(".pending-note");
    if (pending && !note) {
      note = h("p", { class: "banner pending-note" }, "⏳ Your change is on its way — it shows here once the server has it.");
      actions.prepend(note);
    } else if (!pending && note) {
      note.remove();
    }
  }
}

export function wireActions() {
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-action]");
    if (!form) return;
    event.preventDefault();
    submit(form, event.submitter).catch((error) => console.error(error));
  });
  document.addEventListener("click", (event) => {
    const dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) outbox.remove(Number(dismiss.dataset.dismiss));
    // Not sent yet: take the whole button press back (a request already on its way still lands).
    const cancel = event.target.closest("[data-cancel]");
    if (cancel) outbox.remove(Number(cancel.dataset.cancel));
    const again = event.target.closest("[data-retry]");
    if (again) outbox.retry(Number(again.dataset.retry)).then(flush);
  });
  outbox.onChange(() => renderOutbox());
  document.addEventListener("regions-refreshed", () => renderOutbox());
  addEventListener("online", () => flush());
  renderOutbox();
  flush();
}
