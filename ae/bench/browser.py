"""A visitor in a real browser: headless Chromium driven by Playwright, as the browser tests and the benchmark use it.

What a person sees is the measure: an action (a stroke, a click, a key on a slider) is timed in the page from
the input event until the last panel it changes has been repainted, and every page error counts.

How a panel's change is seen: a MutationObserver on the page, and at the next animation frame after a
mutation, the panel's signature (its images' sources, its text, its chart's lines) is compared with the one before;
the time of the last such change is the time the panel was painted. An action is done when every panel it must
change has changed and none has changed for QUIET_MS.

Chromium is Debian's (`apt-get install chromium`); Playwright's own browser download is not needed.
"""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ..web.draw_tab import MODEL_NAMES

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DESKTOP = {"viewport": {"width": 1400, "height": 1000}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 3}
QUIET_MS = 400
DRAW_PANELS = ["#preview", "#noisy", *[f"#out-{name}" for name in MODEL_NAMES], "#sweep"]
NOISE_PANELS = ["#noisy", *[f"#out-{name}" for name in MODEL_NAMES], "#sweep"]

# The page is still: no panel waits for its event's answer (Gradio fades those to 20%) and nothing fades back in.
STILL = """!document.querySelector('.pending') && document.getAnimations().every(
    a => a.playState !== 'running' || a.effect.getTiming().iterations === Infinity)"""
# What a pointer at the pad's centre touches is the pad. Gradio covers a page it serves without server-side rendering
# with its translucent "Loading..." for a moment after the pad appears: a stroke then lands on that, a person's too.
PAD_UNCOVERED = """() => { const pad = document.querySelector('#sketch canvas');
    const box = pad && pad.getBoundingClientRect();
    return !!box && document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2) === pad; }"""
WATCH_JS = (Path(__file__).parent / "watch.js").read_text()  # window.aeWatch, aeDone and aeStop
# The Draw tab knows where its every model runs: all in the page, or all on the server (not "loading", nor
# "partial", the page's first models in and the VAE still on its way).
ENGINE_SETTLED = "window.aeStudio && ['page', 'server'].includes(aeStudio.engine)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_app(env: dict[str, str] | None = None, timeout_s: float = 120):
    """`python app.py` on a free loopback port: yields (url, seconds until the page answered, process)."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    # The app's output goes to a file: a pipe nobody reads would stall the server once its buffer filled.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError("app.py exited during start:\n" + log.read().decode()[-2000:])
                try:
                    urllib.request.urlopen(url, timeout=2)
                    break
                except OSError:
                    if time.perf_counter() - started > timeout_s:
                        raise
                    time.sleep(0.2)
            yield url, time.perf_counter() - started, process
        finally:
            process.terminate()
            process.wait(20)


class Visitor:
    """One page of the app in Chromium, with every page error and console error kept in `errors`."""

    def __init__(self, browser, url: str, device: dict = DESKTOP, block: tuple[str, ...] = (),
                 hold: tuple[str, ...] = (), network: dict | None = None):
        """`block`: URL patterns the page may not load (as a browser that refuses them would); `hold`: patterns
        whose requests wait in `held` until `release()` (a slow network), the page meanwhile used as it stands;
        `network`: a network to emulate (the DevTools protocol's Network.emulateNetworkConditions), the cache off,
        as a first visit over it: every chunk the page receives is kept in `received` as (seconds since the page was
        asked for, URL, bytes as transferred)."""
        self.context = browser.new_context(**device)
        self.page = self.context.new_page()
        self.received: list[tuple[float, str, int]] = []
        if network:
            self._emulate(network)
        for pattern in block:
            self.page.route(pattern, lambda route: route.abort())
        self.held = []
        for pattern in hold:
            self.page.route(pattern, lambda route: self.held.append(route))
        self.requests: list[str] = []  # every URL the page asked its server for (the benchmark counts them)
        origin = url.rstrip("/")
        self.page.on("request", lambda request: self.requests.append(request.url)
                     if request.url.startswith(origin) else None)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("console", lambda message: self.errors.append(f"console error: {message.text}")
                     if message.type == "error" else None)
        # A held script holds back the load event, and a slow network the pad's first appearance.
        self.page.goto(url, wait_until="commit" if hold or network else "load")
        self.page.locator("#sketch canvas").wait_for(timeout=60_000)
        self.page.wait_for_function(PAD_UNCOVERED, timeout=60_000)
        self.page.evaluate(WATCH_JS)

    def _emulate(self, network: dict):
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", network)
        urls, counted, started = {}, {}, []

        def sent(event):
            urls[event["requestId"]] = event["request"]["url"]
            started.append(event["timestamp"]) if not started else None

        def bytes_in(event, size):  # a compressed response's chunks count nothing: its finish counts the rest
            counted[event["requestId"]] = counted.get(event["requestId"], 0) + size
            self.received.append((event["timestamp"] - started[0], urls.get(event["requestId"], ""), size))

        cdp.on("Network.requestWillBeSent", sent)
        cdp.on("Network.dataReceived", lambda event: bytes_in(event, event["encodedDataLength"]))
        cdp.on("Network.loadingFinished", lambda event: bytes_in(
            event, event["encodedDataLength"] - counted.get(event["requestId"], 0)))

    def release(self):
        """Let the held requests go on."""
        while self.held:
            self.held.pop().continue_()

    def close(self):
        self.context.close()

    def answered(self, action, timeout_s: float = 20) -> None:
        """Do `action`, which asks the server (a tab's select event, say), and return once the page is STILL with
        its answer: the page's own work after that is then not overwritten by a late one."""
        asked = len(self.requests)
        action()
        deadline = time.monotonic() + timeout_s
        while not any("/queue/join" in url for url in self.requests[asked:]):
            assert time.monotonic() < deadline, "the action asked the server nothing"
            self.page.wait_for_timeout(20)
        self.page.wait_for_function(STILL, timeout=timeout_s * 1000)

    def latent_repainted(self, action, what: str, timeout_s: float = 20) -> dict | None:
        """Do `action` and return what the Latent tab paints anew in `what` ("last", the lens, or "sliderDigit")
        once it has nothing left to decode: its record, pixels as a list. A paint of the other one meanwhile (the
        lens let go as the page scrolls to a slider, say) is not the answer."""
        self.page.evaluate("(what) => { window.aeLatentBefore = aeStudio.latent[what]; }", what)
        action()
        self.page.wait_for_function(
            "(what) => aeStudio.latent[what] !== window.aeLatentBefore && !aeStudio.latent.busy()",
            arg=what, timeout=timeout_s * 1000)
        return self.page.evaluate("""(what) => { const painted = aeStudio.latent[what];
            return painted && {...painted, pixels: painted.pixels && Array.from(painted.pixels)}; }""", what)

    def pad_points(self, shape: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Pad fractions (0 to 1 across and down) as page coordinates, the pad scrolled into view first."""
        canvas = self.page.locator("#sketch canvas")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        return [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in shape]

    def stroke(self, shape: list[tuple[float, float]], steps: int = 8):
        """Draw a polyline on the pad; `shape` in pad fractions (0 to 1 across and down)."""
        points = self.pad_points(shape)
        mouse = self.page.mouse
        mouse.move(*points[0])
        mouse.down()
        for point in points[1:]:
            mouse.move(*point, steps=steps)
        mouse.up()

    def touch_stroke(self, shape: list[tuple[float, float]], steps: int = 8):
        """A finger stroke on the pad; `shape` in pad fractions."""
        self.touch_drag(self.pad_points(shape), steps)

    def touch_drag(self, points: list[tuple[float, float]], steps: int = 8):
        """A finger dragged through `points` (page coordinates): touch events through the DevTools protocol, as
        a phone sends them."""
        cdp = self.context.new_cdp_session(self.page)
        path = [points[0]]
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            path += [(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps) for k in range(1, steps + 1)]
        touch = lambda kind, x, y: cdp.send("Input.dispatchTouchEvent", {  # noqa: E731
            "type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]})
        touch("touchStart", *path[0])
        for x, y in path[1:]:
            touch("touchMove", x, y)
        touch("touchEnd", *path[-1])
        cdp.detach()

    def timed(self, action, panels: list[str], timeout_s: float = 20) -> float:
        """Run `action` and return the milliseconds from its input event until every panel in `panels` has
        changed and stayed put; AssertionError naming the panels that never changed."""
        self.page.evaluate("(selectors) => window.aeWatch(selectors)", panels)
        action()
        deadline = time.perf_counter() + timeout_s
        try:
            while True:
                done = self.page.evaluate("window.aeDone()")
                if done["all"] and done["quiet"] >= QUIET_MS and done["ms"] is not None:
                    self.last_panels = done["panels"]
                    return round(done["ms"], 1)
                if time.perf_counter() > deadline:
                    raise AssertionError(f"after {timeout_s} s these never changed: {done['missing']}")
                time.sleep(0.05)
        finally:
            self.page.evaluate("window.aeStop()")


def received_bytes(address: str, timeout_s: float = 60) -> int:
    """What a browser receives for a file of the page: asked as Chromium asks (its Accept-Encoding), so the bytes
    are the compressed ones the app sends a page (ae.web.serving); 0 if it cannot be had."""
    import urllib.request
    asked = urllib.request.Request(address, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    with contextlib.suppress(OSError), urllib.request.urlopen(asked, timeout=timeout_s) as answer:
        return len(answer.read())
    return 0


def questions(urls: list[str]) -> list[str]:
    """The requests that ask the server something, not for a file (the lessons panel fetches its model once it
    nears the screen, which may happen during a timed action)."""
    return [url for url in urls if "/gradio_api/file=" not in url]


def launch(playwright):
    """Debian's Chromium, headless, with the flags that make it run in a container without a GPU."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]
ONE = [(0.5, 0.15), (0.5, 0.85)]
ZIGZAG = [(0.3, 0.25), (0.7, 0.25), (0.3, 0.75), (0.7, 0.75)]
STROKES = (SEVEN, ONE, ZIGZAG)  # what a timing loop draws, in turn


@contextlib.contextmanager
def visiting(url: str):
    """One visitor on a desktop-sized page, its models loaded and its first stroke drawn (the page's own
    warm-up, left out of any timing); RuntimeError at the end if the page reported an error meanwhile."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = launch(playwright)
        visitor = Visitor(browser, url)
        visitor.page.wait_for_function(ENGINE_SETTLED, timeout=60_000)
        visitor.timed(lambda: visitor.stroke(SEVEN), DRAW_PANELS)
        try:
            yield visitor
        finally:
            browser.close()
    if visitor.errors:
        raise RuntimeError(f"the page reported errors: {visitor.errors[:3]}")
