// Direct calls to the JSON API, for writes whose answer the page needs at once (creating a
// tournament, joining a team). They are not queued offline: the page says to try again.

export class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || `The server said ${status}.`);
    this.problem = problem;
    this.status = status;
  }
}

/** POST (or another method) JSON; the parsed answer, or an ApiError with the problem. */
export async function send(url, body, { method = "POST", key = null } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError({ detail: "No connection. Try again when you have signal." }, 0);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!response.ok) throw new ApiError(data || {}, response.status);
  return data;
}

/** A friendly sentence for a refused request, naming the fields that were wrong. */
export function explain(error) {
  const problem = (error && error.problem) || {};
  const fields = (problem.errors || []).map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
  return fields.length ? `${problem.detail || "That didn't work"} (${fields.join("; ")})` : error.message;
}

/** A stable key for one logical write, kept for the tab's life (so a retry cannot duplicate). */
export function keyFor(name) {
  const stored = sessionStorage.getItem(`key:${name}`);
  if (stored) return stored;
  const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  sessionStorage.setItem(`key:${name}`, key);
  return key;
}

export function forgetKey(name) {
  sessionStorage.removeItem(`key:${name}`);
}

export function showError(form, error) {
  const box = form.querySelector(".form-error");
  if (!box) return;
  box.textContent = error ? explain(error) : "";
  box.hidden = !error;
}

export function busy(form, on) {
  for (const button of form.querySelectorAll("button[type=submit]")) {
    button.disabled = on;
    button.setAttribute("aria-busy", String(on));
  }
}
