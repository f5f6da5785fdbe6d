"""Measure the demo's speed: each callback on its own, the whole app under concurrent clients, cold start
and memory. Writes JSON and the README's speed table.

    python -m ae.bench --out checkpoints/bench.json     # 1, 8, 32 clients, then 32 at concurrency 1, 2, 4: 60 s each
    python -m ae.bench --out /tmp/b.json --clients 1,4 --seconds 5 --concurrency ""   # a quick look

Every load stays on this machine (loopback) and stops by itself: each client runs for --seconds, and at
most --max-requests requests.
"""

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

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
    """A Sketchpad-sized RGBA canvas with a 7 on it, like a visitor's drawing."""
    page = np.full((280, 280, 4), 255, np.uint8)
    page[60:80, 70:210, :3] = 0
    for row in range(80, 230):
        col = int(200 - (row - 80) * 0.6)
        page[row, col - 10:col + 10, :3] = 0
    return page


def callback_latencies(repeats: int) -> dict[str, dict[str, float]]:
    """Server-side time of each callback, called as the server calls it (no network, no Gradio)."""
    from . import demo, latent
    sketch = {"background": None, "layers": [], "composite": sample_drawing()}
    choices = latent.sample_choices()
    latent.switch_model("conv", sketch)  # first render of the conv map, outside the timing
    for name in demo.MODEL_NAMES:
        latent.map_picture(name)
    return {
        "draw_update": time_calls(lambda i=0: demo.draw_update(sketch, "gaussian", 0.3, i), repeats),
        "noise_change": time_calls(lambda i=0: demo.draw_update(sketch, "salt_pepper", (i % 20) / 20, 0), repeats),
        "noise_sweep": time_calls(lambda i=0: demo.noise_sweep_table(sketch, "gaussian", 0.3, i), repeats),
        "click_to_decode": time_calls(lambda i=0: latent.decode_at("conv", (i % 9) - 4.0, 2.0), repeats),
        "slider_move": time_calls(lambda i=0: latent.decode_sliders("conv", sketch, i % 7, 0, 0, 0, 0, 0), repeats),
        "interpolate": time_calls(lambda i=0: latent.interpolate(latent.MY_DRAWING, choices[i % 10], sketch),
                                  repeats // 4),
        "switch_model": time_calls(lambda i=0: latent.switch_model(demo.MODEL_NAMES[i % 4], sketch), repeats),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def well_formed_draw(result) -> bool:
    """A /draw answer for a real drawing: every value in place, a status line, every digit a 28x28 PNG."""
    from .demo import DRAW_OUTPUTS, MODEL_NAMES, read_png_data_url
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


def run_clients(url: str, drawing: Path, clients: int, seconds: float, max_requests: int) -> dict:
    """`clients` threads, each with its own gradio_client, calling /draw until time or count runs out."""
    from gradio_client import handle_file
    sessions = [loopback_client(url) for _ in range(clients)]
    latencies, errors, lock = [], [], threading.Lock()

    def worker(client, index):
        deadline = time.perf_counter() + seconds
        for request in range(max_requests):
            if time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            try:
                result = client.predict({"background": None, "layers": [], "composite": handle_file(str(drawing))},
                                        "gaussian", 0.3, index * 1000 + request, api_name="/draw")
                ok = well_formed_draw(result)
            except Exception as err:  # noqa: BLE001 - every failure counts, whatever it is
                ok, result = False, err
            with lock:
                (latencies.append(time.perf_counter() - start) if ok else errors.append(repr(result)[:200]))

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
def launched_app(drawing: Path, env: dict[str, str] | None = None):
    """`python app.py` on a free loopback port, up once its first /draw answers: yields (url, cold start s, pid)."""
    from gradio_client import handle_file
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    app = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        while True:
            if app.poll() is not None:
                raise RuntimeError("app.py exited during start")
            try:
                client = loopback_client(url)
                client.predict({"background": None, "layers": [], "composite": handle_file(str(drawing))},
                               "gaussian", 0.3, 0, api_name="/draw")
                client.close()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.perf_counter() - started > 120:
                    raise
                time.sleep(0.1)
        yield url, time.perf_counter() - started, app.pid
    finally:
        app.terminate()
        app.wait(20)


def end_to_end(drawing: Path, client_counts: list[int], seconds: float, max_requests: int) -> dict:
    """Cold start, the loads one after another on one app, and that app's peak memory."""
    with launched_app(drawing) as (url, cold_start, pid):
        loads = {str(n): run_clients(url, drawing, n, seconds, max_requests) for n in client_counts}
        return {"e2e": loads, "cold_start_s": round(cold_start, 2), "rss_mb": round(peak_rss_mb(pid), 1)}


def concurrency_sweep(drawing: Path, limits: list[int], clients: int, seconds: float, max_requests: int) -> dict:
    """The heaviest load again on a fresh app per per-event concurrency limit (Gradio's own setting)."""
    results = {}
    for limit in limits:
        with launched_app(drawing, {"GRADIO_DEFAULT_CONCURRENCY_LIMIT": str(limit)}) as (url, _, pid):
            results[str(limit)] = {**run_clients(url, drawing, clients, seconds, max_requests),
                                   "rss_mb": round(peak_rss_mb(pid), 1)}
    return results


def readme_table(results: dict) -> str:
    lines = ["| server-side callback | p50 | p95 |", "|---|---:|---:|"]
    lines += [f"| {name} | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms |" for name, r in results["callbacks"].items()]
    lines += ["", "| end to end (`/draw` through gradio_client) | p50 | p95 | draws/s | requests | errors |",
              "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {n} client{'s' if n != '1' else ''} for {results['seconds']:g} s | {r['p50_ms']:.0f} ms "
              f"| {r['p95_ms']:.0f} ms | {r['per_s']:.1f} | {r['requests']} | {r['errors']} |"
              for n, r in results["e2e"].items()]
    if results.get("concurrency"):
        lines += ["", f"| {results['sweep_clients']} clients, per-event concurrency limit | p50 | p95 | draws/s "
                      "| errors | peak memory |", "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {limit} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms | {r['per_s']:.1f} | {r['errors']} "
                  f"| {r['rss_mb']:.0f} MB |" for limit, r in results["concurrency"].items()]
    lines += ["", f"Cold start (process start to first answer): **{results['cold_start_s']:.1f} s**; "
                  f"peak resident memory of the app after the runs: **{results['rss_mb']:.0f} MB**. "
                  f"Measured {results['measured_on']}."]
    return "\n".join(lines) + "\n"


def splice(readme: Path, marker: str, block: str) -> None:
    text = readme.read_text()
    pattern = rf"<!-- {marker}:start -->.*?<!-- {marker}:end -->"
    readme.write_text(re.sub(pattern, lambda _: f"<!-- {marker}:start -->\n{block}<!-- {marker}:end -->", text,
                             flags=re.S))


def main():
    parser = argparse.ArgumentParser(description="Benchmark the demo's callbacks and the running app.")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--clients", default="1,8,32", help="concurrent client counts (default: 1,8,32)")
    parser.add_argument("--seconds", type=float, default=60, help="seconds per load level (default: 60)")
    parser.add_argument("--concurrency", default="1,2,4", help="per-event concurrency limits to compare "
                        "under the heaviest load ('' to skip; default: 1,2,4)")
    parser.add_argument("--max-requests", type=int, default=5000, help="cap per client (default: 5000)")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per callback (default: 200)")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md", help="README to update (default: README.md)")
    args = parser.parse_args()

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from PIL import Image
    drawing = Path(tempfile.mkdtemp()) / "seven.png"
    Image.fromarray(sample_drawing()).save(drawing)
    client_counts = [int(n) for n in args.clients.split(",")]
    results = {"callbacks": callback_latencies(args.repeats)}
    results.update(end_to_end(drawing, client_counts, args.seconds, args.max_requests))
    if args.concurrency:
        results["sweep_clients"] = max(client_counts)
        results["concurrency"] = concurrency_sweep(drawing, [int(n) for n in args.concurrency.split(",")],
                                                   max(client_counts), args.seconds, args.max_requests)
    results["seconds"] = args.seconds
    results["measured_on"] = f"on {os.cpu_count()} CPU cores, {time.strftime('%Y-%m-%d')}"
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    if args.readme.exists():
        splice(args.readme, "bench", readme_table(results))
    print(readme_table(results))


if __name__ == "__main__":
    main()
