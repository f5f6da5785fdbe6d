"""The API under load: `/draw` from concurrent gradio_clients on a freshly launched app, the same while another
visitor trains, and the heaviest load again per per-event concurrency limit."""

import contextlib
import threading
import time

from .browser import served_app
from .common import loopback_client, peak_rss_mb, percentiles, run_started


def well_formed_draw(record) -> bool:
    """A /draw answer for a real drawing: a status line, every digit a 28x28 PNG, every model's metrics."""
    from ..web.dataurl import read_png_data_url
    from ..web.draw_tab import MODEL_NAMES
    if not isinstance(record, dict) or not str(record.get("status", "")).startswith("What each model"):
        return False
    images = [record["clean"], record["noisy"], *[record["outputs"].get(name) for name in MODEL_NAMES]]
    return all(image and read_png_data_url(image).shape == (28, 28) for image in images) and \
        set(record["metrics"]) == set(MODEL_NAMES)


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


def concurrency_sweep(drawing: str, limits: list[int], clients: int, seconds: float, max_requests: int) -> dict:
    """The heaviest load again on a fresh app per per-event concurrency limit (Gradio's own setting)."""
    results = {}
    for limit in limits:
        with launched_app(drawing, {"GRADIO_DEFAULT_CONCURRENCY_LIMIT": str(limit)}) as (url, _, pid):
            results[str(limit)] = {**run_clients(url, drawing, clients, seconds, max_requests),
                                   "rss_mb": round(peak_rss_mb(pid), 1)}
    return results
