"""The training step the visitor's page runs (ae.step, exported by ae.export_training) against PyTorch's autograd:
the backward operations written as forward ones, the committed ONNX graphs in onnxruntime (the page's runtime, in
Python), the draws the page makes, and the committed files against the code that makes them. The page itself, in
Chromium, step for step: tests/test_train_page.py."""

import gzip
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ae.checkpoints import file_sha256, load_pretrained
from ae.data import load_mnist_bytes
from ae.export_training import (
    RECIPE_NAMES,
    TRAIN_DIR,
    TRAIN_MANIFEST,
    TRAINING_DIGITS,
    evaluation_digits,
    page_test_mse,
)
from ae.models import MODELS, build
from ae.optim import BETAS, one_cycle
from ae.step import BACKWARD_AS_FORWARD, loss_and_gradients, page_batches, parameter_names, starting_model, step_recipe
from ae.web.common import STATIC

MANIFEST = json.loads(TRAIN_MANIFEST.read_text())
CASES = [(name, recipe) for name in MODELS for recipe in RECIPE_NAMES]
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return np.frombuffer(gzip.decompress((TRAIN_DIR / "digits.gz").read_bytes()), np.uint8).reshape(-1, 784)


def start_weights(name: str) -> dict[str, torch.Tensor]:
    return load_file(TRAIN_DIR / MANIFEST["models"][name]["start"]["file"])


@pytest.mark.parametrize("name", ["conv", "upsample", "denoise"])
def test_the_backward_operations_written_as_forward_ones_equal_autograd(name):
    """Convolution, transposed convolution, max pooling and nearest upsampling: their gradients as forward
    operations (what ONNX can express) against autograd's own backward kernels."""
    from torch._decomp import core_aten_decompositions
    from torch.fx.experimental.proxy_tensor import make_fx

    plan, model = step_recipe(name, "ours"), build(name)
    params = [p.detach() for p in model.parameters()]
    batch, random = next(page_batches(plan, (np.random.default_rng(0).random((256, 784)) * 255).astype(np.uint8)))
    traced = make_fx(lambda x, *ps: loss_and_gradients(model, plan, x, random, list(ps))[1],
                     decomposition_table={**core_aten_decompositions(), **BACKWARD_AS_FORWARD})(batch, *params)
    assert not [n for n in traced.graph.nodes if n.op == "call_function" and "backward" in str(n.target)]
    expected = loss_and_gradients(model, plan, batch, random, params)[1]
    for mine, theirs in zip(traced(batch, *params), expected):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-7)


def run_step(name, recipe, digits_batch, random, weights):
    """The committed step graph of (name, recipe) in onnxruntime, Adam's first step: {output name: array}."""
    import onnxruntime

    entry = MANIFEST["models"][name]["recipes"][recipe]
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(TRAIN_DIR / entry["step"]["file"], options)
    scalar = lambda value: np.array(value, np.float32)  # noqa: E731
    feeds = {"digits": digits_batch.numpy(), "step": scalar(1), "clock": scalar(0), "clock_end": scalar(1000),
             **{key: value.numpy() for key, value in random.items()}}
    for key, value in weights.items():
        feeds.update({f"p.{key}": value.numpy(), f"m.{key}": np.zeros_like(value.numpy()),
                      f"v.{key}": np.zeros_like(value.numpy())})
    wanted = {i.name for i in session.get_inputs()}
    return dict(zip([o.name for o in session.get_outputs()],
                    session.run(None, {key: value for key, value in feeds.items() if key in wanted})))


@pytest.mark.parametrize("name, recipe", CASES)
def test_the_committed_step_computes_pytorchs_loss_gradients_and_update(name, recipe, digits):
    """Gradients within 1e-5 (read from Adam's first mean, (1 - beta1) times the gradient). A weight's first Adam
    update is about lr * g / (|g| + 1e-8): nearly +-lr whatever g's size, so where g is tiny, rounding that differs
    between two correct implementations moves the weight by up to the learning rate: the update is held to that."""
    plan = step_recipe(name, recipe)
    batch, random = next(page_batches(plan, digits))
    weights = start_weights(name)
    outputs = run_step(name, recipe, batch, random, weights)
    model = build(name)
    loss, grads = loss_and_gradients(model, plan, batch, random, [weights[k] for k in parameter_names(name)])
    assert outputs["loss"] == pytest.approx(loss.item(), rel=1e-5)
    lr, beta1 = one_cycle(0, 1000, plan.lr) if plan.one_cycle else (plan.lr, BETAS[0])
    for key, grad in zip(parameter_names(name), grads):
        np.testing.assert_allclose(outputs[f"next.m.{key}"] / (1 - beta1), grad.numpy(), atol=1e-5, rtol=1e-4)
        np.testing.assert_allclose(outputs[f"next.p.{key}"], weights[key].numpy(), atol=lr * 1.001)


@pytest.mark.parametrize("name", list(MODELS))
def test_an_all_zero_batch_gives_zeros_never_nan(name):
    """Black digits switch the first layer's gradient off (and ReLUs no input reaches are dead units): its Adam
    update is 0 / (0 + 1e-8) = 0, the weight stays. The ONNX optimizer drops that 1e-8 (0 / 0 = NaN): the
    export does without it."""
    plan = step_recipe(name, "ours")
    batch, random = next(page_batches(plan, np.zeros((plan.batch_size * 2, 784), np.uint8)))
    weights = start_weights(name)
    outputs = run_step(name, "ours", batch, random, weights)
    assert not any(np.isnan(value).any() for value in outputs.values())
    first = parameter_names(name)[0]  # the first layer's weights, whose gradient is the input's: zero
    if not plan.train_noise:  # (the denoiser's noise makes its input non-zero)
        assert not outputs[f"next.m.{first}"].any()
        np.testing.assert_array_equal(outputs[f"next.p.{first}"], weights[first].numpy())


@pytest.mark.slow  # reads MNIST and measures six models
def test_the_committed_files_are_what_the_code_exports():
    """Re-run `python -m ae.export` when one of these fails: a checkpoint, a start or the data changed."""
    for entry in [MANIFEST["digits"], MANIFEST["test"], *[e for m in MANIFEST["models"].values() for e in
                  (m["start"], m["forward"], *[r["step"] for r in m["recipes"].values()])]]:
        assert file_sha256(TRAIN_DIR / entry["file"]) == entry["sha256"], entry["file"]
    training = load_mnist_bytes(train=True)[0]
    stored = np.frombuffer(gzip.decompress((TRAIN_DIR / "digits.gz").read_bytes()), np.uint8)
    assert MANIFEST["digits"]["count"] == TRAINING_DIGITS
    np.testing.assert_array_equal(stored, training[:TRAINING_DIGITS].numpy().ravel())
    parts = evaluation_digits()
    stored = np.frombuffer(gzip.decompress((TRAIN_DIR / "test.gz").read_bytes()), np.uint8)
    np.testing.assert_array_equal(stored, np.concatenate([parts[k] for k in MANIFEST["test"]["parts"]]).ravel())
    for name, entry in MANIFEST["models"].items():
        fresh = starting_model(name, training)
        for key, value in start_weights(name).items():
            assert torch.equal(value, fresh.state_dict()[key]), (name, key)
        assert entry["committed_test_mse"] == pytest.approx(
            page_test_mse(load_pretrained(name), parts, entry["noisy_test"]), abs=1e-6)


@pytest.mark.skipif(NODE is None and not os.environ.get("CI"), reason="Node.js is not installed")
def test_the_pages_batches_and_draws_are_pythons():
    """digit.js's trainingBatches against ae.step.page_batches: the order across an epoch's end, the digits, the
    denoiser's noise and amounts, the VAE's posterior sample."""
    stored = (np.random.default_rng(1).random((50, 784)) * 255).astype(np.uint8)
    plans = {"denoise": step_recipe("denoise", "ours"), "vae": step_recipe("vae", "ours"),
             "course": step_recipe("linear", "course")}
    script = """
    const D = require(process.argv[1]);
    const {digits, plans} = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const out = {};
    for (const [key, plan] of Object.entries(plans)) {
      const batches = D.trainingBatches(plan, Uint8Array.from(digits), 3);
      out[key] = Array.from({length: 4}, () => {
        const {batch, random} = batches.next().value;
        const draws = Object.fromEntries(Object.entries(random).map(([k, v]) => [k, Array.from(v)]));
        return {batch: Array.from(batch), random: draws};
      });
    }
    console.log(JSON.stringify(out));"""
    shrunk = {key: {**plan.__dict__, "batch_size": 16} for key, plan in plans.items()}
    answer = subprocess.run([NODE, "-e", script, str(STATIC / "digit.js")], capture_output=True, text=True, check=True,
                            input=json.dumps({"digits": stored.ravel().tolist(), "plans": shrunk}))
    pages = json.loads(answer.stdout)
    for key, plan in plans.items():
        ours = page_batches(type(plan)(**shrunk[key]), stored, seed=3)
        for page in pages[key]:  # 3 batches an epoch: the fourth is the next epoch's first
            batch, random = next(ours)
            np.testing.assert_array_equal(np.float32(page["batch"]), batch.numpy().ravel())
            assert set(page["random"]) == set(random)
            for name, values in random.items():
                np.testing.assert_allclose(np.float32(page["random"][name]), values.numpy().ravel(), rtol=1e-6,
                                           atol=1e-6)
