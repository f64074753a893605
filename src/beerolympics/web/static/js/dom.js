// Small DOM helpers. Text always goes in as text (textContent, attributes), never as markup.

/** Build an element: h("li", {class: "x", dataset: {key: id}}, "text", child…). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

/** A team as the pages show it: colour dot, flag, name. */
export function teamChip(team) {
  const dot = document.createElementNS(SVG, "svg");
  dot.setAttribute("class", "sw");
  dot.setAttribute("viewBox", "0 0 10 10");
  dot.setAttribute("aria-hidden", "true");
  const circle = document.createElementNS(SVG, "circle");
  circle.setAttribute("cx", "5");
  circle.setAttribute("cy", "5");
  circle.setAttribute("r", "5");
  if (/^#[0-9a-fA-F]{6}$/.test(team.colour || "")) circle.setAttribute("fill", team.colour);
  dot.append(circle);
  return h(
    "span",
    { class: "team", dataset: { teamId: team.id } },
    dot,
    h("span", { class: "flag", "aria-hidden": "true" }, team.flag || ""),
    h("span", { class: "name" }, team.name),
  );
}

/** Points as people write them: 100, 37.5. */
export function points(value) {
  if (value === null || value === undefined) return "–";
  const rounded = Math.round(value * 100) / 100;
  return String(rounded);
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Animate rows that moved (FLIP): measure, change, then slide from the old place. */
export function flip(container, change) {
  const before = new Map();
  for (const el of container.querySelectorAll("[data-key]")) {
    before.set(el.dataset.key, el.getBoundingClientRect().top);
  }
  change();
  if (matchMedia("(prefers-reduced-motion: reduce)").matches) return;
  for (const el of container.querySelectorAll("[data-key]")) {
    const top = before.get(el.dataset.key);
    if (top === undefined) continue;
    const delta = top - el.getBoundingClientRect().top;
    if (Math.abs(delta) < 1) continue;
    el.animate([{ transform: `translateY(${delta}px)` }, { transform: "none" }], {
      duration: 600,
      easing: "cubic-bezier(.2,.8,.2,1)",
    });
  }
}

let refreshing = null;
let again = false;
let shownTag = null; // the ETag of the copy of this page last swapped in

/**
 * Fetch this page again and swap every `[data-region]` whose content changed. One refresh at
 * a time; a request during one runs once more after it. A region holding a field the user is
 * typing in waits for the next refresh. The browser revalidates with the page's ETag; an
 * unchanged page (the same ETag as the copy last swapped in) is not parsed again.
 */
export function refreshRegions(skip = new Set()) {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const response = await fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-cache" });
      if (!response.ok) return;
      const tag = response.headers.get("ETag");
      if (tag && tag === shownTag) return;
      shownTag = tag;
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      if (doc.body.dataset.build && doc.body.dataset.build !== document.body.dataset.build) {
        location.reload(); // the server was upgraded: load the new scripts
        return;
      }
      for (const fresh of doc.querySelectorAll("[data-region]")) {
        if (skip.has(fresh.id)) continue;
        const current = document.getElementById(fresh.id);
        if (!current || current.innerHTML === fresh.innerHTML) continue;
        const active = document.activeElement;
        if (active && current.contains(active) && active.matches("input, textarea, select") && active.value) {
          continue;
        }
        current.replaceWith(document.importNode(fresh, true));
      }
      document.dispatchEvent(new CustomEvent("regions-refreshed"));
    } catch {
      /* offline: keep what we show */
    } finally {
      refreshing = null;
      if (again) {
        again = false;
        refreshRegions(skip);
      }
    }
  })();
  return refreshing;
}

/** Make relative links in read-only copy fields absolute (`data-absolute`). */
export function absolutize(root = document) {
  for (const input of root.querySelectorAll("input[data-absolute]")) {
    if (input.value.startsWith("/")) input.value = location.origin + input.value;
    input.addEventListener("focus", () => input.select());
  }
}

/** Show `<time datetime>` in the phone's own time zone (the server wrote its own), on the
 * same 24-hour clock the server writes: one page never mixes "20:15" and "8:15 PM". */
export function localTimes(root = document) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const at = new Date(el.dateTime);
    if (Number.isNaN(at.getTime())) continue;
    el.textContent = clock(at);
  }
}

/** HH:MM on a 24-hour clock, in the phone's time zone. */
export function clock(at) {
  return at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}
