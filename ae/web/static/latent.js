/* The Latent tab in the visitor's page: the decoder's digit under the pointer follows it over the map (hover,
 * drag, touch), and the sliders' digit follows the sliders, decoded here by the models' ONNX decoders with no
 * request.
 *
 * The server draws the map and, on every model switch, says how to read it (the lens view's value carries
 * ae.web.latent_tab.page_space: the map's geometry, the codes' mean and components, the sliders' units). A
 * click still goes to the server, which marks the map and finds the nearest test digits; its answer (a
 * lens_record) is what the lens keeps once the pointer leaves the map. Until the decoders are ready, or where
 * they cannot run, a click is the way to decode a point and the sliders ask the server (the slider view's
 * "fallback" event, api_name "latent_sliders"), whose answers are painted by the same code.
 *
 * app.py mounts both views from their js_on_load: aeStudio.latent.mountLens(element, props, watch) and
 * aeStudio.latent.mountSliders(element, props, watch, askServer).
 */
(function () {
  "use strict";
  const D = window.aeDigit, studio = window.aeStudio;
  const latent = studio.latent = {
    engine: "loading",  // as the Draw tab's: "loading", "page" or "server"
    updates: 0,         // painted digits, for the tests and the benchmark
    last: null,         // the lens's latest: {source, point, pixels}
    sliderDigit: null,  // the sliders' latest: {source, pixels}
    busy: () => lensQueue.busy() || sliderQueue.busy(),
    model: () => space && space.model,  // the model whose map the page reads
  };
  let space = null, pinned = null, hovering = false, askServer = null, base = {};

  /* ---------- decoding, as ae.web.latent_tab computes it ---------- */
  const session = (part) => studio.session(space.files[part]);
  function moveAlong(code, coords) {  // code + coords · the first components, in place
    coords.forEach((c, k) => space.components[k].forEach((v, i) => { code[i] += c * v; }));
    return code;
  }
  const lift = (coords) => moveAlong(Float32Array.from(space.mean), coords);  // as LatentSpace.lift
  async function decode(code) {
    const codes = new ort.Tensor("float32", code, [1, ...space.code_shape]);
    return D.asPixels((await (await session("decoder")).run({codes})).reconstructions.data);
  }
  function position(value) {  // as latent_tab._slider_position: not a number is 0, beyond an end is that end
    value = Number(value);
    return Number.isFinite(value) ? Math.min(Math.max(value, -space.slider_range), space.slider_range) : 0;
  }
  /* The drawing's own code (or the mean code, with no drawing) moved along the first components to the sliders'
   * coordinates, as latent_tab.decode_sliders. A 2-D code is the sliders' point itself, whatever the drawing. */
  async function sliderCode(values) {
    const k = space.scale.length, digit = space.plane ? null : studio.digit();  // the same array until it changes
    if (digit && (base.digit !== digit || base.model !== space.model)) {
      const digits = new ort.Tensor("float32", Float32Array.from(digit), [1, 1, D.FIELD, D.FIELD]);
      base = {digit, model: space.model, code: (await (await session("encoder")).run({digits})).codes.data};
    }
    const code = Float32Array.from(digit ? base.code : space.mean);
    const projected = space.components.slice(0, k).map((c) => c.reduce((sum, v, i) => sum + v * (code[i] - space.mean[i]), 0));
    return moveAlong(code, values.slice(0, k).map((v, j) => space.origin[j] + position(v) * space.scale[j] - projected[j]));
  }

  const queue = (work) => studio.latest(work, (error) => {  // one decoding at a time, the latest waiting
    console.warn("ae-studio: decoding in the page failed; the server decodes instead:", error);
    latent.engine = "server";
    showEngine();
  });
  const lensQueue = queue(async (point) => {
    const model = space.model, pixels = await decode(lift(point));
    if (hovering && model === space.model) paintLens({source: "page", point, pixels});
  });
  const sliderQueue = queue(async (values) => paintSliders(await decode(await sliderCode(values)), "page"));

  /* ---------- the map: a pointer's place on the server's picture ---------- */
  function mapPoint(event) {  // map coordinates under the pointer, or null outside the axes (legend, labels)
    const image = event.target.closest && event.target.closest("#latent-map img");
    if (!image || !space) return null;
    const rect = image.getBoundingClientRect(), m = space.map;
    const scale = Math.min(rect.width / m.width, rect.height / m.height);  // app.css: object-fit: contain
    const column = (event.clientX - rect.left - (rect.width - m.width * scale) / 2) / scale;
    const row = (event.clientY - rect.top - (rect.height - m.height * scale) / 2) / scale;
    const [left, right] = m.x_pixels, [top, bottom] = m.y_pixels, [x0, x1] = m.x_limits, [y0, y1] = m.y_limits;
    if (column < left || column > right || row < top || row > bottom) return null;
    return [x0 + (column - left) / (right - left) * (x1 - x0), y0 + (bottom - row) / (bottom - top) * (y1 - y0)];
  }
  function follow(event) {
    const point = latent.engine === "page" ? mapPoint(event) : null;
    if (point) { hovering = true; lensQueue.ask(point); }
    else leave();
  }
  function leave() {  // back to the kept point, the server's answer to the last click
    if (!hovering) return;
    hovering = false;
    paintLens(pinned);
  }
  /* A click, or a finger lifted: the lens keeps the digit it shows (a click's answer from the server follows). */
  function keep(event) {
    if (event.type === "pointerup" && event.pointerType === "mouse") return;
    if (mapPoint(event) && hovering && latent.last) pinned = latent.last;
  }

  /* ---------- painting ---------- */
  const number = (value) => value.toFixed(2).replace("-", "−");
  function paintLens(painted) {
    const note = document.getElementById("lens-note");
    if (!note || !space) return;
    const where = painted && `${space.axes[0]} = ${number(painted.point[0])}, ${space.axes[1]} = ${number(painted.point[1])}`;
    studio.showDigit("lens-digit", painted && painted.pixels, `The decoder's digit at ${where}`);
    note.textContent = painted ? `${painted === pinned ? "Kept" : "Under the pointer"}: ${where}` : config().prompts[latent.engine];
    latent.last = painted;
    latent.updates += 1;
    document.dispatchEvent(new CustomEvent("ae-studio-latent-painted", {detail: painted}));
  }
  function paintSliders(pixels, source) {
    studio.showDigit("slider-digit", pixels, "The decoder's digit at the sliders' code");
    latent.sliderDigit = {source, pixels};
    latent.updates += 1;
    document.dispatchEvent(new CustomEvent("ae-studio-latent-painted", {detail: latent.sliderDigit}));
  }
  let lensProps = null;
  const config = () => lensProps.config;
  function showEngine() {
    if (!hovering && !pinned) paintLens(null);
  }

  /* ---------- the server's answers ---------- */
  async function lensFromServer(record) {
    if (!record || typeof record !== "object") return;
    if (record.space) space = record.space;
    pinned = record.point && record.image ? {source: "server", point: record.point, pixels: await studio.pixelsOf(record.image)} : null;
    if (!hovering) paintLens(pinned);
  }
  async function slidersFromServer(record) {
    if (record && typeof record === "object" && record.image) paintSliders(await studio.pixelsOf(record.image), "server");
  }

  /* ---------- wiring ---------- */
  latent.mountLens = function (element, props, watch) {
    lensProps = props;
    watch("value", () => lensFromServer(props.value));
    document.addEventListener("pointermove", follow);
    document.addEventListener("pointerdown", follow);  // a tap decodes where the finger lands
    document.addEventListener("pointerout", (event) => { if (event.target.closest && event.target.closest("#latent-map")) leave(); });
    document.addEventListener("pointercancel", leave);
    document.addEventListener("click", keep, true);
    document.addEventListener("pointerup", keep, true);
    studio.ready.then(() => { latent.engine = "page"; showEngine(); },
                      () => { latent.engine = "server"; showEngine(); });
    showEngine();
    lensFromServer(props.value);
  };
  latent.mountSliders = function (element, props, watch, fallback) {
    askServer = fallback;
    watch("value", () => slidersFromServer(props.value));
    slidersFromServer(props.value);
  };
  /* A person moved a slider (app.py's js-only event): decode here when this model's decoder is, else ask. */
  latent.sliders = function (model, values) {
    if (latent.engine === "page" && space && space.model === model) sliderQueue.ask(values);
    else askServer();
  };
})();
