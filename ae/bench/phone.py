"""The page on a phone: a stroke on a phone-class CPU, and a first visit over a 4G network.

    python -m ae.bench.phone                 # writes checkpoints/phone.json and its table in docs/speed.md

Headless Chromium on the machine it runs on, as Lighthouse's mobile profile measures a page: the CPU slowed
4x and 6x by the DevTools protocol (Emulation.setCPUThrottlingRate), a 412x915 touch screen, and for the first
visit a 4G-like network (9 Mbps down, 1.5 Mbps up, 150 ms round trip) with an empty cache. The desktop, unslowed,
is measured in the same run beside them. For each: a finger stroke until the five outputs are painted, and until
every panel is (the noise sweep included); each step of a dragged noise slider; each move of a pointer over the
Latent tab's map until the digit under it is painted.
"""

from pathlib import Path

from ..web.draw_tab import MODEL_NAMES
from .browser import DESKTOP, DRAW_PANELS, STROKES, Visitor, launch, served_app
from .common import percentiles, publish_scenario, scenario_main
from .page import PROBE_JS, map_hover, slider_drag

RESULTS = Path(__file__).resolve().parents[2] / "checkpoints" / "phone.json"
PHONE = {"viewport": {"width": 412, "height": 915}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2.6}
OUTPUT_PANELS = [f"#out-{name}" for name in MODEL_NAMES]
NETWORK_4G = {"offline": False, "latency": 150, "downloadThroughput": 9e6 / 8, "uploadThroughput": 1.5e6 / 8}
GOALS_MS = {"outputs": (35, 70), "every_panel": (None, 150), "slider_step": (None, 35),  # 4x: p50, p95
            "map_hover": (None, 35)}
FIRST_VISIT_GOALS = {"first_output_s": 5, "all_outputs_s": 7, "megabytes": 5}
# When the page first paints outputs it computed itself, and when all five (ms since navigation).
OWN_OUTPUTS_JS = """window.aeOwnOutputs = {};
document.addEventListener("ae-studio-painted", ({detail}) => {
  if (detail.source !== "page") return;
  const count = Object.keys(detail.outputs).length, now = performance.now();
  if (count > 0) window.aeOwnOutputs.first ??= now;
  if (count === %d) window.aeOwnOutputs.all ??= now;
});""" % len(MODEL_NAMES)


def strokes(visitor: Visitor, panels: list[str], repeats: int, touch: bool) -> dict:
    """Each stroke on a cleared pad, timed until every panel in `panels` is painted."""
    samples = []
    for k in range(repeats):
        visitor.page.locator('#sketch [data-action="clear"]').click()
        visitor.page.wait_for_function("aeStudio.last.clean === null && !aeStudio.busy()")
        draw = visitor.touch_stroke if touch else visitor.stroke
        samples.append(visitor.timed(lambda: draw(STROKES[k % len(STROKES)]), panels))
    return {**percentiles([ms / 1000 for ms in samples]), "n": len(samples)}


def on_a_cpu(browser, url: str, rate: float, device: dict, repeats: int) -> dict:
    """The page with its CPU slowed `rate` times: strokes until the outputs, until every panel; slider steps."""
    visitor = Visitor(browser, url, device)
    try:
        visitor.page.wait_for_function("aeStudio.engine === 'page'", timeout=120_000)
        touch = device is not DESKTOP
        strokes(visitor, DRAW_PANELS, 1, touch)  # the page's own warm-up
        cdp = visitor.context.new_cdp_session(visitor.page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        result = {"rate": rate, "outputs": strokes(visitor, OUTPUT_PANELS, repeats, touch),
                  "every_panel": strokes(visitor, DRAW_PANELS, repeats, touch)}
        visitor.page.evaluate(PROBE_JS)
        visitor.page.locator("#amount input[type=range]").evaluate("slider => slider.scrollIntoView({block: 'center'})")
        result["slider_step"] = percentiles([ms / 1000 for ms in slider_drag(visitor)])
        visitor.page.get_by_role("tab", name="Latent space").click()
        visitor.page.locator("#latent-map img").wait_for(timeout=120_000)
        visitor.page.wait_for_function("aeStudio.latent.model() && aeStudio.latent.engine === 'page'", timeout=120_000)
        result["map_hover"] = percentiles([ms / 1000 for ms in map_hover(visitor)])
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        return {**result, "page_errors": visitor.errors[:3]}
    finally:
        visitor.close()


def first_visit(browser, url: str) -> dict:
    """A phone's first visit over 4G, cache empty, a finger stroke drawn as soon as the pad takes it: seconds from
    navigation until the page paints outputs it computed itself, the first ones and all five, and the bytes
    transferred before the first, by kind of file."""
    visitor = Visitor(browser, url, PHONE, network=NETWORK_4G)
    try:
        visitor.page.evaluate(OWN_OUTPUTS_JS)
        visitor.touch_stroke(STROKES[0])
        visitor.page.wait_for_function("window.aeOwnOutputs.all !== undefined", timeout=300_000, polling=50)
        times = visitor.page.evaluate("window.aeOwnOutputs")
        kinds = {}
        for at, address, size in visitor.received:
            if at * 1000 <= times["first"]:
                kind = ("models" if "/static/models/" in address else "runtime" if "/static/ort/" in address else
                        "page's files" if "/ae/web/static/" in address else "Gradio" if "/assets/" in address else
                        "other")
                kinds[kind] = kinds.get(kind, 0) + size
        return {"first_output_s": round(times["first"] / 1000, 1), "all_outputs_s": round(times["all"] / 1000, 1),
                "megabytes": round(sum(kinds.values()) / 1e6, 2),
                "by_kind_mb": {kind: round(size / 1e6, 2) for kind, size in sorted(kinds.items())},
                "page_errors": visitor.errors[:3]}
    finally:
        visitor.close()


def measure(url: str, repeats: int) -> dict:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = launch(playwright)
        results = {"desktop": on_a_cpu(browser, url, 1, DESKTOP, repeats),
                   "phone_4x": on_a_cpu(browser, url, 4, PHONE, repeats),
                   "phone_6x": on_a_cpu(browser, url, 6, PHONE, repeats),
                   "first_visit_4g": first_visit(browser, url)}
        browser.close()
    return results


def goal_text(value: float, goal: float | None, unit: str = "ms") -> str:
    """`value` and its unit, with the goal where there is one: "127 ms (≤ 35 ms: **missed**)"."""
    verdict = "" if goal is None else f" (≤ {goal} {unit}: {'met' if value <= goal else '**missed**'})"
    return f"{value:g} {unit}{verdict}"


def table(results: dict) -> str:
    """The Markdown table docs/speed.md quotes."""
    lines = ["| what | desktop | phone CPU 4× | phone CPU 6× |", "|---|---:|---:|---:|"]
    for key, label in (("outputs", "a stroke until the five outputs are painted"),
                       ("every_panel", "a stroke until every panel is (the noise sweep too)"),
                       ("slider_step", "each step of a dragged noise slider"),
                       ("map_hover", "the Latent tab's digit under a moving pointer, each move")):
        cells = []
        for device in ("desktop", "phone_4x", "phone_6x"):
            timing = results[device][key]
            p50_goal, p95_goal = GOALS_MS[key] if device == "phone_4x" else (None, None)
            cells.append(f"{goal_text(round(timing['p50_ms']), p50_goal)} / "
                         f"{goal_text(round(timing['p95_ms']), p95_goal)}")
        lines.append(f"| {label} (p50 / p95) | " + " | ".join(cells) + " |")
    visit = results["first_visit_4g"]
    kinds = ", ".join(f"{kind} {size:g} MB" for kind, size in visit["by_kind_mb"].items())
    return ("\n".join(lines) + f"\n\nA phone's first visit over 4G (9 Mbps, 150 ms round trip), cache empty, a stroke "
            f"drawn as soon as the pad takes it: the page paints outputs it computed itself "
            f"{goal_text(visit['first_output_s'], FIRST_VISIT_GOALS['first_output_s'], 's')} after navigation, all "
            f"five {goal_text(visit['all_outputs_s'], FIRST_VISIT_GOALS['all_outputs_s'], 's')}, having transferred "
            f"{goal_text(visit['megabytes'], FIRST_VISIT_GOALS['megabytes'], 'MB')} before the first ({kinds}). "
            f"Measured by `python -m ae.bench.phone` {results['measured_on']}.\n")


def measure_and_publish(repeats: int, out: Path = RESULTS) -> dict:
    """The scenario on a freshly served app; writes `out`, and the table where `out` is the committed results."""
    with served_app() as (url, _, _):
        results = measure(url, repeats)
    publish_scenario(results, out, RESULTS, "phone", table)
    return results


def main():
    scenario_main(__doc__, RESULTS, ("--repeats", 12, "strokes timed per device and measure"), measure_and_publish)


if __name__ == "__main__":
    main()
