import json

import numpy as np
import pytest

from ae import sketch_to_mnist
from ae.bench.common import sample_drawing
from ae.noise import page_noise
from ae.web import common, draw_tab
from ae.web.dataurl import read_png_data_url


@pytest.fixture(scope="module")
def seven():
    """A hand-drawn-looking 7: a dark stroke on a white RGBA canvas, as the pad sends it."""
    return sample_drawing()


def test_a_drawing_fills_every_panel(seven):
    record = draw_tab.draw_update(seven, "gaussian", 0.3, 0)
    for picture in [record["clean"], record["noisy"], *record["outputs"].values()]:
        pixels = read_png_data_url(picture)
        assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    assert list(record["outputs"]) == list(record["metrics"]) == draw_tab.MODEL_NAMES
    for metric in record["metrics"].values():
        assert 0 < metric["mse"] < 1 and metric["psnr"] == pytest.approx(10 * np.log10(1 / metric["mse"]))
    assert record["status"] == draw_tab.STATUS and record["yours"] == []
    assert record["noise"] == {"kind": "gaussian", "amount": 0.3, "seed": 0}
    json.dumps(record)  # what the page and the API receive


def test_the_noise_is_shared_and_reproducible(seven):
    first = draw_tab.draw_update(seven, "salt_pepper", 0.4, 11)
    again = draw_tab.draw_update(seven, "salt_pepper", 0.4, 11)
    other = draw_tab.draw_update(seven, "salt_pepper", 0.4, 12)
    assert first["noisy"] == again["noisy"] and first["noisy"] != other["noisy"]
    clean = sketch_to_mnist(seven)
    expected = common.as_pixels(page_noise(clean, "salt_pepper", 0.4, 11))
    assert np.array_equal(read_png_data_url(first["noisy"]), expected)


def test_a_batch_of_requests_is_answered_as_each_alone(seven):
    requests = [(seven, "gaussian", 0.3, 1, None), (None, "mask", 0.5, 2, None), (seven, "salt_pepper", 0.1, 3, {})]
    (records,) = draw_tab.draw_updates(*zip(*requests))
    assert records == [draw_tab.draw_update(*request) for request in requests]


def test_more_noise_hurts_the_plain_models_more_than_the_denoiser(seven):
    clean = sketch_to_mnist(seven)
    result = draw_tab.reconstruct(clean, draw_tab.NoiseSettings(kind="gaussian", amount=0.6, seed=0))
    assert result.mse["denoise"] < result.mse["conv"]
    assert all(0 <= y.min() and y.max() <= 1 for y in result.outputs.values())


def test_an_empty_canvas_blanks_the_outputs_with_a_prompt():
    record = draw_tab.draw_update(None, "gaussian", 0.5, 0)
    assert record["status"] == common.EMPTY_PROMPT
    assert record["clean"] is record["noisy"] is record["sweep"] is None
    assert record["outputs"] == record["metrics"] == {}


@pytest.mark.parametrize("kind, amount, seed, note", [
    ("gaussian", float("nan"), 0, "finite"),
    ("gaussian", 7, 0, "clipped"),
    ("gaussian", "lots", 0, "not a number"),
    ("speckle", 0.2, 0, "Unknown noise type"),
    ("gaussian", 0.2, "abc", "not a whole number"),
])
def test_bad_settings_are_corrected_and_said(seven, kind, amount, seed, note):
    record = draw_tab.draw_update(seven, kind, amount, seed)
    assert note in record["status"]
    assert record["outputs"]["denoise"] is not None


def test_an_unreadable_image_is_a_message(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    record = draw_tab.draw_update(str(bad), "gaussian", 0.2, 0)
    assert "could not be read" in record["status"] and record["clean"] is None


def test_noise_sweep_starts_at_the_clean_reconstruction(seven):
    clean = sketch_to_mnist(seven)
    curves = draw_tab.noise_sweep(clean, draw_tab.NoiseSettings(kind="gaussian", seed=3))
    at_zero = draw_tab.reconstruct(clean, draw_tab.NoiseSettings(amount=0.0))
    for name, curve in curves.items():
        assert curve.shape == (len(draw_tab.SWEEP_AMOUNTS),)
        assert curve[0] == pytest.approx(at_zero.mse[name], rel=1e-5)


def test_the_sweep_goes_with_the_record(seven):
    clean = sketch_to_mnist(seven)
    record = draw_tab.draw_update(seven, "mask", 0.4, 3)
    assert record["sweep"]["amounts"] == draw_tab.SWEEP_AMOUNTS and record["sweep"]["amounts"][-1] == 1.0
    for name, curve in draw_tab.noise_sweep(clean, draw_tab.NoiseSettings(kind="mask", seed=3)).items():
        assert record["sweep"]["mse"][name] == pytest.approx(curve.tolist())
    at_amount = draw_tab.reconstruct(clean, draw_tab.NoiseSettings(kind="mask", amount=0.4, seed=3))
    assert record["sweep"]["mse"]["conv"][4] == pytest.approx(at_amount.mse["conv"], rel=1e-5)  # amount 0.4


def test_the_page_is_handed_what_it_needs(seven):
    config = draw_tab.page_config()
    assert [model["name"] for model in config["models"]] == draw_tab.MODEL_NAMES
    assert len(config["heat"]) == 256 and config["heat"][0] == [0, 0, 4] and config["heat"][-1] == [252, 253, 191]
    json.dumps(config)


def test_export_writes_sheet_arrays_and_metrics(seven, tmp_path):
    paths = draw_tab.export(seven, "gaussian", 0.3, 5, tmp_path)
    sheet, arrays, metrics = paths
    assert sheet.endswith(".png") and arrays.endswith(".npz") and metrics.endswith(".json")
    with np.load(arrays) as saved:
        assert set(saved.files) == {"clean", "noisy", *draw_tab.MODEL_NAMES}
        assert all(saved[key].shape == (28, 28) for key in saved.files)
    record = json.loads(open(metrics).read())
    expected = draw_tab.reconstruct(sketch_to_mnist(seven), draw_tab.NoiseSettings(amount=0.3, seed=5))
    assert record["metrics"]["linear"]["mse"] == pytest.approx(expected.mse["linear"])
    assert draw_tab.export(None, "gaussian", 0.3, 5, tmp_path / "empty") == []
