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
let saving = null;

const TOP = "[data-region]:not([data-region] [data-region])";
const typing = (el) => {
  const active = document.activeElement;
  return active && el.contains(active) && active.matches("input, textarea, select") && active.value;
};

/** Bring the page's regions up to date, one refresh at a time: it says the versions it holds
 * (see web/pages/regions.py) and gets the regions that changed. Typing in one: it waits. */
export function refreshRegions(skip = new Set()) {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  const tops = [...document.querySelectorAll(TOP)];
  if (tops.length && tops.every((el) => skip.has(el.id))) return Promise.resolve();
  const held = Object.fromEntries(tops.map((el) => [el.id, skip.has(el.id) ? "-" : el.dataset.v || "0"]));
  refreshing = (async () => {
    try {
      const regions = Object.entries(held).map(([id, v]) => `${id}=${v}`);
      const response = await fetch(location.href, {
        headers: { "X-Regions": [document.body.dataset.build, ...regions].join(" ") },
        cache: "no-store",
      });
      if (!response.ok || response.status === 204) return;
      if ((response.headers.get("Content-Type") || "").startsWith("application/json")) patchRegions(await response.json(), held);
      else if (!(await swapWhole(response, skip))) return;
      document.dispatchEvent(new CustomEvent("regions-refreshed"));
      saveCopy();
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

// {top id: [version, [[id, markup, inner?] | [id, runs], …]]}
function patchRegions(answer, held) {
  const own = new Map([...document.querySelectorAll("[data-region][id]")].map((el) => [el.id, el]));
  const all = Object.values(answer).flatMap(([, patches]) => patches);
  // Regions said as runs give up the regions in them first (they may move to one another).
  const spots = new Map();
  for (const [id, body] of all) {
    const el = own.get(id);
    if (!Array.isArray(body) || !el || typing(el)) continue;
    const kids = [...el.querySelectorAll("[data-region]")].filter((k) => k.parentElement.closest("[data-region]") === el);
    const marks = kids.map(() => document.createComment(""));
    kids.forEach((k, i) => k.replaceWith(marks[i]));
    spots.set(id, [kids, marks]);
  }
  for (const [top, [version, patches]] of Object.entries(answer)) {
    let state = 0; // 1: a region waits (typing), 2: lost track (ask for it whole)
    for (const [id, body, inner] of patches) state = Math.max(state, patchOne(own, spots, id, body, inner));
    const el = document.getElementById(top);
    if (el) el.dataset.v = [version, held[top], "0"][state];
  }
}

function patchOne(own, spots, id, body, inner) {
  const current = own.get(id);
  if (!current) return 2;
  if (Array.isArray(body)) {
    // Runs: a slice of the regions it had, one from elsewhere, a new one.
    if (!spots.has(id)) return typing(current) ? 1 : 2;
    const [kids, marks] = spots.get(id);
    const moving = body.flatMap((x) => (typeof x !== "string" ? kids.slice(x[0], x[0] + x[1]) : x[0] === "<" ? [parse(x)] : [own.get(x)]));
    const ok = marks.length === moving.length && !moving.includes(undefined);
    marks.forEach((mark, i) => mark.replaceWith((ok ? moving : kids)[i] || ""));
    return ok ? 0 : 2;
  }
  if (!current.isConnected) return 2;
  if (typing(current)) return 1;
  let fresh = parse(body, inner);
  if (inner) {
    const content = fresh; // what is inside it; the start tag is the same
    fresh = current.cloneNode(false);
    fresh.append(content);
  }
  let state = 0;
  for (const keep of fresh.querySelectorAll("[data-keep]")) {
    const kept = own.get(keep.dataset.keep);
    if (kept) keep.replaceWith(kept);
    else state = 2;
  }
  current.replaceWith(fresh);
  return state;
}

function parse(markup, all) {
  const template = document.createElement("template");
  template.innerHTML = markup;
  return all ? template.content : template.content.firstElementChild;
}

async function swapWhole(response, skip) {
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  if (doc.body.dataset.build !== document.body.dataset.build) {
    location.reload(); // the server was upgraded: load the new scripts
    return false;
  }
  for (const fresh of doc.querySelectorAll(TOP)) {
    const current = document.getElementById(fresh.id);
    if (current && !skip.has(fresh.id) && current.innerHTML !== fresh.innerHTML && !typing(current)) current.replaceWith(document.importNode(fresh, true));
  }
  return true;
}

// The service worker's copy of the page (shown offline) takes the regions now shown.
function saveCopy() {
  saving ||= setTimeout(async () => {
    saving = null;
    try {
      const cache = await caches.open("bo-pages-v1");
      const saved = await cache.match(location.href, { ignoreVary: true });
      const doc = new DOMParser().parseFromString(await saved.text(), "text/html");
      for (const el of doc.querySelectorAll(TOP)) el.replaceWith(doc.importNode(document.getElementById(el.id) || el, true));
      const headers = { "Content-Type": "text/html; charset=utf-8" };
      await cache.put(location.href, new Response(`<!doctype html>${doc.documentElement.outerHTML}`, { headers }));
    } catch {
      /* no saved copy */
    }
  }, 3000);
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
