// Frames shown one after the other (the reel page and the TV's recap slide). Without this
// script the frames are simply stacked.

/**
 * Show the `[data-frame]` children of `box` one at a time, every `ms`, round and round, from
 * frame `from`.
 * `restart()` picks up frames that changed (a refreshed region) and goes on from where it was.
 */
export function playFrames(box, ms, from = 0) {
  let at = 0;
  let timer = null;
  const frames = () => [...box.querySelectorAll("[data-frame]")];
  function show(i) {
    const list = frames();
    if (!list.length) return;
    at = i % list.length;
    list.forEach((frame, n) => frame.classList.toggle("active", n === at));
    // The next frame's photo starts loading now, so it is there when its turn comes.
    for (const img of list[(at + 1) % list.length].querySelectorAll("img[loading=lazy]")) img.loading = "eager";
    box.dataset.at = String(at);
  }
  function start(from) {
    clearInterval(timer);
    box.classList.add("playing");
    show(from);
    timer = setInterval(() => show(at + 1), ms);
  }
  start(from);
  return {
    restart: () => start(at),
    stop: () => clearInterval(timer),
    get at() { return at; },
    get length() { return frames().length; },
  };
}
