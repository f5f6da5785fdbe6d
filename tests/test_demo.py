import json

import gradio as gr
import numpy as np
import pytest

from ae import demo
from ae.models import MODELS

OUT = {name: index for index, name in enumerate(demo.DRAW_OUTPUTS)}


@pytest.fixture(scope="module")
def seven():
    """A hand-drawn-looking 7: a dark stroke on a white RGBA canvas, as the Sketchpad returns it."""
    page = np.full((280, 280, 4), 255, np.uint8)
    page[60:80, 70:210, :3] = 0
    for row in range(80, 230):
        col = int(200 - (row - 80) * 0.6)
        page[row, col - 10:col + 10, :3] = 0
    return {"background": None, "layers": [], "composite": page}


def test_a_drawing_fills_every_panel(seven):
    result = demo.draw_update(seven, "gaussian", 0.3, 0)
    assert len(result) == len(demo.DRAW_OUTPUTS)
    for name in ["preview", "noisy", *[f"{m}_image" for m in MODELS]]:
        assert result[OUT[name]].shape == (28, 28) and result[OUT[name]].dtype == np.uint8, name
    strip = result[OUT["error_maps"]]
    assert strip.shape == (28, 4 * 29 - 1, 3) and (strip[:, 28::29] == 255).all()  # four maps, white between
    for name in MODELS:
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


def test_digits_travel_inline_as_lossless_pngs(seven):
    """Every image of a draw update is sent inside the answer: nothing for Gradio to cache or the page to fetch."""
    component = demo.send_inline(gr.Image())
    images = [value for value in demo.draw_update(seven, "gaussian", 0.3, 0) if isinstance(value, np.ndarray)]
    assert len(images) == 3 + len(MODELS)  # preview, noisy, outputs, error maps
    for pixels in images:
        sent = component.postprocess(pixels).model_dump()
        assert sent["path"] is None
        assert np.array_equal(demo.read_png_data_url(sent), pixels)
    assert component.postprocess(None) is None
    with pytest.raises(ValueError, match="not a PNG data URL"):
        demo.read_png_data_url({"url": "data:image/jpeg;base64,AAAA"})


def test_an_empty_canvas_blanks_the_outputs_with_a_prompt():
    result = demo.draw_update({"background": None, "layers": [], "composite": None}, "gaussian", 0.5, 0)
    assert result[OUT["status"]] == demo.EMPTY_PROMPT
    assert all(result[OUT[name]] is None for name in ["preview", "noisy", *[f"{m}_image" for m in MODELS]])
    assert demo.noise_sweep_table(None) is None


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
    table = demo.noise_sweep_table(seven, "mask", 0.4, 3)
    amount, mse, series = demo.SWEEP_COLUMNS
    assert set(table[series]) == {model.title for model in MODELS.values()} | {demo.SWEEP_MARKER}
    assert len(table) == len(MODELS) * len(demo.SWEEP_AMOUNTS) + 2 and table[mse].notna().all()
    marker = table[table[series] == demo.SWEEP_MARKER]
    assert list(marker[amount]) == [0.4, 0.4] and marker[mse].max() == table[mse].max()


def test_an_example_loads_as_that_digit():
    images, labels = demo.mnist_sample()
    gallery = demo.example_gallery()
    assert [caption for _, caption in gallery] == [f"test digit {d}" for d in range(10)]
    sketch = demo.example_as_sketch(3)
    preview = demo.sketch_to_mnist(sketch)
    original = images[np.flatnonzero(labels == 3)[0]]
    assert ((preview - original) ** 2).mean() < 0.01


def test_export_writes_sheet_arrays_and_metrics(seven, tmp_path):
    paths = demo.export(seven, "gaussian", 0.3, 5, tmp_path)
    sheet, arrays, metrics = paths
    assert sheet.endswith(".png") and arrays.endswith(".npz") and metrics.endswith(".json")
    with np.load(arrays) as saved:
        assert set(saved.files) == {"clean", "noisy", *MODELS}
        assert all(saved[key].shape == (28, 28) for key in saved.files)
    record = json.loads(open(metrics).read())
    expected = demo.reconstruct(demo.sketch_to_mnist(seven), demo.NoiseSettings(amount=0.3, seed=5))
    assert record["metrics"]["linear"]["mse"] == pytest.approx(expected.mse["linear"])
    assert demo.export(None, "gaussian", 0.3, 5, tmp_path / "empty") == []
