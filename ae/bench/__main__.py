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
import os
import time
from pathlib import Path

from ..readme import publish, splice
from ..web.dataurl import png_data_url
from .callbacks import callback_latencies, training_goals
from .classroom import class_scenario, train_queue
from .common import README, SPEED_PAGE, peak_rss_mb, sample_drawing
from .load import concurrency_sweep, draw_while_training, launched_app, run_clients
from .page import browser_timings
from .report import readme_summary, readme_table


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
