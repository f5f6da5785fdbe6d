"""Every public endpoint of a launched app, called through gradio_client as an API user would."""

import json
import re
import time

import numpy as np
import pytest
from gradio_client import Client

from ae.bench.common import run_started
from ae.models import MODELS
from ae.web import common, draw_tab, latent_tab
from ae.web.common import read_pad
from ae.web.dataurl import png_data_url, read_png_data_url


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
    record = client.predict(drawing, "gaussian", 0.25, 3, True, api_name="/draw")
    direct = draw_tab.draw_update(read_pad(drawing), "gaussian", 0.25, 3)  # the API is the plain function, whole
    assert record == {**direct, "sweep": {**direct["sweep"], "mse": record["sweep"]["mse"]}}
    for name, curve in direct["sweep"]["mse"].items():  # float32 sums: as exact as the batch size allows
        assert record["sweep"]["mse"][name] == pytest.approx(curve, rel=1e-5)
    assert record["status"].startswith("What each model makes")
    assert read_png_data_url(record["clean"]).shape == (28, 28)  # digits come inline, not as files to fetch
    assert list(record["outputs"]) == list(record["metrics"]) == list(record["sweep"]["mse"]) == draw_tab.MODEL_NAMES
    described = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/draw"]
    assert "the record the page paints" in described["description"]  # the API page says what it answers
    assert [(p["parameter_name"], p["parameter_default"]) for p in described["parameters"]] == [
        ("sketch", None), ("kind", "gaussian"), ("amount", 0.0), ("seed", 0), ("sweep", False)]


def test_draw_sweeps_the_noise_only_when_asked(client, drawing):
    plain = client.predict(drawing, "gaussian", 0.25, 3, api_name="/draw")
    assert plain == {**draw_tab.draw_update(read_pad(drawing), "gaussian", 0.25, 3), "sweep": None}
    odd = client.predict(drawing, "gaussian", 0.25, 3, "yes", api_name="/draw")
    assert odd["sweep"] is None and odd["status"].endswith("Sweep 'yes' is not true or false: no sweep.")


def test_draw_with_an_empty_canvas_and_bad_numbers(client):
    empty = client.predict(None, "gaussian", 0.5, 0, api_name="/draw")
    assert empty["status"] == common.EMPTY_PROMPT and empty["clean"] is None
    corrected = client.predict(None, "gaussian", "lots", -7, api_name="/draw")
    assert "not a number" in corrected["status"] and corrected["noise"] == {"kind": "gaussian", "amount": 0.0,
                                                                            "seed": 2**31 - 7}


def test_no_answer_goes_through_gradios_image_cache(client, drawing, monkeypatch):
    """Every picture travels inline (gradio_fixes.send_inline, or the Draw tab's record): nothing is written to
    Gradio's cache for a browser to fetch in a second request."""
    from gradio import processing_utils
    written = []
    for name in ("save_pil_to_cache", "save_img_array_to_cache"):
        monkeypatch.setattr(processing_utils, name, lambda *args, **kwargs: written.append(args))
    client.predict(drawing, "gaussian", 0.3, 1, api_name="/draw")
    client.predict("vae", drawing, api_name="/latent_switch")
    client.predict("conv", drawing, 1, 0, 0, 0, 0, 0, api_name="/latent_sliders")
    client.predict("vae", api_name="/latent_sample")
    assert written == []


def test_export(client, drawing):
    files = client.predict(drawing, "salt_pepper", 0.2, 9, api_name="/export")
    by_suffix = {path.rsplit(".", 1)[1]: path for path in files}
    assert set(by_suffix) == {"png", "npz", "json"}
    assert set(json.loads(open(by_suffix["json"]).read())["metrics"]) == set(draw_tab.MODEL_NAMES)


def test_latent_switch(client, drawing):
    result = client.predict("linear", drawing, api_name="/latent_switch")
    map_image, grid, grid_note, hint, *sliders, decoded, lens, neighbours, note, samples, sample_note = result
    assert read_png_data_url(map_image).shape[1] > 300 and read_png_data_url(grid).shape == (420, 420)
    assert "harder than" in hint and len(sliders) == 6 and read_png_data_url(decoded["image"]).shape == (28, 28)
    assert lens["point"] is None and lens["image"] is None and lens["space"]["model"] == "linear"
    assert neighbours is None and note == latent_tab.CLICK_PROMPT and "percentile" in grid_note
    assert samples is None and sample_note == latent_tab.SAMPLE_PROMPT


def test_latent_sample(client):
    image, note = client.predict("vae", api_name="/latent_sample")
    assert read_png_data_url(image).shape == (4 * 29 - 1, 4 * 29 - 1) and "N(0, I)" in note
    assert client.predict("linear", api_name="/latent_sample")[0] is None


def test_latent_sliders(client, drawing):
    first = client.predict("denoise", drawing, 0, 0, 0, 0, 0, 0, api_name="/latent_sliders")
    moved = client.predict("denoise", drawing, 5, 0, 0, 0, 0, 0, api_name="/latent_sliders")
    assert first["model"] == "denoise"
    assert not np.array_equal(read_png_data_url(first["image"]), read_png_data_url(moved["image"]))


def test_latent_interpolate(client, drawing):
    from ae.web.latent_tab import MY_DRAWING, sample_choices
    strips, note = client.predict(MY_DRAWING, sample_choices()[2], drawing, api_name="/latent_interpolate")
    assert note.startswith("From my drawing")
    assert read_png_data_url(strips).shape[0] == ((1 + len(MODELS)) * 29 - 1) * common.ROW_SCALE  # labelled rows


@pytest.mark.slow  # a training run
def test_train_streams_a_run(client):
    updates = list(client.submit("linear", "ours", 5, api_name="/train"))
    assert len(updates) >= 3  # the start, at least one report a second, the end
    assert "Training <b>Linear" in updates[0][0] and "Done" in updates[-1][0]
    assert updates[-1][2].count("<polyline") == 1  # the test MSE curve
    assert "Test MSE on 1,000 test digits" in updates[-1][5]


def wait_for(condition, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the app never got there"
        time.sleep(0.1)


@pytest.mark.slow  # three short training runs
def test_a_class_pressing_train_is_each_told_its_place_and_those_who_leave_free_the_line(app_url):
    """Ten visitors press Train: all ten are in the line at once (Gradio runs that many events), each told a
    different place; the ones who close their page leave it, and the next newcomer finds only who is left."""
    clients = [Client(app_url, verbose=False) for _ in range(10)]
    first = clients[0].submit("linear", "ours", 5, api_name="/train")
    wait_for(lambda: run_started(first))
    others = [client.submit("linear", "ours", 5, api_name="/train") for client in clients[1:]]
    wait_for(lambda: all(job.outputs() for job in others))
    told = [re.search(r"(\d+) runs? (?:is|are) ahead of yours", job.outputs()[0][0]) for job in others]
    assert sorted(int(place[1]) for place in told) == list(range(1, 10))
    nearest = min(others, key=lambda job: int(re.search(r"(\d+) runs? (?:is|are)", job.outputs()[0][0])[1]))
    for job in others:
        if job is not nearest:
            job.cancel()
    wait_for(lambda: run_started(nearest))
    newcomer = clients[1].submit("linear", "ours", 5, api_name="/train")
    wait_for(lambda: newcomer.outputs())
    assert "1 run is ahead of yours" in newcomer.outputs()[0][0]
    assert "Done" in newcomer.result(timeout=120)[0] and "Done" in first.result()[0]


@pytest.mark.slow  # two training runs
def test_a_second_run_waits_its_turn_saying_its_place_and_wait(app_url):
    """A second visitor's run, pressed while the first trains, is told its place and wait in its own progress
    panel, then trains. (That runs never overlap, and that the wait comes true: tests/test_train_queue.py.)"""
    first_client, second_client = Client(app_url, verbose=False), Client(app_url, verbose=False)
    first = first_client.submit("conv", "ours", 5, api_name="/train")
    while not first.outputs():
        time.sleep(0.05)
    second = second_client.submit("linear", "course", 5, api_name="/train")
    second.result(timeout=120)
    told = [update[0] for update in second.outputs()]
    assert "1 run is ahead of yours" in told[0] and re.search(r"Your run of 5 s starts in about [1-7] s", told[0])
    assert "Training <b>Linear" in told[-2] and "Done" in told[-1] and "Done" in first.result(timeout=120)[0]
