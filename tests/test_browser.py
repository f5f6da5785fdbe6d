"""A person's session in a real browser: Debian's Chromium, driven by Playwright, against `python app.py`.

Chromium is a system package (.ci/run installs it); without it this test fails rather than skips.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "out" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            assert process.poll() is None, process.stdout.read().decode()
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def page(server):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.goto(server)
        yield page
        browser.close()


def stroke(page, points):
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=10)
    page.mouse.up()


def test_draw_then_noise_then_clear(page):
    canvas = page.locator("#sketch canvas").first
    expect(canvas).to_be_visible(timeout=30_000)
    page.wait_for_timeout(500)  # the page's load script picks the brush
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    stroke(page, [(x - 50, y - 70), (x + 50, y - 70), (x - 10, y + 80)])  # a 7, straight after loading

    expect(page.locator("#preview img")).to_be_visible(timeout=20_000)
    for name in ("linear", "conv", "upsample", "denoise"):
        expect(page.locator(f"#out-{name} img")).to_be_visible(timeout=20_000)
        expect(page.locator(f"#metrics-{name}")).to_contain_text("MSE", timeout=20_000)
        expect(page.locator(f"#metrics-{name}")).to_contain_text("dB")
    expect(page.locator("#sweep canvas, #sweep svg").first).to_be_visible(timeout=20_000)  # the browser draws it
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "draw.png"), full_page=True)
    page.locator("#sweep").screenshot(path=str(SCREENSHOTS / "sweep.png"))
    page.get_by_text("Error maps: where each output differs").click()
    expect(page.locator("#error-maps img")).to_be_visible(timeout=20_000)
    page.locator("#error-maps").screenshot(path=str(SCREENSHOTS / "error-maps.png"))

    noisy = page.locator("#noisy img")
    before = noisy.get_attribute("src")
    page.locator("#amount input[type=range]").focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    expect(noisy).not_to_have_attribute("src", before, timeout=20_000)
    page.wait_for_timeout(2000)  # let the queued slider events finish, as a person would before clearing

    page.locator('#sketch button[aria-label="Clear canvas"]').click()
    expect(page.locator("#status")).to_contain_text("Draw a digit", timeout=20_000)
    expect(page.locator("#out-linear img")).to_have_count(0, timeout=20_000)
    expect(page.locator("#preview img")).to_have_count(0)
    expect(page.locator("#error-maps img")).to_have_count(0)


def test_latent_tab_click_and_slider(page):
    canvas = page.locator("#sketch canvas").first
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    stroke(page, [(x - 40, y - 60), (x + 40, y - 60), (x + 40, y + 70)])
    expect(page.locator("#out-denoise img")).to_be_visible(timeout=20_000)

    page.get_by_role("tab", name="Latent space").click()
    latent_map = page.locator("#latent-map img")
    expect(latent_map).to_be_visible(timeout=20_000)
    expect(page.locator("#hint")).to_contain_text("harder than", timeout=20_000)
    map_box = latent_map.bounding_box()
    page.mouse.click(map_box["x"] + map_box["width"] * 0.45, map_box["y"] + map_box["height"] * 0.5)
    expect(page.locator("#clicked img")).to_be_visible(timeout=20_000)
    expect(page.locator("#neighbours img")).to_have_count(3, timeout=20_000)

    digit = page.locator("#slider-digit img")
    expect(digit).to_be_visible(timeout=20_000)
    before = digit.get_attribute("src")
    page.locator("#pc-1 input[type=range]").focus()
    for _ in range(40):
        page.keyboard.press("PageUp")
    expect(digit).not_to_have_attribute("src", before, timeout=20_000)
    page.screenshot(path=str(SCREENSHOTS / "latent.png"), full_page=True)
