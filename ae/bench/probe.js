/* Installed by the benchmark (ae/bench/__init__.py): notes each step of the noise slider and each update the
 * page's Draw tab paints (its "ae-studio-painted" event), each at the next animation frame, when it shows. */
(() => {
  const probe = window.aeProbe = {inputs: [], paints: []};
  window.addEventListener("input", (event) => {  // on the window: before any of the page's own listeners
    if (event.target.closest("#amount") && event.target.type === "range")
      probe.inputs.push([performance.now(), Number(event.target.value)]);
  }, true);
  document.addEventListener("ae-studio-painted", (event) => {
    const {noise, sweep, source} = event.detail;
    requestAnimationFrame(() => probe.paints.push([performance.now(), noise.amount, sweep !== null, source]));
  });
  /* ms from each slider step until the first complete update for its value was painted (null: never). */
  window.aeSliderSteps = () => probe.inputs.map(([at, value]) => {
    const paint = probe.paints.find(([when, amount, complete]) => when >= at && complete && Math.abs(amount - value) < 1e-9);
    return paint ? paint[0] - at : null;
  });
  /* Updates painted by the page itself between two times (ms, performance.now()). */
  window.aePaintsBetween = (start, end) => probe.paints.filter(([when, , , source]) => when >= start && when <= end
                                                               && source === "page").length;
})
