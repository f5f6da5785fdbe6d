"""The Train tab in the visitors' pages: a class pressing Train at once, and what a run in a page reaches.

    python -m ae.bench.train_page --out checkpoints/train-page.json   # writes the tables in docs/speed.md, README

What it measures, on the committed code, in headless Chromium, on the machine it runs on:
- `goals`: one page trains linear for 30 s and conv for 60 s with our recipe (the test MSE on the 1,000-digit
  slice each reaches, against PAGE_TRAIN_GOALS);
- `class`: `visitors` press Train within `spread_s` seconds. Each trains on their own computer, so what they
  share is the server, which sends each page the training files once: one visitor is a page in Chromium, the
  others are scripted to download what a page downloads, at their moment. For the page: the time from its press
  until its run began (its first report: the files fetched, the runtime started), the budget it got, and, while
  its run trains, each stroke in its Draw tab; for the server: the requests it received, the training events
  (none) and its CPU.
"""

import json
import threading
import time
from pathlib import Path

from ..readme import splice
from .browser import DRAW_PANELS, SEVEN, Visitor, launch, received_bytes, served_app
from .common import README, cpu_seconds, percentiles, publish_scenario, scenario_main

RESULTS = Path(__file__).resolve().parents[2] / "checkpoints" / "train-page.json"
PAGE_TRAIN_GOALS = {"linear": (30, 0.011), "conv": (60, 0.012)}  # our recipe: seconds, then test MSE on the slice
START_GOAL_S = 2.0  # every visitor's run begins within this of their press
STROKE_GOALS_MS = (30, 60)  # p50, p95 of a stroke while that page trains


def open_train_tab(visitor: Visitor, budget_s: int, model: str = "linear") -> None:
    page = visitor.page
    page.get_by_role("tab", name="Train").click()
    page.wait_for_function("window.aeStudio?.trainer?.config()", timeout=120_000)
    page.locator(f"#train-model input[value={model}]").check()
    page.locator("#budget input[type=number]").fill(str(budget_s))
    page.locator("#budget input[type=number]").press("Enter")


def page_goals(url: str) -> dict:
    """What a run of our recipe reaches in a page, for each model with a goal."""
    from playwright.sync_api import sync_playwright
    results = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        visitor = Visitor(browser, url)
        visitor.page.get_by_role("tab", name="Train").click()
        visitor.page.wait_for_function("window.aeStudio?.trainer?.config()", timeout=120_000)
        for name, (seconds, goal) in PAGE_TRAIN_GOALS.items():
            report = visitor.page.evaluate("async ([name, ms]) => (await aeStudio.trainer.runAlone(name, 'ours', "
                                           "{budgetMs: ms})).report", [name, seconds * 1000])
            results[name] = {"seconds": seconds, "steps": report["step"], "test_mse": round(report["testMse"], 5),
                             "goal": goal, "met": report["testMse"] <= goal}
        browser.close()
    return results


def training_files(url: str) -> list[str]:
    """What a page downloads from the server to train the linear model with our recipe: the worker, the runtime and
    the training files (train.js's and train_worker.js's URLs)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = launch(playwright)
        visitor = Visitor(browser, url)
        open_train_tab(visitor, 5)
        asked = len(visitor.requests)
        visitor.page.locator("#train").click()
        visitor.page.wait_for_function("!!aeStudio.trainer.latest.linear", timeout=120_000)
        files = [address for address in dict.fromkeys(visitor.requests[asked:]) if "/models/" not in address]
        browser.close()
    return files


def downloading_visitor(files: list[str], delay_s: float, tally: dict, lock) -> None:
    """A visitor without a browser who presses Train after `delay_s`: their page downloads the training files,
    once, and then trains on their own computer, asking the server nothing more."""
    time.sleep(delay_s)
    loaded = sum(received_bytes(address) for address in files)
    with lock:
        tally["requests"] += len(files)
        tally["bytes"] += loaded


def class_trains(url: str, pid: int, visitors: int = 30, budget_s: int = 30, spread_s: float = 10) -> dict:
    """`visitors` press Train within `spread_s` s. One is a page in Chromium, pressing in the middle of the
    window, which then draws in its Draw tab while its run trains; the others are scripted: each downloads what a
    page downloads to train (their training itself runs on their own computers, not this one's)."""
    from playwright.sync_api import sync_playwright
    files = training_files(url)
    tally, lock = {"requests": 0, "bytes": 0}, threading.Lock()
    slots = [k * spread_s / visitors for k in range(visitors)]
    own_slot = slots.pop(visitors // 2)
    threads = [threading.Thread(target=downloading_visitor, args=(files, slot, tally, lock)) for slot in slots]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        visitor = Visitor(browser, url)
        open_train_tab(visitor, budget_s)
        asked, cpu_before, began = len(visitor.requests), cpu_seconds(pid), time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, began + own_slot - time.perf_counter()))
        visitor.page.locator("#train").click()
        visitor.page.wait_for_function("!!aeStudio.trainer.runs['linear|ours'].startedAt", timeout=120_000)
        visitor.page.get_by_role("tab", name="Draw").click()
        strokes = []
        while visitor.page.evaluate("!aeStudio.trainer.latest.linear"):  # its own run still trains
            visitor.page.locator('#sketch [data-action="clear"]').click()
            visitor.page.wait_for_function("aeStudio.last.clean === null && !aeStudio.busy()")
            strokes.append(visitor.timed(lambda: visitor.stroke(SEVEN), DRAW_PANELS))
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        cpu = cpu_seconds(pid) - cpu_before
        run = visitor.page.evaluate("""(() => { const run = aeStudio.trainer.latest.linear, last = run.reports.at(-1);
            return {start_s: (run.startedAt - run.pressedAt) / 1000, budget_s: run.budgetS, seconds: last.seconds,
                    engine: aeStudio.trainer.engine, test_mse: last.testMse}; })()""")
        during = visitor.requests[asked:]
        events = [address for address in during if "/gradio_api/queue/" in address or "/run/" in address]
        errors = visitor.errors
        browser.close()
    return {"visitors": visitors, "budget_s": budget_s, "spread_s": spread_s, "pressed_at_s": round(own_slot, 1),
            "trained_in": run["engine"], "start_s": round(run["start_s"], 2), "start_goal_s": START_GOAL_S,
            "full_budget": run["budget_s"] == budget_s and run["seconds"] >= budget_s,
            "test_mse": round(run["test_mse"], 4), "server_requests": len(during) + tally["requests"],
            "server_mb": round(tally["bytes"] / 1e6, 1), "server_events": len(events),
            "server_cpu_percent": round(100 * cpu / elapsed, 1), "seconds": round(elapsed, 1),
            "strokes_while_training": {**percentiles([ms / 1000 for ms in strokes]), "n": len(strokes),
                                       "goal_ms": STROKE_GOALS_MS},
            "page_errors": errors[:3]}


DIGIT_COUNTS = (10_000, 20_000, 60_000)


def digit_counts(steps: int, counts: tuple[int, ...] = DIGIT_COUNTS) -> dict:
    """What the number of training digits the page gets buys: the linear model, our recipe, `steps` steps (as many
    as its 30 s page run made) on the first N of MNIST's training digits, drawn as the page draws its batches and
    replayed in PyTorch (ae.step.replay); its test MSE on the page's test slice, and the digits' gzipped size."""
    import gzip

    from safetensors.torch import load_file

    from ..data import load_mnist_bytes
    from ..export_training import TRAIN_DIR, TRAIN_MANIFEST, evaluation_digits, page_test_mse
    from ..models import build
    from ..step import replay, step_recipe
    training = load_mnist_bytes(train=True)[0].numpy().reshape(-1, 784)
    start = load_file(TRAIN_DIR / json.loads(TRAIN_MANIFEST.read_text())["models"]["linear"]["start"]["file"])
    results = {}
    for count in counts:
        _, weights, _ = replay(step_recipe("linear", "ours"), start, training[:count], steps)
        model = build("linear")
        model.load_state_dict(weights)
        results[str(count)] = {"test_mse": round(page_test_mse(model, evaluation_digits(), noisy=False), 5),
                               "gzipped_mb": round(len(gzip.compress(training[:count].tobytes(), 9)) / 1e6, 2)}
    return {"model": "linear", "steps": steps, "by_count": results}


def train_page_scenario(url: str, pid: int, visitors: int) -> dict:
    goals = page_goals(url)
    return {"goals": goals, "class": class_trains(url, pid, visitors),
            "digits": digit_counts(goals["linear"]["steps"])}


def goal(met: bool) -> str:
    return "met" if met else "**missed**"


def table(results: dict) -> str:
    """The scenario's results as the Markdown table docs/speed.md quotes."""
    goals, crowd = results["goals"], results["class"]
    rows = [f"| {name}, our recipe, {g['seconds']} s in a page: test MSE (1,000 digits) | {g['test_mse']:.4f} "
            f"({g['steps']:,} steps) | ≤ {g['goal']} ({goal(g['met'])}) |" for name, g in goals.items()]
    strokes, (p50_goal, p95_goal) = crowd["strokes_while_training"], crowd["strokes_while_training"]["goal_ms"]
    rows += [
        f"| {crowd['visitors']} visitors press Train ({crowd['budget_s']} s) within {crowd['spread_s']:g} s: the "
        f"page's run begins after | {crowd['start_s']:.1f} s | ≤ {crowd['start_goal_s']:g} s "
        f"({goal(crowd['start_s'] <= crowd['start_goal_s'])}) |",
        f"| ... with the budget asked for; its test MSE | {'yes' if crowd['full_budget'] else '**no**'}; "
        f"{crowd['test_mse']:.4f} | full budget ({goal(crowd['full_budget'])}) |",
        f"| a stroke in the Draw tab while that page trains (p50, p95 of {strokes['n']}) | {strokes['p50_ms']:.0f} "
        f"ms, {strokes['p95_ms']:.0f} ms | ≤ {p50_goal} ms, ≤ {p95_goal} ms "
        f"({goal(strokes['p50_ms'] <= p50_goal and strokes['p95_ms'] <= p95_goal)}) |",
        f"| the server meanwhile: requests (files), MB sent, training events, CPU | {crowd['server_requests']}, "
        f"{crowd['server_mb']:g}, {crowd['server_events']}, {crowd['server_cpu_percent']:.0f}% | no training event "
        f"({goal(crowd['server_events'] == 0)}) |"]
    digits = results["digits"]
    rows.append(f"| the training digits the page gets, and the {digits['model']} model's test MSE after the same "
                f"{digits['steps']:,} steps (PyTorch, the page's batches) | "
                + "; ".join(f"{int(count):,} digits ({entry['gzipped_mb']:g} MB): {entry['test_mse']:.4f}"
                            for count, entry in digits["by_count"].items()) + " | |")
    return ("| what | measured | goal |\n|---|---|---|\n" + "\n".join(rows)
            + f"\n\nMeasured by `python -m ae.bench.train_page` {results['measured_on']}.\n")


def summary(results: dict) -> str:
    """The README's line on the scenario (docs/speed.md has the table)."""
    goals, crowd = results["goals"], results["class"]
    reached = ", ".join(f"{name} {g['test_mse']:.4f} in {g['seconds']} s" for name, g in goals.items())
    return (f"Measured by `python -m ae.bench.train_page` {results['measured_on']}: among {crowd['visitors']} visitors "
            f"pressing Train within {crowd['spread_s']:g} s, a page's run began {crowd['start_s']:.1f} s after its "
            f"press, with its whole budget, while the server answered {crowd['server_events']} training events; a "
            f"run in a page reaches a test MSE of {reached} (docs/speed.md).\n")


def measure(visitors: int, out: Path = RESULTS) -> dict:
    """The scenario on a freshly served app; writes `out`, and the tables where `out` is the committed results."""
    with served_app() as (url, _, process):
        results = train_page_scenario(url, process.pid, visitors)
    publish_scenario(results, out, RESULTS, "train-page", table)
    if out == RESULTS:  # not for a quick look
        splice(README, "train-page", summary(results))
    return results


def main():
    scenario_main(__doc__, RESULTS, ("--visitors", 30, "visitors pressing Train within 10 s"), measure)


if __name__ == "__main__":
    main()
