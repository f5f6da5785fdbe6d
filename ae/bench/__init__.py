"""Measure the demo's speed as a visitor sees it, then under load: every page action in headless Chromium
(from the input event until the last panel it changes is painted), each callback on its own, `/draw` under
concurrent API clients, cold start and memory. Writes JSON, docs/speed.md's tables and the README's summary.

    python -m ae.bench --out checkpoints/bench.json     # browser, then 1, 8, 32 clients, then 32 at concurrency 1, 2, 4
                                                        # (and .phone: a phone's CPU and 4G; .train_page: a class
                                                        # training in their pages)
    python -m ae.bench --out out/b.json --clients 1,4 --seconds 5 --concurrency "" --browser-repeats 5 \
        --train-page 0 --phone 0                        # a quick look

The browser section needs Debian's chromium and the test requirements (playwright). Every load stays on the
machine (loopback) and stops by itself: each client runs for --seconds, and at most --max-requests requests.
"""

import argparse
import contextlib
import os
import re
import threading
import time
from pathlib import Path

import numpy as np

from ..models import MODELS
from ..readme import publish, splice
from ..web.dataurl import png_data_url
from .browser import DRAW_PANELS, NOISE_PANELS, STROKES, served_app, visiting

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"  # its summary of the speed tables
SPEED_PAGE = REPO / "docs" / "speed.md"  # the tables


def publish_scenario(results: dict, out: Path, committed: Path, marker: str, table) -> None:
    """A scenario's results, stamped with where they were measured, as JSON in `out`, and `table(results)` between
    `marker`'s lines in docs/speed.md where `out` is the `committed` results (beside `out` for any other run)."""
    results["measured_on"] = f"on {os.cpu_count()} CPU cores, {time.strftime('%Y-%m-%d')}, headless Chromium"
    publish(results, out, SPEED_PAGE if out == committed else out.with_suffix(".md"), marker, table(results))


def scenario_main(doc: str, committed: Path, count: tuple[str, int, str], run) -> None:
    """The command line of a scenario of its own (ae.bench.phone, ae.bench.train_page): --out, by default its
    committed results, and one count (flag, default, what it counts); then run(count, out)."""
    flag, default, words = count
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=committed, help=f"JSON file to write (default: {committed})")
    parser.add_argument(flag, type=int, default=default, help=f"{words} (default: {default})")
    args = parser.parse_args()
    run(getattr(args, flag.removeprefix("--").replace("-", "_")), args.out)


def percentiles(samples_s: list[float]) -> dict[str, float]:
    ordered = sorted(samples_s)
    pick = lambda q: ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000  # noqa: E731
    return {"p50_ms": round(pick(0.5), 2), "p95_ms": round(pick(0.95), 2)}


def time_calls(call, repeats: int) -> dict[str, float]:
    call()  # warm-up: caches, lazy loads
    samples = []
    for index in range(repeats):
        start = time.perf_counter()
        call(index)
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def sample_drawing() -> np.ndarray:
    """A pad-sized RGBA canvas with a 7 on it, like a visitor's drawing."""
    page = np.full((280, 280, 4), 255, np.uint8)
    page[60:80, 70:210, :3] = 0
    for row in range(80, 230):
        col = int(200 - (row - 80) * 0.6)
        page[row, col - 10:col + 10, :3] = 0
    return page


def callback_latencies(repeats: int) -> dict[str, dict[str, float]]:
    """Server-side time of each callback, called as the server calls it (no network, no Gradio)."""
    from ..web import draw_tab, latent_tab
    sketch = sample_drawing()
    choices = latent_tab.sample_choices()
    latent_tab.switch_model("conv", sketch)  # first render of the conv map, outside the timing
    for name in MODELS:
        latent_tab.map_picture(name)
    return {
        "draw_update": time_calls(lambda i=0: draw_tab.draw_update(sketch, "gaussian", 0.3, i), repeats),
        "noise_change": time_calls(lambda i=0: draw_tab.draw_update(sketch, "salt_pepper", (i % 20) / 20, 0), repeats),
        "click_to_decode": time_calls(lambda i=0: latent_tab.decode_at("conv", (i % 9) - 4.0, 2.0), repeats),
        "slider_move": time_calls(lambda i=0: latent_tab.decode_sliders("conv", sketch, i % 7, 0, 0, 0, 0, 0), repeats),
        "interpolate": time_calls(lambda i=0: latent_tab.interpolate(latent_tab.MY_DRAWING, choices[i % 10], sketch),
                                  repeats // 4),
        "switch_model": time_calls(lambda i=0: latent_tab.switch_model(list(MODELS)[i % len(MODELS)], sketch), repeats),
    }


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def well_formed_draw(record) -> bool:
    """A /draw answer for a real drawing: a status line, every digit a 28x28 PNG, every model's metrics."""
    from ..web.dataurl import read_png_data_url
    from ..web.draw_tab import MODEL_NAMES
    if not isinstance(record, dict) or not str(record.get("status", "")).startswith("What each model"):
        return False
    images = [record["clean"], record["noisy"], *[record["outputs"].get(name) for name in MODEL_NAMES]]
    return all(image and read_png_data_url(image).shape == (28, 28) for image in images) and \
        set(record["metrics"]) == set(MODEL_NAMES)


def loopback_client(url: str):
    """A gradio_client for a plain-http loopback URL, set up not to spend the shared CPU on what it cannot use.

    With the defaults, gradio_client builds a TLS context (reading the CA bundle) and scans the environment for
    proxies on each of the three HTTP calls of a request; that was half the client's CPU, and here the clients
    share the server's two cores. Nothing is verified or proxied on loopback either way.
    """
    from gradio_client import Client
    return Client(url, verbose=False, ssl_verify=False, httpx_kwargs={"trust_env": False})


def run_clients(url: str, drawing: str, clients: int, seconds: float, max_requests: int, pause_s: float = 0,
                sweep: bool = False) -> dict:
    """`clients` threads, each with its own gradio_client, calling /draw (with the noise sweep if `sweep`) until
    time or count runs out, each waiting `pause_s` between its answer and its next request."""
    sessions = [loopback_client(url) for _ in range(clients)]
    latencies, errors, lock = [], [], threading.Lock()

    def worker(client, index):
        deadline = time.perf_counter() + seconds
        for request in range(max_requests):
            if time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            try:
                result = client.predict(drawing, "gaussian", 0.3, index * 1000 + request, sweep, api_name="/draw")
                ok = well_formed_draw(result)
            except Exception as err:  # noqa: BLE001 - every failure counts, whatever it is
                ok, result = False, err
            with lock:
                (latencies.append(time.perf_counter() - start) if ok else errors.append(repr(result)[:200]))
            time.sleep(pause_s)

    threads = [threading.Thread(target=worker, args=(client, i)) for i, client in enumerate(sessions)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for client in sessions:
        client.close()
    return {**percentiles(latencies or [float("nan")]), "errors": len(errors), "requests": len(latencies) + len(errors),
            "per_s": round(len(latencies) / elapsed, 1), "first_errors": errors[:3]}


@contextlib.contextmanager
def launched_app(drawing: str, env: dict[str, str] | None = None):
    """`python app.py` on a free loopback port, up once its first /draw answers: yields (url, cold start s, pid)."""
    started = time.perf_counter()
    with served_app(env) as (url, _, process):
        client = loopback_client(url)
        client.predict(drawing, "gaussian", 0.3, 0, api_name="/draw")
        client.close()
        yield url, time.perf_counter() - started, process.pid


LATENT_SWITCH_PANELS = ["#latent-map", "#manifold", "#slider-digit"]
# The Draw tab computes in the page: a stroke, a slider step, New noise and an example must be painted within
# 30 ms p50 and 60 ms p95, and so must the Latent tab's sliders; each step of a dragged noise slider, and the
# digit under a moving pointer, within 30 ms p95. A click on the map and a model switch still ask the server
# (p50 <= 250 ms, a switch 400 ms).
PAGE_ACTIONS = ("clear", "stroke", "noise_slider", "slider_drag", "new_noise", "example", "latent_slider")
GOALS_MS = {**{action: (30, 60) for action in PAGE_ACTIONS}, "slider_drag": (None, 30), "map_hover": (None, 30),
            "model_switch": (400, None)}
DEFAULT_GOAL_MS = (250, None)
LIVE_GOAL_PER_S = 20  # updates painted per second while the pen moves
API_GOAL_P95_MS = 1000  # /draw with the most API clients at once
PROBE_JS = (Path(__file__).parent / "probe.js").read_text()


def slider_drag(visitor, steps: int = 20, pause_ms: int = 60) -> list[float]:
    """Drag the noise slider's thumb across, as a hand does (a move every `pause_ms`); ms from each step of
    the slider until the update for its value was painted."""
    page = visitor.page
    box = page.locator("#amount input[type=range]").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 4, y)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(box["x"] + 4 + (box["width"] - 8) * k / steps, y)
        page.wait_for_timeout(pause_ms)
    page.mouse.up()
    page.wait_for_timeout(500)
    return [ms for ms in page.evaluate("aeSliderSteps()") if ms is not None]


def live_updates_per_s(visitor, seconds: float = 2.0, hz: int = 60) -> dict:
    """Updates the page paints per second while a pen moves for `seconds`, moving `hz` times a second. The moves
    are made in the page itself (pointer events on the pad, one per animation frame, as a pen sends them):
    driven from here, each move would cost a round trip and the pen would move at that pace instead."""
    page = visitor.page
    (x0, y0), = visitor.pad_points([(0.2, 0.5)])
    page.mouse.move(x0, y0)
    page.mouse.down()
    result = page.evaluate("""async ([seconds, hz]) => {
        const canvas = document.querySelector("#sketch canvas"), box = canvas.getBoundingClientRect();
        const start = performance.now(), moves = Math.round(seconds * hz);
        for (let k = 1; k <= moves; k++) {
          await new Promise((resolve) => setTimeout(resolve, 1000 / hz));
          canvas.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, pointerId: 1, pointerType: "mouse",
            clientX: box.left + box.width * (0.2 + 0.6 * k / moves),
            clientY: box.top + box.height * (0.5 + 0.3 * Math.sin(k / 9))}));
        }
        const end = performance.now();
        return {moves, seconds: (end - start) / 1000, painted: aePaintsBetween(start, end)};
    }""", [seconds, hz])
    page.mouse.up()
    return {"updates_per_s": round(result["painted"] / result["seconds"], 1),
            "moves_per_s": round(result["moves"] / result["seconds"], 1)}


def map_hover(visitor, moves: int = 60, hz: int = 60) -> list[float]:
    """ms from each pointer move over the Latent tab's map until the decoded digit under it is painted, `hz`
    moves a second along a wavy line, made in the page (as live_updates_per_s makes its pen's)."""
    return visitor.page.evaluate("""async ([moves, hz]) => {
        const image = document.querySelector("#latent-map img"), box = image.getBoundingClientRect(), times = [];
        for (let k = 0; k < moves; k++) {
          const painted = new Promise((resolve) => document.addEventListener("ae-studio-latent-painted",
            () => requestAnimationFrame(() => resolve(performance.now())), {once: true}));
          const start = performance.now();
          image.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, pointerId: 1, pointerType: "mouse",
            clientX: box.left + box.width * (0.2 + 0.5 * k / moves),
            clientY: box.top + box.height * (0.5 + 0.3 * Math.sin(k / 7))}));
          times.push(await painted - start);
          await new Promise((resolve) => setTimeout(resolve, 1000 / hz));
        }
        return times;
    }""", [moves, hz])


def browser_timings(url: str, repeats: int) -> dict[str, dict]:
    """Each page action `repeats` times in headless Chromium (1400x1000), as a visitor does it; ms from the
    input event until the last panel it changes is painted (ae.bench.browser.Visitor.timed). Also: the requests
    the Draw tab's actions sent to the server, a dragged noise slider's steps, and the updates per second that
    follow a moving pen."""
    samples: dict[str, list[float]] = {}
    note = lambda action, ms: samples.setdefault(action, []).append(ms)  # noqa: E731
    with visiting(url) as visitor:
        page = visitor.page
        page.evaluate(PROBE_JS)
        ready_ms = page.evaluate("aeStudio.readyMs")
        asked = len(visitor.requests)
        for index in range(repeats):
            note("clear", visitor.timed(lambda: page.locator('#sketch [data-action="clear"]').click(), DRAW_PANELS))
            note("stroke", visitor.timed(lambda: visitor.stroke(STROKES[index % 3]), DRAW_PANELS))
            page.locator("#amount input[type=range]").focus()
            note("noise_slider", visitor.timed(lambda: page.keyboard.press(("ArrowRight", "ArrowLeft")[index % 2]),
                                               NOISE_PANELS))
            note("new_noise", visitor.timed(lambda: page.locator("#new-noise").click(), NOISE_PANELS))
            note("example", visitor.timed(lambda: page.locator("#examples button").nth(index % 10).click(),
                                          DRAW_PANELS))
        draw_requests = len(visitor.requests) - asked
        for ms in slider_drag(visitor):
            note("slider_drag", ms)
        live = live_updates_per_s(visitor)
        page.get_by_role("tab", name="Latent space").click()
        page.locator("#latent-map img").wait_for()
        page.wait_for_function("aeStudio.latent.model() && aeStudio.latent.engine === 'page'")
        models = page.locator("#latent-model input[type=radio]")
        asked = len(visitor.requests)
        for ms in map_hover(visitor):
            note("map_hover", ms)
        latent_requests = len(visitor.requests) - asked
        for index in range(repeats):
            box = page.locator("#latent-map img").bounding_box()
            spot = (box["x"] + box["width"] * (0.25 + 0.04 * (index % 10)), box["y"] + box["height"] * 0.45)
            note("latent_click", visitor.timed(lambda: page.mouse.click(*spot), ["#lens-digit", "#neighbours"]))
            page.locator("#pc-1 input[type=range]").focus()
            note("latent_slider", visitor.timed(lambda: page.keyboard.press(("PageUp", "PageDown")[index % 2]),
                                                ["#slider-digit"]))
            switch = lambda: models.nth((index + 1) % models.count()).check()  # each a switch
            note("model_switch", visitor.timed(switch,
                                               LATENT_SWITCH_PANELS))
    return {"actions": {action: {**percentiles([ms / 1000 for ms in values]), "n": len(values)}
                        for action, values in samples.items()},
            "draw_requests": draw_requests, "draw_actions": 5 * repeats, "live": live,
            "map_hover_requests": latent_requests,
            "models_ready_ms": round(ready_ms)}


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def page_files(url: str) -> list[str]:
    """What a first visit to the page downloads from the server: every URL a real page asks for while it loads
    and gets its models ready."""
    from playwright.sync_api import sync_playwright

    from .browser import Visitor, launch
    with sync_playwright() as playwright:
        browser = launch(playwright)
        visitor = Visitor(browser, url)
        visitor.page.wait_for_function("window.aeStudio && aeStudio.engine !== 'loading'", timeout=60_000)
        files = list(dict.fromkeys(visitor.requests))
        browser.close()
    return files


def run_started(job) -> bool:
    """Whether a /train job's run has begun: past its waiting messages, a report of the run itself."""
    return any("Training <b>" in update[0] or "Done after" in update[0] for update in job.outputs())


def scripted_visitor(url: str, files: list[str], seconds: float, role: str, index: int, tally: dict, lock) -> None:
    """A visitor without a browser who does what a page does: loads it (every file a first visit fetches), then
    draws (the Draw tab asks the server nothing), explores the Latent tab (a model switch every 10 s: the digit
    under the pointer and the sliders' digit are decoded in the page) or trains a model for 10 s, as `role` says."""
    import urllib.request

    from gradio_client import Client
    deadline = time.perf_counter() + seconds
    requests, loaded = 0, 0
    for address in files:
        if address.startswith(url.rstrip("/")) and "/gradio_api/queue/" not in address and "/heartbeat/" not in address:
            with contextlib.suppress(OSError), urllib.request.urlopen(address, timeout=30) as answer:
                loaded += len(answer.read())
            requests += 1
    client = Client(url, verbose=False, ssl_verify=False, httpx_kwargs={"trust_env": False})
    drawing = png_data_url(sample_drawing())
    waits = []
    if role == "train":
        start = time.perf_counter()
        job = client.submit("linear", "ours", 10, api_name="/train")
        while not run_started(job) and time.perf_counter() < deadline + 300:
            time.sleep(0.1)
        waits.append(time.perf_counter() - start)
        job.result()
        requests += 1
    while role == "explore" and time.perf_counter() < deadline:  # the map's pointer and the sliders ask nothing
        client.predict(("vae", "ae2d", "conv")[index % 3], drawing, api_name="/latent_switch")
        requests += 1
        time.sleep(10)
    client.close()
    with lock:
        tally["requests"] += requests
        tally["bytes"] += loaded
        tally["train_waits_s"] += waits


def strokes_until(pages: list, done) -> tuple[list[float], int]:
    """The pages draw in turn, a stroke on a cleared pad each, until `done()`: each stroke's time until every
    panel is painted (ms), and the requests the strokes sent."""
    samples, requests, index = [], 0, 0
    while not done():
        visitor = pages[index % len(pages)]
        asked = len(visitor.requests)
        visitor.page.locator('#sketch [data-action="clear"]').click()
        visitor.page.wait_for_function("aeStudio.last.clean === null && !aeStudio.busy()")
        samples.append(visitor.timed(lambda: visitor.stroke(STROKES[index % 3]), DRAW_PANELS))
        requests += len(visitor.requests) - asked
        index += 1
    return samples, requests


def class_scenario(url: str, pid: int, visitors: int, real_pages: int, seconds: float, mixed: bool = True) -> dict:
    """`visitors` at once: `real_pages` of them in Chromium, drawing stroke after stroke (each timed), the rest
    scripted (scripted_visitor). In a `mixed` class a tenth train, a third explore the Latent tab and the others
    draw; otherwise all draw. Reports each real visitor's stroke latency, every request the server got, and its
    CPU."""
    from playwright.sync_api import sync_playwright

    from .browser import Visitor, launch
    files = page_files(url)
    tally, lock = {"requests": 0, "bytes": 0, "train_waits_s": []}, threading.Lock()
    roles = ["draw" if not mixed else "train" if k % 10 == 0 else "explore" if k % 3 == 0 else "draw"
             for k in range(visitors - real_pages)]
    threads = [threading.Thread(target=scripted_visitor, args=(url, files, seconds, role, k, tally, lock))
               for k, role in enumerate(roles)]
    cpu_before, started = cpu_seconds(pid), time.perf_counter()
    with sync_playwright() as playwright:
        browser = launch(playwright)
        pages = [Visitor(browser, url) for _ in range(real_pages)]
        for thread in threads:
            thread.start()
        for visitor in pages:
            visitor.page.wait_for_function("window.aeStudio && aeStudio.engine !== 'loading'", timeout=120_000)
        samples, page_requests = strokes_until(pages, lambda: time.perf_counter() - started >= seconds)
        errors = [error for visitor in pages for error in visitor.errors]
        browser.close()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"visitors": visitors, "real_pages": real_pages, "roles": {r: roles.count(r) for r in set(roles)},
            "seconds": round(elapsed, 1), "strokes": {**percentiles([ms / 1000 for ms in samples]), "n": len(samples)},
            "stroke_requests": page_requests, "server_requests": tally["requests"],
            "first_visit_mb": round(tally["bytes"] / max(1, len(roles)) / 1e6, 2),
            "train_wait_s": round(max(tally["train_waits_s"], default=0), 1),
            "server_cpu_percent": round(100 * (cpu_seconds(pid) - cpu_before) / elapsed, 1), "page_errors": errors[:3]}


TRAIN_QUEUE_GOALS = {"start_s": 180, "estimate_error": 0.2}  # every run started within; each first estimate within


def queued_trainer(url: str, delay_s: float, budget_s: int, record: dict) -> None:
    """A visitor who presses Train after `delay_s`: what the first waiting message promised, and when the run began."""
    time.sleep(delay_s)
    client = loopback_client(url)
    record["pressed"] = time.perf_counter()
    job = client.submit("linear", "ours", budget_s, api_name="/train")
    while not run_started(job):
        told = [re.search(r"Your run of (\d+) s.*starts in about (\d+) s", update[0]) for update in job.outputs()]
        if "told_at" not in record and any(told):
            message = next(filter(None, told))
            record.update(told_at=time.perf_counter(), budget_s=int(message[1]), promised_s=int(message[2]))
        time.sleep(0.05)
    record["started"] = time.perf_counter()
    record.setdefault("budget_s", budget_s)  # nobody was ahead: the run got what it asked for
    job.result()
    client.close()


def train_queue(url: str, visitors: int, budget_s: int = 30, spread_s: float = 10) -> dict:
    """A class pressing Train: `visitors` ask for `budget_s` runs within `spread_s` seconds while a visitor in
    Chromium draws. Each waiting visitor's first estimate against the wait it got, when the last run started, and
    the strokes meanwhile."""
    from playwright.sync_api import sync_playwright

    from .browser import Visitor, launch
    records = [{} for _ in range(visitors)]
    threads = [threading.Thread(target=queued_trainer, args=(url, k * spread_s / visitors, budget_s, record))
               for k, record in enumerate(records)]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        visitor = Visitor(browser, url)
        visitor.page.wait_for_function("window.aeStudio && aeStudio.engine !== 'loading'", timeout=120_000)
        for thread in threads:
            thread.start()
        samples, _ = strokes_until([visitor], lambda: not any(thread.is_alive() for thread in threads))
        browser.close()
    first = min(record["pressed"] for record in records)
    waited = [r for r in records if "told_at" in r]
    errors = [abs(r["promised_s"] - (r["started"] - r["told_at"])) / (r["started"] - r["told_at"]) for r in waited]
    return {"visitors": visitors, "budget_s": budget_s, "spread_s": spread_s,
            "budgets_s": [record["budget_s"] for record in records],
            "last_start_s": round(max(record["started"] for record in records) - first, 1),
            "waits": [{"promised_s": r["promised_s"], "waited_s": round(r["started"] - r["told_at"], 1)}
                      for r in waited],
            "worst_estimate_error": round(max(errors, default=0), 3),
            "strokes": {**percentiles([ms / 1000 for ms in samples]), "n": len(samples)}}


TRAIN_GOALS = {"linear": (30, 0.015), "conv": (60, 0.020)}  # our recipe: seconds, then test MSE on the slice


def training_goals() -> dict:
    """The Train tab's goals, run here as the tab runs them (one thread, our recipe): the test MSE each model
    reaches on the 1,000-digit slice in its time."""
    from ..web.train_tab import train_steps
    results = {}
    for name, (seconds, goal) in TRAIN_GOALS.items():
        last = list(train_steps(name, "ours", seconds))[-1]
        results[name] = {"seconds": seconds, "steps": last.step, "test_mse": round(last.test_mse, 5), "goal": goal}
    return results


def draw_while_training(url: str, drawing: str, seconds: float) -> dict:
    """One client's /draw, `seconds` with the server idle, then as long while another visitor trains the conv
    model (our recipe, the longest budget): the Train tab must leave drawing quick."""
    idle = run_clients(url, drawing, 1, seconds, max_requests=100_000)
    trainer = loopback_client(url)
    job = trainer.submit("conv", "ours", seconds + 10, api_name="/train")
    while not run_started(job):
        time.sleep(0.05)
    training = run_clients(url, drawing, 1, seconds, max_requests=100_000)
    job.result()
    trainer.close()
    return {"idle": idle, "training": training, "ratio": round(training["p50_ms"] / idle["p50_ms"], 2)}


def end_to_end(drawing: str, client_counts: list[int], seconds: float, max_requests: int,
               browser_repeats: int, visitors: int, class_size: int, trainers: int) -> dict:
    """Cold start; on that one app, the page in the browser alone, then among a class, then the API loads
    one after another; and that app's peak memory."""
    results = {}
    with launched_app(drawing) as (url, cold_start, pid):
        if browser_repeats:
            results["browser"] = browser_timings(url, browser_repeats)
        if browser_repeats and visitors:
            results["visitors"] = class_scenario(url, pid, visitors, min(visitors, 3), seconds, mixed=False)
        if class_size:
            results["class"] = class_scenario(url, pid, class_size, 3, seconds)
        results["e2e"] = {str(n): run_clients(url, drawing, n, seconds, max_requests) for n in client_counts}
        results["e2e_sweep"] = run_clients(url, drawing, max(client_counts), seconds, max_requests, sweep=True)
        results["draw_while_training"] = draw_while_training(url, drawing, min(seconds, 20))
        if trainers:
            results["train_queue"] = train_queue(url, trainers)
        return {**results, "cold_start_s": round(cold_start, 2), "rss_mb": round(peak_rss_mb(pid), 1)}


def concurrency_sweep(drawing: str, limits: list[int], clients: int, seconds: float, max_requests: int) -> dict:
    """The heaviest load again on a fresh app per per-event concurrency limit (Gradio's own setting)."""
    results = {}
    for limit in limits:
        with launched_app(drawing, {"GRADIO_DEFAULT_CONCURRENCY_LIMIT": str(limit)}) as (url, _, pid):
            results[str(limit)] = {**run_clients(url, drawing, clients, seconds, max_requests),
                                   "rss_mb": round(peak_rss_mb(pid), 1)}
    return results


def goal_text(action: str, timing: dict) -> str:
    p50_goal, p95_goal = GOALS_MS.get(action, DEFAULT_GOAL_MS)
    met = (p50_goal is None or timing["p50_ms"] <= p50_goal) and (p95_goal is None or timing["p95_ms"] <= p95_goal)
    goal = ", ".join(f"{name} ≤ {ms} ms" for name, ms in (("p50", p50_goal), ("p95", p95_goal)) if ms)
    return f"{goal} ({'met' if met else '**missed**'})"


def crowd_line(name: str, run: dict) -> str:
    """One row of the class table."""
    roles = ", ".join(f"{count} {role}" for role, count in sorted(run["roles"].items()))
    return (f"| {name}: {run['visitors']} visitors ({run['real_pages']} in Chromium; scripted: {roles}), "
            f"{run['seconds']:.0f} s | {run['strokes']['p50_ms']:.0f} ms | {run['strokes']['p95_ms']:.0f} ms "
            f"| {run['strokes']['n']} | {run['stroke_requests']} | {run['server_requests']} "
            f"| {run['server_cpu_percent']:.0f}% | {goal_text('stroke', run['strokes'])} |")


def load_row(label: str, run: dict) -> str:
    """One row of the end-to-end table: a run_clients result."""
    return (f"| {label} | {run['p50_ms']:.0f} ms | {run['p95_ms']:.0f} ms | {run['per_s']:.1f} | {run['requests']} "
            f"| {run['errors']} |")


def readme_table(results: dict) -> str:
    lines = []
    if results.get("browser"):
        browser = results["browser"]
        lines += ["| in the browser: from the input until the last panel it changes is painted "
                  "| p50 | p95 | n | goal |",
                  "|---|---:|---:|---:|---|"]
        lines += [f"| {action.replace('_', ' ')} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms | {r['n']} "
                  f"| {goal_text(action, r)} |" for action, r in browser["actions"].items()]
        live = browser["live"]["updates_per_s"]
        lines += ["", f"While the pen moves ({browser['live']['moves_per_s']:.0f} moves/s), the outputs follow it at "
                      f"**{live:.0f} updates/s** (goal ≥ {LIVE_GOAL_PER_S}, "
                      f"{'met' if live >= LIVE_GOAL_PER_S else '**missed**'}). "
                      f"The Draw tab's {browser['draw_actions']} "
                      f"timed actions sent the server **{browser['draw_requests']} requests**, and the pointer's "
                      f"{browser['actions']['map_hover']['n']} moves over the Latent tab's map "
                      f"**{browser['map_hover_requests']}**; the models were ready "
                      f"{browser['models_ready_ms']} ms after the page loaded.", "",
                  "| visitors at once (strokes timed in Chromium) | stroke p50 | p95 | strokes | their requests "
                  "| other requests | server CPU | goal |", "|---|---:|---:|---:|---:|---:|---:|---|"]
        lines += [crowd_line(name, results[key]) for key, name in (("visitors", "drawing"), ("class", "a class"))
                  if results.get(key)]
        if results.get("class"):
            lines += ["", f"A first visit downloads {results['class']['first_visit_mb']:.1f} MB; the longest wait of a "
                          f"visitor who pressed Train: {results['class']['train_wait_s']:.0f} s."]
        lines += [""]
    lines += ["| server-side callback | p50 | p95 |", "|---|---:|---:|"]
    lines += [f"| {name} | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms |" for name, r in results["callbacks"].items()]
    lines += ["", "| end to end (`/draw` through gradio_client) | p50 | p95 | draws/s | requests | errors |",
              "|---|---:|---:|---:|---:|---:|"]
    lines += [load_row(f"{n} client{'s' if n != '1' else ''} for {results['seconds']:g} s", r)
              for n, r in results["e2e"].items()]
    if results.get("e2e_sweep"):
        n = max(results["e2e"], key=int)
        lines += [load_row(f"{n} clients for {results['seconds']:g} s, each with the noise sweep (`sweep=True`)",
                           results["e2e_sweep"])]
    if results.get("draw_while_training"):
        during = results["draw_while_training"]
        met = "met" if during["ratio"] <= 1.5 else "**missed**"
        lines += ["", f"`/draw` (one client) while another visitor trains the conv model: p50 "
                      f"{during['training']['p50_ms']:.0f} ms against {during['idle']['p50_ms']:.0f} ms idle, "
                      f"**{during['ratio']:.2f}×** (goal ≤ 1.5×, {met})."]
    if results.get("train_queue"):
        line, goals = results["train_queue"], TRAIN_QUEUE_GOALS
        start_met = "met" if line["last_start_s"] <= goals["start_s"] else "**missed**"
        error_met = "met" if line["worst_estimate_error"] <= goals["estimate_error"] else "**missed**"
        waits = ", ".join(f"{wait['promised_s']}/{wait['waited_s']:.0f}" for wait in line["waits"])
        lines += ["", f"{line['visitors']} visitors pressing Train ({line['budget_s']} s) within "
                      f"{line['spread_s']:g} s, one run at a time: runs of "
                      f"{', '.join(str(b) for b in line['budgets_s'])} s; the last began "
                      f"**{line['last_start_s']:.0f} s** after the first press (goal ≤ {goals['start_s']} s, "
                      f"{start_met}). Each waiting visitor's first estimate against the wait it got: "
                      f"{waits} s, at worst "
                      f"**{100 * line['worst_estimate_error']:.0f}%** off (goal ≤ "
                      f"{100 * goals['estimate_error']:.0f}%, {error_met}). A visitor drawing meanwhile: stroke p50 "
                      f"{line['strokes']['p50_ms']:.0f} ms, p95 {line['strokes']['p95_ms']:.0f} ms "
                      f"({goal_text('stroke', line['strokes'])})."]
    if results.get("training"):
        lines += ["", "| Train tab, our recipe, one thread | steps | test MSE (1,000 digits) | goal |",
                  "|---|---:|---:|---|"]
        lines += [f"| {MODELS[name].title}, {r['seconds']} s | {r['steps']:,} | {r['test_mse']:.4f} "
                  f"| ≤ {r['goal']} ({'met' if r['test_mse'] <= r['goal'] else '**missed**'}) |"
                  for name, r in results["training"].items()]
    if results.get("concurrency"):
        lines += ["", f"| {results['sweep_clients']} clients, per-event concurrency limit | p50 | p95 | draws/s "
                      "| errors | peak memory |", "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {limit} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms | {r['per_s']:.1f} | {r['errors']} "
                  f"| {r['rss_mb']:.0f} MB |" for limit, r in results["concurrency"].items()]
    lines += ["", f"Cold start (process start to first answer): **{results['cold_start_s']:.1f} s**; "
                  f"peak resident memory of the app after the runs: **{results['rss_mb']:.0f} MB**. "
                  f"Measured {results['measured_on']}."]
    return "\n".join(lines) + "\n"


def readme_summary(results: dict) -> str:
    """The README's few lines: the Draw tab alone and in a class, a moving pen, and the API under load."""
    browser, lines = results["browser"], ["| what | p50 | p95 | goal |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms | {goal_text(action, r)} |"
              for action, name, r in [("stroke", "a stroke, alone, until every panel is painted",
                                       browser["actions"]["stroke"]),
                                      ("slider_drag", "each step of a dragged noise slider",
                                       browser["actions"]["slider_drag"]),
                                      ("map_hover", "the Latent tab's digit under a moving pointer, each move",
                                       browser["actions"]["map_hover"]),
                                      ("stroke", f"a stroke among a class of {results['class']['visitors']}",
                                       results["class"]["strokes"])]]
    api = results["e2e"][str(max(int(n) for n in results["e2e"]))]
    api_met = "met" if api["p95_ms"] <= API_GOAL_P95_MS else "**missed**"
    lines += [f"| `/draw` with {max(int(n) for n in results['e2e'])} API clients at once | {api['p50_ms']:.0f} ms "
              f"| {api['p95_ms']:.0f} ms | p95 ≤ {API_GOAL_P95_MS} ms ({api_met}) |"]
    return "\n".join(lines + ["", f"A moving pen: **{browser['live']['updates_per_s']:.0f} updates/s**; "
                               f"server requests per stroke: **{results['class']['stroke_requests']}**; a first "
                               f"visit downloads {results['class']['first_visit_mb']:.1f} MB, and the models are "
                               f"ready {browser['models_ready_ms'] / 1000:.1f} s after the page loads."]) + "\n"


def main():
    parser = argparse.ArgumentParser(description="Benchmark the demo's callbacks and the running app.")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--clients", default="1,8,32", help="concurrent client counts (default: 1,8,32)")
    parser.add_argument("--seconds", type=float, default=60, help="seconds per load level (default: 60)")
    parser.add_argument("--concurrency", default="1,2,4", help="per-event concurrency limits to compare "
                        "under the heaviest load ('' to skip; default: 1,2,4)")
    parser.add_argument("--max-requests", type=int, default=5000, help="cap per client (default: 5000)")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per callback (default: 200)")
    parser.add_argument("--browser-repeats", type=int, default=20,
                        help="times each page action is timed in Chromium (0 to skip; default: 20)")
    parser.add_argument("--visitors", type=int, default=8, help="visitors drawing at once for the loaded stroke "
                        "timing: three in Chromium, the rest scripted (default: 8)")
    parser.add_argument("--class-size", type=int, default=30, help="visitors of the class scenario: three in "
                        "Chromium, the rest scripted to draw, explore and train (0 to skip; default: 30)")
    parser.add_argument("--train-queue", type=int, default=10, help="visitors pressing Train (30 s) within 10 s, "
                        "while one in Chromium draws (0 to skip; default: 10)")
    parser.add_argument("--train-page", type=int, default=30, help="visitors pressing Train within 10 s, each "
                        "training in their page (ae.bench.train_page; 0 to skip; default: 30)")
    parser.add_argument("--phone", type=int, default=12, help="strokes timed on a phone-class CPU, 4x and 6x slower, "
                        "and the desktop beside it (ae.bench.phone; 0 to skip; default: 12)")
    parser.add_argument("--readme", type=Path, default=SPEED_PAGE,
                        help="page whose tables to update (default: docs/speed.md, and then the README's summary)")
    args = parser.parse_args()

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    drawing = png_data_url(sample_drawing())
    client_counts = [int(n) for n in args.clients.split(",")]
    results = {"callbacks": callback_latencies(args.repeats), "training": training_goals()}
    results.update(end_to_end(drawing, client_counts, args.seconds, args.max_requests, args.browser_repeats,
                              args.visitors, args.class_size, args.train_queue))
    if args.concurrency:
        results["sweep_clients"] = max(client_counts)
        results["concurrency"] = concurrency_sweep(drawing, [int(n) for n in args.concurrency.split(",")],
                                                   max(client_counts), args.seconds, args.max_requests)
    results["seconds"] = args.seconds
    results["measured_on"] = f"on {os.cpu_count()} CPU cores, {time.strftime('%Y-%m-%d')}"
    publish(results, args.out, args.readme, "bench", readme_table(results))
    if args.readme == SPEED_PAGE and results.get("browser") and results.get("class"):  # not for a quick look
        splice(README, "speed", readme_summary(results))
    if args.phone:  # the page on a phone-class CPU and a 4G network, on an app of its own
        from . import phone
        phone.measure_and_publish(args.phone, phone.RESULTS if args.readme == SPEED_PAGE
                                  else args.out.with_name("phone.json"))
    if args.train_page:  # the Train tab in the visitors' pages, on an app of its own
        from .train_page import RESULTS, measure
        measure(args.train_page, RESULTS if args.readme == SPEED_PAGE else args.out.with_name("train-page.json"))


if __name__ == "__main__":
    main()
