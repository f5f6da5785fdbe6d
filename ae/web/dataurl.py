"""Images as data URLs: how the page's pad sends a drawing, and how the app sends its small pictures back.

A 28x28 digit is a few hundred bytes of PNG; inside the event's own message it needs no file on the server and
no second request from the browser. The pad sends its canvas the same way, so a stroke is one request.
"""

import base64
import binascii
import io

import numpy as np
from PIL import Image

from ..preprocess import UnreadableImage, pil_to_array

MAX_DATA_URL_CHARS = 8_000_000  # ~6 MB of image: a 280x280 drawing is ~10 kB; larger ones are refused unread
MAX_PIXELS = 4096 * 4096  # larger images are refused before decoding (a small PNG can unpack to gigabytes)


def png_data_url(pixels: np.ndarray) -> str:
    """A uint8 image (H, W) or (H, W, 3|4) as `data:image/png;base64,...`."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def read_image_data_url(url: str) -> np.ndarray:
    """The pixels of `data:image/<type>;base64,...` (PNG, JPEG, WebP, ...); UnreadableImage says what is wrong."""
    if not isinstance(url, str) or not url.startswith("data:image/"):
        raise UnreadableImage("expected an image as a data URL, data:image/png;base64,...")
    if len(url) > MAX_DATA_URL_CHARS:
        raise UnreadableImage(f"the image is over {MAX_DATA_URL_CHARS // 1_000_000} MB")
    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        raise UnreadableImage("the data URL is not base64-encoded")
    try:
        raw = base64.b64decode(payload, validate=True)
    except binascii.Error as err:
        raise UnreadableImage(f"the data URL's base64 is broken ({err})") from err
    try:
        image = Image.open(io.BytesIO(raw))
    except (OSError, Image.DecompressionBombError) as err:
        raise UnreadableImage("its data is not an image this app can read (send a PNG or JPEG)") from err
    with image:
        if image.width * image.height > MAX_PIXELS:
            raise UnreadableImage(f"the image is {image.width}x{image.height}; at most 4096x4096 is read")
        return pil_to_array(image)


def read_png_data_url(image: dict | str) -> np.ndarray:
    """The pixels of a PNG the app sent inline, as an API caller receives it: a data URL
    (`data:image/png;base64,...`), or an image component's {"url": <data URL>, ...} (gradio_fixes.send_inline)."""
    header, _, payload = (image if isinstance(image, str) else image["url"]).partition(",")
    if header != "data:image/png;base64":
        raise UnreadableImage(f"not a PNG data URL: {header[:40]!r}")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))))
