/* The Train tab's training, in a Web Worker of the visitor's page: the page stays responsive while it trains.
 *
 * Each step is one run of the model's exported training step (ae/step.py, ae/export_training.py): the batch
 * and its random draws go in with the weights and Adam's averages, and the loss and their next values come out.
 * About once a second the worker measures the test error and the film's digits with the forward graph, and
 * reports; at the end it reports the weights too. Nothing is asked of the server but the files, once.
 *
 * The batches' order and every random draw come from the counter-based hash of digit.js, so PyTorch replays a
 * run exactly (ae.step.page_batches, tests/test_train_page.py).
 *
 * Messages in:  {type: "train", run} (run: model, recipe, budgetMs, maxSteps?, everyLoss?, config); {type: "stop"};
 *               {type: "measure", model, weights, config}
 * Messages out: {type: "report", report}; {type: "done", report, weights, losses?, clocks?, clockEnd, firstMeans};
 *               {type: "measured", model, report}; {type: "error", message}
 */
"use strict";
let runtime = null, D = null, stopRequested = false, base = null;  // runtime: ONNX Runtime Web (its script's global `ort`)
const files = {};  // url -> promise of its bytes
const sessions = {};  // file -> promise of an InferenceSession

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "stop") stopRequested = true;
  else if (message.type === "train") train(message.run).catch(failed);
  else if (message.type === "measure") measureAlone(message).catch(failed);
};
const failed = (error) => self.postMessage({type: "error", message: String(error && error.message || error)});

/* ---------- files: fetched once, kept in the browser's cache, checked against their SHA-256 ---------- */
async function cachedFetch(url) {
  const cache = typeof caches !== "undefined" ? await caches.open("ae-studio-train").catch(() => null) : null;
  let answer = cache && await cache.match(url);
  if (!answer) {
    answer = await fetch(url);
    if (!answer.ok) throw new Error(`could not load ${url} (${answer.status})`);
    if (cache) await cache.put(url, answer.clone()).catch(() => {});
  }
  return answer.arrayBuffer();
}
async function hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
function bytesOf(entry) {  // {file, sha256}: the file's bytes as served, checked
  const url = `${base}train/${entry.file}?v=${entry.sha256.slice(0, 16)}`;
  return files[url] ??= cachedFetch(url).then(async (bytes) => {
    if (await hex(bytes) !== entry.sha256) { delete files[url]; throw new Error(`${entry.file} is damaged (its SHA-256 differs)`); }
    return bytes;
  });
}
async function gunzip(bytes) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
}
const session = (entry) => sessions[entry.file] ??= bytesOf(entry).then((bytes) =>
  runtime.InferenceSession.create(new Uint8Array(bytes), {executionProviders: ["wasm"]}));

async function startRuntime(config) {
  if (runtime) return;
  base = config.static_base;
  importScripts(`${base}digit.js`, `${base}ort/ort.wasm.min.js`);
  D = self.aeDigit;
  runtime = self.ort;
  runtime.env.wasm.numThreads = 1;
  runtime.env.wasm.wasmPaths = `${base}ort/`;
  // The binary comes compressed, brotli or gzip, and the browser unpacks it (ae.web.serving.PrecompressedRuntime).
  const wasm = await fetch(`${base}ort/ort-wasm-simd-threaded.wasm?v=${config.runtime_sha256.slice(0, 16)}`);
  if (!wasm.ok) throw new Error("could not load ONNX Runtime's WebAssembly");
  runtime.env.wasm.wasmBinary = await wasm.arrayBuffer();
}

/* ---------- safetensors (the format of the starting weights and of a visitor's download) ---------- */
function readSafetensors(buffer) {
  const view = new DataView(buffer), size = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, size)));
  const tensors = {};
  for (const [name, {dtype, shape, data_offsets: [from, to]}] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (dtype !== "F32") throw new Error(`${name} is ${dtype}, not float32`);
    tensors[name] = {shape, data: new Float32Array(buffer.slice(8 + size + from, 8 + size + to))};
  }
  return tensors;
}

/* ---------- the data ---------- */
let digitsCache = null, testCache = null;
async function trainingDigits(config) {
  return digitsCache ??= bytesOf(config.digits).then(gunzip);
}
async function testDigits(config) {
  return testCache ??= bytesOf(config.test).then(gunzip).then((bytes) => {
    const parts = {}, N = 784;
    let at = 0;
    for (const [name, count] of Object.entries(config.test.parts)) { parts[name] = bytes.subarray(at * N, (at + count) * N); at += count; }
    return parts;
  });
}
const asFloats = (bytes) => Float32Array.from(bytes, (v) => v / 255);

/* ---------- a run ---------- */
async function forward(model, weights, digits, count) {
  const run = await session(model.forward), feeds = {digits: new runtime.Tensor("float32", digits, [count, 1, 28, 28])};
  for (const [name, shape] of Object.entries(model.weights)) feeds[`p.${name}`] = new runtime.Tensor("float32", weights[name], shape);
  return (await run.run(feeds)).reconstructions.data;
}
async function measure(model, weights, test) {  // the test MSE (per pixel, against the clean digits) and the film
  const N = 784, clean = asFloats(test.test), shown = asFloats(model.noisy_test ? test.noisy_test : test.test);
  let sum = 0;
  const part = 250, count = clean.length / N;
  for (let at = 0; at < count; at += part) {
    const n = Math.min(part, count - at), out = await forward(model, weights, shown.subarray(at * N, (at + n) * N), n);
    for (let i = 0; i < n * N; i++) sum += (out[i] - clean[at * N + i]) ** 2;
  }
  const film = await forward(model, weights, asFloats(model.noisy_test ? test.noisy_film : test.film), test.film.length / N);
  return {testMse: sum / clean.length, film: D.asPixels(film)};
}
async function measureAlone({model, weights, config}) {  // a visitor's own file, loaded back: its test error and film
  await startRuntime(config);
  self.postMessage({type: "measured", model, report: await measure(config.models[model], weights, await testDigits(config))});
}
const yieldToMessages = () => new Promise((resolve) => setTimeout(resolve, 0));  // so that a Stop is heard

async function train(run) {
  const {config} = run;
  stopRequested = false;
  await startRuntime(config);
  const model = config.models[run.model], plan = model.recipes[run.recipe];
  const [digits, test, start, step] = await Promise.all([trainingDigits(config), testDigits(config),
    bytesOf(model.start).then(readSafetensors), session(plan.step)]);
  await session(model.forward);
  const names = Object.keys(model.weights), feedsNames = new Set(step.inputNames);
  let weights = run.weights || Object.fromEntries(names.map((n) => [n, start[n].data]));
  const means = Object.fromEntries(names.map((n) => [n, new Float32Array(weights[n].length)]));
  const squares = Object.fromEntries(names.map((n) => [n, new Float32Array(weights[n].length)]));
  const clockEnd = run.maxSteps ? run.maxSteps : run.budgetMs;  // the one-cycle's clock: steps, or milliseconds
  const began = performance.now(), draws = D.trainingBatches(plan, digits, config.seed);
  let steps = 0, lossSum = 0, losses = 0, nextReport = 0, firstMeans = null;
  const everyLoss = run.everyLoss ? [] : null, clocks = run.everyLoss ? [] : null;  // each step's, for the parity tests
  const report = async (final) => {
    const measured = await measure(model, weights, test);
    const out = {step: steps, seconds: (performance.now() - began) / 1000, imagesSeen: steps * plan.batch_size,
                 trainLoss: losses ? lossSum / losses : null, ...measured, final, stopped: final && stopRequested};
    lossSum = 0; losses = 0;
    return out;
  };
  for (;;) {
    const elapsed = performance.now() - began;
    const over = run.maxSteps ? steps >= run.maxSteps : elapsed >= run.budgetMs;
    if (over || stopRequested) break;
    if (elapsed >= nextReport) {
      self.postMessage({type: "report", report: await report(false)});
      await yieldToMessages();
      nextReport = performance.now() - began + config.report_every_ms;
      if (stopRequested) break;
    }
    const {batch, random} = draws.next().value, size = plan.batch_size;
    const feeds = {digits: new runtime.Tensor("float32", batch, [size, 1, 28, 28]),
                   step: new runtime.Tensor("float32", [steps + 1], []),
                   clock: new runtime.Tensor("float32", [run.maxSteps ? steps : elapsed], []),  // as float32 holds it
                   clock_end: new runtime.Tensor("float32", [clockEnd], [])};
    if (random.noise) { feeds.noise = new runtime.Tensor("float32", random.noise, [size, 1, 28, 28]); feeds.amounts = new runtime.Tensor("float32", random.amounts, [size]); }
    if (random.sample) feeds.sample = new runtime.Tensor("float32", random.sample, [size, 2]);
    for (const name of names) {
      const shape = model.weights[name];
      feeds[`p.${name}`] = new runtime.Tensor("float32", weights[name], shape);
      feeds[`m.${name}`] = new runtime.Tensor("float32", means[name], shape);
      feeds[`v.${name}`] = new runtime.Tensor("float32", squares[name], shape);
    }
    for (const key of Object.keys(feeds)) if (!feedsNames.has(key)) delete feeds[key];
    const out = await step.run(feeds);
    weights = Object.fromEntries(names.map((n) => [n, out[`next.p.${n}`].data]));
    for (const n of names) { means[n] = out[`next.m.${n}`].data; squares[n] = out[`next.v.${n}`].data; }
    if (steps === 0) firstMeans = Object.fromEntries(names.map((n) => [n, Float32Array.from(means[n])]));
    lossSum += out.loss.data[0]; losses += 1; steps += 1;
    if (everyLoss) { everyLoss.push(out.loss.data[0]); clocks.push(feeds.clock.data[0]); }
  }
  const last = await report(true);
  self.postMessage({type: "done", report: last, weights, losses: everyLoss, clocks, clockEnd, firstMeans});
}
