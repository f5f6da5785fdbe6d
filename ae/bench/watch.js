/* Installed once per page by ae/bench/browser.py: window.aeWatch(selectors) starts watching the panels;
 * window.aeDone() reports when each last changed; window.aeStop() ends the watch.
 * A panel's signature: its images' sources, its text, and its chart's lines. */
(() => {
  const signature = (el) => el ? [...el.querySelectorAll("img")].map((i) => i.src).join("|") + "§" + el.innerText
      + "§" + [...el.querySelectorAll("polyline, line")].map((p) => p.getAttribute("points") || p.getAttribute("x1")).join("|") : "";
  window.aeWatch = (selectors) => {
    const watch = {start: null, changed: {}, last: {}, before: {}, observers: []};
    const mark = () => { if (watch.start === null) watch.start = performance.now(); };
    for (const type of ["pointerup", "click", "keydown", "touchend"]) document.addEventListener(type, mark, true);
    watch.unmark = () => { for (const type of ["pointerup", "click", "keydown", "touchend"])
                             document.removeEventListener(type, mark, true); };
    for (const selector of selectors) watch.before[selector] = watch.last[selector] = signature(document.querySelector(selector));
    // The whole page is watched: a tab's panels are only put in the page when the tab is first opened.
    let pending = false;
    const observer = new MutationObserver(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        for (const selector of selectors) {
          const now = signature(document.querySelector(selector));
          if (now !== watch.last[selector]) { watch.last[selector] = now; watch.changed[selector] = performance.now(); }
        }
      });
    });
    observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    watch.observers.push(observer);
    window.aeWatching = watch;
  };
  window.aeDone = () => {
    const watch = window.aeWatching, now = performance.now();
    const times = Object.values(watch.changed);
    const all = Object.keys(watch.before).every((s) => s in watch.changed);
    const last = times.length ? Math.max(...times) : null;
    return {all, quiet: last !== null && now - last, ms: watch.start !== null && last !== null ? last - watch.start : null,
            missing: Object.keys(watch.before).filter((s) => !(s in watch.changed)),
            panels: Object.fromEntries(Object.entries(watch.changed).map(([s, t]) => [s, Math.round(t - watch.start)]))};
  };
  window.aeStop = () => { window.aeWatching.observers.forEach((o) => o.disconnect()); window.aeWatching.unmark(); };
})
