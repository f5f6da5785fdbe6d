"""A class at once: visitors in Chromium drawing stroke after stroke while scripted ones load the page, draw,
explore the Latent tab or train; and a class pressing Train on the server's line."""

import re
import threading
import time

from ..web.dataurl import png_data_url
from .browser import DRAW_PANELS, ENGINE_SETTLED, STROKES, questions, received_bytes
from .common import cpu_seconds, loopback_client, percentiles, run_started, sample_drawing


def page_files(url: str) -> list[str]:
    """What a first visit to the page downloads from the server: every URL a real page asks for while it loads
    and gets its models ready."""
    from playwright.sync_api import sync_playwright

    from .browser import Visitor, launch
    with sync_playwright() as playwright:
        browser = launch(playwright)
        visitor = Visitor(browser, url)
        visitor.page.wait_for_function(ENGINE_SETTLED, timeout=60_000)
        files = list(dict.fromkeys(visitor.requests))
        browser.close()
    return files


def scripted_visitor(url: str, files: list[str], seconds: float, role: str, index: int, tally: dict, lock) -> None:
    """A visitor without a browser who does what a page does: loads it (every file a first visit fetches), then
    draws (the Draw tab asks the server nothing), explores the Latent tab (a model switch every 10 s: the digit
    under the pointer and the sliders' digit are decoded in the page) or trains a model for 10 s, as `role` says."""
    deadline = time.perf_counter() + seconds
    requests, loaded = 0, 0
    for address in files:
        if address.startswith(url.rstrip("/")) and "/gradio_api/queue/" not in address and "/heartbeat/" not in address:
            loaded += received_bytes(address, 30)
            requests += 1
    client = loopback_client(url)
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
    panel is painted (ms), and the questions the strokes sent the server."""
    samples, requests, index = [], 0, 0
    while not done():
        visitor = pages[index % len(pages)]
        asked = len(visitor.requests)
        visitor.page.locator('#sketch [data-action="clear"]').click()
        visitor.page.wait_for_function("aeStudio.last.clean === null && !aeStudio.busy()")
        samples.append(visitor.timed(lambda: visitor.stroke(STROKES[index % 3]), DRAW_PANELS))
        requests += len(questions(visitor.requests[asked:]))
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
            visitor.page.wait_for_function(ENGINE_SETTLED, timeout=120_000)
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
        visitor.page.wait_for_function(ENGINE_SETTLED, timeout=120_000)
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
