"""Turn a drawing into a 28x28 digit the way MNIST itself was made.

MNIST (LeCun et al.) took each NIST digit, scaled it to fit a 20x20 box with its aspect ratio kept and
anti-aliasing, then placed it in a 28x28 field so that its centre of mass sits at the centre. A model
trained on that sees a drawing well only after the same treatment: ink as white on black, cropped to its
bounding box, longer side 20 pixels, centre of mass at the centre.
"""

import functools
from pathlib import Path

import numpy as np
from PIL import Image

DIGIT_BOX = 20  # MNIST's size-normalised box, in pixels
FIELD = 28
INK_FLOOR = 0.05  # ink weaker than this is background noise (JPEG, anti-aliasing halo, paper grain)
MIN_INK = 0.2  # a drawing whose strongest ink is below this counts as empty


def sketch_to_mnist(value) -> np.ndarray:
    """A (28, 28) float32 array in [0, 1], white ink on black, from a drawing.

    `value` is an image as a numpy array (HxW, HxWx3 or HxWx4, any integer or float dtype), a PIL image, a
    path, or None for an empty pad. Ink is whatever differs from the canvas colour (read off the border), so
    any stroke colour works. An empty canvas gives zeros.

    The steps after the ink map are plain arithmetic that the page repeats in JavaScript
    (ae/web/static/digit.js): each is a matrix product with weights both sides compute the same way.
    """
    ink = ink_map(to_array(value)).astype(np.float64)
    if ink.max(initial=0) < MIN_INK:
        return np.zeros((FIELD, FIELD), np.float32)
    ink = ink / ink.max()
    rows, cols = np.nonzero(ink > INK_FLOOR)
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    height, width = ink.shape
    scale = DIGIT_BOX / max(height, width)
    digit = resize_weights(height, half_up(height * scale)) @ ink @ resize_weights(width, half_up(width * scale)).T
    return center_by_mass(digit.clip(0, 1)).astype(np.float32)


def half_up(x: float) -> int:
    """x rounded to the nearest whole number, halves up (as JavaScript's Math.round), at least 1."""
    return max(1, int(np.floor(x + 0.5)))


def resize_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights that resize one axis: an area average when shrinking (each target pixel averages
    the source pixels it covers, the share it covers of each: proper anti-aliasing for a big canvas), linear
    interpolation between pixel centres when enlarging (edges held)."""
    weights = np.zeros((n_out, n_in))
    step = n_in / n_out
    for j in range(n_out):
        if n_out <= n_in:
            low, high = j * step, (j + 1) * step
            for i in range(int(np.floor(low)), min(n_in, int(np.ceil(high)))):
                weights[j, i] = (min(high, i + 1) - max(low, i)) / step
        else:
            source = min(max((j + 0.5) * step - 0.5, 0), n_in - 1)
            i = int(np.floor(source))
            weights[j, i] += 1 - (source - i)
            weights[j, min(i + 1, n_in - 1)] += source - i
    return weights


def shift_weights(n_in: int, offset: float) -> np.ndarray:
    """(FIELD, n_in) weights that sample an axis at i + offset for every field pixel i, linearly between pixel
    centres and zero outside: a sub-pixel shift that keeps the total ink and moves its centre exactly."""
    return np.maximum(0, 1 - np.abs(np.arange(FIELD)[:, None] + offset - np.arange(n_in)[None, :]))


def center_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place `digit` (at most 28x28) in a 28x28 field with its centre of mass at the field's centre, pixel
    (14, 14), where MNIST's own digits have it (measured on the test set)."""
    total = digit.sum()
    ys, xs = np.indices(digit.shape)
    com_y, com_x = (ys * digit).sum() / total, (xs * digit).sum() / total
    centre = FIELD / 2
    field = shift_weights(digit.shape[0], com_y - centre) @ digit @ shift_weights(digit.shape[1], com_x - centre).T
    return field.clip(0, 1)


MAX_SIDE = 1024  # larger images are shrunk first: a 28x28 result needs no more, and memory stays bounded


class Unreadable(str):
    """What the app passes on instead of an upload it could not decode; the text says why."""


class UnreadableImage(ValueError):
    """An image the app cannot read, with a reason worded for the person who sent it."""


def to_array(value) -> np.ndarray:
    """Any image the app may receive, as float32 in [0, 1]: (H, W) or (H, W, C)."""
    if isinstance(value, Unreadable):
        raise UnreadableImage(str(value))
    if value is None:
        return np.ones((FIELD, FIELD), np.float32)  # an empty white canvas
    if isinstance(value, (str, Path)):
        with Image.open(value) as image:
            value = pil_to_array(image)
    elif isinstance(value, Image.Image):
        value = pil_to_array(value)
    array = _shrink(np.asarray(value))
    if array.dtype == bool:
        array = array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        top = np.iinfo(array.dtype).max if array.max(initial=0) > 255 else 255
        array = array.astype(np.float32) / top
    else:
        array = np.nan_to_num(array.astype(np.float32), nan=1.0, posinf=1.0, neginf=0.0)
        if array.max(initial=0) > 1:  # floats on a 0-255 scale
            array = array / 255
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or 0 in array.shape:
        raise UnreadableImage(f"expected an image shaped HxW, HxWx3 or HxWx4, got {array.shape}")
    return array.clip(0, 1)


def _shrink(array: np.ndarray) -> np.ndarray:
    """Average k x k blocks so that neither side exceeds MAX_SIDE (thin strokes survive, unlike striding)."""
    factor = -(-max(array.shape[:2]) // MAX_SIDE)
    if factor <= 1 or array.ndim not in (2, 3):
        return array
    pad = [(0, -side % factor) for side in array.shape[:2]] + [(0, 0)] * (array.ndim - 2)
    array = np.pad(array, pad, mode="edge")  # to whole blocks; a side shorter than a block keeps one pixel
    height, width = array.shape[:2]
    blocks = array.reshape(height // factor, factor, width // factor, factor, *array.shape[2:])
    return blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32 if array.dtype.kind == "f" else array.dtype)


def pil_to_array(image: Image.Image) -> np.ndarray:
    if max(image.size) > MAX_SIDE:
        image = image.reduce(-(-max(image.size) // MAX_SIDE))
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return np.asarray(image).astype(np.float32) / (65535 if image.mode != "F" else 1)
    return np.asarray(image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB"))


def ink_map(image: np.ndarray) -> np.ndarray:
    """How far each pixel is from the canvas colour, in [0, 1]: (H, W) float32."""
    if image.ndim == 3 and image.shape[2] == 4:
        # Transparent pixels show the canvas underneath, which is white. The pad's are all opaque: for those
        # the blend is the colour itself, and skipping it saves a quarter of a stroke's preprocessing.
        alpha = image[..., 3:]
        image = image[..., :3] if alpha.min() == 1 else image[..., :3] * alpha + (1 - alpha)
    if image.ndim == 2:
        image = image[..., None]
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    canvas = np.median(border, axis=0)
    # The largest difference over the channels. Pairwise maxima of whole channel planes: numpy's
    # .max(axis=2) over a length-3 last axis is some 20x slower, a quarter of a request's time.
    ink = functools.reduce(np.maximum, np.moveaxis(np.abs(image - canvas), -1, 0))
    return np.where(ink > INK_FLOOR, ink, 0).astype(np.float32)
