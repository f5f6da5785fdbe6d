"""A person's session in a real browser: Debian's Chromium, driven by Playwright, against `python app.py`.

Every control of the page is used as a visitor would, and every page error or console error fails the test.
The whole module runs twice: as `python app.py` serves it, and with server-side rendering on, as Hugging Face
Spaces serve it. Chromium is a system package (.ci/run installs it); without it these tests skip, saying so, except
in CI, where they fail (tests/conftest.py).
Screenshots land in out/screenshots/.
"""

import json
import re
from pathlib import Path

import pytest
import torch
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright
from safetensors.torch import load_file

from ae.bench.browser import (
    DESKTOP,
    DRAW_PANELS,
    NOISE_PANELS,
    ONE,
    PHONE,
    SEVEN,
    STILL,
    ZIGZAG,
    Visitor,
    launch,
    served_app,
)
from ae.models import build
from ae.web.draw_tab import MODEL_NAMES
from ae.web.draw_view import FETCHED_LATER, LOADING_NOTE

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "out" / "screenshots"
INLINE = re.compile("^data:image/png")  # a picture sent inside the event's answer (gradio_fixes.send_inline)
PAINTED = re.compile("^data:image/bmp")  # a picture the page painted itself (static/draw.js, bmpOf)
TIMEOUT = 20_000  # ms: what a test waits before calling a panel missing (the benchmark says how fast they are)


@pytest.fixture(scope="module", params=["csr", "ssr"])
def server(request):
    with served_app({"GRADIO_SSR_MODE": str(request.param == "ssr")}) as (url, _, _):
        yield url, request.param


@pytest.fixture(scope="module")
def browser(server):
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def visitor(browser, server):
    visitor = Visitor(browser, server[0])
    yield visitor
    visitor.close()
    assert visitor.errors == [], "errors in the page"


def shot(visitor, name, server, **options):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visitor.page.screenshot(path=str(SCREENSHOTS / f"{name}-{server[1]}.png"), **options)


def sources(page, selectors):
    return [page.locator(f"{selector} img").get_attribute("src") if page.locator(f"{selector} img").count()
            else None for selector in selectors]


def expect_blank(page):
    expect(page.locator("#status")).to_contain_text("Draw a digit", timeout=TIMEOUT)
    for selector in ("#preview", "#noisy", *[f"#out-{name}" for name in MODEL_NAMES], "#error-maps"):
        expect(page.locator(f"{selector} img")).to_have_count(0, timeout=TIMEOUT)
    for name in MODEL_NAMES:
        expect(page.locator(f"#metrics-{name}")).not_to_contain_text("MSE")


def test_a_stroke_right_after_loading_fills_every_panel(visitor, server):
    page = visitor.page
    expect(page.locator('#sketch [data-tool="brush"]')).to_have_attribute("aria-pressed", "true")  # no tool to pick
    visitor.timed(lambda: visitor.stroke(SEVEN), DRAW_PANELS)
    for name in MODEL_NAMES:
        expect(page.locator(f"#out-{name} img")).to_be_visible()
        image = page.locator(f"#out-{name} img")  # shown large (scaled to its box), not at 28 px
        assert image.bounding_box()["width"] > 150 and image.evaluate("i => getComputedStyle(i).objectFit") == "contain"
        frame = page.locator(f"#out-{name}").bounding_box()  # and exactly in its box: not shifted, not clipped
        assert all(abs(image.bounding_box()[key] - frame[key]) <= 1 for key in ("x", "y", "width", "height")), name
        expect(page.locator(f"#metrics-{name}")).to_contain_text(re.compile(r"MSE.*PSNR.*dB"))
    expect(page.locator("#sweep svg polyline")).to_have_count(len(MODEL_NAMES))
    expect(page.locator("#status")).to_contain_text("What each model makes")
    page.get_by_text("Error maps: where each output differs").click()
    expect(page.locator("#error-maps img")).to_be_visible(timeout=TIMEOUT)
    shot(visitor, "draw", server, full_page=True)


def test_a_stroke_drawn_before_the_draw_tabs_script_has_loaded_fills_every_panel(browser, server):
    """A quick pen or a slow network: the Draw tab's script mounts only once its files have loaded, then asks the
    pad for the drawing it missed."""
    visitor = Visitor(browser, server[0], hold=("**/draw.js*",))
    page = visitor.page
    for _ in range(500):  # the pad is live once the page asks for the Draw tab's script, mounted beside it
        if visitor.held:
            break
        page.wait_for_timeout(20)
    assert visitor.held, "the page never asked for draw.js"
    visitor.stroke(SEVEN)
    expect(page.locator("#out-linear img")).to_have_count(0)  # nothing on the page can paint it yet
    visitor.release()
    for selector in DRAW_PANELS[:-1]:
        expect(page.locator(f"{selector} img")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#sweep svg polyline")).to_have_count(len(MODEL_NAMES), timeout=TIMEOUT)
    visitor.close()
    assert visitor.errors == []


def test_the_first_models_compute_while_the_vae_still_loads(browser, server):
    """A first visit on a slow network: the page computes the four small models' outputs as soon as they and the
    runtime are in, says the VAE's panel is still loading, and paints all five once its files arrive."""
    visitor = Visitor(browser, server[0], hold=("**/models/vae.*",))
    page = visitor.page
    expect(page.locator("#draw-view")).to_have_attribute("data-engine", "partial", timeout=TIMEOUT)
    expect(page.locator("#engine-note")).to_contain_text("the VAE is still loading")
    asked = len(visitor.requests)
    visitor.stroke(SEVEN)
    page.wait_for_function("aeStudio.last.source === 'page' && aeStudio.last.sweep && !aeStudio.busy()",
                           timeout=TIMEOUT)
    first = [name for name in MODEL_NAMES if name not in FETCHED_LATER]
    for name in first:
        expect(page.locator(f"#out-{name} img")).to_be_visible()
    expect(page.locator("#out-vae img")).to_have_count(0)
    expect(page.locator("#metrics-vae")).to_have_text(LOADING_NOTE)
    expect(page.locator("#sweep svg polyline")).to_have_count(len(first))
    assert [url for url in visitor.requests[asked:] if "/queue/" in url] == []  # no question to the server
    visitor.release()
    expect(page.locator("#draw-view")).to_have_attribute("data-engine", "page", timeout=TIMEOUT)
    expect(page.locator("#out-vae img")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#metrics-vae")).to_contain_text("MSE", timeout=TIMEOUT)
    expect(page.locator("#sweep svg polyline")).to_have_count(len(MODEL_NAMES), timeout=TIMEOUT)
    visitor.close()
    assert visitor.errors == []


def test_controls_used_before_the_pages_scripts_have_loaded_take_effect_once_they_have(browser, server):
    """A slow network: the noise type picked and the Latent tab opened while the page's scripts still load. Once
    they have, the Draw tab draws with that noise and the Latent tab's views work, with no page error."""
    visitor = Visitor(browser, server[0], hold=("**/draw.js*",))
    page = visitor.page
    page.get_by_label("Masking").check()
    page.get_by_role("tab", name="Latent space").click()
    assert visitor.held, "the page never asked for draw.js"
    expect(page.locator("#lens-note")).to_have_text("")  # its script waits for the page's
    visitor.release()
    expect(page.locator("#lens-note")).to_contain_text("running in your browser", timeout=TIMEOUT)
    page.get_by_role("tab", name="Draw").click()
    visitor.stroke(SEVEN)
    page.wait_for_function("aeStudio.last && aeStudio.last.sweep && aeStudio.last.source === 'page'", timeout=TIMEOUT)
    assert page.evaluate("aeStudio.last.noise.kind") == "mask"
    visitor.close()
    assert visitor.errors == []


def test_the_draw_tab_asks_the_server_nothing_once_its_models_are_ready(visitor):
    page = visitor.page
    expect(page.locator("#draw-view")).to_have_attribute("data-engine", "page", timeout=TIMEOUT)
    expect(page.locator("#engine-note")).to_contain_text("Computed in your browser")
    asked = len(visitor.requests)
    visitor.timed(lambda: visitor.stroke(SEVEN), DRAW_PANELS)
    page.locator("#amount input[type=range]").focus()
    visitor.timed(lambda: page.keyboard.press("ArrowRight"), NOISE_PANELS)
    visitor.timed(lambda: page.locator("#new-noise").click(), NOISE_PANELS)
    visitor.timed(lambda: page.get_by_label("Masking").check(), NOISE_PANELS)
    visitor.timed(lambda: page.locator("#examples button").nth(2).click(), DRAW_PANELS)
    visitor.timed(lambda: page.locator('#sketch [data-action="undo"]').click(), ["#preview"])
    # Nothing but the lessons panel's file, fetched once as the panel nears the screen (a file, not a question).
    assert [url for url in visitor.requests[asked:] if "/models/code-size-" not in url] == []
    assert page.evaluate("aeStudio.last.source") == "page"


def serious_violations(page) -> list:
    """axe-core's serious and critical findings on everything the page shows: the app's own markup and Gradio's.

    Read once the page is still: Gradio fades a panel to 20% while its event runs (and back in over 0.15 s), and
    axe-core reads colours.
    """
    page.wait_for_function(STILL, timeout=TIMEOUT)
    found = Axe().run(page)
    return [(v["id"], [node["target"] for node in v["nodes"]]) for v in found.response["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_tab_passes_axe_core_before_and_after_use(browser, server, device):
    visitor = Visitor(browser, server[0], device)
    try:
        page = visitor.page
        assert serious_violations(page) == [], "the Draw tab, empty"
        visitor.timed(lambda: visitor.stroke(SEVEN), DRAW_PANELS)
        page.get_by_text("Error maps: where each output differs").click()
        page.locator("#lessons").scroll_into_view_if_needed()
        expect(page.locator("#code-size-pca img")).to_have_attribute("src", PAINTED, timeout=TIMEOUT)
        expect(page.locator(".cells canvas")).to_have_count(16, timeout=TIMEOUT)
        assert serious_violations(page) == [], "the Draw tab, drawn on, its lessons panel painted"
        page.get_by_role("tab", name="Latent space").click()
        page.wait_for_function("aeStudio.latent.model() === 'vae'", timeout=TIMEOUT)
        expect(page.locator("#interpolation img")).to_have_attribute("src", INLINE, timeout=TIMEOUT)
        assert serious_violations(page) == [], "the Latent tab"
        page.locator("#latent-map img").click()
        page.locator("#sample").click()
        expect(page.locator("#samples img")).to_have_attribute("src", INLINE, timeout=TIMEOUT)
        expect(page.locator("#neighbours img")).to_have_attribute("src", INLINE, timeout=TIMEOUT)
        assert serious_violations(page) == [], "the Latent tab, clicked and sampled"
        page.get_by_role("tab", name="Train").click()
        expect(page.locator("#train")).to_be_visible()
        assert serious_violations(page) == [], "the Train tab"
        train_for(page, 5)
        expect(page.locator("#page-train-result")).to_contain_text("Test MSE", timeout=60_000)
        expect(page.locator("#train")).to_be_enabled(timeout=TIMEOUT)
        assert serious_violations(page) == [], "the Train tab after a run"
    finally:
        visitor.close()
    assert visitor.errors == []


def test_the_draw_tab_from_the_keyboard(visitor):
    """Tab to an example and press Enter: it loads, with a visible focus ring on the way."""
    page = visitor.page
    example = page.locator("#examples button").nth(4)
    example.focus()
    assert example.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    visitor.timed(lambda: page.keyboard.press("Enter"), DRAW_PANELS)
    expect(page.locator("#status")).to_contain_text("What each model makes")
    expect(page.get_by_role("group", name="Noise type")).to_be_visible()  # the radios say what they choose
    page.locator("#amount input[type=range]").focus()
    visitor.timed(lambda: page.keyboard.press("ArrowRight"), NOISE_PANELS)


def test_an_example_on_a_fresh_page_then_a_stroke(visitor):
    page = visitor.page
    visitor.timed(lambda: page.locator("#examples button").nth(3).click(), DRAW_PANELS, timeout_s=2)
    expect(page.locator("#examples button").nth(3)).to_have_attribute("title", re.compile("digit 3"))
    visitor.timed(lambda: visitor.stroke(ZIGZAG), DRAW_PANELS)  # the pad is still usable, and adds to the example


def test_an_example_after_drawing_replaces_the_drawing(visitor):
    page = visitor.page
    visitor.timed(lambda: visitor.stroke(ONE), DRAW_PANELS)
    drawn = sources(page, ["#preview"])
    visitor.timed(lambda: page.locator("#examples button").nth(8).click(), DRAW_PANELS, timeout_s=2)
    assert sources(page, ["#preview"]) != drawn
    visitor.timed(lambda: visitor.stroke(SEVEN), DRAW_PANELS)


def test_every_noise_control_redraws_the_noisy_panels(visitor, server):
    page = visitor.page
    visitor.timed(lambda: visitor.stroke(SEVEN), DRAW_PANELS)
    preview = sources(page, ["#preview"])
    slider = page.locator("#amount input[type=range]")
    slider.focus()
    visitor.timed(lambda: page.keyboard.press("ArrowRight"), NOISE_PANELS)
    expect(page.locator("#amount input[type=number]")).to_have_value("0.35")
    visitor.timed(lambda: page.locator("#new-noise").click(), NOISE_PANELS)
    assert page.locator("#seed input").input_value() != "0"
    visitor.timed(lambda: page.get_by_label("Salt & pepper").check(), NOISE_PANELS)
    visitor.timed(lambda: page.get_by_label("Masking").check(), NOISE_PANELS)
    seed = page.locator("#seed input")
    visitor.timed(lambda: (seed.fill("12345"), seed.press("Enter")), NOISE_PANELS)
    assert sources(page, ["#preview"]) == preview  # the clean digit never changes with the noise
    shot(visitor, "noise", server)


def test_undo_and_eraser(visitor):
    page = visitor.page
    visitor.timed(lambda: visitor.stroke(ONE), DRAW_PANELS)
    one = sources(page, ["#preview"])
    visitor.timed(lambda: visitor.stroke([(0.3, 0.3), (0.7, 0.3)]), DRAW_PANELS)
    visitor.timed(lambda: page.locator('#sketch [data-action="undo"]').click(), DRAW_PANELS)
    assert sources(page, ["#preview"]) == one
    page.locator('#sketch [data-tool="eraser"]').click()
    expect(page.locator('#sketch [data-tool="eraser"]')).to_have_attribute("aria-pressed", "true")
    visitor.timed(lambda: visitor.stroke([(0.2, 0.5), (0.8, 0.5)]), DRAW_PANELS)  # rubs the 1 in two
    page.locator('#sketch [data-tool="brush"]').click()
    visitor.timed(lambda: page.locator('#sketch [data-action="undo"]').click(), DRAW_PANELS)
    assert sources(page, ["#preview"]) == one


def test_clear_leaves_every_panel_blank_even_with_slider_events_queued(visitor, server):
    page = visitor.page
    visitor.timed(lambda: visitor.stroke(SEVEN), DRAW_PANELS)
    page.locator("#amount input[type=range]").focus()
    for _ in range(8):  # events faster than the server answers: all but the last wait in the page
        page.keyboard.press("ArrowRight")
    page.locator('#sketch [data-action="clear"]').click()  # no pause: the race a person can hit
    expect_blank(page)
    page.wait_for_timeout(3000)  # nothing older comes back to repaint the old digit
    expect_blank(page)
    expect(page.locator("#sweep svg")).to_have_count(0)
    shot(visitor, "cleared", server)
    visitor.timed(lambda: visitor.stroke(ONE), DRAW_PANELS)  # and the pad draws again


def test_export_matches_what_the_page_shows(visitor):
    page = visitor.page
    visitor.timed(lambda: page.locator("#examples button").nth(5).click(), DRAW_PANELS)
    page.locator("#amount input[type=range]").focus()
    visitor.timed(lambda: page.keyboard.press("ArrowLeft"), NOISE_PANELS)
    shown = {name: page.locator(f"#metrics-{name}").inner_text() for name in MODEL_NAMES}
    page.get_by_text("Export", exact=True).click()
    page.locator("#export").click()
    links = page.locator("#export-files a")
    expect(links).to_have_count(3, timeout=TIMEOUT)
    metrics_link = page.locator("#export-files a[href*='metrics.json']")
    with page.expect_download() as download:
        metrics_link.click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["noise"] == {"kind": "gaussian", "amount": 0.25, "seed": 0}
    for name in MODEL_NAMES:
        mse = exported["metrics"][name]["mse"]
        assert f"{mse:.4f}" in shown[name], (name, shown[name], mse)


def test_latent_tab_every_control(visitor, server):
    page = visitor.page
    visitor.timed(lambda: visitor.stroke(SEVEN), DRAW_PANELS)
    visitor.timed(lambda: page.get_by_role("tab", name="Latent space").click(),
                  ["#latent-map", "#manifold", "#slider-digit", "#hint", "#interpolation"])
    expect(page.locator("#hint")).to_contain_text("harder than")

    latent_map = page.locator("#latent-map img")
    box = latent_map.bounding_box()
    inside = (box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
    visitor.timed(lambda: page.mouse.click(*inside), ["#latent-map", "#lens-digit", "#neighbours", "#click-note"])
    expect(page.locator("#click-note")).to_contain_text("Nearest test digits")
    visitor.timed(lambda: page.mouse.click(box["x"] + box["width"] * 0.97, box["y"] + box["height"] * 0.5),
                  ["#click-note", "#lens-digit"])  # the legend: outside the axes
    expect(page.locator("#click-note")).to_contain_text("outside the plot")
    page.mouse.move(0, 0)  # off the map: the lens shows the kept point, and there is none
    expect(page.locator("#lens-digit img")).to_have_count(0)
    visitor.timed(lambda: page.mouse.click(*inside), ["#lens-digit", "#neighbours", "#click-note"])

    # The tab opens on the VAE: two sliders, its latent coordinates, and a prior to sample from.
    expect(page.locator("#pc-1")).to_contain_text("z₁")
    expect(page.locator("#pc-3")).to_be_hidden()
    expect(page.locator("#grid-note")).to_contain_text("quantiles")
    page.locator("#pc-1 input[type=range]").focus()
    visitor.timed(lambda: page.keyboard.press("PageUp"), ["#slider-digit"])
    visitor.timed(lambda: page.locator("#reset").click(), ["#slider-digit"])
    visitor.timed(lambda: page.locator("#sample").click(), ["#samples", "#sample-note"])
    expect(page.locator("#samples img")).to_have_count(1)
    visitor.timed(lambda: page.locator("#sample").click(), ["#samples"])  # another draw

    visitor.timed(lambda: page.get_by_label("Linear (784 → 32 → 784)").check(),
                  ["#latent-map", "#manifold", "#slider-digit", "#lens-digit", "#neighbours", "#samples"])
    expect(page.locator("#lens-digit img")).to_have_count(0)  # the previous model's decoding is gone
    expect(page.locator("#neighbours img")).to_have_count(0)
    expect(page.locator("#samples img")).to_have_count(0)
    expect(page.locator("#click-note")).to_contain_text("Click a point")
    expect(page.locator("#pc-6")).to_be_visible()
    expect(page.locator("#pc-1")).to_contain_text("component 1")
    visitor.timed(lambda: page.locator("#sample").click(), ["#sample-note"])
    expect(page.locator("#sample-note")).to_contain_text("Only the VAE can sample")

    page.locator("#to input").click()
    page.get_by_role("option", name=re.compile(r"test digit 8")).first.click()
    visitor.timed(lambda: page.locator("#interpolate").click(), ["#interpolation", "#interpolation-note"])
    expect(page.locator("#interpolation-note")).to_contain_text("test digit 8")
    shot(visitor, "latent", server, full_page=True)


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_latent_tabs_digit_follows_a_pointer_or_a_finger_with_no_request(browser, server, device):
    visitor = Visitor(browser, server[0], device)
    page = visitor.page
    expect(page.locator("#draw-view")).to_have_attribute("data-engine", "page", timeout=TIMEOUT)
    visitor.answered(page.get_by_role("tab", name="Latent space").click)  # its switch resets the sliders' digit
    page.wait_for_function("aeStudio.latent.model() === 'vae'", timeout=TIMEOUT)
    expect(page.locator("#lens-note")).to_contain_text("running in your browser")
    page.locator("#latent-map img").scroll_into_view_if_needed()
    box = page.locator("#latent-map img").bounding_box()
    path = [(box["x"] + box["width"] * fx, box["y"] + box["height"] * 0.5) for fx in (0.3, 0.45, 0.6)]
    asked, before, scrolled = len(visitor.requests), page.evaluate("aeStudio.latent.updates"), page.evaluate("scrollY")
    if device is PHONE:
        visitor.touch_drag(path)
    else:
        page.mouse.move(*path[0])
        for point in path[1:]:
            page.mouse.move(*point, steps=8)
    page.wait_for_function("(before) => aeStudio.latent.updates >= before + 5 && !aeStudio.latent.busy()", arg=before,
                           timeout=TIMEOUT)
    assert page.evaluate("aeStudio.latent.last && aeStudio.latent.last.source") == "page"
    expect(page.locator("#lens-digit img")).to_have_count(1)
    if device is PHONE:
        assert page.evaluate("scrollY") == scrolled  # the finger moved the lens, not the page
        lens = page.locator("#lens-digit").bounding_box()  # in a corner of the screen, over the map: in view
        assert lens["y"] >= 0 and lens["y"] + lens["height"] <= PHONE["viewport"]["height"]
        image = page.locator("#latent-map img").bounding_box()  # the map as wide as its box, no empty bands
        assert image["width"] >= box["width"] - 2 and image["height"] < image["width"]
    else:
        expect(page.locator("#lens-note")).to_contain_text("Under the pointer: z₁ =")
    page.locator("#pc-1 input[type=range]").focus()  # which may scroll the map from under the pointer: the lens lets go
    assert visitor.latent_repainted(lambda: page.keyboard.press("PageUp"), "sliderDigit")["source"] == "page"
    assert visitor.requests[asked:] == []
    page.get_by_role("tab", name="Draw").click()
    expect(page.locator("#lens-digit")).to_be_hidden()  # the phone's floating lens belongs to the Latent tab
    visitor.close()
    assert visitor.errors == []


def test_latent_tab_without_a_drawing_says_what_to_do(visitor):
    page = visitor.page
    visitor.timed(lambda: page.get_by_role("tab", name="Latent space").click(), ["#latent-map", "#hint"])
    expect(page.locator("#hint")).to_contain_text("Draw a digit in the Draw tab")
    page.locator("#interpolate").click()
    expect(page.locator("#interpolation-note")).to_contain_text("There is no drawing yet", timeout=TIMEOUT)


RUN_SETTINGS = ["#train-model input", "#train-recipe input", "#budget input[type=number]", "#train"]


def train_for(page, seconds: int):
    page.locator("#budget input[type=number]").fill(str(seconds))
    page.locator("#budget input[type=number]").press("Enter")
    page.locator("#train").click()


def test_the_train_tab_trains_in_the_page_with_no_request_per_step(visitor, server, tmp_path):
    page = visitor.page
    page.get_by_role("tab", name="Train").click()
    expect(page.locator("#train-engine-note")).to_contain_text("Trains in your browser")
    expect(page.locator("#page-train-progress")).to_contain_text("press Train")
    expect(page.locator("#page-loss-chart")).to_contain_text("The training loss appears here")  # no title over nothing
    expect(page.locator("#page-mse-chart")).to_contain_text("The test error appears here")
    expect(page.locator("#page-film")).to_be_hidden()
    expect(page.locator("#server-train")).to_be_hidden()
    asked = len(visitor.requests)
    train_for(page, 5)
    expect(page.locator("#page-train-progress")).to_contain_text("Training Linear", timeout=TIMEOUT)
    expect(page.locator("#page-train-progress progress")).to_have_count(1)
    expect(page.locator("#page-train-progress")).to_contain_text("Done", timeout=TIMEOUT)
    during = visitor.requests[asked:]
    assert not [url for url in during if "/queue/" in url or "/run/" in url], "the server was asked to train"
    assert all("/static/" in url or "/gradio_api/file=" in url for url in during), during  # files, once each
    assert len(during) == len(set(during)), during
    expect(page.locator("#page-mse-chart svg polyline")).to_have_count(1)
    expect(page.locator("#page-loss-chart svg polyline")).to_have_count(1)
    expect(page.locator("#page-film")).to_be_visible()
    expect(page.locator("#page-train-result")).to_contain_text("Test MSE on 1,000 test digits")
    page.get_by_label("The course's: batch 20").check()
    asked = len(visitor.requests)
    train_for(page, 5)
    expect(page.locator("#page-train-result")).to_contain_text("Our recipe reached", timeout=2 * TIMEOUT)
    expect(page.locator("#page-mse-chart svg polyline")).to_have_count(2)  # both recipes on the same axes
    assert not [url for url in visitor.requests[asked:] if "/queue/" in url or "/run/" in url]
    shot(visitor, "train", server, full_page=True)

    train_for(page, 60)
    expect(page.locator("#page-train-progress")).to_contain_text("Training Linear", timeout=TIMEOUT)
    for setting in RUN_SETTINGS:  # locked while the run goes
        expect(page.locator(setting).first).to_be_disabled()
    page.locator("#stop").click()
    expect(page.locator("#page-train-progress")).to_contain_text("Stopped after", timeout=TIMEOUT)
    for setting in RUN_SETTINGS:
        expect(page.locator(setting).first).to_be_enabled(timeout=TIMEOUT)

    with page.expect_download() as download:  # the visitor keeps their model: a file ae.checkpoints reads
        page.locator("#page-download").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    model = build("linear")
    model.load_state_dict(load_file(saved))
    in_page = page.evaluate("Object.fromEntries(Object.entries(aeStudio.trainer.latest.linear.weights)"
                            ".map(([k, v]) => [k, Array.from(v)]))")
    for key, value in model.state_dict().items():
        assert torch.equal(value.flatten(), torch.tensor(in_page[key], dtype=torch.float32)), key
    page.locator("#page-load").set_input_files(str(saved))  # and back into a page
    expect(page.locator("#page-use-note")).to_contain_text("Loaded your Linear", timeout=TIMEOUT)
    assert page.evaluate("aeStudio.trainer.latest.linear.reports[0].testMse") > 0

    stroke_requests = use_then_go_back(visitor, "page-", "with the model you trained")
    assert not [url for url in stroke_requests if "/queue/" in url], "the visitor's model runs in the page"


def use_then_go_back(visitor, prefix: str, computed_by: str) -> list[str]:
    """Use in the Draw tab (the buttons' ids start with `prefix`): the visitor's linear model draws there, marked
    theirs, computed where `computed_by` says; then Back, and the committed weights again. Returns the requests
    of the stroke drawn with the visitor's model."""
    page = visitor.page
    expect(page.locator(f"#{prefix}forget")).to_be_disabled()  # nothing of the visitor's to undo yet
    page.locator(f"#{prefix}use").click()
    expect(page.locator(f"#{prefix}use-note")).to_contain_text("for you only", timeout=TIMEOUT)
    expect(page.locator(f"#{prefix}forget")).to_be_enabled(timeout=TIMEOUT)
    page.get_by_role("tab", name="Draw").click()
    asked = len(visitor.requests)
    visitor.timed(lambda: visitor.stroke(SEVEN), DRAW_PANELS)
    stroke_requests = visitor.requests[asked:]
    expect(page.locator("#metrics-linear")).to_contain_text("Yours")
    expect(page.locator("#metrics-conv")).not_to_contain_text("Yours")
    expect(page.locator("#engine-note")).to_contain_text(computed_by)
    page.get_by_role("tab", name="Train").click()
    page.locator(f"#{prefix}forget").click()
    expect(page.locator(f"#{prefix}use-note")).to_contain_text("Back to the committed weights", timeout=TIMEOUT)
    expect(page.locator(f"#{prefix}forget")).to_be_disabled(timeout=TIMEOUT)
    page.get_by_role("tab", name="Draw").click()
    expect(page.locator("#metrics-linear")).not_to_contain_text("Yours", timeout=TIMEOUT)
    expect(page.locator("#engine-note")).to_contain_text("Computed in your browser")
    return stroke_requests


def server_trainer(browser, server) -> Visitor:
    """A visitor whose page cannot train (its worker's script refused): the server's trainer takes the runs."""
    return Visitor(browser, server[0], block=("**/train_worker.js*",))


def page_errors(visitor) -> list[str]:
    return [error for error in visitor.errors if "train_worker.js" not in error
            and "Failed to load resource" not in error]


def test_where_the_page_cannot_train_the_server_does_every_control(browser, server):
    visitor = server_trainer(browser, server)
    try:
        page = visitor.page
        page.get_by_role("tab", name="Train").click()
        train_for(page, 5)
        expect(page.locator("#train-engine-note")).to_contain_text("Trains on the server", timeout=TIMEOUT)
        expect(page.locator("#train-progress")).to_contain_text("Training Linear", timeout=TIMEOUT)
        expect(page.locator("#train-progress progress")).to_have_count(1)
        expect(page.locator("#train-progress")).to_contain_text("Done", timeout=TIMEOUT)
        expect(page.locator("#mse-chart svg polyline")).to_have_count(1)
        expect(page.locator("#loss-chart svg polyline")).to_have_count(1)
        expect(page.locator("#film img")).to_be_visible()
        expect(page.locator("#train-result")).to_contain_text("Test MSE on 1,000 test digits")
        page.get_by_label("The course's: batch 20").check()
        train_for(page, 5)
        expect(page.locator("#train-result")).to_contain_text("Our recipe reached", timeout=2 * TIMEOUT)
        expect(page.locator("#mse-chart svg polyline")).to_have_count(2)  # both recipes on the same axes
        shot(visitor, "train-server", server, full_page=True)

        train_for(page, 60)
        expect(page.locator("#train-progress")).to_contain_text("Training Linear", timeout=TIMEOUT)
        for setting in RUN_SETTINGS:  # locked while the run goes: another model picked now would repaint its charts
            expect(page.locator(setting).first).to_be_disabled()
        page.locator("#stop").click()
        expect(page.locator("#train-progress")).to_contain_text("Stopped after", timeout=TIMEOUT)
        expect(page.locator("#use")).to_be_enabled()
        for setting in RUN_SETTINGS:
            expect(page.locator(setting).first).to_be_enabled(timeout=TIMEOUT)

        use_then_go_back(visitor, "", "Computed on the server, where the model you trained")
    finally:
        visitor.close()
    assert page_errors(visitor) == []


@pytest.mark.parametrize("refused", ["**/ort/**", "**/train/digits.gz*"])  # the runtime, the training digits
def test_a_page_that_cannot_load_what_training_needs_leaves_the_run_to_the_server(browser, server, refused):
    visitor = Visitor(browser, server[0], block=(refused,))
    try:
        page = visitor.page
        page.get_by_role("tab", name="Train").click()
        train_for(page, 5)
        expect(page.locator("#train-engine-note")).to_contain_text("Trains on the server", timeout=TIMEOUT)
        expect(page.locator("#train-progress")).to_contain_text("Done", timeout=2 * TIMEOUT)
        expect(page.locator("#page-train-progress")).to_be_hidden()
    finally:
        visitor.close()
    assert [error for error in page_errors(visitor) if "digits.gz" not in error and "/ort/" not in error] == []


def test_a_second_trainer_on_the_server_waits_and_sees_its_place(browser, server):
    first, second = server_trainer(browser, server), server_trainer(browser, server)
    try:
        for visitor in (first, second):
            visitor.page.get_by_role("tab", name="Train").click()
        train_for(first.page, 5)
        expect(first.page.locator("#train-progress")).to_contain_text("Training Linear", timeout=TIMEOUT)
        train_for(second.page, 5)
        waiting = second.page.locator("#train-progress")
        expect(waiting).to_contain_text(re.compile(r"1 run is ahead of yours.*starts in about \d+ s"), timeout=TIMEOUT)
        expect(waiting.locator(".pending, .eta-bar")).to_have_count(0)  # in the panel's own words, no overlay on it
        expect(second.page.locator("#loss-chart")).to_contain_text("appears here")  # no title over nothing meanwhile
        shot(second, "train-waiting", server)
        expect(first.page.locator("#train-progress")).to_contain_text("Done", timeout=TIMEOUT)
        expect(second.page.locator("#train-progress")).to_contain_text("Done", timeout=TIMEOUT)
    finally:
        first.close()
        second.close()
    assert page_errors(first) == [] and page_errors(second) == []


@pytest.mark.parametrize("size", [(390, 844), (360, 740), (1400, 1000)], ids=["phone", "small-phone", "desktop"])
def test_the_noise_slider_sits_where_the_noisy_input_and_the_outputs_are_in_sight(browser, server, size):
    """A phone held with the noise amount's slider in the middle of the screen, where a thumb moves it: the noisy
    input and the five outputs are on screen with it, large enough to see the noise go. A desktop shows them all
    on one screen as the page opens."""
    width, height = size
    device = {**PHONE, "viewport": {"width": width, "height": height}} if width < 640 else \
        {"viewport": {"width": width, "height": height}}
    visitor = Visitor(browser, server[0], device)
    try:
        page = visitor.page
        visitor.timed(lambda: visitor.touch_stroke(SEVEN) if width < 640 else visitor.stroke(SEVEN), DRAW_PANELS)
        slider = page.locator("#amount input[type=range]")
        if width < 640:
            slider.evaluate("element => element.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(100)  # the scroll applied
        for selector in ("#amount input[type=range]", "#noisy img", *[f"#out-{name} img" for name in MODEL_NAMES]):
            box = page.locator(selector).bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)
            assert selector == "#amount input[type=range]" or box["width"] >= 55, (selector, box)  # big enough to see
        shot(visitor, f"noise-slider-{width}", server)
    finally:
        visitor.close()
    assert visitor.errors == []


def test_a_phone_draws_with_a_finger_and_sees_the_outputs_on_one_screen(browser, server):
    phone = Visitor(browser, server[0], PHONE)
    try:
        page = phone.page
        phone.timed(lambda: phone.touch_stroke(SEVEN), DRAW_PANELS)
        assert page.evaluate("window.scrollY") == 0, "a finger stroke must not scroll the page"
        height = page.viewport_size["height"]
        for selector in ("#sketch canvas", *[f"#out-{name} img" for name in MODEL_NAMES]):
            box = page.locator(selector).bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)
            assert box["width"] > 60, (selector, box)  # big enough to see
        for name in MODEL_NAMES:  # each output inside its own box: not shifted, not clipped
            image, frame = (page.locator(selector).bounding_box() for selector in (f"#out-{name} img", f"#out-{name}"))
            assert all(abs(image[key] - frame[key]) <= 1 for key in ("x", "y", "width", "height")), (name, image, frame)
        shot(phone, "phone", server)
    finally:
        phone.close()
    assert phone.errors == []


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_lessons_panel_on_a_desktop_and_a_phone(browser, server, device):
    """Below the noise sweep: pick a code size and see the digit through both codes, the chart ringing it; the
    decoders' pictures drawn; nothing wider than the screen; its files fetched only once it comes near the screen."""
    visitor = Visitor(browser, server[0], device)
    try:
        page = visitor.page
        visitor.timed(lambda: page.locator("#examples button").nth(5).click(), DRAW_PANELS)
        if device is PHONE:  # a phone's screen ends above the panel: nothing of it fetched yet
            assert not any("code-size-" in url for url in visitor.requests)
        page.locator("#lessons").scroll_into_view_if_needed()
        expect(page.locator("#code-size-ae img")).to_have_attribute("src", PAINTED, timeout=TIMEOUT)
        page.get_by_label("64", exact=True).check()
        expect(page.locator("#code-size-ae-caption")).to_contain_text("784 → 64 → 784", timeout=TIMEOUT)
        expect(page.locator("#code-size-pca-caption")).to_contain_text("PCA, 64 components")
        page.wait_for_function("aeStudio.lessons.last.size === 64 && aeStudio.lessons.last.pca_mse != null",
                               timeout=TIMEOUT)
        expect(page.locator("#code-size-chart circle[fill=none]")).to_have_count(2)  # your digit's two rings
        expect(page.locator("#code-size-ae-mse")).to_contain_text("MSE")
        expect(page.locator(".cells canvas")).to_have_count(4 + 4 + 8, timeout=TIMEOUT)
        expect(page.locator("#checkerboard-conv")).to_contain_text("repeats every 2 pixels")
        width = page.viewport_size["width"]
        assert page.evaluate("document.querySelector('#lessons').getBoundingClientRect().right") <= width
        page.locator("#lessons").screenshot(path=str(SCREENSHOTS / f"lessons-{device['viewport']['width']}"
                                                                   f"-{server[1]}.png"))
    finally:
        visitor.close()
    assert visitor.errors == []
