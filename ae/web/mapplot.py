"""The Latent tab's map as a picture: the sample's codes as dots coloured by digit, drawn with Pillow.

matplotlib drew it before, and the server kept matplotlib in memory for that alone: about 30 MB of a peak that
has a goal (docs/speed.md). The picture keeps matplotlib's look: its font (DejaVu Sans, from matplotlib's
own files where it is installed), its first ten colours, a frame with ticks at round numbers, a legend. Clicks
are read back through the same geometry (MapPicture), so a click decodes the code under the pointer.
"""

import functools
import importlib.util
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

from .charts import TAB10

SIZE = (600, 500)
AXES = (72, 45, 492, 445)  # left, top, right, bottom, in pixels
DOT_RADIUS = 1.4
DOT_OPACITY = 0.6
MARGIN = 0.05  # of the data's range, on each side, as matplotlib's axes leave
TEXT, FRAME, PRIOR = (0, 0, 0), (0, 0, 0), (77, 77, 77)
TICK, LEGEND = 16, 13  # font sizes: on a phone the picture shows at about half size, and must still be read


@dataclass
class MapPicture:
    image: np.ndarray  # (H, W, 3) uint8
    x_pixels: tuple[float, float]  # the axes' left and right edges, in image columns
    y_pixels: tuple[float, float]  # the axes' top and bottom edges, in image rows
    x_limits: tuple[float, float]
    y_limits: tuple[float, float]

    def to_pixel(self, x: float, y: float) -> tuple[float, float]:
        (left, right), (top, bottom) = self.x_pixels, self.y_pixels
        (x0, x1), (y0, y1) = self.x_limits, self.y_limits
        return left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - y0) / (y1 - y0) * (bottom - top)

    def inside(self, column: float, row: float) -> bool:
        (left, right), (top, bottom) = self.x_pixels, self.y_pixels
        return left <= column <= right and top <= row <= bottom

    def to_data(self, column: float, row: float) -> tuple[float, float]:
        (left, right), (top, bottom) = self.x_pixels, self.y_pixels
        (x0, x1), (y0, y1) = self.x_limits, self.y_limits
        return x0 + (column - left) / (right - left) * (x1 - x0), y0 + (bottom - row) / (bottom - top) * (y1 - y0)


@functools.cache
def font(size: int) -> ImageFont.ImageFont:
    """DejaVu Sans, the font of the README's matplotlib figures, found without importing matplotlib; Pillow's
    own font where matplotlib is not installed."""
    spec = importlib.util.find_spec("matplotlib")
    if spec and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def ticks(low: float, high: float) -> tuple[np.ndarray, int]:
    """Round values from low to high, 1, 2, 2.5 or 5 times a power of ten apart (the closest that leave at most
    nine steps between low and high, as matplotlib's own axes do), and the decimals their labels need."""
    rough = (high - low) / 9
    power = 10.0 ** math.floor(math.log10(rough))
    multiple = next(m for m in (1, 2, 2.5, 5, 10) if m * power >= rough)
    step = multiple * power
    values = np.arange(math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9) + 1) * step
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (multiple == 2.5)
    return values, decimals


def tick_label(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text.replace("-", "−")  # no "−0"; a true minus sign, as matplotlib's


def scatter_map(coords: np.ndarray, labels: np.ndarray, title: str, x_label: str, y_label: str,
                prior_radius: float | None = None) -> MapPicture:
    """Dots at `coords` (N, 2) in their digit's colour, in a frame with ticks, labels and a legend; with a dashed
    circle of `prior_radius` around the origin where given (the VAE's prior, 2σ)."""
    limits = []
    for values in coords.T:
        low, high = float(values.min()), float(values.max())
        if prior_radius:
            low, high = min(low, -prior_radius), max(high, prior_radius)
        limits.append((low - MARGIN * (high - low), high + MARGIN * (high - low)))
    left, top, right, bottom = AXES
    picture = MapPicture(np.empty(0), (left, right), (top, bottom), *limits)
    canvas = Image.new("RGB", SIZE, "white")
    for digit in range(10):  # each digit a layer over the ones before, as matplotlib draws them
        layer = Image.new("RGBA", SIZE, (0, 0, 0, 0))
        pen = ImageDraw.Draw(layer)
        colour = (*ImageColor.getrgb(TAB10[digit]), round(255 * DOT_OPACITY))
        for x, y in coords[labels == digit]:
            column, row = picture.to_pixel(x, y)
            pen.ellipse((column - DOT_RADIUS, row - DOT_RADIUS, column + DOT_RADIUS, row + DOT_RADIUS), fill=colour)
        canvas.paste(layer, mask=layer)
    pen = ImageDraw.Draw(canvas)
    if prior_radius:
        centre = picture.to_pixel(0, 0)
        _dashed_circle(pen, centre, picture.to_pixel(prior_radius, 0)[0] - centre[0],
                       centre[1] - picture.to_pixel(0, prior_radius)[1])
    _frame(canvas, pen, picture, title, x_label, y_label)
    _legend(pen, with_prior=bool(prior_radius))
    return replace(picture, image=np.asarray(canvas))


def _frame(canvas: Image.Image, pen: ImageDraw.ImageDraw, picture: MapPicture, title: str, x_label: str,
           y_label: str) -> None:
    left, top, right, bottom = AXES
    pen.rectangle(AXES, outline=FRAME)
    values, decimals = ticks(*picture.x_limits)
    for value in values:
        column = picture.to_pixel(value, 0)[0]
        pen.line((column, bottom, column, bottom + 4), fill=FRAME)
        pen.text((column, bottom + 6), tick_label(value, decimals), fill=TEXT, font=font(TICK), anchor="mt")
    values, decimals = ticks(*picture.y_limits)
    for value in values:
        row = picture.to_pixel(0, value)[1]
        pen.line((left - 4, row, left, row), fill=FRAME)
        pen.text((left - 7, row), tick_label(value, decimals), fill=TEXT, font=font(TICK), anchor="rm")
    pen.text(((left + right) / 2, bottom + 26), x_label, fill=TEXT, font=font(TICK), anchor="mt")
    pen.text(((left + right) / 2, top - 8), title, fill=TEXT, font=font(TICK - 1), anchor="mb")
    width = round(pen.textlength(y_label, font=font(TICK)))
    upright = Image.new("L", (width + 4, 22), 0)
    ImageDraw.Draw(upright).text((2, 11), y_label, fill=255, font=font(TICK), anchor="lm")
    turned = upright.rotate(90, expand=True)
    canvas.paste(Image.new("RGB", turned.size, TEXT), (8, round((top + bottom - turned.height) / 2)), turned)


def _legend(pen: ImageDraw.ImageDraw, with_prior: bool) -> None:
    left, row_height = AXES[2] + 10, 17
    rows = 10 + with_prior
    top = round((AXES[1] + AXES[3]) / 2 - (rows * row_height + 24) / 2)
    pen.rounded_rectangle((left, top, left + 88, top + 28 + rows * row_height), radius=4, outline=(204, 204, 204),
                          fill="white")
    pen.text((left + 44, top + 6), "digit", fill=TEXT, font=font(TICK - 1), anchor="mt")
    for digit in range(10):
        row = top + 32 + digit * row_height
        pen.ellipse((left + 12, row - 3, left + 18, row + 3), fill=TAB10[digit])
        pen.text((left + 30, row), str(digit), fill=TEXT, font=font(LEGEND), anchor="lm")
    if with_prior:
        row = top + 32 + 10 * row_height
        for start in (left + 6, left + 16):
            pen.line((start, row, start + 6, row), fill=PRIOR)
        pen.text((left + 30, row), "prior, 2σ", fill=TEXT, font=font(LEGEND), anchor="lm")


def _dashed_circle(pen: ImageDraw.ImageDraw, centre: tuple[float, float], x_radius: float, y_radius: float) -> None:
    angles = np.linspace(0, 2 * np.pi, 121)
    points = [(centre[0] + x_radius * np.cos(a), centre[1] - y_radius * np.sin(a)) for a in angles]
    for index in range(0, len(points) - 1, 2):  # every other segment: a dash, then a gap
        pen.line((points[index], points[index + 1]), fill=PRIOR, width=1)
