"""The page and the server show the same thing: in Chromium, the Draw tab computes each case itself (ONNX Runtime
Web), and the same drawing and noise are sent to the public `/draw`; every panel must agree within 2/255 per
pixel, every metric and every point of the noise sweep within 1%. The Latent tab likewise: the digit the page
decodes under the pointer and from the sliders, for every model, against the server's. Then the page with
WebAssembly blocked: it must fall back to the server and still paint every panel, with no page error. And the
lessons panel, which only the page computes, against the library.
"""

import base64
import io
import itertools

import numpy as np
import pytest
import torch
from gradio_client import Client
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from ae.bench.browser import ONE, SEVEN, STILL, ZIGZAG, Visitor, launch, served_app
from ae.checkpoints import load_checkpoint, load_pretrained
from ae.lessons import decoder_responses
from ae.models import CODE_SIZES, MODELS, linear_of_size
from ae.pca import PCA
from ae.web import latent_tab
from ae.web.common import as_pixels
from ae.web.dataurl import read_png_data_url
from ae.web.draw_tab import HEAT, MODEL_NAMES
from ae.web.lessons_view import lessons_config

TIMEOUT = 20_000
PIXELS = 2  # of 255: the most a panel's pixel may differ between the page and the server
RELATIVE = 0.01  # the most a metric or a sweep point may differ
SHAPES = [SEVEN, ONE, ZIGZAG, [(0.2, 0.8), (0.5, 0.1), (0.8, 0.8), (0.35, 0.5), (0.65, 0.5)],  # an A
          [(0.5, 0.2), (0.3, 0.5), (0.5, 0.8), (0.7, 0.5), (0.5, 0.2)]]  # a 0
KINDS = ["gaussian", "salt_pepper", "mask"]
AMOUNTS = [0.0, 0.15, 0.3, 0.5, 0.85, 1.0]
SEEDS = [0, 7, 12345, 2**31 - 1]
SPOTS = [(0.2, 0.3), (0.5, 0.5), (0.75, 0.85), (0.35, 0.65)]  # where the pointer rests, as fractions of the map's axes
SLIDERS = [[1.5, -2, 0, 0, 0, 0], [0, 0.5, 3, -1, 0.5, 0], [-4, 4, -4, 4, -4, 4], [9, "x", 0, 0, 0, 0]]


def cases() -> list[tuple[str, object, tuple[str, float, int]]]:
    """(what is drawn, which, (noise kind, amount, seed)): the ten examples, then five strokes four times each."""
    settings = itertools.cycle(itertools.product(KINDS, AMOUNTS, SEEDS[:2]))
    drawn = [("example", index) for index in range(10)] + [("stroke", shape) for shape in SHAPES for _ in range(4)]
    seeds = itertools.cycle(SEEDS)
    return [(what, which, (kind, amount, next(seeds))) for (what, which), (kind, amount, _) in zip(drawn, settings)]


@pytest.fixture(scope="module")
def served():
    with served_app({"GRADIO_SSR_MODE": "False"}) as (url, _, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def png(url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.partition(",")[2]))).convert("RGB")).astype(int)


def shown(page) -> dict:
    """What the page paints (its images, decoded) and the numbers behind its text and chart."""
    sources = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '#preview img, #noisy img, [id^=out-] img, #error-maps img')].map((i) => [i.parentElement.id, i.src]))""")
    numbers = page.evaluate("({metrics: aeStudio.last.metrics, sweep: aeStudio.last.sweep, "
                            "source: aeStudio.last.source})")
    return {"images": {key: png(url) for key, url in sources.items()}, **numbers}


def wait_until_settled(page, noise, before: int):
    page.wait_for_function("""([noise, before]) => aeStudio.updates > before && !aeStudio.busy() && aeStudio.last.sweep
        && aeStudio.last.noise.kind === noise[0] && aeStudio.last.noise.amount === noise[1]
        && aeStudio.last.noise.seed === noise[2]""", arg=[list(noise), before], timeout=TIMEOUT)


def assert_same(page_shows: dict, record: dict, case):
    grey = {"preview": record["clean"], "noisy": record["noisy"],
            **{f"out-{name}": record["outputs"][name] for name in MODEL_NAMES}}
    for panel, url in grey.items():
        expected = read_png_data_url(url).astype(int)
        assert np.abs(page_shows["images"][panel][..., 0] - expected).max() <= PIXELS, (case, panel)
    clean = read_png_data_url(record["clean"]).astype(int)
    errors = [HEAT[np.abs(read_png_data_url(record["outputs"][name]).astype(int) - clean)] for name in MODEL_NAMES]
    strip = page_shows["images"]["error-maps"]
    for k, expected in enumerate(errors):
        painted = strip[:, k * 29:k * 29 + 28].astype(int)  # back to error levels: the nearest colour of the table
        levels = np.abs(painted[..., None, :] - HEAT[None, None].astype(int)).sum(-1).argmin(-1)
        expected_levels = np.abs(expected[..., None, :].astype(int) - HEAT[None, None].astype(int)).sum(-1).argmin(-1)
        assert np.abs(levels - expected_levels).max() <= 2 * PIXELS, (case, "error map", k)
    for name in MODEL_NAMES:
        for metric in ("mse", "psnr"):
            expected = record["metrics"][name][metric]
            assert page_shows["metrics"][name][metric] == pytest.approx(expected, rel=RELATIVE), (case, name, metric)
        expected = record["sweep"]["mse"][name]
        assert page_shows["sweep"]["mse"][name] == pytest.approx(expected, rel=RELATIVE, abs=1e-6), (case, name)
    assert page_shows["sweep"]["amounts"] == record["sweep"]["amounts"]


def test_the_page_and_the_server_agree_on_every_case(served, browser):
    assert len(cases()) >= 30
    visitor = Visitor(browser, served)
    client = Client(served, verbose=False)
    page = visitor.page
    expect(page.locator("#draw-view")).to_have_attribute("data-engine", "page", timeout=TIMEOUT)
    page.get_by_text("Error maps: where each output differs").click()  # painted while open
    for case in cases():
        what, which, noise = case
        page.evaluate("(noise) => aeStudio.noise(...noise)", list(noise))
        page.wait_for_function("!aeStudio.busy()", timeout=TIMEOUT)
        before = page.evaluate("aeStudio.updates")
        if what == "example":
            page.locator("#examples button").nth(which).click()
        else:
            page.locator('#sketch [data-action="clear"]').click()
            visitor.stroke(which)
        wait_until_settled(page, noise, before)
        page_shows = shown(page)
        assert page_shows["source"] == "page", case
        drawing = page.evaluate("document.querySelector('#sketch canvas').toDataURL('image/png')")
        assert_same(page_shows, client.predict(drawing, *noise, True, api_name="/draw"), case)
    visitor.close()
    assert visitor.errors == []


def test_with_webassembly_blocked_the_server_paints_every_panel(served, browser):
    visitor = Visitor(browser, served, block=["**/ort/**"])
    client = Client(served, verbose=False)
    page = visitor.page
    expect(page.locator("#draw-view")).to_have_attribute("data-engine", "server", timeout=TIMEOUT)
    expect(page.locator("#engine-note")).to_contain_text("Computed on the server")
    page.get_by_text("Error maps: where each output differs").click()  # painted while open
    before = page.evaluate("aeStudio.updates")
    visitor.stroke(SEVEN)
    wait_until_settled(page, ("gaussian", 0.3, 0), before)
    # The server answered while the pen moved too: wait for the answer to the finished drawing (no paint for 1 s).
    page.wait_for_function("""() => { const now = performance.now(), seen = window.lastSeen || {};
        if (seen.updates !== aeStudio.updates) window.lastSeen = {updates: aeStudio.updates, at: now};
        return now - window.lastSeen.at > 1000; }""", timeout=TIMEOUT, polling=100)
    page_shows = shown(page)
    assert page_shows["source"] == "server"
    drawing = page.evaluate("document.querySelector('#sketch canvas').toDataURL('image/png')")
    assert_same(page_shows, client.predict(drawing, "gaussian", 0.3, 0, True, api_name="/draw"), "fallback")
    page.locator("#lessons").scroll_into_view_if_needed()  # the lessons panel, the page's alone, says it cannot
    expect(page.locator("#code-size-note")).to_contain_text("cannot run the models here", timeout=TIMEOUT)
    expect(page.locator("#checkerboard-note")).to_contain_text("cannot run the models here")
    expect(page.locator("#code-size-chart svg")).to_be_visible()
    visitor.close()
    assert [error for error in visitor.errors if "/ort/" not in error and "Failed to load resource" not in error] == []


def map_spot(page, name: str, spot: tuple[float, float]) -> tuple[float, float]:
    """Where on the screen a spot of the map's axes (fractions from its left and bottom edges) is shown."""
    geometry = latent_tab.page_space(name)["map"]
    box = page.locator("#latent-map img").bounding_box()
    scale = min(box["width"] / geometry["width"], box["height"] / geometry["height"])  # object-fit: contain
    (left, right), (top, bottom) = geometry["x_pixels"], geometry["y_pixels"]
    column, row = left + spot[0] * (right - left), bottom - spot[1] * (bottom - top)
    return (box["x"] + (box["width"] - geometry["width"] * scale) / 2 + column * scale,
            box["y"] + (box["height"] - geometry["height"] * scale) / 2 + row * scale)


def test_the_latent_tab_decodes_in_the_page_what_the_server_decodes(served, browser):
    """Every model: the digit under the pointer at four spots of its map against latent_tab.decode_at (the server's
    click), and the sliders' digit at four settings (one not a number, one beyond the end) against
    `/latent_sliders` with the same drawing."""
    visitor = Visitor(browser, served)
    client = Client(served, verbose=False)
    page = visitor.page
    expect(page.locator("#draw-view")).to_have_attribute("data-engine", "page", timeout=TIMEOUT)
    visitor.stroke(SEVEN)
    wait_until_settled(page, ("gaussian", 0.3, 0), 0)
    drawing = page.evaluate("document.querySelector('#sketch canvas').toDataURL('image/png')")
    visitor.answered(page.get_by_role("tab", name="Latent space").click)  # the tab's switch, and each model's below
    compared = 0
    for name, model in MODELS.items():
        page.get_by_label(model.title).check()
        page.wait_for_function("(name) => aeStudio.latent.model() === name", arg=name, timeout=TIMEOUT)
        page.wait_for_function(STILL, timeout=TIMEOUT)
        for spot in SPOTS:
            painted = visitor.latent_repainted(lambda: page.mouse.move(*map_spot(page, name, spot)), "last")
            assert painted["source"] == "page", (name, spot)
            expected = latent_tab.decode_at(name, *painted["point"])[0]
            assert np.abs(np.array(painted["pixels"]).reshape(28, 28) - expected).max() <= PIXELS, (name, spot)
            compared += 1
        page.mouse.move(0, 0)
        for values in SLIDERS:
            painted = visitor.latent_repainted(lambda: page.evaluate(
                "([name, values]) => aeStudio.latent.sliders(name, values)", [name, values]), "sliderDigit")
            assert painted["source"] == "page", (name, values)
            expected = read_png_data_url(client.predict(name, drawing, *values, api_name="/latent_sliders")["image"])
            assert np.abs(np.array(painted["pixels"]).reshape(28, 28) - expected).max() <= PIXELS, (name, values)
            compared += 1
    assert compared >= 30
    visitor.close()
    assert visitor.errors == []


def test_with_webassembly_blocked_the_latent_tab_asks_the_server(served, browser):
    """No decoder in the page: a click and a slider step are answered by the server, and painted as the page would."""
    visitor = Visitor(browser, served, block=["**/ort/**"])
    page = visitor.page
    expect(page.locator("#draw-view")).to_have_attribute("data-engine", "server", timeout=TIMEOUT)
    page.get_by_role("tab", name="Latent space").click()
    page.wait_for_function("aeStudio.latent.model() === 'vae'", timeout=TIMEOUT)
    expect(page.locator("#lens-note")).to_contain_text("cannot run the decoders")
    painted = visitor.latent_repainted(lambda: page.mouse.click(*map_spot(page, "vae", (0.5, 0.5))), "last")
    assert painted["source"] == "server"
    expected = latent_tab.decode_at("vae", *painted["point"])[0]
    assert np.abs(np.array(painted["pixels"]).reshape(28, 28) - expected).max() == 0
    page.locator("#pc-1 input[type=range]").focus()
    painted = visitor.latent_repainted(lambda: page.keyboard.press("PageUp"), "sliderDigit")
    assert painted["source"] == "server"
    value = float(page.locator("#pc-1 input[type=number]").input_value())
    assert value > 0
    expected = latent_tab.decode_sliders("vae", None, value, 0, 0, 0, 0, 0)
    assert np.abs(np.array(painted["pixels"]).reshape(28, 28) - expected).max() == 0
    visitor.close()
    assert [error for error in visitor.errors if "/ort/" not in error and "Failed to load resource" not in error] == []


def test_the_lessons_panel_computes_what_the_library_computes(served, browser, mnist_train):
    """The lessons panel: the visitor's digit through the linear autoencoder and PCA at every code size, and each
    strided decoder on a constant code, an empty one and single cells, computed in the page (ONNX Runtime Web)
    against the library (the committed checkpoints, PCA in float64, ae.lessons.decoder_responses) within 2/255;
    and the panel asks the server for no event."""
    visitor = Visitor(browser, served)
    page = visitor.page
    expect(page.locator("#draw-view")).to_have_attribute("data-engine", "page", timeout=TIMEOUT)
    page.locator("#examples button").nth(3).click()
    page.wait_for_function("aeStudio.last && aeStudio.last.clean && !aeStudio.busy()", timeout=TIMEOUT)
    asked = len(visitor.requests)
    page.locator("#lessons").scroll_into_view_if_needed()
    digit = torch.tensor(page.evaluate("Array.from(aeStudio.digit())")).reshape(1, 1, 28, 28)
    pca = PCA(mnist_train[0], max(CODE_SIZES))
    for size in CODE_SIZES:
        page.get_by_label(str(size), exact=True).check()
        page.wait_for_function(f"aeStudio.lessons.last?.size === {size} && aeStudio.lessons.last.pca_mse != null "
                               "&& !aeStudio.lessons.busy()", timeout=TIMEOUT)
        last = page.evaluate("aeStudio.lessons.last")
        with torch.no_grad():
            expected = {"ae": load_checkpoint(linear_of_size(size).name)(digit), "pca": pca.leading(size)(digit)}
        for key, picture in expected.items():
            painted = png(page.locator(f"#code-size-{key} img").get_attribute("src"))[..., 0]
            assert np.abs(painted - as_pixels(picture[0, 0].numpy()).astype(int)).max() <= PIXELS, (size, key)
            mse = last["autoencoder_mse" if key == "ae" else "pca_mse"]
            assert mse == pytest.approx(((picture - digit) ** 2).mean().item(), rel=RELATIVE), (size, key)
    page.wait_for_function("aeStudio.lessons.responses !== null", timeout=TIMEOUT)
    responses = page.evaluate("""Object.fromEntries(Object.entries(aeStudio.lessons.responses).map(([name, r]) =>
        [name, {constant: Array.from(r.constant), empty: Array.from(r.empty),
                cells: r.cells.map((c) => Array.from(c))}]))""")
    for model in lessons_config()["checkerboard"]:
        expected = decoder_responses(load_pretrained(model["name"]), model["cell_value"])
        for key, picture in expected.items():
            painted = np.array(responses[model["name"]][key]).reshape(picture.shape)
            assert np.abs(painted - picture.numpy()).max() <= PIXELS / 255, (model["name"], key)
    assert [url for url in visitor.requests[asked:] if "/gradio_api/queue" in url or "/run/" in url] == []
    assert visitor.errors == []
    visitor.close()
