"""Property tests: any canvas, any mode, any stroke gives a valid MNIST-style digit; noise is seeded."""

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae import sketch_to_mnist
from ae.noise import NOISE_KINDS, add_noise

MODES = {"L": 1, "RGB": 3, "RGBA": 4}
DTYPES = {"uint8": (np.uint8, 255), "uint16": (np.uint16, 65535), "float32": (np.float32, 1.0)}


@st.composite
def canvases(draw):
    height = draw(st.integers(1, 4096))
    width = draw(st.integers(1, 4096 if height <= 1024 else 1024))  # bound memory, not generality: any side
    channels = MODES[draw(st.sampled_from(list(MODES)))]
    dtype, top = DTYPES[draw(st.sampled_from(list(DTYPES)))]
    page = np.full((height, width, channels) if channels > 1 else (height, width), top, dtype)
    for _ in range(draw(st.integers(0, 4))):  # strokes: filled boxes of any size, position and colour
        top_row, left = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
        bottom, right = draw(st.integers(top_row + 1, height)), draw(st.integers(left + 1, width))
        colour = draw(st.floats(0, 1)) * top
        if channels == 4:
            page[top_row:bottom, left:right, :3] = colour
            page[top_row:bottom, left:right, 3] = draw(st.integers(0, 1)) * top
        else:
            page[top_row:bottom, left:right] = colour
    return page


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow])
@given(canvases())
def test_any_canvas_gives_a_valid_deterministic_digit(page):
    digit = sketch_to_mnist(page)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert not np.isnan(digit).any() and 0 <= digit.min() and digit.max() <= 1
    assert np.array_equal(digit, sketch_to_mnist(page.copy()))
    # No centre-of-mass bound here: on degenerate canvases (ink along the border) the canvas colour itself is
    # ambiguous. tests/test_preprocess.py holds that bound for drawings.


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NOISE_KINDS), st.floats(0, 1), st.integers(0, 2**31 - 1), st.integers(1, 4))
def test_noise_stays_in_range_and_repeats_for_a_seed(kind, amount, seed, count):
    images = torch.rand(count, 1, 28, 28, generator=torch.Generator().manual_seed(seed % 1000))
    noisy = add_noise(images, kind, amount, seed=seed)
    assert noisy.shape == images.shape and not torch.isnan(noisy).any()
    assert 0 <= noisy.min() and noisy.max() <= 1
    assert torch.equal(noisy, add_noise(images, kind, amount, seed=seed))
