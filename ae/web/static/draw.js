/* The Draw tab in the visitor's page: every stroke, slider step and New noise is computed here, with the same
 * networks the server runs (their ONNX exports, in ONNX Runtime Web), and painted with no request.
 *
 * The server stays the source of truth and the fallback: until the models are ready here (or if they cannot
 * start: WebAssembly blocked, a file that will not load), and while the visitor uses a model of their own from
 * the Train tab, each update is asked of the server instead (the view's "fallback" event, api_name "draw"),
 * and its answer, ae.web.draw_tab.draw_update's record, is painted by the same code as the page's own result.
 *
 * app.py mounts it from the view's js_on_load: aeStudio.mount(element, props, watch, askServer).
 */
(function () {
  "use strict";
  const D = window.aeDigit;
  const N = D.FIELD * D.FIELD;
  const studio = window.aeStudio = Object.assign(window.aeStudio || {}, {  // app.py's events may have set a field
    engine: "loading",  // "loading", "partial" (the first models ready here), "page" (all) or "server" (they cannot start)
    last: null,         // what is painted: {source, status, clean, noisy, outputs, metrics, sweep, yours}
    updates: 0,         // painted updates, for the tests and the benchmark
    busy: () => updateQueue.busy(),  // an update is being computed, or waits to be
  });
  let whenReady;
  studio.ready = new Promise((resolve, reject) => { whenReady = {resolve, reject}; });  // the runtime and models
  studio.ready.catch(() => {});  // a page without them is handled where it is used
  let config = null, askServer = null, sessions = {};
  let lastAsked = -Infinity;
  let drawing = null, drawingVersion = 0, noise = {kind: "gaussian", amount: 0, seed: 0};
  let yours = [];  // models the visitor trained on the server and uses: those panels come from the server
  let own = {};  // models the visitor trained in this page and uses: name -> {entry, weights} (static/train.js)
  let cleanCache = {version: -1, digit: null}, sweepCache = {key: null, curves: null};

  /* ---------- settings, read as the server reads them (draw_tab.NoiseSettings.parse) ---------- */
  function parseNoise(kind, amount, seed) {
    amount = Number(amount);
    amount = Number.isFinite(amount) ? Math.min(Math.max(amount, 0), 1) : 0;
    seed = Math.trunc(Number(seed));
    seed = Number.isFinite(seed) ? ((seed % 2 ** 31) + 2 ** 31) % 2 ** 31 : 0;
    return {kind: config.noise_labels[kind] ? kind : "gaussian", amount, seed};
  }

  /* ---------- the models ---------- */
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = Object.assign(document.createElement("script"), {src, onload: resolve,
                                   onerror: () => reject(new Error(`could not load ${src}`))});
      document.head.appendChild(script);
    });
  }
  async function bytesOf(url) {
    const answer = await fetch(url);
    if (!answer.ok) throw new Error(`could not load ${url}`);
    return answer.arrayBuffer();
  }
  /* The runtime's script and binary and the Draw tab's models, every file at once (on a phone's network each round
   * trip costs 150 ms), but the ones marked `later` (the VAE's, nearly the runtime's bytes): those start once the
   * binary has arrived, so the first models share the network with nothing else. `firstReady()` once the runtime
   * and the first models are (the page computes those from then on); the promise resolves once every model is. */
  async function startModels(base, firstReady) {
    if (typeof WebAssembly === "undefined") throw new Error("this browser has no WebAssembly");
    const [first, later] = [false, true].map((late) => config.models.filter((model) => !!model.later === late));
    const fetchFiles = (models) => models.forEach((model) => { modelBytes(model.encoder); modelBytes(model.decoder); });
    fetchFiles(first);
    // Compressed with brotli or gzip, and unpacked by the browser (ae.web.serving.PrecompressedRuntime).
    const binary = quietly(bytesOf(`${base}ort/ort-wasm-simd-threaded.wasm?v=${config.runtime_sha256.slice(0, 16)}`));
    binary.then(() => fetchFiles(later), () => {});
    if (typeof ort === "undefined") await loadScript(base + "ort/ort.wasm.min.js");
    ort.env.wasm.numThreads = 1;  // threads need cross-origin isolation, which Spaces pages do not have
    ort.env.wasm.wasmPaths = base + "ort/";
    ort.env.wasm.wasmBinary = await binary;
    for (const models of [first, later]) {
      const loaded = {};
      for (const model of models)
        loaded[model.name] = {encoder: await studio.session(model.encoder), decoder: await studio.session(model.decoder)};
      sessions = {...sessions, ...loaded};
      if (models === first && later.length) firstReady();
    }
  }
  /* `promise`, whose failure is reported where it is awaited, not as an unhandled rejection before then. */
  const quietly = (promise) => { promise.catch(() => {}); return promise; };
  /* A model file's bytes ({file, version, folder}), fetched once. */
  const fetched = {};
  const modelBytes = (onnx) => fetched[onnx.file] ??= quietly(bytesOf(new URL(
    `${onnx.folder || "models"}/${onnx.file}?v=${onnx.version}`, new URL(config.static_url, document.baseURI)).href));
  /* A model file as an ONNX Runtime session, opened once, after the runtime has loaded (the Latent tab's decoders
   * come this way too: studio.ready says when). */
  const opened = {};
  studio.session = (onnx) => opened[onnx.file] ??= modelBytes(onnx).then((bytes) =>
    ort.InferenceSession.create(new Uint8Array(bytes), {executionProviders: ["wasm"]}));
  async function reconstruct(name, batch, count) {
    if (own[name]) return reconstructWithOwn(own[name], batch, count);
    const {encoder, decoder} = sessions[name];
    const codes = (await encoder.run({digits: new ort.Tensor("float32", batch, [count, 1, D.FIELD, D.FIELD])})).codes;
    return (await decoder.run({codes})).reconstructions.data;
  }

  /* A model the visitor trained in the Train tab: its forward graph, with their weights fed in. */
  async function reconstructWithOwn({entry, weights}, batch, count) {
    const forward = await studio.session({folder: "train", file: entry.forward.file, version: entry.forward.sha256.slice(0, 16)});
    const feeds = {digits: new ort.Tensor("float32", batch, [count, 1, D.FIELD, D.FIELD])};
    for (const [name, shape] of Object.entries(entry.weights)) feeds[`p.${name}`] = new ort.Tensor("float32", weights[name], shape);
    return (await forward.run(feeds)).reconstructions.data;
  }
  studio.useOwnModel = (name, entry, weights) => { own[name] = {entry, weights}; sweepCache.key = null; showEngine(); update(); };
  studio.ownModels = () => Object.keys(own);
  studio.forgetOwnModels = () => { own = {}; sweepCache.key = null; showEngine(); update(); };

  /* ---------- one update, computed here ---------- */
  function cleanDigit() {
    if (cleanCache.version !== drawingVersion) {
      const {canvas, context, inkBox} = drawing;  // read where the strokes are: white elsewhere (pad.js)
      const box = inkBox ?? {x: 0, y: 0, width: canvas.width, height: canvas.height};
      const pixels = context.getImageData(box.x, box.y, box.width, box.height).data;
      cleanCache = {version: drawingVersion, digit: D.sketchToMnist(pixels, canvas.width, canvas.height, box)};
    }
    return cleanCache.digit;
  }
  studio.digit = () => (drawing && !drawing.empty ? cleanDigit() : null);  // the drawing, 28x28 in [0, 1]
  /* One update: the noisy digit through every model, painted; then, once the pen has lifted (`final`), the noise
   * sweep (the digit at each amount of the sweep, two thirds of an update's work, for a chart below the outputs),
   * painted again, once the outputs are on screen. The curves do not depend on the slider's amount, so they are
   * kept until the drawing, the noise type or the seed changes. While the pen moves, the sweep waits: the outputs follow the pen at the screen's pace. */
  async function computeHere(final) {
    const clean = drawing && !drawing.empty ? cleanDigit() : null;
    if (!clean) return blank(config.empty_prompt);
    const noisy = D.pageNoise(clean, noise.kind, noise.amount, noise.seed);
    const ready = config.models.filter((model) => sessions[model.name] || own[model.name]);
    const key = `${drawingVersion}|${noise.kind}|${noise.seed}|${ready.length}`, amounts = config.sweep_amounts;
    const outputs = {}, metrics = {};
    for (const model of ready) {
      // A pen lifted meanwhile: its final update replaces this one at once, rather than after it (a slow phone).
      if (!final && updateQueue.waiting() === true) return;
      const out = await reconstruct(model.name, noisy, 1), error = D.mse(out, clean);
      outputs[model.name] = D.asPixels(out);
      metrics[model.name] = {mse: error, psnr: D.psnr(error)};
    }
    const painted = {source: "page", status: config.status, noise: {...noise}, clean: D.asPixels(clean),
                     noisy: D.asPixels(noisy), outputs, metrics,
                     sweep: sweepCache.key === key ? {amounts, mse: sweepCache.curves} : undefined, yours: Object.keys(own),
                     loading: config.models.filter((model) => !ready.includes(model)).map((model) => model.name)};
    paint(painted);
    if (!final || sweepCache.key === key) return;
    await nextFrame();  // the outputs on screen first: the sweep's work would hold back the frame that shows them
    const batch = new Float32Array(amounts.length * N);
    amounts.forEach((amount, i) => batch.set(D.pageNoise(clean, noise.kind, amount, noise.seed), i * N));
    const curves = {};
    for (const model of ready) {
      const out = await reconstruct(model.name, batch, amounts.length);
      curves[model.name] = amounts.map((_, i) => D.mse(out.subarray(i * N, (i + 1) * N), clean));
    }
    sweepCache = {key, curves};
    paint({...painted, sweep: {amounts, mse: curves}});
  }
  /* Once the browser has drawn a frame with what was painted (a task after the next animation frame). */
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  function blank(status) {
    paint({source: "page", status, noise: {...noise}, clean: null, noisy: null, outputs: {}, metrics: {},
           sweep: null, yours: []});
  }

  /* ---------- updates in order: one at a time, and the latest request always runs last ---------- */
  /* `work(request)` for one request at a time; while one runs, only the latest waits, folded by `merge` into
   * the one already waiting (a pen or a pointer outruns nothing). `failed(error)` if the work throws. The Latent
   * tab's decoders queue the same way. */
  studio.latest = function (work, failed, merge = (waiting, request) => request) {
    let wanted = null, running = false;
    return {
      busy: () => running || wanted !== null,
      waiting: () => wanted,  // the request that runs next, null if none
      ask(request) {
        wanted = wanted === null ? request : merge(wanted, request);
        if (running) return;
        running = true;
        (async () => {
          try {
            while (wanted !== null) { const next = wanted; wanted = null; await work(next); }
          } catch (error) { failed(error); } finally { running = false; }
        })();
      },
    };
  };
  /* The page computes what is painted: its models (all, or the first ones) are ready, and none is the server's. */
  const computesHere = () => (studio.engine === "page" || studio.engine === "partial") && !yours.length;
  const updateQueue = studio.latest(async (final) => {
    if (computesHere()) await computeHere(final);
    // The server follows a moving pen at its own pace: one request per interval at most.
    else if (final || performance.now() - lastAsked > config.live_interval_ms) fromTheServer();
  }, (error) => {
    console.warn("ae-studio: computing in the page failed, asking the server instead:", error);
    studio.engine = "server"; showEngine(); fromTheServer();
  }, (waiting, final) => waiting || final);  // a pen lifted while an update ran still gets its final update
  const update = (final = true) => updateQueue.ask(final);
  function fromTheServer() {  // the drawing as the server will read it, then the view's fallback event
    lastAsked = performance.now();
    if (drawing) drawing.sync();
    askServer();
  }

  /* ---------- the server's answer (draw_update's record), painted by the same code ---------- */
  async function fromServer(record) {
    if (!record || typeof record !== "object") return;
    const hadYours = yours.length > 0;
    yours = record.yours || [];
    showEngine();
    if (computesHere()) {  // the page answers for itself (again)
      if (hadYours) update();
      return;
    }
    const [clean, noisy, ...outputs] = await Promise.all([record.clean, record.noisy,
      ...config.models.map((m) => record.outputs[m.name])].map(decode));
    paint({source: "server", status: record.status, noise: record.noise, clean, noisy,
           outputs: Object.fromEntries(config.models.map((m, i) => [m.name, outputs[i]]).filter(([, v]) => v)),
           metrics: record.metrics || {}, sweep: record.sweep, yours});
  }
  let readBack = null;  // a 28x28 canvas the server's pictures are drawn on to read their pixels
  const decode = studio.pixelsOf = async function (url) {  // a greyscale PNG data URL -> 784 bytes
    if (!url) return null;
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = readBack ??= Object.assign(document.createElement("canvas"), {width: D.FIELD, height: D.FIELD});
    canvas.getContext("2d").drawImage(image, 0, 0);
    const rgba = canvas.getContext("2d").getImageData(0, 0, D.FIELD, D.FIELD).data;
    return Uint8Array.from({length: N}, (_, i) => rgba[4 * i]);
  };

  /* ---------- painting ---------- */
  /* A picture as a data URL of an uncompressed 24-bit BMP (rows bottom-up, each padded to 4 bytes); rgb(index)
   * gives a pixel's [r, g, b]. Not a PNG: a canvas's deflate took a phone more time than the five models did, where
   * these bytes cost next to nothing to make or to show. */
  function bmpOf(rgb, width, height) {
    const row = (3 * width + 3) & ~3, size = 54 + row * height, bytes = new Uint8Array(size);
    const header = new DataView(bytes.buffer);
    bytes[0] = 0x42; bytes[1] = 0x4d;  // "BM"
    for (const [at, value] of [[2, size], [10, 54], [14, 40], [18, width], [22, height], [34, row * height]])
      header.setUint32(at, value, true);
    header.setUint16(26, 1, true);  // one plane
    header.setUint16(28, 24, true);  // bits per pixel
    for (let y = 0; y < height; y++)
      for (let x = 0, at = 54 + (height - 1 - y) * row; x < width; x++, at += 3) {
        const [r, g, b] = rgb(y * width + x);
        bytes[at] = b; bytes[at + 1] = g; bytes[at + 2] = r;
      }
    let binary = "";
    for (let i = 0; i < size; i += 8192) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    return "data:image/bmp;base64," + btoa(binary);
  }
  const GREYS = Array.from({length: 256}, (_, v) => [v, v, v]);
  const greyImage = (pixels) => bmpOf((i) => GREYS[pixels[i]], D.FIELD, D.FIELD);
  studio.showDigit = (id, pixels, alt) => show(id, pixels && greyImage(pixels), alt);  // the Latent tab's too
  function show(id, src, alt) {
    const box = document.getElementById(id);
    if (!box) return;
    let image = box.querySelector("img");
    if (!src) { if (image) image.remove(); box.classList.add("empty"); return; }
    if (!image) { image = box.appendChild(document.createElement("img")); }
    image.alt = alt;
    if (image.getAttribute("src") !== src) image.src = src;
    box.classList.remove("empty");
  }
  studio.text = text;  // the lessons panel's too
  function text(id, value) {
    const element = document.getElementById(id);
    if (element && element.textContent !== value) element.textContent = value;
  }
  function errorStrip(painted) {  // every model's |output - clean| side by side, one white pixel apart
    const width = config.models.length * (D.FIELD + 1) - 1, heat = config.heat;
    return bmpOf((i) => {
      const y = Math.floor(i / width), x = i % width, k = Math.floor(x / (D.FIELD + 1)), column = x % (D.FIELD + 1);
      if (column === D.FIELD) return GREYS[255];
      const out = painted.outputs[config.models[k].name], p = y * D.FIELD + column;
      return heat[Math.abs(out[p] - painted.clean[p])];
    }, width, D.FIELD);
  }
  /* The error maps, made only while their fold is open (a phone's every update would pay for a picture unseen). */
  function showErrorMaps(painted) {
    if (!document.querySelector("details.error-maps")?.open) return;
    show("error-maps", painted.clean !== null && config.models.every((m) => painted.outputs[m.name]) && errorStrip(painted),
         "Error maps, left to right: " + config.models.map((m) => m.short).join(", "));
  }
  function paint(painted) {
    studio.last = painted;
    studio.updates += 1;
    const has = painted.clean !== null;
    text("status", painted.status);
    show("preview", has && greyImage(painted.clean), "Your digit as the models see it, 28 by 28 pixels");
    show("noisy", has && greyImage(painted.noisy), "The noisy copy fed to every model");
    for (const model of config.models) {
      const out = painted.outputs[model.name], metric = painted.metrics[model.name];
      show(`out-${model.name}`, out && greyImage(out), `${model.title}: its reconstruction`);
      text(`metrics-${model.name}`, metric ? (painted.yours.includes(model.name) ? "Yours (Train tab) · " : "")
           + `MSE ${metric.mse.toFixed(4)} · PSNR ${metric.psnr.toFixed(1)} dB`
           : painted.clean !== null && painted.loading?.includes(model.name) ? config.loading_note : "");
    }
    showErrorMaps(painted);
    showSweep(painted);
    document.dispatchEvent(new CustomEvent("ae-studio-painted", {detail: painted}));  // for the benchmark
  }
  const placeholder = () => aeCharts.placeholder("Each model's error on your digit as the noise grows appears here once you draw.");

  /* The sweep's chart, left as it is while the pen moves (sweep undefined); for the same curves at another amount
   * (a slider step), only its dashed rule moves. */
  let charted = null;  // the sweep and noise type the chart shows
  function showSweep(painted) {
    const chart = document.getElementById("sweep");
    if (!chart || painted.sweep === undefined) return;
    const svg = chart.querySelector("svg");
    if (painted.sweep && svg && charted?.sweep.mse === painted.sweep.mse && charted.kind === painted.noise.kind
        && charted.yours === painted.yours.join()) {
      aeCharts.moveRule(svg, painted.noise.amount, ruleTip(painted.noise.amount));
    } else {
      chart.replaceChildren(...(painted.sweep ? sweepChart(painted) : [placeholder()]));
    }
    charted = painted.sweep && {sweep: painted.sweep, kind: painted.noise.kind, yours: painted.yours.join()};
  }
  const ruleTip = (amount) => `your noise amount, ${amount}`;

  /* The noise sweep: MSE against the noise amount, one line per model, the slider's amount dashed. */
  function sweepChart(painted) {
    const {amounts, mse: curves} = painted.sweep, label = config.noise_labels[painted.noise.kind];
    return aeCharts.lineChart({
      lines: config.models.filter((model) => curves[model.name]).map((model) => ({
        label: model.short + (painted.yours.includes(model.name) ? " (yours)" : ""), colour: model.colour, xs: amounts,
        ys: curves[model.name], tips: amounts.map((a, i) => `${model.short}, noise ${a}: MSE ${curves[model.name][i].toFixed(4)}`)})),
      xEnd: 1, xLabel: `noise amount (${label})`, yLabel: "MSE vs your clean digit",
      rules: [{at: painted.noise.amount, tip: ruleTip(painted.noise.amount), vertical: true}],
      legendRule: "your noise amount"});
  }
  function showEngine() {  // data-engine: where the models run; the note: who computes what is shown
    const note = !["page", "partial"].includes(studio.engine) ? studio.engine : yours.length ? "yours"
      : Object.keys(own).length ? "yours_page" : studio.engine;
    text("engine-note", config.engine_notes[note]);
    document.getElementById("draw-view")?.setAttribute("data-engine", studio.engine);
  }

  /* ---------- wiring ---------- */
  studio.mount = function (element, props, watch, fallback) {
    config = props.config;
    askServer = fallback;
    // The noise controls as they stand: a visitor may have moved them before this script had loaded.
    const [kind, amount, seed] = ["kind", "amount", "seed"].map(
      (key) => document.querySelector(config.noise_inputs[key])?.value ?? config.noise[key]);
    noise = parseNoise(kind, amount, seed);
    document.addEventListener(config.drawing_event, (event) => {
      drawingVersion += 1;
      drawing = event.detail;
      update(event.detail.final);
    });
    watch("value", () => fromServer(props.value));
    document.addEventListener("toggle", (event) => {  // a toggle does not bubble: caught on its way down
      if (event.target.matches?.("details.error-maps") && studio.last) showErrorMaps(studio.last);
    }, true);
    studio.noise = (kind, amount, seed) => {
      const next = parseNoise(kind, amount, seed);
      if (next.kind === noise.kind && next.amount === noise.amount && next.seed === noise.seed) return;
      noise = next;
      if (drawing && !drawing.empty) update();
    };
    // A dragged amount slider's every step, from its own input event: Gradio's change event, which follows, is
    // then the same setting and changes nothing, and the step does not wait for it.
    document.addEventListener("input", (event) => {
      if (event.target.matches && event.target.matches(config.noise_inputs.amount)) studio.noise(noise.kind, event.target.value, noise.seed);
    }, true);
    showEngine();
    const started = performance.now();
    startModels(new URL(config.static_url, document.baseURI).href, () => {
      studio.engine = "partial";
      showEngine();
      if (drawing) update();  // the first models' outputs, computed here, in place of the server's
    }).then(() => {
      studio.engine = "page";
      studio.readyMs = performance.now() - started;
      whenReady.resolve();
      showEngine();
      if (drawing) update();  // whatever the server painted meanwhile is now the page's to paint
    }, (error) => {
      console.warn("ae-studio: the models cannot run in this page; the server computes every update:", error);
      studio.engine = "server";
      whenReady.reject(error);
      showEngine();
    });
    blank(config.empty_prompt);
    document.dispatchEvent(new CustomEvent(config.drawing_wanted_event));  // a stroke drawn before this mounted
  };
})();
