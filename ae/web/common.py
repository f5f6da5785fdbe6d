"""What the page's tabs share: the committed models and MNIST sample, loaded once, and the small helpers that
turn a drawing into a digit and digits into pictures."""

import functools
import json
from pathlib import Path

import gradio as gr
import numpy as np
import torch
from PIL import Image, ImageDraw

from ..checkpoints import load_pretrained
from ..data import mnist_sample, sample_picks  # noqa: F401 - the tabs take them from here
from ..export import MANIFEST, PARTS
from ..models import MODELS
from ..preprocess import FIELD, Unreadable, UnreadableImage, sketch_to_mnist
from .dataurl import read_image_data_url
from .mapplot import TICK, font

STATIC = Path(__file__).resolve().parent / "static"  # the page's own files; app.py has Gradio serve the folder
STATIC_URL = f"gradio_api/file={STATIC.as_posix()}/"  # where the page finds them, relative to the app's root
EMPTY_PROMPT = "Draw a digit on the pad, or pick an example beside it, to see what each model makes of it."


@functools.cache
def static_text(name: str) -> str:
    """One of the page's files in static/ (markup, style or script), as text."""
    return (STATIC / name).read_text()


def page_panel(markup: str, styles: tuple[str, ...], js_on_load: str | None = None, **options) -> gr.HTML:
    """A panel the page draws from its own files: a gr.HTML with `markup` and `styles` from static/, framed and
    styled by nothing of Gradio's (the "bare" class, app.css); `options` are gr.HTML's (head, elem_id) or props
    for the markup and script (config, ...)."""
    return gr.HTML(value=None, html_template=static_text(markup), css_template="".join(map(static_text, styles)),
                   js_on_load=js_on_load, apply_default_css=False, padding=False, elem_classes="bare", **options)


@functools.cache
def onnx_files(name: str) -> dict:
    """A model's ONNX files as the page asks for them, {"encoder": ..., "decoder": ...} (the parts it has): each
    file's name, and a version from its hash that makes its URL new when the file is (so no stale copy is used)."""
    entry = json.loads(MANIFEST.read_text())[name]
    return {part: {"file": entry[part]["file"], "version": entry[part]["sha256"][:16]} for part in PARTS
            if part in entry}


@functools.cache
def pretrained() -> dict:
    """Every model with its committed weights, loaded once per process."""
    torch.set_num_threads(1)  # one tiny image at a time: threads cost more than they save, and requests overlap
    # Channels-last weights: PyTorch's CPU convolutions on these small images run about twice as fast so.
    return {name: load_pretrained(name).to(memory_format=torch.channels_last) for name in MODELS}


def read_pad(payload) -> np.ndarray | Unreadable | None:
    """What the pad (or an API caller) sent, as the image the callbacks take: None for an empty pad, the pixels
    of an image data URL, or Unreadable saying why it is not one. A string is never a path."""
    if isinstance(payload, (Unreadable, np.ndarray, Image.Image)):
        return payload  # read already, or pixels a Python caller passes (sketch_to_mnist judges them)
    if payload is None or payload == "":
        return None
    try:
        return read_image_data_url(payload)
    except Exception as err:  # noqa: BLE001 - untrusted uploads fail in many ways; each gets the same answer
        return Unreadable(str(err) if isinstance(err, UnreadableImage) else "it is not an image this app can read")


def read_drawing(sketch) -> tuple[np.ndarray | None, str | None]:
    """The drawing as a 28x28 digit (from what the pad sent, or the image read_pad made of it), or None and the
    message to show instead."""
    try:
        digit = sketch_to_mnist(read_pad(sketch))
    except UnreadableImage as err:  # the app's own words on what is wrong with it
        return None, f"That image could not be read: {err}. Draw on the pad, or send a PNG or JPEG."
    except Exception:  # noqa: BLE001 - untrusted uploads fail in many ways, in the decoders' words: ours instead
        return None, "That image could not be read: it is not a picture in a format this app knows. Draw on the pad, " \
                     "or send a PNG or JPEG."
    if not digit.any():
        return None, EMPTY_PROMPT
    return digit, None


def as_pixels(image: np.ndarray) -> np.ndarray:
    """A 28x28 image in [0, 1] as uint8, rounded half up as the page rounds. The page enlarges it with CSS
    `image-rendering: pixelated`, so every pixel shows as a crisp square while only 28x28 are sent."""
    return np.floor(image.clip(0, 1) * 255 + 0.5).astype(np.uint8)


def tile(pictures: np.ndarray, gap) -> np.ndarray:
    """(rows, columns, height, width, ...) pictures as one, neighbours one pixel of value `gap` apart."""
    rows, columns, height, width = pictures.shape[:4]
    padding = [(0, 0), (0, 0), (0, 1), (0, 1)] + [(0, 0)] * (pictures.ndim - 4)
    sheet = np.pad(pictures, padding, constant_values=gap).swapaxes(1, 2)
    return sheet.reshape(rows * (height + 1), columns * (width + 1), *pictures.shape[4:])[:-1, :-1]


ROW_SCALE = 3  # a labelled sheet's digits, enlarged: its labels are text, which must stay sharp


def labelled_rows(sheet: np.ndarray, labels: list[str], scale: int = ROW_SCALE) -> np.ndarray:
    """A sheet of digit rows (tile's, uint8, rows FIELD + 1 px apart) enlarged `scale` times, with each row's label
    on its left in a white margin: (H, W, 3) uint8. For a panel whose rows must say what they are."""
    enlarged = np.kron(sheet, np.ones((scale, scale), np.uint8))
    pitch = (FIELD + 1) * scale
    margin = max(round(ImageDraw.Draw(Image.new("L", (1, 1))).textlength(label, font=font(TICK)))
                 for label in labels) + 16
    picture = Image.new("RGB", (margin + enlarged.shape[1], enlarged.shape[0]), "white")
    picture.paste(Image.fromarray(enlarged).convert("RGB"), (margin, 0))
    pen = ImageDraw.Draw(picture)
    for row, label in enumerate(labels):
        pen.text((margin - 8, row * pitch + FIELD * scale / 2), label, fill="black", font=font(TICK), anchor="rm")
    return np.asarray(picture)
