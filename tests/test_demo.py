import json
import re

import numpy as np
import pytest

from ae import charts, demo
from ae.models import MODELS

OUT = {name: index for index, name in enumerate(demo.DRAW_OUTPUTS)}


@pytest.fixture(scope="module")
def seven():
    """A hand-drawn-looking 7: a dark stroke on a white RGBA canvas, as the pad sends it."""
    page = np.full((280, 280, 4), 255, np.uint8)
    page[60:80, 70:210, :3] = 0
    for row in range(80, 230):
        col = int(200 - (row - 80) * 0.6)
        page[row, col - 10:col + 10, :3] = 0
    return page


def test_a_drawing_fills_every_panel(seven):
    result = demo.draw_update(seven, "gaussian", 0.3, 0)
    assert len(result) == len(demo.DRAW_OUTPUTS)
    for name in ["preview", "noisy", *[f"{m}_image" for m in demo.MODEL_NAMES]]:
        assert result[OUT[name]].shape == (28, 28) and result[OUT[name]].dtype == np.uint8, name
    strip = result[OUT["error_maps"]]
    assert strip.shape == (28, len(demo.MODEL_NAMES) * 29 - 1, 3) and (strip[:, 28::29] == 255).all()  # white between
    for name in demo.MODEL_NAMES:
        assert result[OUT[f"{name}_metrics"]].startswith("**MSE** ")
    assert "What each model makes" in result[OUT["status"]]


def test_the_noise_is_shared_and_reproducible(seven):
    first = demo.draw_update(seven, "salt_pepper", 0.4, 11)
    again = demo.draw_update(seven, "salt_pepper", 0.4, 11)
    other = demo.draw_update(seven, "salt_pepper", 0.4, 12)
    assert np.array_equal(first[OUT["noisy"]], again[OUT["noisy"]])
    assert not np.array_equal(first[OUT["noisy"]], other[OUT["noisy"]])


def test_more_noise_hurts_the_plain_models_more_than_the_denoiser(seven):
    clean = demo.sketch_to_mnist(seven)
    result = demo.reconstruct(clean, demo.NoiseSettings(kind="gaussian", amount=0.6, seed=0))
    assert result.mse["denoise"] < result.mse["conv"]
    assert all(0 <= y.min() and y.max() <= 1 for y in result.outputs.values())


def test_an_empty_canvas_blanks_the_outputs_with_a_prompt():
    result = demo.draw_update(None, "gaussian", 0.5, 0)
    assert result[OUT["status"]] == demo.EMPTY_PROMPT
    assert all(result[OUT[name]] is None for name in ["preview", "noisy", *[f"{m}_image" for m in demo.MODEL_NAMES]])
    assert result[OUT["sweep"]] is None and result[OUT["error_maps"]] is None


@pytest.mark.parametrize("kind, amount, seed, note", [
    ("gaussian", float("nan"), 0, "finite"),
    ("gaussian", 7, 0, "clipped"),
    ("gaussian", "lots", 0, "not a number"),
    ("speckle", 0.2, 0, "Unknown noise type"),
    ("gaussian", 0.2, "abc", "not a whole number"),
])
def test_bad_settings_are_corrected_and_said(seven, kind, amount, seed, note):
    result = demo.draw_update(seven, kind, amount, seed)
    assert note in result[OUT["status"]]
    assert result[OUT["denoise_image"]] is not None


def test_an_unreadable_image_is_a_message(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    result = demo.draw_update(str(bad), "gaussian", 0.2, 0)
    assert "could not be read" in result[OUT["status"]] and result[OUT["preview"]] is None


def test_noise_sweep_starts_at_the_clean_reconstruction(seven):
    clean = demo.sketch_to_mnist(seven)
    curves = demo.noise_sweep(clean, demo.NoiseSettings(kind="gaussian", seed=3))
    at_zero = demo.reconstruct(clean, demo.NoiseSettings(amount=0.0))
    for name, curve in curves.items():
        assert curve.shape == demo.SWEEP_AMOUNTS.shape
        assert curve[0] == pytest.approx(at_zero.mse[name], rel=1e-5)


def test_the_sweep_chart_draws_every_model_and_the_slider(seven):
    clean = demo.sketch_to_mnist(seven)
    noise = demo.NoiseSettings(kind="mask", amount=0.4, seed=3)
    chart = demo.draw_update(seven, "mask", 0.4, 3)[OUT["sweep"]]
    assert chart.count("<polyline") == len(demo.MODEL_NAMES) and chart.count("<circle") == len(demo.MODEL_NAMES) * len(demo.SWEEP_AMOUNTS)
    for name, curve in demo.noise_sweep(clean, noise).items():
        assert f"{MODELS[name].short_title}, noise 1.0: MSE {curve[-1]:.4f}" in chart  # each point's tooltip
    assert "your noise amount, 0.4" in chart and "noise amount (Masking)" in chart
    x_of_slider = float(re.search(r'<line x1="([\d.]+)" y1="16.0" x2="\1"', chart).group(1))
    left, right = charts.MARGIN[0], charts.SIZE[0] - charts.MARGIN[1]
    assert x_of_slider == pytest.approx(left + 0.4 * (right - left), abs=0.1)


@pytest.mark.parametrize("value, ceiling", [(0.0123, 0.02), (0.2, 0.2), (0.21, 0.25), (0.3, 0.5), (0.07, 0.1)])
def test_the_chart_axis_ends_on_a_tidy_number(value, ceiling):
    assert charts.nice_ceiling(value) == pytest.approx(ceiling)


def test_export_writes_sheet_arrays_and_metrics(seven, tmp_path):
    paths = demo.export(seven, "gaussian", 0.3, 5, tmp_path)
    sheet, arrays, metrics = paths
    assert sheet.endswith(".png") and arrays.endswith(".npz") and metrics.endswith(".json")
    with np.load(arrays) as saved:
        assert set(saved.files) == {"clean", "noisy", *demo.MODEL_NAMES}
        assert all(saved[key].shape == (28, 28) for key in saved.files)
    record = json.loads(open(metrics).read())
    expected = demo.reconstruct(demo.sketch_to_mnist(seven), demo.NoiseSettings(amount=0.3, seed=5))
    assert record["metrics"]["linear"]["mse"] == pytest.approx(expected.mse["linear"])
    assert demo.export(None, "gaussian", 0.3, 5, tmp_path / "empty") == []
