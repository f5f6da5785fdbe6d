"""What every benchmark scenario shares: where results go (docs/speed.md, the README), percentiles, the drawing
the scenarios send, and the small probes of a running server (its CPU and memory, a loopback client, a /train job)."""

import argparse
import os
import re
import time
from pathlib import Path

import numpy as np

from ..readme import publish

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


def sample_drawing() -> np.ndarray:
    """A pad-sized RGBA canvas with a 7 on it, like a visitor's drawing."""
    page = np.full((280, 280, 4), 255, np.uint8)
    page[60:80, 70:210, :3] = 0
    for row in range(80, 230):
        col = int(200 - (row - 80) * 0.6)
        page[row, col - 10:col + 10, :3] = 0
    return page


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def loopback_client(url: str):
    """A gradio_client for a plain-http loopback URL, set up not to spend the shared CPU on what it cannot use.

    With the defaults, gradio_client builds a TLS context (reading the CA bundle) and scans the environment for
    proxies on each of the three HTTP calls of a request; that was half the client's CPU, and here the clients
    share the server's two cores. Nothing is verified or proxied on loopback either way.
    """
    from gradio_client import Client
    return Client(url, verbose=False, ssl_verify=False, httpx_kwargs={"trust_env": False})


def run_started(job) -> bool:
    """Whether a /train job's run has begun: past its waiting messages, a report of the run itself."""
    return any("Training <b>" in update[0] or "Done after" in update[0] for update in job.outputs())
