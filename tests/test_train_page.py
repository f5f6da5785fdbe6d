"""The Train tab's training in the page (ONNX Runtime Web in a Web Worker, in Chromium) against PyTorch, step for
step on the same weights and the same batches (ae.step.replay draws them as the page does).

Tolerances, and why:
- gradients within 1e-5 (read from Adam's first mean: (1 - beta1) times the gradient): float32 rounding in two
  orders of summation;
- after 100 steps, the loss within 0.1% (the curve within 1%) and every weight within 1e-3 of PyTorch's, where
  float32 can promise that: where PyTorch's own float32 run stays that close to the same run in float64.
- Where it cannot, the page's run must be no further from exact arithmetic than PyTorch's float32 run is. Adam
  moves a weight by about lr * g / (sqrt(v) + 1e-8), nearly the learning rate whatever g's size, so where sqrt(v)
  is near 1e-8 the last bits of g decide the step, and a ReLU network amplifies small differences from step to
  step: for the denoiser and the two 2-D models, PyTorch's float32 run ends up to 0.09 from the float64 run after
  100 steps, and the denoiser's last loss 0.5% from it (so would any two float32 implementations that add in
  different orders). There the page's loss must be within three times PyTorch's distance from float64 (plus 0.1%
  at the end, 1% along the curve), and each tensor's root mean square distance from float64 within three times
  PyTorch's, plus 1e-4 (a chaotic drift's size varies from one order of adding to another, by two times here;
  1e-4 is a thousandth of a typical weight; a maximum over a tensor is too noisy a statistic to compare).
- a step with nothing to learn from (an all-zero batch: a zero gradient for the first layer) leaves those
  weights exactly as they were, never NaN.
"""

import base64
import gzip
import json

import numpy as np
import pytest
import torch
from playwright.sync_api import sync_playwright
from safetensors.torch import load_file

from ae.bench.browser import Visitor, launch, served_app
from ae.export_training import RECIPE_NAMES, TRAIN_DIR, TRAIN_MANIFEST
from ae.models import MODELS
from ae.optim import BETAS, one_cycle
from ae.step import replay, step_recipe

MANIFEST = json.loads(TRAIN_MANIFEST.read_text())
STEPS = 100
RUN_ALONE = """async ([model, recipe, options]) => {
  const done = await aeStudio.trainer.runAlone(model, recipe, {...options, everyLoss: true});
  const encode = (values) => { const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    let text = "";
    for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
    return btoa(text); };
  const all = (tensors) => Object.fromEntries(Object.entries(tensors).map(([name, values]) => [name, encode(values)]));
  return {losses: done.losses, clocks: done.clocks, clockEnd: done.clockEnd, weights: all(done.weights),
          firstMeans: all(done.firstMeans), report: done.report};
}"""
# One step of the committed graph in the page's main thread (the same runtime the worker runs), on an all-zero batch.
ZERO_STEP = """async ([model, recipe]) => {
  const config = aeStudio.trainer.config(), entry = config.models[model], plan = entry.recipes[recipe];
  const base = new URL(config.static_url, document.baseURI).href;
  const session = await ort.InferenceSession.create(`${base}train/${plan.step.file}`);
  const start = new Uint8Array(await (await fetch(`${base}train/${entry.start.file}`)).arrayBuffer());
  const size = Number(new DataView(start.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(start.subarray(8, 8 + size)));
  const n = plan.batch_size, count = (shape) => shape.reduce((a, b) => a * b, 1);
  const zeros = (shape) => new ort.Tensor("float32", new Float32Array(count(shape)), shape);
  const feeds = {digits: zeros([n, 1, 28, 28]), noise: zeros([n, 1, 28, 28]), amounts: zeros([n]),
    sample: zeros([n, 2]), step: new ort.Tensor("float32", [1], []), clock: zeros([]),
    clock_end: new ort.Tensor("float32", [1000], [])};
  for (const [name, shape] of Object.entries(entry.weights)) {
    const [from, to] = header[name].data_offsets;
    const values = new Float32Array(start.slice(8 + size + from, 8 + size + to).buffer);
    feeds[`p.${name}`] = new ort.Tensor("float32", values, shape);
    feeds[`m.${name}`] = zeros(shape);
    feeds[`v.${name}`] = zeros(shape);
  }
  for (const key of Object.keys(feeds)) if (!session.inputNames.includes(key)) delete feeds[key];
  const out = await session.run(feeds), first = Object.keys(entry.weights)[0];
  const nan = Object.values(out).some((tensor) => tensor.data.some((v) => Number.isNaN(v)));
  const same = out[`next.p.${first}`].data.every((v, i) => v === feeds[`p.${first}`].data[i]);
  return {nan, firstLayerUnchanged: same};
}"""


@pytest.fixture(scope="module")
def page():
    with served_app() as (url, _, _), sync_playwright() as playwright:
        browser = launch(playwright)
        visitor = Visitor(browser, url)
        visitor.page.wait_for_function("aeStudio.engine === 'page'", timeout=60_000)  # the Draw tab's runtime too
        visitor.page.get_by_role("tab", name="Train").click()  # Gradio mounts a tab's views when it is first shown
        visitor.page.wait_for_function("aeStudio.trainer.config()", timeout=60_000)
        yield visitor.page
        visitor.close()
        browser.close()
        assert visitor.errors == [], "errors in the page"


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return np.frombuffer(gzip.decompress((TRAIN_DIR / "digits.gz").read_bytes()), np.uint8).reshape(-1, 784)


def decoded(encoded: dict, shapes: dict) -> dict[str, torch.Tensor]:
    values = {name: np.frombuffer(base64.b64decode(encoded[name]), np.float32).copy() for name in shapes}
    return {name: torch.from_numpy(values[name]).reshape(shapes[name]) for name in shapes}


@pytest.mark.parametrize("name, recipe", [(name, recipe) for name in MODELS for recipe in RECIPE_NAMES])
def test_the_pages_steps_are_pytorchs(page, digits, name, recipe):
    plan, entry = step_recipe(name, recipe), MANIFEST["models"][name]
    answer = page.evaluate(RUN_ALONE, [name, recipe, {"maxSteps": STEPS}])
    start = load_file(TRAIN_DIR / entry["start"]["file"])
    losses, weights, grads = replay(plan, start, digits, STEPS)
    beta1 = one_cycle(0, STEPS, plan.lr)[1] if plan.one_cycle else BETAS[0]
    first_means = decoded(answer["firstMeans"], entry["weights"])
    for (key, page_mean), grad in zip(first_means.items(), grads):
        torch.testing.assert_close(page_mean / (1 - beta1), grad, atol=1e-5, rtol=1e-4, msg=f"{key}'s gradient")
    assert len(answer["losses"]) == STEPS
    exact_losses, exact = replay(plan, start, digits, STEPS, dtype=torch.float64)[:2]
    page_off, float32_off = (np.abs(np.subtract(run, exact_losses)) / exact_losses
                             for run in (answer["losses"], losses))
    if float32_off[-1] < 1e-3 / 2:  # PyTorch's float32 run stays close to exact arithmetic
        assert answer["losses"][-1] == pytest.approx(losses[-1], rel=1e-3)
        np.testing.assert_allclose(answer["losses"], losses, rtol=1e-2)  # the whole curve, within 1%
    else:  # the denoiser: 0.5% apart after 100 steps, up to 1.5% on the way
        assert page_off[-1] <= 3 * float32_off[-1] + 1e-3, (page_off[-1], float32_off[-1])
        assert page_off.max() <= 3 * float32_off.max() + 1e-2, (page_off.max(), float32_off.max())
    for key, value in decoded(answer["weights"], entry["weights"]).items():
        if (weights[key].double() - exact[key]).abs().max() < 1e-3 / 2:  # PyTorch's float32 run stays close
            assert (value - weights[key]).abs().max().item() <= 1e-3, f"{key} after {STEPS} steps"
        else:
            rms = lambda run: (run.double() - exact[key]).pow(2).mean().sqrt().item()  # noqa: E731
            assert rms(value) <= 3 * rms(weights[key]) + 1e-4, f"{key}: {rms(value):.2e} from float64, PyTorch's " \
                f"float32 {rms(weights[key]):.2e}"


@pytest.mark.parametrize("name", ["linear", "conv"])
def test_a_5_s_run_in_the_page_draws_the_loss_curve_pytorch_draws_on_the_same_batches(page, digits, name):
    """A run timed as a visitor's is (our recipe, 5 s, the one-cycle schedule on the page's clock), replayed by
    PyTorch at the same clock readings: the curve of each step's loss, and where it ends, within 1%."""
    answer = page.evaluate(RUN_ALONE, [name, "ours", {"budgetMs": 5000}])
    start = load_file(TRAIN_DIR / MANIFEST["models"][name]["start"]["file"])
    steps = len(answer["losses"])
    losses, _, _ = replay(step_recipe(name, "ours"), start, digits, steps, clocks=answer["clocks"],
                          clock_end=answer["clockEnd"])
    assert steps > 100  # seconds of training, not a few steps
    assert np.mean(answer["losses"][-50:]) == pytest.approx(np.mean(losses[-50:]), rel=1e-2)
    windows = lambda curve: np.convolve(curve, np.ones(50) / 50, "valid")  # noqa: E731 - the curve as charted
    np.testing.assert_allclose(windows(answer["losses"]), windows(losses), rtol=1e-2)


@pytest.mark.parametrize("name", list(MODELS))
def test_a_step_with_nothing_to_learn_gives_zeros_in_the_page_never_nan(page, name):
    answer = page.evaluate(ZERO_STEP, [name, "ours"])
    assert not answer["nan"]
    if not step_recipe(name, "ours").train_noise:  # the denoiser's noise makes its input non-zero
        assert answer["firstLayerUnchanged"]
