"""Every public endpoint of a launched app, called through gradio_client as an API user would."""

import json
import time

import numpy as np
import pytest
from gradio_client import Client
from gradio_client.utils import Status

from ae import demo, latent
from ae.dataurl import png_data_url, read_png_data_url
from ae.models import MODELS


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def drawing():
    page = np.full((280, 280, 4), 255, np.uint8)
    page[50:230, 130:150, :3] = 0  # a "1"
    return png_data_url(page)  # as the pad sends it


def test_the_public_endpoints_are_the_documented_ones(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {
        "/draw", "/export", "/latent_switch", "/latent_sliders", "/latent_sample", "/latent_interpolate", "/train"}


def test_draw(client, drawing):
    result = client.predict(drawing, "gaussian", 0.25, 3, api_name="/draw")
    assert len(result) == len(demo.DRAW_OUTPUTS)
    status, preview = result[0], result[1]
    assert status.startswith("What each model makes")
    assert read_png_data_url(preview).shape == (28, 28)  # digits come inline, not as files to fetch
    metrics = result[3 + len(demo.MODEL_NAMES):3 + 2 * len(demo.MODEL_NAMES)]
    assert all(line.startswith("**MSE** ") for line in metrics)
    assert result[-1].count("<polyline") == len(demo.MODEL_NAMES)  # the noise sweep, as SVG


def test_draw_with_an_empty_canvas_and_bad_numbers(client):
    empty = client.predict(None, "gaussian", 0.5, 0, api_name="/draw")
    assert empty[0] == demo.EMPTY_PROMPT and empty[1] is None


def test_export(client, drawing):
    files = client.predict(drawing, "salt_pepper", 0.2, 9, api_name="/export")
    by_suffix = {path.rsplit(".", 1)[1]: path for path in files}
    assert set(by_suffix) == {"png", "npz", "json"}
    assert set(json.loads(open(by_suffix["json"]).read())["metrics"]) == set(demo.MODEL_NAMES)


def test_latent_switch(client, drawing):
    result = client.predict("linear", drawing, api_name="/latent_switch")
    map_image, grid, grid_note, hint, *sliders, decoded, clicked, neighbours, note, samples, sample_note = result
    assert read_png_data_url(map_image).shape[1] > 300 and read_png_data_url(grid).shape == (420, 420)
    assert "harder than" in hint and len(sliders) == 6 and read_png_data_url(decoded).shape == (28, 28)
    assert clicked is None and neighbours is None and note == latent.CLICK_PROMPT and "percentile" in grid_note
    assert samples is None and sample_note == latent.SAMPLE_PROMPT


def test_latent_sample(client):
    image, note = client.predict("vae", api_name="/latent_sample")
    assert read_png_data_url(image).shape == (4 * 29 - 1, 4 * 29 - 1) and "N(0, I)" in note
    assert client.predict("linear", api_name="/latent_sample")[0] is None


def test_latent_sliders(client, drawing):
    first = client.predict("denoise", drawing, 0, 0, 0, 0, 0, 0, api_name="/latent_sliders")
    moved = client.predict("denoise", drawing, 5, 0, 0, 0, 0, 0, api_name="/latent_sliders")
    assert not np.array_equal(read_png_data_url(first), read_png_data_url(moved))


def test_latent_interpolate(client, drawing):
    from ae.latent import MY_DRAWING, sample_choices
    strips, note = client.predict(MY_DRAWING, sample_choices()[2], drawing, api_name="/latent_interpolate")
    assert note.startswith("From my drawing") and read_png_data_url(strips).shape == ((1 + len(MODELS)) * 29 - 1, latent.INTERPOLATION_STEPS * 29 - 1)


def test_train_streams_a_run(client):
    updates = list(client.submit("linear", "ours", 5, api_name="/train"))
    assert len(updates) >= 3  # the start, at least one report a second, the end
    assert "Training <b>Linear" in updates[0][0] and "✅ Done" in updates[-1][0]
    assert updates[-1][2].count("<polyline") == 1  # the test MSE curve
    assert "Test MSE on 1,000 test digits" in updates[-1][5]


def test_one_training_at_a_time_and_the_next_waits_its_turn(app_url):
    """A second visitor's run is queued while the first trains, and starts only when it ends."""
    first_client, second_client = Client(app_url, verbose=False), Client(app_url, verbose=False)
    first = first_client.submit("conv", "ours", 5, api_name="/train")
    while not first.outputs():
        time.sleep(0.05)
    second = second_client.submit("linear", "course", 5, api_name="/train")
    seen_waiting = False
    while not second.done():
        second_started = bool(second.outputs())
        first_latest = first.outputs()[-1][0]
        assert not second_started or "Done" in first_latest, "two trainings ran at once"
        status = second.status()
        seen_waiting |= status.code == Status.IN_QUEUE and status.rank is not None
        time.sleep(0.1)
    assert seen_waiting
    assert "✅ Done" in first.outputs()[-1][0] and "✅ Done" in second.outputs()[-1][0]
