/* The Train tab in the visitor's page: a model trains here, in a Web Worker (static/train_worker.js), and this
 * script paints its progress, its two curves, its film of digits and its result, with no request to the server.
 *
 * Where the page cannot train (no WebAssembly or workers, a file that will not load), the server's trainer
 * takes the run instead (the view's "fallback" event: ae.web.train_tab.train, the public /train), and its own
 * panels show it; data-engine on the view says which trains.
 *
 * app.py mounts it from the view's js_on_load: aeStudio.trainer.mount(element, props, fallback).
 */
(function () {
  "use strict";
  const studio = window.aeStudio = window.aeStudio || {};
  const trainer = studio.trainer = {
    engine: "page",  // "page", or "server" once the page has found that it cannot train
    runs: {},        // "model|recipe" -> run: {model, recipe, budgetS, reports, finished, stopped, weights}
    latest: {},      // model -> its last finished run (what Use and Download take)
  };
  let config = null, view = null, askServer = null, worker = null, current = null, shown = null;
  const $ = (id) => document.getElementById(id);

  function text(id, words) { const element = $(id); if (element && element.textContent !== words) element.textContent = words; }
  function setEngine(engine) {
    trainer.engine = engine;
    view.dataset.engine = engine;
    document.body.dataset.trainEngine = engine;  // app.css shows the server's panels only when it trains
    text("train-engine-note", config.engine_notes[engine]);
  }

  /* ---------- the settings, read as the server reads them (train_tab._budget) ---------- */
  function budgetOf(value) {
    const seconds = Number(value);
    if (!Number.isFinite(seconds)) return [config.default_budget_s, `Time budget ${value} is not a number: ${config.default_budget_s} s. `];
    const clipped = Math.min(Math.max(seconds, config.min_budget_s), config.max_budget_s);
    return [clipped, clipped === seconds ? "" : `Time budget ${value} s is outside ${config.min_budget_s} to ${config.max_budget_s} s: ${clipped} s. `];
  }
  const lock = (locked) => aeGradio.setEnabled(config.setting_ids, !locked);  // the run's settings, while it runs

  /* ---------- a run in the worker ---------- */
  function newWorker() {
    if (typeof Worker === "undefined" || typeof WebAssembly === "undefined") throw new Error("this browser has no Web Workers or WebAssembly");
    return new Worker(`${config.static_base}train_worker.js?v=${config.worker_version}`);
  }
  function startWorker() { worker = newWorker(); }
  /* A run of its own, outside the tab's panels, for the parity tests and the benchmark: the worker's "done"
   * message (options: maxSteps, everyLoss, budgetMs). */
  trainer.runAlone = (model, recipe, options) => new Promise((resolve, reject) => {
    const alone = newWorker();
    listen(alone, (message) => {
      if (message.type === "done") { alone.terminate(); resolve(message); }
      else if (message.type === "error") { alone.terminate(); reject(new Error(message.message)); }
    }, (error) => { alone.terminate(); reject(error); });
    alone.postMessage({type: "train", run: {model, recipe, budgetMs: 60000, ...options, config: workerConfig()}});
  });
  trainer.config = () => config;
  trainer.press = function (model, recipe, budget) {
    if (current) return;  // one run at a time in a page: the Train button is locked while one goes
    if (trainer.engine === "server") { askServer(); return; }
    if (!config.models[model] || !config.models[model].recipes[recipe]) return askServer();  // the server says what is wrong
    const [budgetS, note] = budgetOf(budget);
    try { if (!worker) startWorker(); } catch (error) { return fallBack(error); }
    const run = {model, recipe, budgetS, note, reports: [], finished: false, stopped: false, weights: null,
                 pressedAt: performance.now(), startedAt: null};  // when it was asked for, and when it began
    current = run;
    trainer.runs[`${model}|${recipe}`] = run;
    shown = model;
    lock(true);
    progress(null, "Loading the training digits and the model into your browser (once a visit).");
    listen(worker, (message) => onMessage(run, message), (error) => fail(run, error));
    worker.postMessage({type: "train", run: {model, recipe, budgetMs: budgetS * 1000, config: workerConfig()}});
  };
  function listen(target, onMessage, onError) {  // the worker's messages go to the run (or the load) that asked
    target.onmessage = (event) => onMessage(event.data);
    target.onerror = (event) => { event.preventDefault(); onError(new Error(event.message || "the worker stopped")); };
  }
  trainer.stop = () => { if (current && worker) worker.postMessage({type: "stop"}); };
  function workerConfig() {
    const {models, digits, test, seed, report_every_ms, static_base, runtime_sha256} = config;
    return {models, digits, test, seed, report_every_ms, static_base, runtime_sha256};
  }
  function onMessage(run, message) {
    if (message.type === "report") {
      run.startedAt ??= performance.now();
      run.reports.push(message.report);
      paint(run);
    }
    else if (message.type === "done") {
      run.reports.push(message.report);
      Object.assign(run, {finished: true, stopped: message.report.stopped, weights: message.weights});
      trainer.latest[run.model] = run;
      current = null;
      lock(false);
      paint(run);
    } else if (message.type === "error") fail(run, new Error(message.message));
  }
  function fail(run, error) {
    console.warn("ae-studio: training in the page failed, the server trains instead:", error);
    if (worker) worker.terminate();
    worker = null;
    current = null;
    delete trainer.runs[`${run.model}|${run.recipe}`];
    lock(false);
    fallBack(error);
  }
  function fallBack() {
    setEngine("server");
    askServer();  // the server's trainer takes this run, with the settings as they stand
  }

  /* ---------- painting (the twin of train_tab._run_outputs for the server's runs) ---------- */
  function progress(fraction, html) {
    const panel = $("page-train-progress");
    if (!panel) return;
    panel.replaceChildren();
    if (fraction !== null) Object.assign(panel.appendChild(document.createElement("progress")), {value: fraction, max: 1});
    const status = panel.appendChild(document.createElement("div"));
    status.className = "train-status";
    status.innerHTML = html;
  }
  const recipeName = (recipe) => (recipe === "course" ? "the course's recipe" : "our recipe");
  const capital = (words) => words[0].toUpperCase() + words.slice(1);
  function counts(last) {
    const passes = last.imagesSeen / config.digits.count;
    return `step ${last.step.toLocaleString("en")} · ${last.imagesSeen.toLocaleString("en")} digits seen (${passes.toFixed(1)} ` +
      `passes over the ${config.digits.count.toLocaleString("en")} training digits) · test MSE ${last.testMse.toFixed(4)}`;
  }
  function paint(run) {
    if (shown !== run.model) return;
    const last = run.reports[run.reports.length - 1], title = config.models[run.model].title;
    if (!run.finished)
      progress(Math.min(last.seconds / run.budgetS, 1), `${run.note}Training <b>${title}</b> with ${recipeName(run.recipe)} in your ` +
               `browser: ${last.seconds.toFixed(0)} of ${run.budgetS} s · ${counts(last)}`);
    else progress(1, `${run.note}${run.stopped ? "Stopped" : "Done"} after ${last.seconds.toFixed(0)} s · ${counts(last)}`);
    charts(run.model);
    film(run);
    text("page-train-result", run.finished ? result(run) : "");
    buttons();
  }
  function charts(model) {
    const runs = ["course", "ours"].map((r) => trainer.runs[`${model}|${r}`]).filter((run) => run && run.reports.length);
    const loss = $("page-loss-chart"), mse = $("page-mse-chart");
    if (!runs.length) {
      loss.replaceChildren(aeCharts.placeholder(config.empty_charts[0]));
      mse.replaceChildren(aeCharts.placeholder(config.empty_charts[1]));
      return;
    }
    const entry = config.models[model], xEnd = Math.max(...runs.map((run) => run.budgetS));
    const line = (run, key, words) => {
      const label = capital(recipeName(run.recipe).replace(/^the /, "")), points = run.reports.filter((r) => r[key] !== null);
      return {label, colour: config.recipe_colours[run.recipe], xs: points.map((r) => r.seconds), ys: points.map((r) => r[key]),
              tips: points.map((r) => `${label}, ${r.seconds.toFixed(1)} s, step ${r.step.toLocaleString("en")}: ${words(r[key])}`)};
    };
    const committed = entry.committed_test_mse;
    loss.replaceChildren(...aeCharts.lineChart({lines: runs.map((run) => line(run, "trainLoss", (v) => v.toPrecision(4))), xEnd,
      xLabel: "seconds of training", yLabel: `training loss (${entry.recipes.ours.loss === "mse" ? "MSE per pixel" : "nats per image"})`}));
    mse.replaceChildren(...aeCharts.lineChart({lines: runs.map((run) => line(run, "testMse", (v) => `test MSE ${v.toFixed(4)}`)), xEnd,
      xLabel: "seconds of training", yLabel: `test MSE (1,000 digits${entry.noisy_test ? ", Gaussian noise 0.5 in" : ""})`,
      rules: [{at: committed, tip: `the committed model: ${committed.toFixed(4)}`, vertical: false}],
      legendRule: `the committed model (${committed.toFixed(4)})`}));
  }
  function filmRows(run) {  // the first report, the last, and up to three between, evenly spread
    const n = run.reports.length, count = Math.min(n, config.film_rows), picks = new Set();
    for (let k = 0; k < count; k++) picks.add(Math.round(count === 1 ? 0 : k * (n - 1) / (count - 1)));
    return [...picks].sort((a, b) => a - b).map((i) => run.reports[i]);
  }
  function film(run) {
    const rows = filmRows(run), scale = 3, pitch = 29 * scale, digits = config.film_digits;
    const labels = ["shown", ...rows.map((r) => `after ${r.seconds.toFixed(0)} s`)];
    const canvas = document.createElement("canvas"), context = canvas.getContext("2d");
    context.font = "22px sans-serif";
    const margin = Math.ceil(Math.max(...labels.map((l) => context.measureText(l).width))) + 16;
    canvas.width = margin + digits * pitch - scale;
    canvas.height = labels.length * pitch - scale;
    context.fillStyle = "white";
    context.fillRect(0, 0, canvas.width, canvas.height);
    const pictures = [config.film[config.models[run.model].noisy_test ? "noisy" : "clean"], ...rows.map((r) => r.film)];
    const image = context.createImageData(28, 28), tile = document.createElement("canvas");
    Object.assign(tile, {width: 28, height: 28});
    pictures.forEach((pixels, row) => {
      for (let d = 0; d < digits; d++) {
        for (let p = 0; p < 784; p++) { const v = pixels[d * 784 + p]; image.data.set([v, v, v, 255], 4 * p); }
        tile.getContext("2d").putImageData(image, 0, 0);
        context.imageSmoothingEnabled = false;
        context.drawImage(tile, margin + d * pitch, row * pitch, 28 * scale, 28 * scale);
      }
      context.fillStyle = "black";
      context.font = "22px sans-serif";
      context.textAlign = "right";
      context.textBaseline = "middle";
      context.fillText(labels[row], margin - 8, row * pitch + 14 * scale);
    });
    const picture = $("page-film");
    picture.src = canvas.toDataURL("image/png");
    picture.hidden = false;
    const noisy = config.models[run.model].noisy_test ? "as the model is shown them (with noise)" : "as given";
    text("page-film-caption", `Top row: eight test digits ${noisy}. Below: the model's drawing of them after ` +
         `${rows.map((r) => `${r.seconds.toFixed(0)} s`).join(", ")} of training.`);
  }
  function result(run) {
    const entry = config.models[run.model], last = run.reports[run.reports.length - 1];
    const lines = [`Test MSE on 1,000 test digits: ${last.testMse.toFixed(4)} after ${last.seconds.toFixed(0)} s with ` +
      `${recipeName(run.recipe)}; the committed model, trained for ${entry.committed_epochs} epochs with ours: ` +
      `${entry.committed_test_mse.toFixed(4)}.`];
    const other = trainer.runs[`${run.model}|${run.recipe === "ours" ? "course" : "ours"}`];
    if (other && other.finished) {
      const otherLast = other.reports[other.reports.length - 1];
      lines.push(`${capital(recipeName(other.recipe))} reached ${otherLast.testMse.toFixed(4)} in ${otherLast.seconds.toFixed(0)} s.`);
    }
    lines.push(entry.in_draw_tab ? "Use in the Draw tab puts this model there in place of the committed one, for you only; " +
      "Download saves it." : "Download saves it.");
    return lines.join(" ");
  }
  function buttons() {
    const run = trainer.latest[shown], own = studio.ownModels ? studio.ownModels() : [];
    $("page-use").disabled = !(run && config.models[shown].in_draw_tab && !current);
    $("page-download").disabled = !run || !!current;
    $("page-forget").disabled = !own.length;
  }
  trainer.show = function (model) {  // a model picked: its curves so far, its last run's film and result
    if (!config.models[model]) return;
    shown = model;
    const run = trainer.latest[model] || trainer.runs[`${model}|ours`] || trainer.runs[`${model}|course`];
    if (run && run.reports.length) return paint(run);
    progress(null, config.idle_prompt);
    charts(model);
    $("page-film").hidden = true;
    text("page-film-caption", "");
    text("page-train-result", `No run of ${config.models[model].title} yet in this visit.`);
    buttons();
  };

  /* ---------- keeping what was trained: the Draw tab, a file, and back ---------- */
  function use() {
    const run = trainer.latest[shown];
    if (!run) return;
    studio.useOwnModel(shown, config.models[shown], run.weights);
    text("page-use-note", `The Draw tab now shows your own ${config.models[shown].title} (test MSE ` +
         `${run.reports[run.reports.length - 1].testMse.toFixed(4)}), computed in your browser, for you only. Other ` +
         "visitors, and the Latent tab, keep the committed weights.");
    buttons();
  }
  function forget() {
    const names = studio.ownModels().map((name) => config.models[name].short_title).join(", ");
    studio.forgetOwnModels();
    text("page-use-note", `Back to the committed weights (${names}).`);
    buttons();
  }
  function safetensors(weights, shapes, metadata) {  // the format of ae.checkpoints (safetensors), float32
    const header = {__metadata__: metadata};
    let offset = 0;
    for (const [name, shape] of Object.entries(shapes)) {
      header[name] = {dtype: "F32", shape, data_offsets: [offset, offset + weights[name].length * 4]};
      offset += weights[name].length * 4;
    }
    let json = JSON.stringify(header);
    json += " ".repeat((8 - (json.length % 8)) % 8);  // the data starts 8-byte aligned
    const head = new TextEncoder().encode(json), bytes = new Uint8Array(8 + head.length + offset);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
    bytes.set(head, 8);
    let at = 8 + head.length;
    for (const name of Object.keys(shapes)) { bytes.set(new Uint8Array(weights[name].buffer, weights[name].byteOffset, weights[name].length * 4), at); at += weights[name].length * 4; }
    return bytes;
  }
  trainer.fileOf = function (model) {  // the last run of `model` as a safetensors file's bytes
    const run = trainer.latest[model];
    const last = run.reports[run.reports.length - 1];
    return safetensors(run.weights, config.models[model].weights, {model, recipe: run.recipe, seconds: last.seconds.toFixed(1),
      steps: String(last.step), test_mse: last.testMse.toFixed(6), trained_in: "ae-studio's Train tab, in the browser"});
  };
  function download() {
    const link = Object.assign(document.createElement("a"), {
      href: URL.createObjectURL(new Blob([trainer.fileOf(shown)], {type: "application/octet-stream"})),
      download: `${shown}-trained.safetensors`});
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }
  /* A file saved by Download, back in the page: it becomes the model's latest run (its test error measured again). */
  trainer.load = async function (bytes) {
    const view8 = new Uint8Array(bytes), size = Number(new DataView(view8.buffer, view8.byteOffset).getBigUint64(0, true));
    if (!(size > 0 && size < view8.length)) throw new Error("this is not a safetensors file");
    const header = JSON.parse(new TextDecoder().decode(view8.subarray(8, 8 + size)));
    const model = header.__metadata__ && header.__metadata__.model;
    if (!config.models[model]) throw new Error("this file does not say which of the demo's models it holds");
    const shapes = config.models[model].weights, weights = {};
    for (const [name, shape] of Object.entries(shapes)) {
      const entry = header[name];
      if (!entry || entry.dtype !== "F32" || entry.shape.join() !== shape.join()) throw new Error(`${name} is missing or has another shape`);
      weights[name] = new Float32Array(view8.slice(8 + size + entry.data_offsets[0], 8 + size + entry.data_offsets[1]).buffer);
    }
    const recipe = header.__metadata__.recipe === "course" ? "course" : "ours";
    const seconds = Number(header.__metadata__.seconds) || 0, step = Number(header.__metadata__.steps) || 0;
    if (!worker) startWorker();
    const measured = await new Promise((resolve, reject) => {
      listen(worker, (message) => {
        if (message.type === "measured") resolve(message.report); else if (message.type === "error") reject(new Error(message.message));
      }, reject);
      worker.postMessage({type: "measure", model, weights, config: workerConfig()});
    });
    const run = {model, recipe, budgetS: Math.max(seconds, config.min_budget_s), note: "Loaded from your file. ", finished: true,
                 stopped: false, weights, reports: [{step, seconds, imagesSeen: step * config.models[model].recipes[recipe].batch_size,
                 trainLoss: null, ...measured}]};
    trainer.runs[`${model}|${recipe}`] = run;
    trainer.latest[model] = run;
    shown = model;
    paint(run);
    return model;
  };
  async function loadFile(input) {
    const file = input.files && input.files[0];
    if (!file) return;
    try {
      const model = await trainer.load(await file.arrayBuffer());
      text("page-use-note", `Loaded your ${config.models[model].title} from ${file.name}: Use in the Draw tab runs it there.`);
    } catch (error) {
      text("page-use-note", `That file could not be loaded: ${error.message}. Load a file that Download saved.`);
    }
    input.value = "";
  }

  trainer.mount = function (element, props, fallback) {
    config = {...props.config, static_base: new URL(props.config.static_url, document.baseURI).href};
    view = element.querySelector(".train-page") || element;
    askServer = fallback;
    setEngine(typeof Worker === "undefined" || typeof WebAssembly === "undefined" ? "server" : "page");
    $("page-use").addEventListener("click", use);
    $("page-forget").addEventListener("click", forget);
    $("page-download").addEventListener("click", download);
    $("page-load").addEventListener("change", (event) => loadFile(event.target));
    shown = config.start_model;
    trainer.show(shown);
    if (studio.pendingTrain) {  // Train pressed before this script had mounted
      const [model, recipe, budget] = studio.pendingTrain;
      delete studio.pendingTrain;
      trainer.press(model, recipe, budget);
    }
  };
})();
