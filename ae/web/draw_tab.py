"""The Draw tab, on the server: a drawing in, every model's reconstruction of a noisy copy out.

The visitor's page computes the same thing itself (static/digit.js and static/draw.js, running the models'
ONNX exports): that is what the Draw tab shows while a visitor draws, with no request per stroke. This module is
the source of truth behind it: the public `/draw` API, Export, and the page's fallback whenever its own path is
not ready (still loading, WebAssembly blocked) or cannot run a model (one the visitor trained in the Train tab).
Both paths answer with the same record, `draw_update`'s dict, and the page paints either one with the same code;
tests/test_parity.py holds the two to the same pixels.

Whatever a browser sends (an empty canvas, odd numbers, a broken image) comes back as a clear message.
"""

import functools
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageColor

from ..metrics import mse_per_image, psnr_per_image
from ..models import DRAW_TAB_MODELS, MODELS
from ..noise import NOISE_KINDS, page_noise
from ..preprocess import FIELD
from .common import as_pixels, mnist_sample, pretrained, read_drawing, sample_picks
from .dataurl import png_data_url

MODEL_NAMES = DRAW_TAB_MODELS  # the Draw tab's, in order
PIXEL_SCALE = 8  # 28 px shown as 224 px in the exported sheet
SWEEP_AMOUNTS = [k / 10 for k in range(11)]  # noise amounts 0, 0.1, ..., 1
NOISE_LABELS = {"gaussian": "Gaussian", "salt_pepper": "Salt & pepper", "mask": "Masking"}
STATUS = "What each model makes of your digit."
# matplotlib's "magma" at 17 points, straight lines between: the error maps' colours, a 256-entry table the
# page is handed as data (so the server need not import matplotlib, 30 MB).
_MAGMA = ["#000004", "#0a0822", "#1d1147", "#36106b", "#51127c", "#6a1c81", "#832681", "#9c2e7f", "#b73779",
          "#d0416f", "#e75263", "#f56b5c", "#fc8961", "#fea772", "#fec488", "#fde2a3", "#fcfdbf"]
HEAT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_MAGMA)), channel)
                 for channel in np.array([ImageColor.getrgb(colour) for colour in _MAGMA]).T], axis=1)
HEAT = HEAT.round().astype(np.uint8)


@dataclass
class NoiseSettings:
    kind: str = "gaussian"
    amount: float = 0.0
    seed: int = 0
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, kind, amount, seed) -> "NoiseSettings":
        """Settings from whatever the UI (or an API caller) sent, corrected with a note where needed.
        static/draw.js reads the page's controls by the same rules."""
        settings = cls()
        if kind in NOISE_KINDS:
            settings.kind = kind
        elif kind not in (None, ""):
            settings.warnings.append(f"Unknown noise type {kind!r}: using Gaussian.")
        try:
            settings.amount = float(amount)
        except (TypeError, ValueError, OverflowError):
            settings.warnings.append(f"Noise amount {amount!r} is not a number: using 0.")
        if not math.isfinite(settings.amount):
            settings.warnings.append("Noise amount must be a finite number: using 0.")
            settings.amount = 0.0
        elif not 0 <= settings.amount <= 1:
            settings.warnings.append(f"Noise amount {settings.amount:g} is outside 0 to 1: clipped.")
            settings.amount = min(max(settings.amount, 0.0), 1.0)
        try:
            settings.seed = int(float(seed)) % 2**31
        except (TypeError, ValueError, OverflowError):
            settings.warnings.append(f"Seed {seed!r} is not a whole number: using 0.")
        return settings


@dataclass
class Reconstruction:
    clean: np.ndarray  # (28, 28) what the model should see
    noisy: np.ndarray  # (28, 28) what it is shown
    outputs: dict[str, np.ndarray]  # name -> (28, 28)
    mse: dict[str, float]
    psnr: dict[str, float]


def models_for(own_models: dict | None) -> dict:
    """The Draw tab's models for one visitor: the committed ones, except those the visitor trained in the
    Train tab and chose to use (`own_models`, name -> model, held in that visitor's session only)."""
    own_models = own_models or {}
    return {name: own_models[name] if name in own_models else pretrained()[name] for name in MODEL_NAMES}


@torch.no_grad()
def reconstruct(clean: np.ndarray, noise: NoiseSettings, own_models: dict | None = None) -> Reconstruction:
    """Corrupt one 28x28 digit once, as the page does, and feed the same noisy copy to every model."""
    x = torch.from_numpy(np.ascontiguousarray(clean, np.float32)).reshape(1, 1, FIELD, FIELD)
    noisy = torch.from_numpy(page_noise(clean, noise.kind, noise.amount, noise.seed)).reshape(1, 1, FIELD, FIELD)
    outputs = {name: model(noisy) for name, model in models_for(own_models).items()}
    return Reconstruction(
        clean=clean, noisy=noisy[0, 0].numpy(),
        outputs={name: y[0, 0].numpy() for name, y in outputs.items()},
        mse={name: float(mse_per_image(y, x)) for name, y in outputs.items()},
        psnr={name: float(psnr_per_image(y, x)) for name, y in outputs.items()},
    )


def draw_update(sketch, kind="gaussian", amount=0.0, seed=0, own_models=None, sweep=True) -> dict:
    """Everything the Draw tab shows for this drawing and noise, as the record the page paints.

    `clean`, `noisy` and each of `outputs` are 28x28 greyscale PNGs as data URLs (None before a drawing);
    `metrics` holds each model's MSE and PSNR (dB) against the clean digit; `sweep` each model's MSE at every
    noise amount of `sweep.amounts` (same noise type and seed; None unless `sweep`); `yours` names the models
    the visitor trained in the Train tab (`own_models`, name -> model); `status` says what is shown, or what
    went wrong.
    """
    noise = NoiseSettings.parse(kind, amount, seed)
    own_models = own_models or {}
    record = {"status": "", "noise": {"kind": noise.kind, "amount": noise.amount, "seed": noise.seed},
              "clean": None, "noisy": None, "outputs": {}, "metrics": {}, "sweep": None,
              "yours": [name for name in MODEL_NAMES if name in own_models]}
    clean, problem = read_drawing(sketch)
    if clean is None:
        return {**record, "status": " ".join([problem, *noise.warnings])}
    result = reconstruct(clean, noise, own_models)
    yours = ", ".join(MODELS[name].short_title for name in record["yours"])
    return {**record,
            "status": " ".join([STATUS, *([f"Yours from the Train tab: {yours}."] if yours else []), *noise.warnings]),
            "clean": png_data_url(as_pixels(result.clean)), "noisy": png_data_url(as_pixels(result.noisy)),
            "outputs": {name: png_data_url(as_pixels(result.outputs[name])) for name in MODEL_NAMES},
            "metrics": {name: {"mse": result.mse[name], "psnr": result.psnr[name]} for name in MODEL_NAMES},
            "sweep": {"amounts": SWEEP_AMOUNTS,
                      "mse": {name: curve.tolist() for name, curve in noise_sweep(clean, noise, own_models).items()}}
            if sweep else None}


def draw_api(sketch: str, kind: str = "gaussian", amount: float = 0.0, seed: int = 0, sweep: bool = False) -> dict:
    """What the Draw tab shows for a drawing and noise settings, as the record the page paints (the public /draw).

    Args:
        sketch: the drawing as an image data URL, data:image/png;base64,... (ae.web.dataurl.png_data_url makes one
            from a numpy array); dark ink on a light background, any size up to 4096x4096
        kind: the noise: gaussian, salt_pepper or mask
        amount: the noise amount, 0 to 1
        seed: the noise seed, a whole number
        sweep: also each model's MSE at noise amounts 0, 0.1, ..., 1: 55 forward passes, which the page computes
            for itself, so only on request (a class of API clients is served half as fast again without them)
    Returns:
        ae.web.draw_tab.draw_update's record: status, noise {kind, amount, seed}, clean and noisy (28x28 PNG data
        URLs), outputs {model: PNG data URL}, metrics {model: {mse, psnr}}, sweep {amounts, mse {model: [...]}}
        or null, yours (models trained in the Train tab: none through the API)
    """
    record = draw_update(sketch, kind, amount, seed, sweep=sweep is True)
    if not isinstance(sweep, bool):
        record["status"] += f" Sweep {sweep!r} is not true or false: no sweep."
    return record


def draw_updates(sketches, kinds, amounts, seeds, own_models) -> tuple[list[dict]]:
    """draw_update for a batch of the page's requests, as Gradio batches them (app.py): each list holds one value
    per request. Gradio's own work per event is then paid once per batch."""
    return ([draw_update(*request) for request in zip(sketches, kinds, amounts, seeds, own_models)],)


def noise_sweep(clean: np.ndarray, noise: NoiseSettings, own_models: dict | None = None) -> dict[str, np.ndarray]:
    """Each model's MSE against the clean digit at every amount in SWEEP_AMOUNTS, one batch per model.

    The curves do not depend on the slider's amount, so a slider move reuses the committed models' (cached by
    digit, noise type and seed). A visitor's own models are swept afresh every time."""
    digit = np.ascontiguousarray(clean, np.float32).tobytes()
    curves = dict(_sweep_curves(digit, noise.kind, noise.seed))
    for name in MODEL_NAMES:
        if name in (own_models or {}):
            curves[name] = _sweep_one(own_models[name], *_sweep_batch(digit, noise.kind, noise.seed))
    return curves


@functools.lru_cache(maxsize=256)
def _sweep_curves(digit: bytes, kind: str, seed: int) -> dict[str, np.ndarray]:
    noisy, clean = _sweep_batch(digit, kind, seed)
    return {name: _sweep_one(pretrained()[name], noisy, clean) for name in MODEL_NAMES}


def _sweep_batch(digit: bytes, kind: str, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The digit at every amount of SWEEP_AMOUNTS, and as many clean copies."""
    clean = np.frombuffer(digit, np.float32).reshape(FIELD, FIELD)
    noisy = np.stack([page_noise(clean, kind, amount, seed) for amount in SWEEP_AMOUNTS])
    return torch.from_numpy(noisy)[:, None], torch.from_numpy(clean.copy()).expand(len(SWEEP_AMOUNTS), 1, FIELD, FIELD)


@torch.no_grad()
def _sweep_one(model, noisy: torch.Tensor, clean: torch.Tensor) -> np.ndarray:
    return mse_per_image(model(noisy), clean).numpy()


def page_config() -> dict:
    """What the page's own Draw tab needs to know, handed to it as data (static/draw.js reads `props`)."""
    return {"models": [{"name": name, "title": MODELS[name].title, "short": MODELS[name].short_title,
                        "blurb": MODELS[name].blurb} for name in MODEL_NAMES],
            "noise_labels": NOISE_LABELS, "sweep_amounts": SWEEP_AMOUNTS, "heat": HEAT.tolist(),
            "status": STATUS}


def example_digits(count_per_digit: int = 1) -> list[tuple[np.ndarray, str]]:
    """Real MNIST test digits for the example strip: (28x28 image in [0, 1], caption)."""
    images, labels = mnist_sample()
    return [(images[i], f"MNIST test digit {labels[i]}") for i in sample_picks(count_per_digit)]


def enlarge(image: np.ndarray, scale: int = PIXEL_SCALE) -> np.ndarray:
    """A 28x28 image in [0, 1] as an RGB picture with each pixel a visible square (thin grid lines)."""
    big = np.repeat(np.repeat(as_pixels(image), scale, 0), scale, 1)
    big = np.stack([big] * 3, axis=-1)
    big[::scale, :, :] = big[::scale, :, :] // 2 + 24
    big[:, ::scale, :] = big[:, ::scale, :] // 2 + 24
    return big


def export(sketch, kind, amount, seed, directory: Path, own_models: dict | None = None) -> list[str]:
    """Write the current inputs, outputs and metrics: a PNG sheet, the 28x28 arrays (NPZ) and JSON."""
    noise = NoiseSettings.parse(kind, amount, seed)
    clean, _ = read_drawing(sketch)
    if clean is None:
        return []
    result = reconstruct(clean, noise, own_models)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    panels = [result.clean, result.noisy, *result.outputs.values()]
    gap = np.full((FIELD * PIXEL_SCALE, 8, 3), 255, np.uint8)
    sheet = np.concatenate([part for panel in panels for part in (enlarge(panel), gap)][:-1], axis=1)
    paths = [directory / f"ae-studio-{part}" for part in ("sheet.png", "arrays.npz", "metrics.json")]
    Image.fromarray(sheet).save(paths[0])
    np.savez_compressed(paths[1], clean=result.clean, noisy=result.noisy, **result.outputs)
    paths[2].write_text(json.dumps({
        "panels": ["clean", "noisy", *MODEL_NAMES],
        "noise": {"kind": noise.kind, "amount": noise.amount, "seed": noise.seed},
        "metrics": {name: {"mse": result.mse[name], "psnr_db": result.psnr[name]} for name in MODEL_NAMES},
        "trained_by_you": [name for name in MODEL_NAMES if name in (own_models or {})],
    }, indent=2))
    return [str(p) for p in paths]


def export_to_temp(sketch, kind="gaussian", amount=0.0, seed=0, own_models=None) -> list[str]:
    """export() into a fresh temporary folder, for the download button."""
    return export(sketch, kind, amount, seed, Path(tempfile.mkdtemp(prefix="ae-studio-")), own_models)
