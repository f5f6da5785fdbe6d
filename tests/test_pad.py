"""The drawing pad's server side: what it accepts, what it refuses, and the examples it draws.
(Its JavaScript runs in tests/test_browser.py.)"""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from ae.preprocess import Unreadable, sketch_to_mnist
from ae.web import common, draw_tab, pad
from ae.web.dataurl import MAX_DATA_URL_CHARS, png_data_url


def _data_url(image: Image.Image, kind: str = "png") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    return f"data:image/{kind};base64," + base64.b64encode(buffer.getvalue()).decode()


def test_an_empty_pad_is_none():
    assert common.read_pad(None) is None and common.read_pad("") is None


@pytest.mark.parametrize("mode, kind", [("RGBA", "png"), ("RGB", "jpeg"), ("L", "png"), ("P", "png"), ("RGB", "webp")])
def test_images_of_every_common_kind_are_read(mode, kind):
    page = np.full((120, 100), 255, np.uint8)
    page[20:100, 45:55] = 0
    image = Image.fromarray(page).convert(mode)
    pixels = common.read_pad(_data_url(image, kind))
    assert isinstance(pixels, np.ndarray) and pixels.shape[:2] == (120, 100)
    assert sketch_to_mnist(pixels).max() > 0.9


@pytest.mark.parametrize("payload, reason", [
    ("/etc/passwd", "data URL"),  # a string is never opened as a path
    ("data:text/plain;base64,aGk=", "data URL"),
    ("data:image/png,rawbytes", "not base64"),
    ("data:image/png;base64,%%%", "base64 is broken"),
    ("data:image/png;base64," + base64.b64encode(b"not an image").decode(), "not an image this app can read"),
    ("data:image/png;base64," + "A" * MAX_DATA_URL_CHARS, "over 8 MB"),
    (12, "data URL"),
    ({"composite": None}, "data URL"),
])
def test_anything_else_is_unreadable_with_the_reason(payload, reason):
    result = common.read_pad(payload)
    assert isinstance(result, Unreadable) and reason in result
    assert "could not be read" in draw_tab.draw_update(result)["status"] and "<_io" not in result


def test_a_huge_image_is_refused_before_it_is_decoded():
    result = common.read_pad(_data_url(Image.new("L", (5000, 5000), 255)))
    assert isinstance(result, Unreadable) and "5000x5000" in result


def test_every_example_loads_as_that_digit(example_on_pad):
    digits = draw_tab.example_digits()
    assert [caption for _, caption in digits] == [f"MNIST test digit {d}" for d in range(10)]
    for index, (digit, _) in enumerate(digits):
        preview = sketch_to_mnist(common.read_pad(png_data_url(example_on_pad(index))))
        assert ((preview - digit) ** 2).mean() < 0.015, index  # cropped and centred again: close, not equal


def test_the_example_strip_carries_each_digit_and_its_paper_version():
    digits = draw_tab.example_digits()
    strip = pad.example_strip(digits, "examples")
    buttons = [(example["caption"], example["paper"], example["image"]) for example in strip.props["examples"]]
    assert len(buttons) == len(digits) and "{{#each examples}}" in strip.html_template
    for (caption, paper, thumbnail), (digit, expected) in zip(buttons, digits):
        assert caption == expected
        assert np.array_equal(common.read_pad(paper)[..., 0], pad.on_paper(digit))  # grey, read as RGB
        assert np.array_equal(common.read_pad(thumbnail)[..., 0], common.as_pixels(digit))


def test_the_api_says_what_the_pad_takes():
    component = pad.drawing_pad("sketch")
    assert "data:image/png;base64" in component.api_info()["description"]
