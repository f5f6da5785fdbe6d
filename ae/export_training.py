"""Export what the Train tab's page needs to train every model itself (static/train/, `python -m ae.export`).

For each model:
- `<name>.<recipe>.step.onnx`, one per recipe (the course's, ours): ae.step.train_step traced into one graph (the
  forward pass, the loss, the gradients, Adam and its schedule) at the recipe's batch size. Inputs: `digits`,
  what the step draws at random (ae.step.random_inputs), `step` (Adam's count, from 1), `clock` and `clock_end`
  (the one-cycle schedule's), then the weights and Adam's averages (`p.*`, `m.*`, `v.*`); outputs: `loss` and
  their next values (`next.p.*`, ...). No weights inside: the page feeds them in and gets them back.
- `<name>.forward.onnx`: the model with its weights as inputs (`digits`, then `p.*`; any batch): the test
  error, the film of digits, and the visitor's model in the Draw tab.
- `<name>.start.safetensors`: the weights every run starts from (ae.step.starting_model), as the server's runs do.
And for all: `digits.gz`, the first TRAINING_DIGITS of MNIST's training digits (uint8, gzipped), and
`test.gz`, the Train tab's test slice and film (clean, and as the denoiser is shown them, uint8).
`training.json` records every file's SHA-256 and size, the layout of the two digit files, each model's weights
(names and shapes) and recipes, and the committed models' test error on the page's test slice.

The step graphs are written without the ONNX optimizer's passes: they fold Adam's `+ 1e-8` away as if it were
adding zero, and a weight whose gradient is zero then becomes 0 / 0 = NaN (tests/test_step.py holds this).
"""

import gzip
import io
import json
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save

from .checkpoints import file_sha256, load_pretrained, read_card
from .data import load_mnist_bytes, mnist_sample, sample_picks
from .export import OPSET, strip_debug_info
from .models import MODELS, build
from .noise import add_noise
from .step import StepRecipe, parameter_names, starting_model, step_recipe, trace
from .train import DENOISE_EVAL_AMOUNT, EVAL_NOISE_SEED, RECIPES, eval_noise

TRAIN_DIR = Path(__file__).resolve().parent / "web" / "static" / "train"
TRAIN_MANIFEST = TRAIN_DIR / "training.json"
RECIPE_NAMES = ("course", "ours")
TRAINING_DIGITS = 20_000  # 3.2 MB gzipped; docs/speed.md measures what fewer or more buy
TEST_DIGITS, FILM_DIGITS = 1000, 8  # as the server's Train tab: the first of the committed sample; one each of 0-7
TEST_BATCH = 100  # the test slice's noise is drawn 100 digits at a time, as the server's test MSE draws it


class _Graph(torch.nn.Module):
    def __init__(self, graph):
        super().__init__()
        self.graph = graph

    def forward(self, *inputs):
        return self.graph(*inputs)


class _Forward(torch.nn.Module):
    """A model with its weights as inputs: forward(digits, weights), weights a list in named_parameters() order."""

    def __init__(self, name: str):
        super().__init__()
        self.model, self.names = build(name).eval(), parameter_names(name)

    def forward(self, digits, weights):
        return torch.func.functional_call(self.model, dict(zip(self.names, weights)), (digits,))


def _onnx_bytes(module, examples, input_names, output_names, optimize: bool, dynamic_shapes=None) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the exporter's progress notes
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, examples, dynamo=True, opset_version=OPSET, input_names=input_names,
                                    output_names=output_names, dynamic_shapes=dynamic_shapes, verbose=False,
                                    optimize=optimize)
    program.save(buffer)
    return strip_debug_info(buffer.getvalue())


def step_to_onnx(plan: StepRecipe) -> bytes:
    traced = trace(plan)
    return _onnx_bytes(_Graph(traced.graph), traced.examples, traced.input_names, traced.output_names,
                       optimize=False)


def forward_to_onnx(name: str) -> bytes:
    module = _Forward(name)
    weights = [p.detach() for _, p in module.model.named_parameters()]
    batch = torch.export.Dim("batch", min=1, max=4096)
    return _onnx_bytes(module, (torch.rand(2, 1, 28, 28), weights), ["digits", *[f"p.{n}" for n in module.names]],
                       ["reconstructions"], optimize=True, dynamic_shapes=({0: batch}, [None] * len(weights)))


def evaluation_digits() -> dict[str, np.ndarray]:
    """The Train tab's test slice and film, uint8 (N, 784): clean, and with the denoiser's test noise (Gaussian 0.5,
    drawn as the server's test MSE draws it, then rounded to a grey level)."""
    images, _ = mnist_sample()
    test = torch.from_numpy(images[:TEST_DIGITS]).unsqueeze(1)
    film = torch.from_numpy(images[sample_picks(1)[:FILM_DIGITS]]).unsqueeze(1)
    generator = torch.Generator().manual_seed(EVAL_NOISE_SEED)
    noisy_test = torch.cat([add_noise(part, "gaussian", DENOISE_EVAL_AMOUNT, generator=generator)
                            for part in test.split(TEST_BATCH)])
    noisy_film = add_noise(film, "gaussian", DENOISE_EVAL_AMOUNT,
                           generator=torch.Generator().manual_seed(EVAL_NOISE_SEED))
    as_bytes = lambda x: np.floor(x.numpy().reshape(len(x), -1) * 255 + 0.5).astype(np.uint8)  # noqa: E731
    return {"test": as_bytes(test), "noisy_test": as_bytes(noisy_test), "film": as_bytes(film),
            "noisy_film": as_bytes(noisy_film)}


def page_test_mse(model, digits: dict[str, np.ndarray], noisy: bool) -> float:
    """A model's test MSE as the page measures it: on the test slice of evaluation_digits, per pixel."""
    clean = torch.from_numpy(digits["test"]).float().div(255).view(-1, 1, 28, 28)
    inputs = torch.from_numpy(digits["noisy_test" if noisy else "test"]).float().div(255).view(-1, 1, 28, 28)
    with torch.no_grad():
        return torch.nn.functional.mse_loss(model.eval()(inputs), clean).item()


def _write(directory: Path, name: str, data: bytes) -> dict:
    path = directory / name
    path.write_bytes(data)
    print(f"{name}: {len(data):,} bytes")
    return {"file": name, "sha256": file_sha256(path), "bytes": len(data)}


def export_training(directory: Path = TRAIN_DIR) -> dict:
    """Write every file of the Train tab's page and its manifest; returns the manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    training = load_mnist_bytes(train=True)[0]
    digits = evaluation_digits()
    order = ["test", "noisy_test", "film", "noisy_film"]
    manifest = {
        "digits": {**_write(directory, "digits.gz", gzip.compress(training[:TRAINING_DIGITS].numpy().tobytes(), 9,
                                                                  mtime=0)), "count": TRAINING_DIGITS},
        "test": {**_write(directory, "test.gz", gzip.compress(np.concatenate([digits[k] for k in order]).tobytes(),
                                                              9, mtime=0)),
                 "parts": {k: len(digits[k]) for k in order}},
        "models": {},
    }
    for name in MODELS:
        start = starting_model(name, training)
        weights = {key: value.detach().contiguous() for key, value in start.named_parameters()}
        noisy = bool(eval_noise(RECIPES[name]))
        manifest["models"][name] = {
            "weights": {key: list(value.shape) for key, value in weights.items()},
            "start": _write(directory, f"{name}.start.safetensors", save(weights)),
            "forward": _write(directory, f"{name}.forward.onnx", forward_to_onnx(name)),
            "recipes": {recipe: {**_plan_record(step_recipe(name, recipe)),
                                 "step": _write(directory, f"{name}.{recipe}.step.onnx",
                                                step_to_onnx(step_recipe(name, recipe)))}
                        for recipe in RECIPE_NAMES},
            "noisy_test": noisy,
            "committed_test_mse": round(page_test_mse(load_pretrained(name), digits, noisy), 6),
            "committed_epochs": read_card(name)["recipe"]["epochs"],
        }
    manifest["torch"], manifest["opset"] = torch.__version__.split("+")[0], OPSET
    (directory / TRAIN_MANIFEST.name).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _plan_record(plan: StepRecipe) -> dict:  # what the page needs of a recipe: all but the names it is filed under
    return {key: value for key, value in asdict(plan).items() if key not in ("name", "recipe")}
