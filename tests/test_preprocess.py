import numpy as np
import pytest
from PIL import Image

from ae import sketch_to_mnist
from ae.web.common import read_pad
from ae.web.dataurl import png_data_url

# Bounds measured on the first 200 test digits when they were set: mean 0.0048 / max 0.017 for the
# original, mean 0.010-0.012 / max 0.032 for the redrawn canvases; bilinear rescaling blurs a little.
ORIGINAL_MEAN_MSE, CANVAS_MEAN_MSE, ANY_MAX_MSE = 0.008, 0.015, 0.05


def paper(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit as a person would draw it: dark ink on white, uint8."""
    return ((1 - digit) * 255).round().astype(np.uint8)


def on_canvas(digit: np.ndarray, size: int, canvas: tuple[int, int], top_left: tuple[int, int]) -> np.ndarray:
    drawn = np.asarray(Image.fromarray(paper(digit)).resize((size, size), Image.Resampling.BILINEAR))
    page = np.full(canvas, 255, np.uint8)
    page[top_left[0]:top_left[0] + size, top_left[1]:top_left[1] + size] = drawn
    return page


@pytest.fixture(scope="module")
def digits(mnist_test):
    return mnist_test[0][:50, 0].numpy()


def test_small_in_a_corner_large_in_the_centre_and_the_original_agree(digits):
    errors = []
    for digit in digits:
        original = sketch_to_mnist(paper(digit))
        large = sketch_to_mnist(on_canvas(digit, 400, (500, 500), (50, 50)))
        small = sketch_to_mnist(on_canvas(digit, 60, (600, 800), (5, 730)))
        errors.append([((original - digit) ** 2).mean(), ((large - digit) ** 2).mean(), ((small - digit) ** 2).mean()])
    errors = np.array(errors)
    assert errors[:, 0].mean() < ORIGINAL_MEAN_MSE
    assert errors[:, 1:].mean() < CANVAS_MEAN_MSE
    assert errors.max() < ANY_MAX_MSE


def test_centre_of_mass_lands_within_half_a_pixel_of_mnists_centre(digits):
    ys, xs = np.indices((28, 28))
    for digit in digits[:20]:
        out = sketch_to_mnist(on_canvas(digit, 150, (300, 420), (130, 10)))
        com = np.array([(ys * out).sum(), (xs * out).sum()]) / out.sum()
        assert np.abs(com - 14).max() < 0.5


def test_fits_a_20_pixel_box_with_aspect_kept():
    page = np.full((300, 300), 255, np.uint8)
    page[50:250, 140:160] = 0  # a tall bar, 200 x 20
    out = sketch_to_mnist(page)
    assert out.sum() == pytest.approx(20 * 2, abs=1e-3)  # 20 pixels tall, 2 wide: the sub-pixel shift keeps the ink
    rows, cols = np.nonzero(out > 0.1)
    assert 20 <= rows.max() - rows.min() + 1 <= 21  # 21 where the centring lands between two pixels
    assert 1 <= cols.max() - cols.min() + 1 <= 3


def test_rgba_rgb_and_l_inputs_agree(digits):
    grey = on_canvas(digits[0], 200, (280, 280), (40, 40))
    rgb = np.dstack([grey] * 3)
    rgba = np.dstack([grey] * 3 + [np.full_like(grey, 255)])
    transparent = np.dstack([np.zeros_like(grey)] * 3 + [255 - grey])  # ink only, on a see-through canvas
    reference = sketch_to_mnist(grey)
    for other in (rgb, rgba, transparent, Image.fromarray(rgba), Image.fromarray(grey, "L")):
        assert np.abs(sketch_to_mnist(other) - reference).max() < 1e-5


def test_any_stroke_colour_works(digits):
    grey = on_canvas(digits[1], 200, (280, 280), (40, 40))
    reference = sketch_to_mnist(grey)
    ink = 1 - grey / 255.0
    for colour in ([255, 0, 0], [0, 0, 255], [230, 200, 0]):
        coloured = (255 - ink[..., None] * (255 - np.array(colour))).round().astype(np.uint8)
        assert np.abs(sketch_to_mnist(coloured) - reference).mean() < 0.01


def test_pad_values_and_empty_canvases():
    page = np.full((280, 280, 4), 255, np.uint8)
    assert not sketch_to_mnist(page).any()
    assert not sketch_to_mnist(None).any()
    page[100:200, 130:150, :3] = 0
    out = sketch_to_mnist(read_pad(png_data_url(page)))  # as the pad sends it
    assert out.shape == (28, 28) and out.dtype == np.float32 and out.max() == pytest.approx(1, abs=0.05)


@pytest.mark.parametrize("dtype, top", [(np.uint16, 65535), (np.float32, 1.0), (np.float64, 255.0)])
def test_other_depths(dtype, top):
    page = np.full((100, 100), top, dtype)
    page[20:80, 45:55] = 0
    out = sketch_to_mnist(page)
    assert 0 <= out.min() and out.max() <= 1 and out.sum() > 10
