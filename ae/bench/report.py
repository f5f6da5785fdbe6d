"""The benchmark's tables: docs/speed.md's (readme_table) and the README's summary (readme_summary)."""

from ..models import MODELS
from .classroom import TRAIN_QUEUE_GOALS
from .page import LIVE_GOAL_PER_S, goal_text

API_GOAL_P95_MS = 1000  # /draw with the most API clients at once


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
