/* The Draw tab's lessons panel (ae/web/lessons_view.py): what a code's size buys, and where checkerboards come from.
 *
 * Computed in the page with the runtime draw.js starts (aeStudio.ready, aeStudio.session): a code size's graph
 * (`code-size-<n>.onnx`: the digit through the linear autoencoder and through PCA) is fetched when that size is
 * first shown, and only once the panel comes near the screen, so a visitor who never scrolls to it never fetches it.
 * The checkerboards are the Draw tab's own conv decoders, run on codes made here. The chart's test-set figures are
 * python -m ae.evaluate's, handed over in the config.
 */
(function () {
  "use strict";
  const studio = window.aeStudio = Object.assign(window.aeStudio || {}, {});
  const D = window.aeDigit;
  const SETTLE_MS = 200;
  let config = null, size = null, digit = null, near = false;

  /* ---------- what a code's size buys ---------- */
  const entryOf = (n) => config.sizes.find((entry) => entry.size === n);
  const sessionOf = (n) => studio.session({file: entryOf(n).file, version: entryOf(n).version});
  const text = (id, words) => studio.text(id, words);  // draw.js's
  const state = (value) => document.getElementById("lessons")?.setAttribute("data-state", value);

  /* The digit at the chosen size, through both: painted, with each one's MSE, and ringed on the chart. */
  const codeSizeQueue = () => studio.latest(async () => {
    if (!near) return;
    const n = size, clean = digit, entry = entryOf(n);
    text("code-size-ae-caption", `${entry.title}`);
    text("code-size-pca-caption", `PCA, ${n} components`);
    if (!clean) { paintCodeSize(n, null); return; }
    await studio.ready;
    const outputs = await (await sessionOf(n)).run({digits: new ort.Tensor("float32", clean, [1, 1, D.FIELD, D.FIELD])});
    if (n !== size || clean !== digit) return;  // the visitor moved on while it ran: the newer request paints
    paintCodeSize(n, {autoencoder: outputs.autoencoder.data, pca: outputs.pca.data, clean});
  }, unavailable);
  /* This panel is the page's alone: where the models cannot run in the browser, it says so and keeps its figures. */
  function unavailable(error) {
    console.warn("ae-studio: the lessons panel cannot compute in this page:", error);
    state("unavailable");
    text("code-size-note", "Your digit's pictures are computed by your browser, which cannot run the models here; "
         + "the chart shows the test set's figures.");
    text("checkerboard-note", "The decoders' pictures are computed by your browser, which cannot run the models here; "
         + "the figures under each are the test set's.");
  }
  function paintCodeSize(n, result) {
    const last = studio.lessons.last = {size: n, ...(result || {})};
    for (const key of ["autoencoder", "pca"]) {
      const id = key === "autoencoder" ? "code-size-ae" : "code-size-pca";
      const out = result && result[key];
      studio.showDigit(id, out && D.asPixels(out), out && `Your digit through ${key === "pca" ? "PCA" : "the autoencoder"} with a ${n}-number code`);
      last[`${key}_mse`] = out ? D.mse(out, result.clean) : null;
      text(`${id}-mse`, out ? `MSE ${last[`${key}_mse`].toFixed(4)}` : "");
    }
    text("code-size-note", result ? "" : "Draw a digit, or pick an example, to see it through both.");
    chart(last);
    state(result ? "painted" : "waiting");
  }
  function chart(last) {
    const c = config.colours, sizes = config.sizes.map((entry) => entry.size);
    const lines = [
      {label: "linear autoencoder", colour: c.autoencoder, xs: sizes, ys: config.sizes.map((e) => e.autoencoder_mse),
       tips: config.sizes.map((e) => `linear autoencoder, code ${e.size}: test MSE ${e.autoencoder_mse.toFixed(5)}`)},
      {label: "PCA", colour: c.pca, xs: config.pca.sizes, ys: config.pca.mse,
       tips: config.pca.sizes.map((n, i) => `PCA, ${n} components: test MSE ${config.pca.mse[i].toFixed(5)}`)},
      ...config.points.map((p) => ({label: p.short, colour: p.colour, xs: [p.size], ys: [p.mse], style: "dots",
                                    tips: [`${p.short}, code ${p.size}: test MSE ${p.mse.toFixed(5)}`]})),
    ];
    for (const [key, label, colour] of [["autoencoder", "autoencoder", c.autoencoder], ["pca", "PCA", c.pca]])
      if (last[`${key}_mse`] != null)
        lines.push({label: `your digit, ${label}`, colour, xs: [last.size], ys: [last[`${key}_mse`]], style: "rings",
                    tips: [`your digit through ${label} at ${last.size}: MSE ${last[`${key}_mse`].toFixed(4)}`]});
    const largest = Math.max(...config.pca.sizes, ...sizes);  // the conv models' 196
    document.getElementById("code-size-chart")?.replaceChildren(...aeCharts.lineChart({
      lines, log: true, xStart: sizes[0], xEnd: largest, xTicks: [...sizes, largest],
      xLabel: "code size (numbers)", yLabel: "test MSE"}));
  }

  /* ---------- checkerboards ---------- */
  /* Each decoder on a constant code, an all-zero one, and each channel's centre cell alone
   * (lessons.decoder_responses); a cell is shown by the mark it makes: its picture less the all-zero code's. */
  async function checkerboards() {
    await studio.ready;
    const responses = {}, N = D.FIELD * D.FIELD;
    for (const model of config.checkerboard) {
      const [channels, height, width] = model.code_shape, cells = height * width, size = channels * cells;
      const codes = new Float32Array((2 + channels) * size);  // constant, empty, then one per channel
      codes.fill(model.cell_value, 0, size);
      const centre = Math.floor(height / 2) * width + Math.floor(width / 2);
      for (let k = 0; k < channels; k++) codes[(2 + k) * size + k * cells + centre] = model.cell_value;
      const decoder = await studio.session(model.decoder);
      const out = (await decoder.run({codes: new ort.Tensor("float32", codes, [2 + channels, ...model.code_shape])})).reconstructions.data;
      const picture = (k) => out.slice(k * N, (k + 1) * N);
      const response = responses[model.name] = {constant: picture(0), empty: picture(1),
                                                cells: Array.from({length: channels}, (_, k) => picture(2 + k))};
      paintStretched(document.getElementById(`constant-${model.name}`), response.constant, 0, D.FIELD);
      const crop = config.cell_crop, start = (D.FIELD - crop) / 2;
      document.getElementById(`cells-${model.name}`).replaceChildren(...response.cells.map((cell, k) => {
        const canvas = Object.assign(document.createElement("canvas"), {width: crop, height: crop, title: `code channel ${k + 1}`});
        paintStretched(canvas, cell.map((v, i) => Math.abs(v - response.empty[i])), start, crop);
        return canvas;
      }));
    }
    studio.lessons.responses = responses;
  }
  /* The square of `picture` (28x28 in [0, 1]) from (start, start), `side` wide, its darkest pixel black and its
   * brightest white. */
  function paintStretched(canvas, picture, start, side) {
    const values = [];
    for (let y = start; y < start + side; y++) for (let x = start; x < start + side; x++) values.push(picture[y * D.FIELD + x]);
    const low = Math.min(...values), range = Math.max(...values) - low || 1;
    const context = canvas.getContext("2d"), image = context.createImageData(side, side);
    values.forEach((v, i) => { const g = Math.round(255 * (v - low) / range); image.data.set([g, g, g, 255], 4 * i); });
    context.putImageData(image, 0, 0);
  }

  /* ---------- wiring ---------- */
  studio.lessons = {
    last: null, responses: null,
    mount(element, props) {
      config = props.config;
      size = config.start_size;
      const queue = codeSizeQueue(), update = () => queue.ask(true);
      studio.lessons.busy = () => queue.busy();
      const radios = element.querySelectorAll('input[name="code-size"]');
      radios.forEach((radio) => { radio.checked = Number(radio.value) === size; });
      element.addEventListener("change", (event) => {
        if (event.target.name !== "code-size") return;
        size = Number(event.target.value);
        update();
      });
      document.addEventListener("ae-studio-painted", (event) => {
        const clean = studio.digit?.() ?? (event.detail.clean && Float32Array.from(event.detail.clean, (v) => v / 255));
        if (clean === digit || (!clean && !digit)) return;
        digit = clean;
        update();
      });
      chart({size});
      for (const model of config.checkerboard)
        text(`checkerboard-${model.name}`, `A constant code: ${(100 * model.constant_code_grid_share).toFixed(2)}% of its `
             + `detail repeats every ${config.stride_period} pixels · test outputs: `
             + `${(model.outputs_grid_share / model.digits_grid_share).toFixed(2)}× the digits' own`);
      let started = false;
      // The files only when the panel is about to be seen, and still is a moment later: while the page is still
      // being laid out, a phone's screen can reach it for a frame.
      let seen = false;
      new IntersectionObserver((entries) => {
        seen = entries.some((entry) => entry.isIntersecting);
        if (!seen) { near = false; return; }
        setTimeout(() => {
          if (!seen || near) return;
          near = true;
          update();
          if (!started) { started = true; checkerboards().catch(unavailable); }
        }, SETTLE_MS);
      }, {rootMargin: "300px"}).observe(element);
    },
  };
})();
