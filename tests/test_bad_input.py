"""Every public callback fed every kind of bad input answers normally, with a message where it must.

First the plain functions, then the same through a running server, which must keep serving.
"""

import base64
import io

import numpy as np
import pytest
from gradio_client import Client
from PIL import Image

from ae.preprocess import Unreadable
from ae.web import common, draw_tab, latent_tab
from ae.web.dataurl import png_data_url, read_png_data_url


def _stroke(array, value):
    array[array.shape[0] // 4: 3 * array.shape[0] // 4, array.shape[1] // 2 - max(1, array.shape[1] // 20):
          array.shape[1] // 2 + max(1, array.shape[1] // 20)] = value
    return array


def corpus(tmp_path) -> dict:
    text_file = tmp_path / "not-an-image.png"
    text_file.write_text("definitely not a PNG")
    return {
        "none": None,
        "all white": np.full((280, 280, 4), 255, np.uint8),
        "all black": np.zeros((280, 280, 3), np.uint8),
        "1x1": np.zeros((1, 1, 3), np.uint8),
        "4096x4096": _stroke(np.full((4096, 4096), 255, np.uint8), 0),
        "RGB": _stroke(np.full((100, 80, 3), 255, np.uint8), 0),
        "L": _stroke(np.full((100, 80), 255, np.uint8), 0),
        "RGBA": np.dstack([_stroke(np.full((100, 80, 3), 255, np.uint8), 0), np.full((100, 80), 255, np.uint8)]),
        "16-bit": _stroke(np.full((100, 80), 65535, np.uint16), 0),
        "float": _stroke(np.ones((100, 80), np.float32), 0.0),
        "float with NaN": _stroke(np.full((100, 80), np.nan), 0.0),
        "PIL 16-bit": Image.fromarray(_stroke(np.full((60, 60), 65535, np.uint16), 0)),
        "5 channels": np.zeros((20, 20, 5), np.uint8),
        "non-image file": str(text_file),
        "missing file": str(tmp_path / "nowhere.png"),
        "unreadable upload": Unreadable("OSError: cannot identify image file"),
        "a string": "seven",
        "a list": [1, 2, 3],
        "garbage dict": {"composite": {"path": 3}},
    }


NUMBERS = [float("nan"), float("inf"), -3, 5, "abc", None, [], 1e300]


@pytest.fixture(scope="module")
def bad_sketches(tmp_path_factory):
    return corpus(tmp_path_factory.mktemp("corpus"))


def test_draw_update_answers_every_sketch(bad_sketches):
    for label, sketch in bad_sketches.items():
        record = draw_tab.draw_update(sketch, "gaussian", 0.3, 0)
        status = record["status"]
        assert isinstance(status, str) and status, label
        if record["clean"] is None:
            assert status == common.EMPTY_PROMPT or "could not be read" in status, label
            assert record["outputs"] == {} and record["sweep"] is None, label
        else:
            assert read_png_data_url(record["clean"]).shape == (28, 28), label
            assert all(np.isfinite(m["mse"]) for m in record["metrics"].values()), label


def test_the_expected_ones_are_drawings_and_the_rest_are_explained(bad_sketches):
    drawn = {label for label, sketch in bad_sketches.items() if draw_tab.draw_update(sketch)["clean"] is not None}
    assert drawn == {"4096x4096", "RGB", "L", "RGBA", "16-bit", "float", "float with NaN", "PIL 16-bit"}
    for label in ("non-image file", "missing file", "unreadable upload", "5 channels", "a string"):
        assert "could not be read" in draw_tab.draw_update(bad_sketches[label])["status"], label


def test_every_other_callback_answers_every_sketch(bad_sketches, tmp_path):
    for label, sketch in bad_sketches.items():
        assert isinstance(draw_tab.export(sketch, "gaussian", 0.2, 0, tmp_path / "export"), list), label
        switched = latent_tab.switch_model("linear", sketch)
        assert isinstance(switched[2], str), label
        assert latent_tab.decode_sliders("linear", sketch, 0, 0, 0, 0, 0, 0).shape == (28, 28), label
        strips, note = latent_tab.interpolate(latent_tab.MY_DRAWING, latent_tab.sample_choices()[0], sketch)
        assert (strips is None and "no drawing" in note) or strips.dtype == np.uint8, label


@pytest.mark.parametrize("number", NUMBERS, ids=repr)
def test_bad_numbers_are_corrected_with_a_note(bad_sketches, number):
    sketch = bad_sketches["RGB"]
    as_amount = draw_tab.draw_update(sketch, "gaussian", number, 0)
    assert as_amount["clean"] is not None and "Noise amount" in as_amount["status"]  # every entry is a bad amount
    assert draw_tab.draw_update(sketch, "gaussian", 0.3, number)["clean"] is not None  # as a seed: used, or noted
    both = draw_tab.draw_update(sketch, "gaussian", number, number)
    assert 0 <= both["noise"]["amount"] <= 1 and 0 <= both["noise"]["seed"] < 2**31
    assert all(np.isfinite(curve).all() for curve in both["sweep"]["mse"].values())
    assert latent_tab.decode_sliders("conv", sketch, number, number, 0, 0, 0, 0).shape == (28, 28)


@pytest.mark.parametrize("number, position", [
    (float("nan"), 0), (float("-inf"), 0), ("abc", 0), (None, 0), ([], 0),
    (5, latent_tab.SLIDER_RANGE), (-1e300, -latent_tab.SLIDER_RANGE)], ids=repr)
def test_bad_slider_values_decode_as_the_nearest_position_on_the_slider(bad_sketches, number, position):
    sketch = bad_sketches["RGB"]
    assert np.array_equal(latent_tab.decode_sliders("conv", sketch, 1, number, 0, 0, 0, 0),
                          latent_tab.decode_sliders("conv", sketch, 1, position, 0, 0, 0, 0))


def test_bad_choices_fall_back_with_a_note(bad_sketches):
    sketch = bad_sketches["L"]
    assert "Unknown noise type" in draw_tab.draw_update(sketch, 42, 0.3, 0)["status"]
    assert latent_tab.switch_model("vae", sketch)[0] is not None
    assert latent_tab.interpolate("test digit 3 (#abc)", None, sketch) == (
        None, "Pick a test digit from the lists for From and To.")


# --- through a running server -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def _sent(image: np.ndarray) -> str:
    return png_data_url(image)  # what the pad sends


def test_the_server_answers_bad_input_and_keeps_serving(client):
    for payload in ["data:image/png;base64," + base64.b64encode(b"not an image").decode(), "/etc/passwd",
                    "data:image/png;base64,%%%", "seven", 7, {"composite": None}, ["a"]]:
        answer = client.predict(payload, "gaussian", 0.3, 0, api_name="/draw")
        assert "could not be read" in answer["status"] and answer["clean"] is None, payload
        assert "<_io" not in answer["status"] and "Error:" not in answer["status"], payload  # a person's words

    good = _sent(_stroke(np.full((280, 280), 255, np.uint8), 0))
    for kind, amount, seed, note in [("gaussian", 7, 0, "clipped"), ("speckle", 0.3, 0, "Unknown noise type"),
                                     ("gaussian", "lots", 0, "not a number"), ("gaussian", 0.3, "x", "whole number")]:
        answer = client.predict(good, kind, amount, seed, api_name="/draw")
        assert note in answer["status"] and answer["clean"] is not None
    huge = _sent(_stroke(np.full((4096, 4096), 255, np.uint8), 0))
    assert client.predict(huge, "gaussian", 0.3, 0, api_name="/draw")["clean"] is not None
    assert client.predict("vae", good, api_name="/latent_switch")[0] is not None
    decoded = client.predict("conv", good, "a", None, 1e300, 0, 0, 0, api_name="/latent_sliders")
    assert read_png_data_url(decoded["image"]).shape == (28, 28)
    assert client.predict(good, "gaussian", 0.2, 0, api_name="/draw")["status"].startswith("What each model")


def test_images_too_large_get_a_message_before_they_are_decoded(client):
    noise = np.random.default_rng(0).integers(0, 256, (1800, 1800, 3), dtype=np.uint8)  # ~13 MB as a data URL
    answer = client.predict(_sent(noise), "gaussian", 0.3, 0, api_name="/draw")
    assert "could not be read" in answer["status"] and "over 8 MB" in answer["status"]
    bomb = Image.new("L", (8000, 8000), 255)  # 64 megapixels, a few kB as PNG
    buffer = io.BytesIO()
    bomb.save(buffer, format="png")
    answer = client.predict("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(),
                            "gaussian", 0.3, 0, api_name="/draw")
    assert "at most 4096x4096" in answer["status"]
    assert client.predict(_sent(_stroke(np.full((100, 100), 255, np.uint8), 0)), "gaussian", 0.3, 0,
                          api_name="/draw")["clean"] is not None
