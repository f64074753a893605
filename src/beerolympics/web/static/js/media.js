// Photos and clips on a page: the camera and upload buttons, their progress, and the
// full-screen viewer. Loaded by app.js wherever a gallery or an upload form is.
//
// A picked file goes into the outbox first (IndexedDB keeps the file itself), keyed by its
// SHA-256: the upload survives a lost signal, a reload or a closed tab, and is sent once when
// the phone is back — the same file picked twice is still one upload. Where the page is not a
// secure context (plain http on a LAN address) there is no SHA-256 in the browser, and a
// random key stands in: still sent once, but a file picked twice is two uploads.

import { flush } from "./actions.js";
import { h } from "./dom.js";
import * as outbox from "./outbox.js";

const tournament = document.body.dataset.tournament;

async function contentKey(file) {
  if (!crypto.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function status(form, text) {
  form.querySelector(".upload-status").textContent = text;
}

async function pick(form, input) {
  const files = [...input.files];
  input.value = "";
  if (!files.length) return;
  const subject = form.dataset.subject || "tournament";
  const url = `/api/v1/tournaments/${encodeURIComponent(tournament)}/media?subject=${encodeURIComponent(subject)}`;
  status(form, files.length > 1 ? `Adding ${files.length} files…` : "Adding it…");
  for (const file of files) {
    const kind = (file.type || "").startsWith("video/") ? "Clip" : "Photo";
    await outbox.enqueue({
      tournament,
      url,
      method: "POST",
      blob: file,
      contentType: file.type || "application/octet-stream",
      key: await contentKey(file),
      label: `${kind} ${file.name || ""}`.trim(),
      page: location.pathname,
    });
  }
  const result = await flush();
  if (result && result.offline) status(form, "No signal: it goes up by itself when you are back online.");
  else status(form, "Uploaded — it shows here as soon as it is ready.");
}

function wireUploads() {
  for (const form of document.querySelectorAll("form[data-upload]")) {
    if (form.dataset.wired) continue;
    form.dataset.wired = "1";
    form.addEventListener("submit", (event) => event.preventDefault());
    for (const input of form.querySelectorAll("input[data-pick]")) {
      input.addEventListener("change", () => pick(form, input).catch((e) => status(form, `Not added: ${e.message}`)));
    }
  }
}

addEventListener("outbox-progress", (event) => {
  const { loaded, total } = event.detail;
  for (const bar of document.querySelectorAll("form[data-upload] .upload-progress")) {
    bar.hidden = loaded >= total;
    bar.max = total;
    bar.value = loaded;
  }
});

// -- the viewer: full screen, arrows, swipe, Escape ------------------------------------------

let viewer = null;
let shown = [];
let at = 0;

function tiles() {
  return [...document.querySelectorAll("a.tile[data-full]")];
}

function render() {
  const tile = shown[at];
  const stage = viewer.querySelector(".stage");
  const picture = tile.querySelector("img.pic");
  const media = tile.dataset.video
    ? h("video", { src: tile.dataset.video, poster: tile.dataset.full, controls: true, playsinline: true, preload: "metadata" })
    : h("img", { src: tile.dataset.full, alt: picture ? picture.alt : "Photo", width: tile.dataset.w, height: tile.dataset.h });
  stage.replaceChildren(media);
  viewer.querySelector(".count").textContent = `${at + 1} / ${shown.length}`;
}

function go(step) {
  at = (at + step + shown.length) % shown.length;
  render();
}

function open(tile) {
  shown = tiles();
  at = Math.max(0, shown.indexOf(tile));
  if (!viewer) {
    viewer = h(
      "dialog",
      { class: "viewer", "aria-label": "Photos" },
      h("div", { class: "stage" }),
      h(
        "div",
        { class: "viewer-bar" },
        h("button", { class: "btn", type: "button", "aria-label": "Previous", dataset: { step: "-1" } }, "‹"),
        h("span", { class: "count" }),
        h("button", { class: "btn", type: "button", "aria-label": "Next", dataset: { step: "1" } }, "›"),
        h("button", { class: "btn", type: "button", "aria-label": "Close", dataset: { close: "1" } }, "✕"),
      ),
    );
    viewer.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (button && button.dataset.step) go(Number(button.dataset.step));
      else if (button && button.dataset.close) viewer.close();
    });
    viewer.addEventListener("keydown", (event) => {
      if (event.key === "ArrowLeft") go(-1);
      else if (event.key === "ArrowRight") go(1);
    });
    let startX = null;
    viewer.addEventListener("touchstart", (event) => (startX = event.touches[0].clientX), { passive: true });
    viewer.addEventListener("touchend", (event) => {
      if (startX === null) return;
      const dx = event.changedTouches[0].clientX - startX;
      startX = null;
      if (Math.abs(dx) > 50) go(dx < 0 ? 1 : -1);
    });
    viewer.addEventListener("close", () => viewer.querySelector(".stage").replaceChildren());
    document.body.append(viewer);
  }
  render();
  viewer.showModal();
}

document.addEventListener("click", (event) => {
  const tile = event.target.closest && event.target.closest("a.tile[data-full]");
  if (!tile || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  open(tile);
});

wireUploads();
document.addEventListener("regions-refreshed", wireUploads);
