"""Every public endpoint of a launched app, called through gradio_client as an API user would."""

import json

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from ae import demo, latent
from ae.models import MODELS


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def drawing(tmp_path_factory):
    page = np.full((280, 280, 4), 255, np.uint8)
    page[50:230, 130:150, :3] = 0  # a "1"
    path = tmp_path_factory.mktemp("drawing") / "one.png"
    Image.fromarray(page).save(path)
    return {"background": None, "layers": [], "composite": handle_file(str(path)), "id": None}


def test_the_public_endpoints_are_the_documented_ones(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {
        "/draw", "/noise_sweep", "/new_seed", "/export", "/latent_switch", "/latent_sliders", "/latent_interpolate"}


def test_draw(client, drawing):
    result = client.predict(drawing, "gaussian", 0.25, 3, api_name="/draw")
    assert len(result) == len(demo.DRAW_OUTPUTS)
    status, preview = result[0], result[1]
    assert status.startswith("What each model makes")
    assert demo.read_png_data_url(preview).shape == (28, 28)  # digits come inline, not as files to fetch
    metrics = result[3 + len(demo.MODEL_NAMES):3 + 2 * len(demo.MODEL_NAMES)]
    assert all(line.startswith("**MSE** ") for line in metrics)


def test_draw_with_an_empty_canvas_and_bad_numbers(client):
    empty = client.predict({"background": None, "layers": [], "composite": None, "id": None},
                           "gaussian", 0.5, 0, api_name="/draw")
    assert empty[0] == demo.EMPTY_PROMPT and empty[1] is None


def test_noise_sweep(client, drawing):
    table = client.predict(drawing, "mask", 0.5, 1, api_name="/noise_sweep")
    assert table["columns"] == demo.SWEEP_COLUMNS  # rows the browser plots, not a picture
    assert {row[2] for row in table["data"]} == {*(model.title for model in MODELS.values()), demo.SWEEP_MARKER}


def test_new_seed(client):
    seeds = {client.predict(api_name="/new_seed") for _ in range(3)}
    assert all(isinstance(s, int) and 0 <= s < 2**31 for s in seeds) and len(seeds) > 1


def test_export(client, drawing):
    files = client.predict(drawing, "salt_pepper", 0.2, 9, api_name="/export")
    by_suffix = {path.rsplit(".", 1)[1]: path for path in files}
    assert set(by_suffix) == {"png", "npz", "json"}
    assert set(json.loads(open(by_suffix["json"]).read())["metrics"]) == set(demo.MODEL_NAMES)


def test_latent_switch(client, drawing):
    result = client.predict("linear", drawing, api_name="/latent_switch")
    map_image, grid, hint, *sliders, decoded = result
    assert Image.open(map_image).size[0] > 300 and Image.open(grid).size == (840, 840)
    assert "harder than" in hint and len(sliders) == 6 and decoded


def test_latent_sliders(client, drawing):
    first = client.predict("denoise", drawing, 0, 0, 0, 0, 0, 0, api_name="/latent_sliders")
    moved = client.predict("denoise", drawing, 5, 0, 0, 0, 0, 0, api_name="/latent_sliders")
    assert not np.array_equal(demo.read_png_data_url(first), demo.read_png_data_url(moved))


def test_latent_interpolate(client, drawing):
    from ae.latent import MY_DRAWING, sample_choices
    strips = client.predict(MY_DRAWING, sample_choices()[2], drawing, api_name="/latent_interpolate")
    assert demo.read_png_data_url(strips).shape == (5 * 29 - 1, latent.INTERPOLATION_STEPS * 29 - 1)
