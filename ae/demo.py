"""The Draw tab: a drawing in, every model's reconstruction of a noisy copy out.

Plain functions that `app.py` wires to Gradio events; tests call them without a server. Whatever a browser
sends (an empty canvas, odd numbers, a broken image) comes back as a clear message, never an exception.
"""

import base64
import ctypes
import functools
import io
import json
import math
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import torch
from gradio.data_classes import ImageData
from matplotlib import colormaps
from matplotlib.colors import to_hex

from .checkpoints import CHECKPOINT_DIR, load_pretrained
from .metrics import mse_per_image, psnr_per_image
from .models import MODELS
from .noise import NOISE_KINDS, add_noise
from .preprocess import Unreadable, sketch_to_mnist

MODEL_NAMES = list(MODELS)
SAMPLE_PATH = CHECKPOINT_DIR / "mnist_sample.npz"
PIXEL_SCALE = 8  # 28 px shown as 224 px
SWEEP_AMOUNTS = np.linspace(0, 1, 11)
EMPTY_PROMPT = "✏️ Draw a digit on the pad, or click an example below, to see what each model makes of it."
NOISE_LABELS = {"gaussian": "Gaussian", "salt_pepper": "Salt & pepper", "mask": "Masking"}
M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
_HEAT = (colormaps["magma"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


@functools.cache
def pretrained() -> dict:
    """Every model with its committed weights, loaded once per process."""
    torch.set_num_threads(1)  # one tiny image at a time: threads cost more than they save, and requests overlap
    return {name: load_pretrained(name) for name in MODEL_NAMES}


@functools.cache
def mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """The committed sample of MNIST test digits: images (N, 28, 28) float32 in [0, 1], labels (N,)."""
    with np.load(SAMPLE_PATH) as sample:
        return sample["images"].astype(np.float32) / 255, sample["labels"]


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas for this process, as MALLOC_ARENA_MAX would.

    Gradio runs callbacks on a pool of threads and glibc gives each thread its own arena (up to eight per
    core); the memory they hold on to after a burst of requests adds some 40 MB to the server's footprint.
    Does nothing where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(M_ARENA_MAX, arenas)


def write_gradio_cache_atomically() -> None:
    """Work around a race in Gradio 6.31's image cache.

    Gradio names a cached output image by its content hash and rewrites the file on every event, in place.
    When two visitors get the same image at once (the same latent map, say), one request can serve the file
    while the other has truncated it: the download ends early and the client sees a dropped connection.
    Writing to a temporary name and renaming over the old file makes each reader see a whole file.
    """
    from gradio import processing_utils

    def save_pil_to_cache(img, cache_dir, name="image", format="webp"):
        data = processing_utils.encode_pil_to_bytes(img, format)
        folder = Path(cache_dir) / processing_utils.hash_bytes(data)
        folder.mkdir(exist_ok=True, parents=True)
        target = (folder / f"{name}.{format}").resolve()
        with tempfile.NamedTemporaryFile(dir=folder, delete=False) as temporary:
            temporary.write(data)
        Path(temporary.name).replace(target)
        return str(target)

    processing_utils.save_pil_to_cache = save_pil_to_cache


def send_inline(image: gr.Image) -> gr.Image:
    """Make `image` send its picture inside the event's answer, as a PNG data URL, and return it.

    A stroke on the sketch pad redraws seven small pictures. As plain gr.Image outputs each would be written to
    Gradio's cache and fetched by the browser (or an API client) in a request of its own; inline, a whole
    update is one message. The page shows them with Gradio's own image view, by the data URL route Gradio
    itself takes for SVG images. (Set on the instance, as `tolerate_bad_payloads` does: a subclass of a
    Gradio component makes Gradio write a type stub beside this module on every import.)
    """
    def postprocess(value) -> ImageData | None:
        if value is None:
            return None
        return ImageData(url=png_data_url(np.asarray(value)), orig_name="digit.png", mime_type="image/png")

    image.postprocess = postprocess
    image.api_info_as_output = lambda: {
        "type": "object", "properties": {"url": {"type": "string", "description": "data:image/png;base64,..."}},
        "description": "the image inline as a PNG data URL (see ae.demo.read_png_data_url)"}
    return image


def png_data_url(pixels: np.ndarray) -> str:
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def read_png_data_url(image: dict) -> np.ndarray:
    """The pixels of an image sent inline (see send_inline) as an API caller receives it:
    {"url": "data:image/png;base64,...", ...}."""
    from PIL import Image
    header, _, payload = image["url"].partition(",")
    if header != "data:image/png;base64":
        raise ValueError(f"not a PNG data URL: {header[:40]!r}")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))))


def tolerate_bad_payloads(component: gr.components.Component) -> None:
    """Let `component` hand what it cannot parse to the callback, which answers with a clear message.

    Gradio's own checks would end the event with a generic error, or none at all for a broken upload;
    our callbacks correct odd numbers and choices and say so, and report unreadable images.
    """
    parse = component.preprocess

    def preprocess(payload):
        try:
            return parse(payload)
        except Exception as err:  # noqa: BLE001 - whatever the component chokes on, the callback explains
            return Unreadable(f"{type(err).__name__}: {err}") if isinstance(component, gr.ImageEditor) else payload

    component.preprocess = preprocess


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


@torch.no_grad()
def reconstruct(clean: np.ndarray, noise: NoiseSettings) -> Reconstruction:
    """Corrupt one 28x28 digit once and feed the same noisy copy to every model."""
    x = torch.from_numpy(np.ascontiguousarray(clean, np.float32)).reshape(1, 1, 28, 28)
    noisy = add_noise(x, noise.kind, noise.amount, seed=noise.seed)
    outputs = {name: model(noisy) for name, model in pretrained().items()}
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
    """Every model's error map side by side, in MODEL_NAMES order, one white pixel apart: (28, 4 * 29 - 1, 3).

    One picture rather than four: the maps share one scale for comparing, and every output of an event adds
    Gradio work on the server (one strip serves about 5% more draws a second than four maps; README, "Speed").
    """
    return tile(np.stack([error_map(outputs[name], clean) for name in MODEL_NAMES])[None], 255)


def metric_line(mse: float, psnr: float) -> str:
    return f"**MSE** {mse:.4f} · **PSNR** {psnr:.1f} dB"


# The order of the values draw_update returns; app.py wires its components in this order.
DRAW_OUTPUTS = ["status", "preview", "noisy",
                *[f"{name}_image" for name in MODEL_NAMES],
                *[f"{name}_metrics" for name in MODEL_NAMES],
                "error_maps"]


def read_drawing(sketch) -> tuple[np.ndarray | None, str | None]:
    """The drawing as a 28x28 digit, or None and the message to show instead."""
    try:
        digit = sketch_to_mnist(sketch)
    except Exception as err:  # noqa: BLE001 - untrusted uploads fail in many ways; each gets the same answer
        return None, f"⚠️ That image could not be read ({err}). Draw on the pad, or send a PNG or JPEG."
    if not digit.any():
        return None, EMPTY_PROMPT
    return digit, None


def draw_update(sketch, kind="gaussian", amount=0.0, seed=0) -> tuple:
    """Everything the Draw tab shows for this drawing and noise, as a tuple in DRAW_OUTPUTS order."""
    noise = NoiseSettings.parse(kind, amount, seed)
    clean, problem = read_drawing(sketch)
    if clean is None:
        return _blank(problem)
    result = reconstruct(clean, noise)
    status = " ".join(["What each model makes of your digit.", *noise.warnings])
    return (status, as_pixels(result.clean), as_pixels(result.noisy),
            *[as_pixels(result.outputs[name]) for name in MODEL_NAMES],
            *[metric_line(result.mse[name], result.psnr[name]) for name in MODEL_NAMES],
            error_strip(result.outputs, result.clean))


def _blank(message: str) -> tuple:
    return (message, None, None, *[None] * len(MODEL_NAMES), *[""] * len(MODEL_NAMES), None)


@torch.no_grad()
def noise_sweep(clean: np.ndarray, noise: NoiseSettings) -> dict[str, np.ndarray]:
    """Each model's MSE against the clean digit at every amount in SWEEP_AMOUNTS, one batch per model."""
    x = torch.from_numpy(np.ascontiguousarray(clean, np.float32)).reshape(1, 1, 28, 28)
    batch = x.expand(len(SWEEP_AMOUNTS), 1, 28, 28)
    noisy = torch.cat([add_noise(x, noise.kind, float(a), seed=noise.seed) for a in SWEEP_AMOUNTS])
    return {name: mse_per_image(model(noisy), batch).numpy() for name, model in pretrained().items()}


SWEEP_COLUMNS = ["noise amount", "MSE vs your clean digit", "model"]
SWEEP_MARKER = "your noise amount"  # the series that draws the slider's position as a vertical line
# A plot's colour map must name every series it shows: matplotlib's first four colours, and grey for the slider.
SWEEP_COLOURS = {**{MODELS[name].title: to_hex(colour) for name, colour in zip(MODEL_NAMES, colormaps["tab10"].colors)},
                 SWEEP_MARKER: "#999999"}


def noise_sweep_table(sketch, kind="gaussian", amount=0.0, seed=0) -> pd.DataFrame | None:
    """MSE against noise amount for the current drawing: a row per (model, amount), in SWEEP_COLUMNS.

    Two more rows, of the series SWEEP_MARKER, draw the current amount as a vertical line. The browser renders
    the plot (gr.LinePlot); as a matplotlib figure it cost the server about 120 ms a stroke, four times the
    rest of the update.
    """
    noise = NoiseSettings.parse(kind, amount, seed)
    clean, _ = read_drawing(sketch)
    if clean is None:
        return None
    curves = noise_sweep(clean, noise)
    rows = [(float(level), float(mse), MODELS[name].title)
            for name, curve in curves.items() for level, mse in zip(SWEEP_AMOUNTS, curve)]
    highest = max(mse for _, mse, _ in rows)
    rows += [(noise.amount, 0.0, SWEEP_MARKER), (noise.amount, highest, SWEEP_MARKER)]
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)


def sample_picks(per_digit: int) -> list[int]:
    """Indices of the first `per_digit` sample digits of each class, in rounds of 0 to 9."""
    _, labels = mnist_sample()
    return [int(np.flatnonzero(labels == digit)[k]) for k in range(per_digit) for digit in range(10)]


def example_gallery(count_per_digit: int = 1) -> list[tuple[np.ndarray, str]]:
    """Thumbnails of real MNIST test digits for the example row: (image, caption)."""
    images, labels = mnist_sample()
    return [(enlarge(images[i], 3), f"test digit {labels[i]}") for i in sample_picks(count_per_digit)]


def example_as_sketch(index: int, count_per_digit: int = 1, canvas: int = 280) -> dict:
    """The example at gallery position `index` as a Sketchpad value: dark ink on a light canvas."""
    picks = sample_picks(count_per_digit)
    image = mnist_sample()[0][picks[index % len(picks)]]
    paper = np.repeat(np.repeat(((1 - image) * 255).astype(np.uint8), canvas // 28, 0), canvas // 28, 1)
    rgba = np.dstack([paper, paper, paper, np.full_like(paper, 255)])
    return {"background": rgba, "layers": [], "composite": rgba}


def new_seed() -> int:
    return random.randrange(2**31)


def on_example_select(evt: gr.SelectData) -> dict:
    """Gallery click -> that example drawn on the sketch pad."""
    return example_as_sketch(evt.index)


def export(sketch, kind, amount, seed, directory: Path) -> list[str]:
    """Write the current inputs, outputs and metrics: a PNG sheet, the 28x28 arrays (NPZ) and JSON."""
    from PIL import Image
    noise = NoiseSettings.parse(kind, amount, seed)
    clean, _ = read_drawing(sketch)
    if clean is None:
        return []
    result = reconstruct(clean, noise)
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
    }, indent=2))
    return [str(p) for p in paths]


def export_to_temp(sketch, kind="gaussian", amount=0.0, seed=0) -> list[str]:
    """export() into a fresh temporary folder, for the download button."""
    return export(sketch, kind, amount, seed, Path(tempfile.mkdtemp(prefix="ae-studio-")))
