"""The Draw tab: a drawing in, every model's reconstruction of a noisy copy out.

Plain functions that `app.py` wires to Gradio events; tests call them without a server. Whatever a browser
sends (an empty canvas, odd numbers, a broken image) comes back as a clear message, never an exception.
"""

import functools
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import ImageColor

from . import charts
from .checkpoints import CHECKPOINT_DIR, load_pretrained
from .metrics import mse_per_image, psnr_per_image
from .models import MODELS
from .noise import NOISE_KINDS, add_noise
from .preprocess import sketch_to_mnist

MODEL_NAMES = [name for name, model in MODELS.items() if model.in_draw_tab]  # the Draw tab's, in order
SAMPLE_PATH = CHECKPOINT_DIR / "mnist_sample.npz"
PIXEL_SCALE = 8  # 28 px shown as 224 px
SWEEP_AMOUNTS = np.linspace(0, 1, 11)
EMPTY_PROMPT = "✏️ Draw a digit on the pad, or click an example below, to see what each model makes of it."
NOISE_LABELS = {"gaussian": "Gaussian", "salt_pepper": "Salt & pepper", "mask": "Masking"}
# matplotlib's "magma" at 17 points, straight lines between (within 3 of 255 of its full table); written out so
# that the server need not import matplotlib (30 MB).
_MAGMA = ["#000004", "#0a0822", "#1d1147", "#36106b", "#51127c", "#6a1c81", "#832681", "#9c2e7f", "#b73779",
          "#d0416f", "#e75263", "#f56b5c", "#fc8961", "#fea772", "#fec488", "#fde2a3", "#fcfdbf"]
_HEAT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_MAGMA)), channel)
                  for channel in np.array([ImageColor.getrgb(colour) for colour in _MAGMA]).T], axis=1)
_HEAT = _HEAT.round().astype(np.uint8)


@functools.cache
def pretrained() -> dict:
    """Every model with its committed weights, loaded once per process."""
    torch.set_num_threads(1)  # one tiny image at a time: threads cost more than they save, and requests overlap
    # Channels-last weights: PyTorch's CPU convolutions on these small images run about twice as fast so
    # (the noise sweep's batch of 11 through all four models: 15 -> 8 ms).
    return {name: load_pretrained(name).to(memory_format=torch.channels_last) for name in MODELS}


@functools.cache
def mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """The committed sample of MNIST test digits: images (N, 28, 28) float32 in [0, 1], labels (N,)."""
    with np.load(SAMPLE_PATH) as sample:
        return sample["images"].astype(np.float32) / 255, sample["labels"]


@dataclass
class NoiseSettings:
    kind: str = "gaussian"
    amount: float = 0.0
    seed: int = 0
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, kind, amount, seed) -> "NoiseSettings":
        """Settings from whatever the UI (or an API caller) sent, corrected with a note where needed."""
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
    """Corrupt one 28x28 digit once and feed the same noisy copy to every model."""
    x = torch.from_numpy(np.ascontiguousarray(clean, np.float32)).reshape(1, 1, 28, 28)
    noisy = add_noise(x, noise.kind, noise.amount, seed=noise.seed)
    outputs = {name: model(noisy) for name, model in models_for(own_models).items()}
    return Reconstruction(
        clean=clean, noisy=noisy[0, 0].numpy(),
        outputs={name: y[0, 0].numpy() for name, y in outputs.items()},
        mse={name: float(mse_per_image(y, x)) for name, y in outputs.items()},
        psnr={name: float(psnr_per_image(y, x)) for name, y in outputs.items()},
    )


def as_pixels(image: np.ndarray) -> np.ndarray:
    """A 28x28 image in [0, 1] as uint8. The page enlarges it with CSS `image-rendering: pixelated`, so
    every pixel shows as a crisp square while only 28x28 pixels are encoded and sent."""
    return (image.clip(0, 1) * 255).round().astype(np.uint8)


def enlarge(image: np.ndarray, scale: int = PIXEL_SCALE) -> np.ndarray:
    """A 28x28 image in [0, 1] as an RGB picture with each pixel a visible square (thin grid lines)."""
    big = np.repeat(np.repeat((image.clip(0, 1) * 255).astype(np.uint8), scale, 0), scale, 1)
    big = np.stack([big] * 3, axis=-1)
    big[::scale, :, :] = big[::scale, :, :] // 2 + 24
    big[:, ::scale, :] = big[:, ::scale, :] // 2 + 24
    return big


def error_map(output: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """|output - clean| per pixel as a (28, 28, 3) heat map (black: exact, yellow: off by the whole range)."""
    return _HEAT[as_pixels(np.abs(output - clean))]


def tile(pictures: np.ndarray, gap) -> np.ndarray:
    """(rows, columns, height, width, ...) pictures as one, neighbours one pixel of value `gap` apart."""
    rows, columns, height, width = pictures.shape[:4]
    padding = [(0, 0), (0, 0), (0, 1), (0, 1)] + [(0, 0)] * (pictures.ndim - 4)
    sheet = np.pad(pictures, padding, constant_values=gap).swapaxes(1, 2)
    return sheet.reshape(rows * (height + 1), columns * (width + 1), *pictures.shape[4:])[:-1, :-1]


def error_strip(outputs: dict[str, np.ndarray], clean: np.ndarray) -> np.ndarray:
    """Every model's error map side by side, in MODEL_NAMES order, one white pixel apart: (28, len(MODEL_NAMES) * 29 - 1, 3).

    One picture rather than four: the maps share one scale for comparing, and every output of an event adds
    Gradio work on the server (one strip serves about 5% more draws a second than four maps; README, "Speed").
    """
    return tile(np.stack([error_map(outputs[name], clean) for name in MODEL_NAMES])[None], 255)


def metric_line(mse: float, psnr: float, yours: bool = False) -> str:
    return ("🧪 **Yours** (Train tab) · " if yours else "") + f"**MSE** {mse:.4f} · **PSNR** {psnr:.1f} dB"


# The order of the values draw_update returns; app.py wires its components in this order.
DRAW_OUTPUTS = ["status", "preview", "noisy",
                *[f"{name}_image" for name in MODEL_NAMES],
                *[f"{name}_metrics" for name in MODEL_NAMES],
                "error_maps", "sweep"]


def read_drawing(sketch) -> tuple[np.ndarray | None, str | None]:
    """The drawing as a 28x28 digit, or None and the message to show instead."""
    try:
        digit = sketch_to_mnist(sketch)
    except Exception as err:  # noqa: BLE001 - untrusted uploads fail in many ways; each gets the same answer
        return None, f"⚠️ That image could not be read ({err}). Draw on the pad, or send a PNG or JPEG."
    if not digit.any():
        return None, EMPTY_PROMPT
    return digit, None


def draw_update(sketch, kind="gaussian", amount=0.0, seed=0, own_models=None) -> tuple:
    """Everything the Draw tab shows for this drawing and noise, as a tuple in DRAW_OUTPUTS order.

    One answer carries every panel, the noise sweep included: the page paints them together, and a
    visitor's next update waits for this one (app.py), so an older answer can never land after a newer one.
    `own_models` are the visitor's own, from the Train tab (models_for).
    """
    noise = NoiseSettings.parse(kind, amount, seed)
    clean, problem = read_drawing(sketch)
    if clean is None:
        return _blank(problem)
    own_models = own_models or {}
    result = reconstruct(clean, noise, own_models)
    yours = [MODELS[name].short_title for name in MODEL_NAMES if name in own_models]
    status = " ".join(["What each model makes of your digit.",
                       *([f"Yours from the Train tab: {', '.join(yours)}."] if yours else []), *noise.warnings])
    return (status, as_pixels(result.clean), as_pixels(result.noisy),
            *[as_pixels(result.outputs[name]) for name in MODEL_NAMES],
            *[metric_line(result.mse[name], result.psnr[name], name in own_models) for name in MODEL_NAMES],
            error_strip(result.outputs, result.clean), sweep_svg(clean, noise, own_models))


def _blank(message: str) -> tuple:
    return (message, None, None, *[None] * len(MODEL_NAMES), *[""] * len(MODEL_NAMES), None, None)


def noise_sweep(clean: np.ndarray, noise: NoiseSettings, own_models: dict | None = None) -> dict[str, np.ndarray]:
    """Each model's MSE against the clean digit at every amount in SWEEP_AMOUNTS, one batch per model.

    The curves do not depend on the slider's amount, so a slider move reuses the committed models' (cached by
    digit, noise type and seed): the sweep is most of a draw update's time on the server. A visitor's own
    models are swept afresh every time."""
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
    x = torch.frombuffer(bytearray(digit), dtype=torch.float32).reshape(1, 1, 28, 28)
    noisy = torch.cat([add_noise(x, kind, float(a), seed=seed) for a in SWEEP_AMOUNTS])
    return noisy, x.expand(len(SWEEP_AMOUNTS), 1, 28, 28)


@torch.no_grad()
def _sweep_one(model, noisy: torch.Tensor, clean: torch.Tensor) -> np.ndarray:
    return mse_per_image(model(noisy), clean).numpy()


SWEEP_COLOURS = dict(zip(MODEL_NAMES, charts.TAB10))


def sweep_svg(clean: np.ndarray, noise: NoiseSettings, own_models: dict | None = None) -> str:
    """Each model's MSE on this digit against the noise amount, as a small SVG line chart (HTML), with a
    grey line at the slider's amount and the value of every point in its tooltip."""
    curves = noise_sweep(clean, noise, own_models)
    lines = [charts.Line(MODELS[name].short_title + (" (yours)" if name in (own_models or {}) else ""),
                         SWEEP_COLOURS[name], SWEEP_AMOUNTS, curve,
                         [f"{MODELS[name].short_title}, noise {a:.1f}: MSE {mse:.4f}" for a, mse in zip(SWEEP_AMOUNTS, curve)])
             for name, curve in curves.items()]
    return charts.line_chart(lines, 1.0, f"noise amount ({NOISE_LABELS[noise.kind]})", "MSE vs your clean digit",
                             [charts.Rule(noise.amount, f"your noise amount, {noise.amount:g}")],
                             legend_rule="your noise amount")


def sample_picks(per_digit: int) -> list[int]:
    """Indices of the first `per_digit` sample digits of each class, in rounds of 0 to 9."""
    _, labels = mnist_sample()
    return [int(np.flatnonzero(labels == digit)[k]) for k in range(per_digit) for digit in range(10)]


def example_digits(count_per_digit: int = 1) -> list[tuple[np.ndarray, str]]:
    """Real MNIST test digits for the example strip: (28x28 image in [0, 1], caption)."""
    images, labels = mnist_sample()
    return [(images[i], f"MNIST test digit {labels[i]}") for i in sample_picks(count_per_digit)]


def export(sketch, kind, amount, seed, directory: Path, own_models: dict | None = None) -> list[str]:
    """Write the current inputs, outputs and metrics: a PNG sheet, the 28x28 arrays (NPZ) and JSON."""
    from PIL import Image
    noise = NoiseSettings.parse(kind, amount, seed)
    clean, _ = read_drawing(sketch)
    if clean is None:
        return []
    result = reconstruct(clean, noise, own_models)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    panels = [result.clean, result.noisy, *result.outputs.values()]
    gap = np.full((28 * PIXEL_SCALE, 8, 3), 255, np.uint8)
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
