"""The page as one visitor uses it, in headless Chromium: every action timed from its input event until the last
panel it changes is painted, a dragged slider, a moving pen and a pointer over the Latent tab's map; and the goals
each is held to."""

from pathlib import Path

from .browser import DRAW_PANELS, NOISE_PANELS, STROKES, questions, visiting
from .common import percentiles

LATENT_SWITCH_PANELS = ["#latent-map", "#manifold", "#slider-digit"]
# The Draw tab computes in the page: a stroke, a slider step, New noise and an example must be painted within
# 30 ms p50 and 60 ms p95, and so must the Latent tab's sliders; each step of a dragged noise slider, and the
# digit under a moving pointer, within 30 ms p95. A click on the map and a model switch still ask the server
# (p50 <= 250 ms, a switch 400 ms).
PAGE_ACTIONS = ("clear", "stroke", "noise_slider", "slider_drag", "new_noise", "example", "latent_slider")
GOALS_MS = {**{action: (30, 60) for action in PAGE_ACTIONS}, "slider_drag": (None, 30), "map_hover": (None, 30),
            "model_switch": (400, None)}
DEFAULT_GOAL_MS = (250, None)
LIVE_GOAL_PER_S = 20  # updates painted per second while the pen moves
PROBE_JS = (Path(__file__).parent / "probe.js").read_text()


def slider_drag(visitor, steps: int = 20, pause_ms: int = 60) -> list[float]:
    """Drag the noise slider's thumb across, as a hand does (a move every `pause_ms`); ms from each step of
    the slider until the update for its value was painted."""
    page = visitor.page
    box = page.locator("#amount input[type=range]").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 4, y)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(box["x"] + 4 + (box["width"] - 8) * k / steps, y)
        page.wait_for_timeout(pause_ms)
    page.mouse.up()
    page.wait_for_timeout(500)
    return [ms for ms in page.evaluate("aeSliderSteps()") if ms is not None]


def live_updates_per_s(visitor, seconds: float = 2.0, hz: int = 60) -> dict:
    """Updates the page paints per second while a pen moves for `seconds`, moving `hz` times a second. The moves
    are made in the page itself (pointer events on the pad, one per animation frame, as a pen sends them):
    driven from here, each move would cost a round trip and the pen would move at that pace instead."""
    page = visitor.page
    (x0, y0), = visitor.pad_points([(0.2, 0.5)])
    page.mouse.move(x0, y0)
    page.mouse.down()
    result = page.evaluate("""async ([seconds, hz]) => {
        const canvas = document.querySelector("#sketch canvas"), box = canvas.getBoundingClientRect();
        const start = performance.now(), moves = Math.round(seconds * hz);
        for (let k = 1; k <= moves; k++) {
          await new Promise((resolve) => setTimeout(resolve, 1000 / hz));
          canvas.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, pointerId: 1, pointerType: "mouse",
            clientX: box.left + box.width * (0.2 + 0.6 * k / moves),
            clientY: box.top + box.height * (0.5 + 0.3 * Math.sin(k / 9))}));
        }
        const end = performance.now();
        return {moves, seconds: (end - start) / 1000, painted: aePaintsBetween(start, end)};
    }""", [seconds, hz])
    page.mouse.up()
    return {"updates_per_s": round(result["painted"] / result["seconds"], 1),
            "moves_per_s": round(result["moves"] / result["seconds"], 1)}


def map_hover(visitor, moves: int = 60, hz: int = 60) -> list[float]:
    """ms from each pointer move over the Latent tab's map until the decoded digit under it is painted, `hz`
    moves a second along a wavy line, made in the page (as live_updates_per_s makes its pen's)."""
    return visitor.page.evaluate("""async ([moves, hz]) => {
        const image = document.querySelector("#latent-map img"), box = image.getBoundingClientRect(), times = [];
        for (let k = 0; k < moves; k++) {
          const painted = new Promise((resolve) => document.addEventListener("ae-studio-latent-painted",
            () => requestAnimationFrame(() => resolve(performance.now())), {once: true}));
          const start = performance.now();
          image.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, pointerId: 1, pointerType: "mouse",
            clientX: box.left + box.width * (0.2 + 0.5 * k / moves),
            clientY: box.top + box.height * (0.5 + 0.3 * Math.sin(k / 7))}));
          times.push(await painted - start);
          await new Promise((resolve) => setTimeout(resolve, 1000 / hz));
        }
        return times;
    }""", [moves, hz])


def browser_timings(url: str, repeats: int) -> dict[str, dict]:
    """Each page action `repeats` times in headless Chromium (1400x1000), as a visitor does it; ms from the
    input event until the last panel it changes is painted (ae.bench.browser.Visitor.timed). Also: the requests
    the Draw tab's actions sent to the server, a dragged noise slider's steps, and the updates per second that
    follow a moving pen."""
    samples: dict[str, list[float]] = {}
    note = lambda action, ms: samples.setdefault(action, []).append(ms)  # noqa: E731
    with visiting(url) as visitor:
        page = visitor.page
        page.evaluate(PROBE_JS)
        ready_ms = page.evaluate("aeStudio.readyMs")
        asked = len(visitor.requests)
        for index in range(repeats):
            note("clear", visitor.timed(lambda: page.locator('#sketch [data-action="clear"]').click(), DRAW_PANELS))
            note("stroke", visitor.timed(lambda: visitor.stroke(STROKES[index % 3]), DRAW_PANELS))
            page.locator("#amount input[type=range]").focus()
            note("noise_slider", visitor.timed(lambda: page.keyboard.press(("ArrowRight", "ArrowLeft")[index % 2]),
                                               NOISE_PANELS))
            note("new_noise", visitor.timed(lambda: page.locator("#new-noise").click(), NOISE_PANELS))
            note("example", visitor.timed(lambda: page.locator("#examples button").nth(index % 10).click(),
                                          DRAW_PANELS))
        draw_requests = len(questions(visitor.requests[asked:]))
        for ms in slider_drag(visitor):
            note("slider_drag", ms)
        live = live_updates_per_s(visitor)
        page.get_by_role("tab", name="Latent space").click()
        page.locator("#latent-map img").wait_for()
        page.wait_for_function("aeStudio.latent.model() && aeStudio.latent.engine === 'page'")
        models = page.locator("#latent-model input[type=radio]")
        asked = len(visitor.requests)
        for ms in map_hover(visitor):
            note("map_hover", ms)
        latent_requests = len(questions(visitor.requests[asked:]))
        for index in range(repeats):
            box = page.locator("#latent-map img").bounding_box()
            spot = (box["x"] + box["width"] * (0.25 + 0.04 * (index % 10)), box["y"] + box["height"] * 0.45)
            note("latent_click", visitor.timed(lambda: page.mouse.click(*spot), ["#lens-digit", "#neighbours"]))
            page.locator("#pc-1 input[type=range]").focus()
            note("latent_slider", visitor.timed(lambda: page.keyboard.press(("PageUp", "PageDown")[index % 2]),
                                                ["#slider-digit"]))
            switch = lambda: models.nth((index + 1) % models.count()).check()  # each a switch
            note("model_switch", visitor.timed(switch,
                                               LATENT_SWITCH_PANELS))
    return {"actions": {action: {**percentiles([ms / 1000 for ms in values]), "n": len(values)}
                        for action, values in samples.items()},
            "draw_requests": draw_requests, "draw_actions": 5 * repeats, "live": live,
            "map_hover_requests": latent_requests,
            "models_ready_ms": round(ready_ms)}


def goal_text(action: str, timing: dict) -> str:
    p50_goal, p95_goal = GOALS_MS.get(action, DEFAULT_GOAL_MS)
    met = (p50_goal is None or timing["p50_ms"] <= p50_goal) and (p95_goal is None or timing["p95_ms"] <= p95_goal)
    goal = ", ".join(f"{name} ≤ {ms} ms" for name, ms in (("p50", p50_goal), ("p95", p95_goal)) if ms)
    return f"{goal} ({'met' if met else '**missed**'})"
