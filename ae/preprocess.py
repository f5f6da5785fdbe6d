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
    """
    ink = ink_map(to_array(value))
    if ink.max(initial=0) < MIN_INK:
        return np.zeros((FIELD, FIELD), np.float32)
    ink = ink / ink.max()
    rows, cols = np.nonzero(ink > INK_FLOOR)
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    height, width = ink.shape
    scale = DIGIT_BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # BOX averages every source pixel a target pixel covers: proper anti-aliasing when shrinking a big canvas.
    digit = Image.fromarray(ink.astype(np.float32), mode="F").resize(
        size, Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR)
    return center_by_mass(np.asarray(digit, np.float32).clip(0, 1))


def center_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place `digit` (at most 28x28) in a 28x28 field with its centre of mass at the field's centre.

    The shift is sub-pixel (bilinear), which keeps the total ink and moves the centre of mass exactly.
    """
    total = digit.sum()
    ys, xs = np.indices(digit.shape)
    com_y, com_x = (ys * digit).sum() / total, (xs * digit).sum() / total
    centre = FIELD / 2  # where MNIST's own digits have it: pixel (14, 14), measured on the test set
    # Image.transform maps each output pixel (x, y) to the input pixel (x + dx, y + dy).
    dx, dy = com_x - centre, com_y - centre
    field = Image.fromarray(digit, mode="F").transform(
        (FIELD, FIELD), Image.Transform.AFFINE, (1, 0, dx, 0, 1, dy), resample=Image.Resampling.BILINEAR)
    return np.asarray(field, np.float32).clip(0, 1)


MAX_SIDE = 1024  # larger images are shrunk first: a 28x28 result needs no more, and memory stays bounded


class Unreadable(str):
    """What the app passes on instead of an upload it could not decode; the text says why."""


def to_array(value) -> np.ndarray:
    """Any image the app may receive, as float32 in [0, 1]: (H, W) or (H, W, C)."""
    if isinstance(value, Unreadable):
        raise ValueError(str(value))
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
        raise ValueError(f"expected an image shaped HxW, HxWx3 or HxWx4, got {array.shape}")
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
        # Transparent pixels show the canvas underneath, which is white.
        alpha = image[..., 3:]
        image = image[..., :3] * alpha + (1 - alpha)
    if image.ndim == 2:
        image = image[..., None]
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    canvas = np.median(border, axis=0)
    # The largest difference over the channels. Pairwise maxima of whole channel planes: numpy's
    # .max(axis=2) over a length-3 last axis is some 20x slower, a quarter of a request's time.
    ink = functools.reduce(np.maximum, np.moveaxis(np.abs(image - canvas), -1, 0))
    return np.where(ink > INK_FLOOR, ink, 0).astype(np.float32)
