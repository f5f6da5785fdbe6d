"""The Train tab in the visitors' pages: a class pressing Train at once, and what a run in a page reaches.

    python -m ae.bench.train_page --out checkpoints/train-page.json   # writes the tables in docs/speed.md, README

What it measures, on the committed code, in headless Chromium on this machine:
- `goals`: one page trains linear for 30 s and conv for 60 s with our recipe (the test MSE on the 1,000-digit
  slice each reaches, against PAGE_TRAIN_GOALS);
- `class`: `visitors` pages, each a visitor of its own (its own browser context: nothing cached between them),
  press Train within `spread_s` seconds; for each, the time from the press until its run began (its first
  report: the files fetched, the runtime started) and the budget it got; the requests the server received
  meanwhile and its CPU; and one of them, while its own run trains, draws in its Draw tab (each stroke timed).
"""

import argparse
import os
import time
from pathlib import Path

from ..readme import publish, splice
from . import README, SPEED_PAGE, cpu_seconds, percentiles
from .browser import DRAW_PANELS, SEVEN, Visitor, launch, served_app

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


def class_trains(url: str, pid: int, visitors: int = 30, budget_s: int = 30, spread_s: float = 10) -> dict:
    """`visitors` pages press Train within `spread_s` s; the first of them then draws while its run trains."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = launch(playwright)
        pages = [Visitor(browser, url) for _ in range(visitors)]
        for visitor in pages:
            open_train_tab(visitor, budget_s)
        asked = [len(visitor.requests) for visitor in pages]
        cpu_before, began = cpu_seconds(pid), time.perf_counter()
        for k, visitor in enumerate(pages):  # evenly spread presses
            time.sleep(max(0.0, began + k * spread_s / visitors - time.perf_counter()))
            visitor.page.locator("#train").click()
        drawer = pages[0]
        drawer.page.get_by_role("tab", name="Draw").click()
        strokes = []
        while drawer.page.evaluate("!aeStudio.trainer.latest.linear"):  # its own run still trains
            drawer.page.locator('#sketch [data-action="clear"]').click()
            drawer.page.wait_for_function("aeStudio.last.clean === null && !aeStudio.busy()")
            strokes.append(drawer.timed(lambda: drawer.stroke(SEVEN), DRAW_PANELS))
        for visitor in pages:
            visitor.page.wait_for_function("!!aeStudio.trainer.latest.linear", timeout=(budget_s + 120) * 1000)
        elapsed = time.perf_counter() - began
        cpu = cpu_seconds(pid) - cpu_before
        runs = [visitor.page.evaluate("""(() => { const run = aeStudio.trainer.latest.linear;
            return {start_s: (run.startedAt - run.pressedAt) / 1000, budget_s: run.budgetS,
                    seconds: run.reports[run.reports.length - 1].seconds, engine: aeStudio.trainer.engine,
                    test_mse: run.reports[run.reports.length - 1].testMse}; })()""") for visitor in pages]
        during = [url_ for visitor, first in zip(pages, asked) for url_ in visitor.requests[first:]]
        events = [address for address in during if "/gradio_api/queue/" in address or "/run/" in address]
        errors = [error for visitor in pages for error in visitor.errors]
        browser.close()
    starts, losses = sorted(run["start_s"] for run in runs), sorted(run["test_mse"] for run in runs)
    return {"visitors": visitors, "budget_s": budget_s, "spread_s": spread_s,
            "trained_in": sorted({run["engine"] for run in runs}),
            "start_s": {"p50": round(starts[len(starts) // 2], 2), "max": round(starts[-1], 2)},
            "start_goal_s": START_GOAL_S, "full_budget": all(run["budget_s"] == budget_s for run in runs),
            "test_mse": {"p50": round(losses[len(losses) // 2], 4), "worst": round(losses[-1], 4)},
            "server_requests": len(during), "server_events": len(events),
            "server_cpu_percent": round(100 * cpu / elapsed, 1), "seconds": round(elapsed, 1),
            "strokes_while_training": {**percentiles([ms / 1000 for ms in strokes]), "n": len(strokes),
                                       "goal_ms": STROKE_GOALS_MS},
            "page_errors": errors[:3]}


def train_page_scenario(url: str, pid: int, visitors: int) -> dict:
    return {"goals": page_goals(url), "class": class_trains(url, pid, visitors)}


def goal(met: bool) -> str:
    return "met" if met else "**missed**"


def table(results: dict) -> str:
    """The scenario's results as the Markdown table docs/speed.md and the README quote."""
    goals, crowd = results["goals"], results["class"]
    rows = [f"| {name}, our recipe, {g['seconds']} s in a page: test MSE (1,000 digits) | {g['test_mse']:.4f} "
            f"({g['steps']:,} steps) | ≤ {g['goal']} ({goal(g['met'])}) |" for name, g in goals.items()]
    strokes, (p50_goal, p95_goal) = crowd["strokes_while_training"], crowd["strokes_while_training"]["goal_ms"]
    rows += [
        f"| {crowd['visitors']} visitors press Train ({crowd['budget_s']} s) within {crowd['spread_s']:g} s: their "
        f"runs begin after (p50, worst) | {crowd['start_s']['p50']:.1f} s, {crowd['start_s']['max']:.1f} s | "
        f"≤ {crowd['start_goal_s']:g} s ({goal(crowd['start_s']['max'] <= crowd['start_goal_s'])}) |",
        f"| ... each with the budget asked for; their test MSE (p50, worst) | "
        f"{'yes' if crowd['full_budget'] else '**no**'}; {crowd['test_mse']['p50']:.4f}, "
        f"{crowd['test_mse']['worst']:.4f} | full budget ({goal(crowd['full_budget'])}) |",
        f"| a stroke in the Draw tab while that page trains (p50, p95) | {strokes['p50_ms']:.0f} ms, "
        f"{strokes['p95_ms']:.0f} ms | ≤ {p50_goal} ms, ≤ {p95_goal} ms "
        f"({goal(strokes['p50_ms'] <= p50_goal and strokes['p95_ms'] <= p95_goal)}) |",
        f"| the server meanwhile: requests (the files, once per visitor), training events, CPU | "
        f"{crowd['server_requests']}, {crowd['server_events']}, {crowd['server_cpu_percent']:.0f}% | no event "
        f"({goal(crowd['server_events'] == 0)}) |"]
    return ("| what | measured | goal |\n|---|---|---|\n" + "\n".join(rows)
            + f"\n\nMeasured by `python -m ae.bench.train_page` {results['measured_on']}.\n")


def summary(results: dict) -> str:
    """The README's line on the scenario (docs/speed.md has the table)."""
    goals, crowd = results["goals"], results["class"]
    reached = ", ".join(f"{name} {g['test_mse']:.4f} in {g['seconds']} s" for name, g in goals.items())
    return (f"Measured by `python -m ae.bench.train_page` {results['measured_on']}: {crowd['visitors']} visitors "
            f"pressing Train within {crowd['spread_s']:g} s each saw their run begin within "
            f"{crowd['start_s']['max']:.1f} s, with the whole budget, while the server answered "
            f"{crowd['server_events']} training events; a run in a page reaches a test MSE of {reached} "
            "(docs/speed.md).\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON file to write (default: {RESULTS})")
    parser.add_argument("--visitors", type=int, default=30, help="pages pressing Train within 10 s (default: 30)")
    args = parser.parse_args()
    with served_app() as (url, _, process):
        results = train_page_scenario(url, process.pid, args.visitors)
    results["measured_on"] = f"on {os.cpu_count()} CPU cores, {time.strftime('%Y-%m-%d')}, headless Chromium"
    publish(results, args.out, SPEED_PAGE, "train-page", table(results))
    if args.out == RESULTS:  # not for a quick look
        splice(README, "train-page", summary(results))


if __name__ == "__main__":
    main()
