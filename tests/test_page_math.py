"""The page's arithmetic (ae/web/static/digit.js) against its Python twin, run by Node: the drawing's 28x28
digit, the seeded noise and the metrics must agree to float32 rounding, so the page and the server show the same.
(The models themselves: tests/test_page_files.py; the whole page against /draw in Chromium: tests/test_parity.py.)
"""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch

from ae.metrics import mse_per_image, psnr_per_image
from ae.noise import NOISE_KINDS, page_noise, uniforms
from ae.preprocess import sketch_to_mnist
from ae.web.common import STATIC, as_pixels

NODE = shutil.which("node")
# CI has Node (the README's set-up); elsewhere these tests say why they cannot run rather than fail.
pytestmark = pytest.mark.skipif(NODE is None and not os.environ.get("CI"), reason="Node.js is not installed")

RUN_CASES = """
const digit = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const answers = cases.map(({rgba, width, height, noise, box, region}) => {
  const clean = digit.sketchToMnist(Uint8Array.from(rgba), width, height);
  const boxed = digit.sketchToMnist(Uint8Array.from(region), width, height, box);
  if (!clean) return {clean: null, boxed};
  const noisy = noise.map(([kind, amount, seed]) => Array.from(digit.pageNoise(clean, kind, amount, seed)));
  const error = digit.mse(noisy[0], clean);
  return {clean: Array.from(clean), noisy, pixels: Array.from(digit.asPixels(clean)),
          mse: error, psnr: digit.psnr(error), boxed: boxed && Array.from(boxed)};
});
console.log(JSON.stringify({answers, uniforms: Array.from(digit.uniforms(123456789, 3, 1000))}));
"""


def drawings() -> list[np.ndarray]:
    """Drawings of every kind the page meets: strokes of several widths and greys, small and large, touching the
    border, on a transparent canvas, in colour, an example digit pixel-doubled, and an empty one."""
    rng = np.random.default_rng(7)
    pages = []
    for k in range(8):
        size = (280, 280) if k < 5 else (rng.integers(40, 200), rng.integers(40, 200))
        page = np.full((*size, 4), 255, np.uint8)
        for _ in range(3):
            y0, x0 = rng.integers(0, size[0] - 10), rng.integers(0, size[1] - 10)
            h, w = rng.integers(3, size[0] - y0), rng.integers(3, size[1] - x0)
            page[y0:y0 + h, x0:x0 + max(2, w // 4), :3] = rng.integers(0, 120)
        pages.append(page)
    pages[1][:, :, 3] = np.where(pages[1][:, :, 0] < 255, 255, 0)  # ink on a see-through canvas
    pages[2][..., 0] = 255  # a coloured pen
    pages[3][100:140, 0:60, :3] = 0  # touching the border
    tiny = np.full((280, 280, 4), 255, np.uint8)
    tiny[130:134, 138:141, :3] = 0  # a dot: enlarged, not shrunk
    pages.append(tiny)
    pages.append(np.full((280, 280, 4), 255, np.uint8))  # empty
    return pages


def ink_box(page: np.ndarray, margin: int) -> dict:
    """The part of a drawing holding every pixel that is not white, `margin` pixels wider, as a pad reads it."""
    rows, cols = np.nonzero((page[..., :3] < 255).any(-1))
    if not len(rows):
        return {"x": 0, "y": 0, "width": 1, "height": 1}
    y0, x0 = max(0, rows.min() - margin), max(0, cols.min() - margin)
    y1, x1 = min(page.shape[0], rows.max() + 1 + margin), min(page.shape[1], cols.max() + 1 + margin)
    return {"x": int(x0), "y": int(y0), "width": int(x1 - x0), "height": int(y1 - y0)}


@pytest.fixture(scope="module")
def cases():
    noise = [[kind, amount, seed] for kind in NOISE_KINDS for amount, seed in [(0.0, 0), (0.35, 1), (1.0, 2**31 - 1)]]
    cases = []
    for k, page in enumerate(drawings()):
        box = ink_box(page, margin=k % 3)
        region = page[box["y"]:box["y"] + box["height"], box["x"]:box["x"] + box["width"]]
        cases.append({"rgba": page.ravel().tolist(), "width": page.shape[1], "height": page.shape[0], "noise": noise,
                      "box": box, "region": region.ravel().tolist()})
    return cases


@pytest.fixture(scope="module")
def page_answers(cases):
    result = subprocess.run([NODE, "-e", RUN_CASES, str(STATIC / "digit.js")], input=json.dumps(cases),
                            capture_output=True, text=True, check=True, timeout=120)
    return json.loads(result.stdout)


def test_the_random_numbers_are_the_same(page_answers):
    assert np.array_equal(np.array(page_answers["uniforms"]), uniforms(123456789, 3, 1000))


def test_the_digit_noise_and_metrics_are_the_same(cases, page_answers):
    assert len(cases) == len(page_answers["answers"]) == 10
    for case, answer in zip(cases, page_answers["answers"]):
        page = np.array(case["rgba"], np.uint8).reshape(case["height"], case["width"], 4)
        clean = sketch_to_mnist(page)
        if answer["clean"] is None:
            assert not clean.any()
            continue
        assert np.abs(np.array(answer["clean"]).reshape(28, 28) - clean).max() < 1e-6
        assert np.array_equal(np.array(answer["pixels"]).reshape(28, 28), as_pixels(clean))
        for (kind, amount, seed), noisy in zip(case["noise"], answer["noisy"]):
            expected = page_noise(clean, kind, amount, seed)
            assert np.abs(np.array(noisy).reshape(28, 28) - expected).max() < 1e-6, (kind, amount, seed)
        noisy, target = torch.from_numpy(page_noise(clean, *case["noise"][0]))[None], torch.from_numpy(clean)[None]
        expected_mse = mse_per_image(noisy, target)
        assert answer["mse"] == pytest.approx(float(expected_mse), rel=1e-5, abs=1e-12)
        if expected_mse > 0:
            expected_psnr = psnr_per_image(noisy, target)
            assert answer["psnr"] == pytest.approx(float(expected_psnr), rel=1e-5)


def test_a_drawing_read_where_its_ink_is_gives_the_same_digit(page_answers):
    """The pad reads only the part of the canvas its strokes cover (static/pad.js's inkBox): bit for bit the digit
    the whole canvas gives, the canvas's border read as white where it lies outside that part."""
    for answer in page_answers["answers"]:
        assert answer["boxed"] == answer["clean"]


def test_the_noise_does_what_it_says():
    clean = np.full((28, 28), 0.5, np.float32)
    hits = np.mean([(page_noise(clean, "salt_pepper", 0.3, seed) != 0.5).mean() for seed in range(50)])
    assert hits == pytest.approx(0.3, abs=0.01)
    gaussian = np.concatenate([(page_noise(clean, "gaussian", 0.1, seed) - 0.5).ravel() for seed in range(50)]) / 0.1
    assert abs(gaussian.mean()) < 0.02 and gaussian.std() == pytest.approx(1, abs=0.03)
    masked = page_noise(np.ones((28, 28), np.float32), "mask", 0.25, 4)
    rows, cols = np.nonzero(masked == 0)
    assert len(rows) == 14 * 14 and rows.max() - rows.min() == cols.max() - cols.min() == 13
    assert not np.array_equal(page_noise(clean, "gaussian", 0.5, 1), page_noise(clean, "gaussian", 0.5, 2))
