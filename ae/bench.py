"""Measure the demo's speed as a visitor sees it, then under load: every page action in headless Chromium
(from the input event until the last panel it changes is painted), each callback on its own, `/draw` under
concurrent API clients, cold start and memory. Writes JSON and the README's speed tables.

    python -m ae.bench --out checkpoints/bench.json     # browser, then 1, 8, 32 clients, then 32 at concurrency 1, 2, 4
    python -m ae.bench --out /tmp/b.json --clients 1,4 --seconds 5 --concurrency "" --browser-repeats 5  # a quick look

The browser section needs Debian's chromium and the test requirements (playwright). Every load stays on this
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

from .browser import DRAW_PANELS, NOISE_PANELS, STROKES, served_app, visiting
from .dataurl import png_data_url
from .models import MODELS
from .pad import LIVE_INTERVAL_MS
from .readme import publish

REPO = Path(__file__).resolve().parent.parent


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
    from . import demo, latent
    sketch = sample_drawing()
    choices = latent.sample_choices()
    latent.switch_model("conv", sketch)  # first render of the conv map, outside the timing
    for name in MODELS:
        latent.map_picture(name)
    return {
        "draw_update": time_calls(lambda i=0: demo.draw_update(sketch, "gaussian", 0.3, i), repeats),
        "noise_change": time_calls(lambda i=0: demo.draw_update(sketch, "salt_pepper", (i % 20) / 20, 0), repeats),
        "click_to_decode": time_calls(lambda i=0: latent.decode_at("conv", (i % 9) - 4.0, 2.0), repeats),
        "slider_move": time_calls(lambda i=0: latent.decode_sliders("conv", sketch, i % 7, 0, 0, 0, 0, 0), repeats),
        "interpolate": time_calls(lambda i=0: latent.interpolate(latent.MY_DRAWING, choices[i % 10], sketch),
                                  repeats // 4),
        "switch_model": time_calls(lambda i=0: latent.switch_model(list(MODELS)[i % len(MODELS)], sketch), repeats),
    }


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def well_formed_draw(result) -> bool:
    """A /draw answer for a real drawing: every value in place, a status line, every digit a 28x28 PNG."""
    from .dataurl import read_png_data_url
    from .demo import DRAW_OUTPUTS, MODEL_NAMES
    if not isinstance(result, (list, tuple)) or len(result) != len(DRAW_OUTPUTS):
        return False
    images = result[1:3 + len(MODEL_NAMES)]
    return result[0].startswith("What each model") and all(read_png_data_url(image).shape == (28, 28)
                                                            for image in images)


def loopback_client(url: str):
    """A gradio_client for a plain-http loopback URL, set up not to spend the shared CPU on what it cannot use.

    With the defaults, gradio_client builds a TLS context (reading the CA bundle) and scans the environment for
    proxies on each of the three HTTP calls of a request; that was half the client's CPU, and here the clients
    share the server's two cores. Nothing is verified or proxied on loopback either way.
    """
    from gradio_client import Client
    return Client(url, verbose=False, ssl_verify=False, httpx_kwargs={"trust_env": False})


def run_clients(url: str, drawing: str, clients: int, seconds: float, max_requests: int, pause_s: float = 0) -> dict:
    """`clients` threads, each with its own gradio_client, calling /draw until time or count runs out, each
    waiting `pause_s` between its answer and its next request."""
    sessions = [loopback_client(url) for _ in range(clients)]
    latencies, errors, lock = [], [], threading.Lock()

    def worker(client, index):
        deadline = time.perf_counter() + seconds
        for request in range(max_requests):
            if time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            try:
                result = client.predict(drawing, "gaussian", 0.3, index * 1000 + request, api_name="/draw")
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
GOALS_MS = {"stroke": (150, 300), "model_switch": (400, None)}  # the rest: p50 <= 250 ms (README, "Speed")
DEFAULT_GOAL_MS = (250, None)


def browser_timings(url: str, repeats: int) -> dict[str, dict]:
    """Each page action `repeats` times in headless Chromium (1400x1000), as a visitor does it; ms from the
    input event until the last panel it changes is painted (ae.browser.Visitor.timed)."""
    samples: dict[str, list[float]] = {}
    note = lambda action, ms: samples.setdefault(action, []).append(ms)  # noqa: E731
    with visiting(url) as visitor:
        page = visitor.page
        for index in range(repeats):
            note("clear", visitor.timed(lambda: page.locator('#sketch [data-action="clear"]').click(), DRAW_PANELS))
            note("stroke", visitor.timed(lambda: visitor.stroke(STROKES[index % 3]), DRAW_PANELS))
            page.locator("#amount input[type=range]").focus()
            note("noise_slider", visitor.timed(lambda: page.keyboard.press(("ArrowRight", "ArrowLeft")[index % 2]),
                                               NOISE_PANELS))
            note("new_noise", visitor.timed(lambda: page.locator("#new-noise").click(), NOISE_PANELS))
            note("example", visitor.timed(lambda: page.locator("#examples button").nth(index % 10).click(),
                                          DRAW_PANELS))
        page.get_by_role("tab", name="Latent space").click()
        page.locator("#latent-map img").wait_for()
        models = page.locator("#latent-model input[type=radio]")
        for index in range(repeats):
            box = page.locator("#latent-map img").bounding_box()
            spot = (box["x"] + box["width"] * (0.25 + 0.04 * (index % 10)), box["y"] + box["height"] * 0.45)
            note("latent_click", visitor.timed(lambda: page.mouse.click(*spot), ["#clicked", "#neighbours"]))
            page.locator("#pc-1 input[type=range]").focus()
            note("latent_slider", visitor.timed(lambda: page.keyboard.press(("PageUp", "PageDown")[index % 2]),
                                                ["#slider-digit"]))
            note("model_switch", visitor.timed(lambda: models.nth((index + 1) % models.count()).check(),  # each a switch
                                               LATENT_SWITCH_PANELS))
    return {action: {**percentiles([ms / 1000 for ms in values]), "n": len(values)} for action, values in samples.items()}


def browser_under_load(url: str, drawing: str, visitors: int, repeats: int) -> dict:
    """Strokes timed in the browser while `visitors` - 1 other visitors draw without a pause: API clients sending
    /draw LIVE_INTERVAL_MS after each answer, as the pad does while a pen moves."""
    results = {}
    background = threading.Thread(target=lambda: results.update(
        run_clients(url, drawing, visitors - 1, seconds=10 + repeats * 1.5, max_requests=10_000,
                    pause_s=LIVE_INTERVAL_MS / 1000)))
    samples = []
    with visiting(url) as visitor:
        background.start()
        for index in range(repeats):
            visitor.timed(lambda: visitor.page.locator('#sketch [data-action="clear"]').click(), ["#preview"])
            samples.append(visitor.timed(lambda: visitor.stroke(STROKES[index % 3]), DRAW_PANELS))
    background.join()
    return {**percentiles([ms / 1000 for ms in samples]), "n": len(samples), "visitors": visitors,
            "others_p50_ms": results["p50_ms"], "others_errors": results["errors"]}


TRAIN_GOALS = {"linear": (30, 0.015), "conv": (60, 0.020)}  # our recipe: seconds, then test MSE on the slice


def training_goals() -> dict:
    """The Train tab's goals, run here as the tab runs them (one thread, our recipe): the test MSE each model
    reaches on the 1,000-digit slice in its time."""
    from .train_tab import train_steps
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
    while not job.outputs():  # the run has started: its first report is out
        time.sleep(0.05)
    training = run_clients(url, drawing, 1, seconds, max_requests=100_000)
    job.result()
    trainer.close()
    return {"idle": idle, "training": training, "ratio": round(training["p50_ms"] / idle["p50_ms"], 2)}


def end_to_end(drawing: str, client_counts: list[int], seconds: float, max_requests: int,
               browser_repeats: int, visitors: int) -> dict:
    """Cold start; on that one app, the page in the browser, alone and among `visitors` - 1 others, then the
    API loads one after another; and that app's peak memory."""
    results = {}
    with launched_app(drawing) as (url, cold_start, pid):
        if browser_repeats:
            results["browser"] = browser_timings(url, browser_repeats)
            results["browser_under_load"] = browser_under_load(url, drawing, visitors, browser_repeats)
        results["e2e"] = {str(n): run_clients(url, drawing, n, seconds, max_requests) for n in client_counts}
        results["draw_while_training"] = draw_while_training(url, drawing, min(seconds, 20))
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
    met = timing["p50_ms"] <= p50_goal and (p95_goal is None or timing["p95_ms"] <= p95_goal)
    goal = f"p50 ≤ {p50_goal} ms" + (f", p95 ≤ {p95_goal} ms" if p95_goal else "")
    return f"{goal} ({'met' if met else '**missed**'})"


def readme_table(results: dict) -> str:
    lines = []
    if results.get("browser"):
        lines += ["| in the browser: from the input until the last panel it changes is painted | p50 | p95 | n | goal |",
                  "|---|---:|---:|---:|---|"]
        lines += [f"| {action.replace('_', ' ')} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms | {r['n']} "
                  f"| {goal_text(action, r)} |" for action, r in results["browser"].items()]
        load = results["browser_under_load"]
        lines += [f"| stroke, {load['visitors'] - 1} other visitors drawing | {load['p50_ms']:.0f} ms "
                  f"| {load['p95_ms']:.0f} ms | {load['n']} | {goal_text('stroke', load)} |", ""]
    lines += ["| server-side callback | p50 | p95 |", "|---|---:|---:|"]
    lines += [f"| {name} | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms |" for name, r in results["callbacks"].items()]
    lines += ["", "| end to end (`/draw` through gradio_client) | p50 | p95 | draws/s | requests | errors |",
              "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {n} client{'s' if n != '1' else ''} for {results['seconds']:g} s | {r['p50_ms']:.0f} ms "
              f"| {r['p95_ms']:.0f} ms | {r['per_s']:.1f} | {r['requests']} | {r['errors']} |"
              for n, r in results["e2e"].items()]
    if results.get("draw_while_training"):
        during = results["draw_while_training"]
        met = "met" if during["ratio"] <= 1.5 else "**missed**"
        lines += ["", f"`/draw` (one client) while another visitor trains the conv model: p50 "
                      f"{during['training']['p50_ms']:.0f} ms against {during['idle']['p50_ms']:.0f} ms idle, "
                      f"**{during['ratio']:.2f}×** (goal ≤ 1.5×, {met})."]
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
                        "timing: the browser and API clients (default: 8)")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md", help="README to update (default: README.md)")
    args = parser.parse_args()

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    drawing = png_data_url(sample_drawing())
    client_counts = [int(n) for n in args.clients.split(",")]
    results = {"callbacks": callback_latencies(args.repeats), "training": training_goals()}
    results.update(end_to_end(drawing, client_counts, args.seconds, args.max_requests, args.browser_repeats,
                              args.visitors))
    if args.concurrency:
        results["sweep_clients"] = max(client_counts)
        results["concurrency"] = concurrency_sweep(drawing, [int(n) for n in args.concurrency.split(",")],
                                                   max(client_counts), args.seconds, args.max_requests)
    results["seconds"] = args.seconds
    results["measured_on"] = f"on {os.cpu_count()} CPU cores, {time.strftime('%Y-%m-%d')}"
    publish(results, args.out, args.readme, "bench", readme_table(results))


if __name__ == "__main__":
    main()
