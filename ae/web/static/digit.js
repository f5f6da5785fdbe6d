/* The Draw tab's arithmetic, in the page: a drawing to a 28x28 digit, the seeded noise, and the metrics.
 *
 * Each function is the twin of one in Python, and the parity tests hold them to it:
 *   sketchToMnist  <-> ae/preprocess.py  sketch_to_mnist (ink map, crop, resize, centre by mass)
 *   pageNoise      <-> ae/noise.py       page_noise (counter-based hash, so both sides draw the same noise)
 *   trainingBatches <-> ae/step.py       page_batches (the Train tab's batches and draws, from the same hash)
 *   mse, psnr      <-> ae/metrics.py
 * Plain functions over typed arrays, no DOM: Node runs this file too (tests/test_page_math.py).
 */
(function (root) {
  "use strict";
  const FIELD = 28, DIGIT_BOX = 20, INK_FLOOR = 0.05, MIN_INK = 0.2, PSNR_CAP_DB = 100;
  const STREAM = {GAUSS_U1: 1, GAUSS_U2: 2, SALT_HIT: 3, SALT_WHITE: 4, MASK_TOP: 5, MASK_LEFT: 6};
  const TRAIN = {ORDER: 0, NORMAL_U1: 1, NORMAL_U2: 2, AMOUNTS: 3};  // ae.noise's training uses

  const halfUp = (x) => Math.max(1, Math.floor(x + 0.5));

  /* How far each pixel of an RGBA image (0-255) is from the canvas colour, read off the border: ink_map.
   * Transparent pixels show the white canvas beneath. `rgba` holds the pixels of `box` alone, every pixel of the
   * width x height image outside it being white (a pad reads only where its strokes are): {ink, area}, the ink
   * over `area`, zero outside it (the box, or the whole image where white paper reads as ink). */
  function inkMap(rgba, width, height, box) {
    const inBox = (x, y) => x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height;
    const channel = (x, y, c) => (inBox(x, y) ? rgba[4 * ((y - box.y) * box.width + x - box.x) + c] : 255);
    const value = (x, y, c) => { const a = channel(x, y, 3) / 255; return (channel(x, y, c) / 255) * a + (1 - a); };
    const border = [];
    for (let x = 0; x < width; x++) border.push([x, 0], [x, height - 1]);
    for (let y = 0; y < height; y++) border.push([0, y], [width - 1, y]);
    const [r, g, b] = [0, 1, 2].map((c) => {
      const list = border.map(([x, y]) => value(x, y, c)).sort((u, v) => u - v), m = list.length >> 1;
      return list.length % 2 ? list[m] : (list[m - 1] + list[m]) / 2;
    });
    const paper = Math.max(Math.abs(1 - r), Math.abs(1 - g), Math.abs(1 - b));  // a white pixel's, as below
    const area = paper > INK_FLOOR ? {x: 0, y: 0, width, height} : box;
    const ink = new Float64Array(area.width * area.height).fill(paper > INK_FLOOR ? paper : 0);
    for (let y = 0; y < box.height; y++) {
      for (let x = 0, q = 4 * y * box.width; x < box.width; x++, q += 4) {
        let most;
        if (rgba[q + 3] === 255) {  // opaque, as a canvas is: the same numbers, with a = 1 and paper = 0 left out
          most = Math.max(Math.abs(rgba[q] / 255 - r), Math.abs(rgba[q + 1] / 255 - g), Math.abs(rgba[q + 2] / 255 - b));
        } else {
          const a = rgba[q + 3] / 255, paper = 1 - a;  // what a transparent pixel shows: the white canvas beneath
          most = Math.max(Math.abs((rgba[q] / 255) * a + paper - r), Math.abs((rgba[q + 1] / 255) * a + paper - g),
                          Math.abs((rgba[q + 2] / 255) * a + paper - b));
        }
        ink[(y + box.y - area.y) * area.width + x + box.x - area.x] = most > INK_FLOOR ? most : 0;
      }
    }
    return {ink, area};
  }

  /* (nOut x nIn) weights resizing one axis: area average when shrinking, linear when enlarging. */
  function resizeWeights(nIn, nOut) {
    const weights = Array.from({length: nOut}, () => new Float64Array(nIn));
    const step = nIn / nOut;
    for (let j = 0; j < nOut; j++) {
      if (nOut <= nIn) {
        const low = j * step, high = (j + 1) * step;
        for (let i = Math.floor(low); i < Math.min(nIn, Math.ceil(high)); i++)
          weights[j][i] = (Math.min(high, i + 1) - Math.max(low, i)) / step;
      } else {
        const source = Math.min(Math.max((j + 0.5) * step - 0.5, 0), nIn - 1);
        const i = Math.floor(source);
        weights[j][i] += 1 - (source - i);
        weights[j][Math.min(i + 1, nIn - 1)] += source - i;
      }
    }
    return weights;
  }

  /* (FIELD x nIn) weights sampling an axis at i + offset, linearly, zero outside: shift_weights. */
  function shiftWeights(nIn, offset) {
    return Array.from({length: FIELD}, (_, i) => Float64Array.from({length: nIn},
      (_, k) => Math.max(0, 1 - Math.abs(i + offset - k))));
  }

  /* rows (R x H) . image (H x W, row-major) . cols^T (W x C) -> R x C, row-major. */
  function sandwich(rows, image, height, width, cols) {
    const R = rows.length, C = cols.length, middle = new Float64Array(R * width), out = new Float64Array(R * C);
    for (let r = 0; r < R; r++) for (let y = 0; y < height; y++) {
      const w = rows[r][y];
      if (w) for (let x = 0; x < width; x++) middle[r * width + x] += w * image[y * width + x];
    }
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let x = 0; x < width; x++) sum += middle[r * width + x] * cols[c][x];
      out[r * C + c] = sum;
    }
    return out;
  }

  /* A drawing (RGBA bytes, width x height) as a 28x28 digit in [0, 1] (Float32Array, row-major);
   * null when there is no ink to speak of. With `box` ({x, y, width, height}), `rgba` holds that part of the
   * drawing alone and the rest is white: the same digit, for the work of reading where the strokes are. */
  function sketchToMnist(rgba, width, height, box = {x: 0, y: 0, width, height}) {
    const {ink, area} = inkMap(rgba, width, height, box);
    let top = 0;
    for (const v of ink) top = Math.max(top, v);
    if (top < MIN_INK) return null;
    let y0 = height, y1 = -1, x0 = width, x1 = -1;
    for (let y = area.y; y < area.y + area.height; y++) for (let x = area.x; x < area.x + area.width; x++) {
      const p = (y - area.y) * area.width + x - area.x;
      if (ink[p] === 0) continue;  // paper, most of a drawing: stays 0
      ink[p] /= top;
      if (ink[p] > INK_FLOOR) { y0 = Math.min(y0, y); y1 = Math.max(y1, y); x0 = Math.min(x0, x); x1 = Math.max(x1, x); }
    }
    const h = y1 - y0 + 1, w = x1 - x0 + 1, crop = new Float64Array(h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++)
      crop[y * w + x] = ink[(y + y0 - area.y) * area.width + x + x0 - area.x];
    const scale = DIGIT_BOX / Math.max(h, w), outH = halfUp(h * scale), outW = halfUp(w * scale);
    const digit = sandwich(resizeWeights(h, outH), crop, h, w, resizeWeights(w, outW));
    let total = 0, comY = 0, comX = 0;
    for (let y = 0; y < outH; y++) for (let x = 0; x < outW; x++) {
      const v = Math.min(Math.max(digit[y * outW + x], 0), 1);
      digit[y * outW + x] = v; total += v; comY += y * v; comX += x * v;
    }
    const field = sandwich(shiftWeights(outH, comY / total - FIELD / 2), digit, outH, outW,
                           shiftWeights(outW, comX / total - FIELD / 2));
    return Float32Array.from(field, (v) => Math.min(Math.max(v, 0), 1));
  }

  /* lowbias32 (C. Wellons): the hash behind every random number of the page's noise, as in ae/noise.py. */
  function mix32(x) {
    x = x >>> 0;
    x ^= x >>> 16; x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15; x = Math.imul(x, 0x846ca68b);
    x ^= x >>> 16;
    return x >>> 0;
  }

  /* `count` numbers in (0, 1), a fixed function of (seed, stream, index): uniforms. */
  function uniforms(seed, stream, count) {
    const key = mix32((seed >>> 0) ^ mix32(stream));
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = ((mix32(key ^ mix32(i)) >>> 8) + 0.5) / 16777216;
    return out;
  }

  /* A corrupted copy of one 28x28 digit (Float32Array), as ae.noise.page_noise makes it. */
  function pageNoise(clean, kind, amount, seed) {
    const n = clean.length;
    amount = Math.min(Math.max(Number(amount), 0), 1);
    seed = Number(seed) >>> 0;
    const out = Float32Array.from(clean);
    if (kind === "gaussian") {
      const u1 = uniforms(seed, STREAM.GAUSS_U1, n), u2 = uniforms(seed, STREAM.GAUSS_U2, n);
      for (let i = 0; i < n; i++) {
        const normal = Math.sqrt(-2 * Math.log(u1[i])) * Math.cos(2 * Math.PI * u2[i]);
        out[i] = Math.min(Math.max(clean[i] + amount * normal, 0), 1);
      }
    } else if (kind === "salt_pepper") {
      const hit = uniforms(seed, STREAM.SALT_HIT, n), white = uniforms(seed, STREAM.SALT_WHITE, n);
      for (let i = 0; i < n; i++) if (hit[i] < amount) out[i] = white[i] < 0.5 ? 1 : 0;
    } else if (kind === "mask") {
      const side = Math.floor(Math.sqrt(amount) * FIELD + 0.5);
      if (side) {
        const top = Math.floor(uniforms(seed, STREAM.MASK_TOP, 1)[0] * (FIELD - side + 1));
        const left = Math.floor(uniforms(seed, STREAM.MASK_LEFT, 1)[0] * (FIELD - side + 1));
        for (let y = top; y < top + side; y++) out.fill(0, y * FIELD + left, y * FIELD + left + side);
      }
    } else {
      throw new Error(`unknown noise kind ${kind}`);
    }
    return out;
  }

  /* The Train tab's batches (uint8 digits, N x 784) and each step's random draws, step after step: the twin of
   * ae.step.page_batches. Epoch after epoch in an order drawn from the hash (or as stored, without shuffle). */
  function* trainingBatches(plan, digits, seed) {
    const N = 784, size = plan.batch_size, count = digits.length / N, perEpoch = Math.floor(count / size);
    const stream = (use, index) => index * 8 + use;  // ae.noise.training_stream: (index << 3) | use
    const normals = (index, n) => {  // ae.noise.normals
      const u1 = uniforms(seed, stream(TRAIN.NORMAL_U1, index), n), u2 = uniforms(seed, stream(TRAIN.NORMAL_U2, index), n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u1[i])) * Math.cos(2 * Math.PI * u2[i]);
      return out;
    };
    let step = 0;
    for (let epoch = 0; ; epoch++) {
      const order = Array.from({length: count}, (_, i) => i);
      if (plan.shuffle) { const keys = uniforms(seed, stream(TRAIN.ORDER, epoch), count); order.sort((a, b) => keys[a] - keys[b]); }
      for (let k = 0; k < perEpoch; k++, step++) {
        const batch = new Float32Array(size * N);
        for (let i = 0; i < size; i++) {
          const from = order[k * size + i] * N;
          for (let p = 0; p < N; p++) batch[i * N + p] = digits[from + p] / 255;
        }
        const random = {};
        if (plan.train_noise) {
          const [low, high] = plan.train_noise, u = uniforms(seed, stream(TRAIN.AMOUNTS, step), size);
          random.noise = normals(step, size * N);
          random.amounts = Float32Array.from(u, (v) => low + (high - low) * v);
        }
        if (plan.loss === "elbo") random.sample = normals(step, size * 2);
        yield {batch, random};
      }
    }
  }

  /* Mean squared error per pixel between two images of the same size (float64 sums), and PSNR (peak 1). */
  function mse(output, target) {
    let sum = 0;
    for (let i = 0; i < target.length; i++) sum += (output[i] - target[i]) ** 2;
    return sum / target.length;
  }
  const psnr = (error) => 10 * Math.log10(1 / Math.max(error, 10 ** (-PSNR_CAP_DB / 10)));

  /* An image in [0, 1] as bytes, rounded half up: as_pixels. */
  function asPixels(image) {
    const pixels = new Uint8Array(image.length);
    for (let i = 0; i < image.length; i++) pixels[i] = Math.floor(Math.min(Math.max(image[i], 0), 1) * 255 + 0.5);
    return pixels;
  }

  const api = {FIELD, sketchToMnist, uniforms, pageNoise, trainingBatches, mse, psnr, asPixels, mix32};
  root.aeDigit = api;
  if (typeof module !== "undefined") module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
