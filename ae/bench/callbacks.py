"""The server's side alone: each callback timed as the server calls it (no network, no Gradio), and the Train
tab's goals run as the tab runs them."""

import time

from ..models import MODELS
from .common import percentiles, sample_drawing


def time_calls(call, repeats: int) -> dict[str, float]:
    call()  # warm-up: caches, lazy loads
    samples = []
    for index in range(repeats):
        start = time.perf_counter()
        call(index)
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def callback_latencies(repeats: int) -> dict[str, dict[str, float]]:
    """Server-side time of each callback, called as the server calls it (no network, no Gradio)."""
    from ..web import draw_tab, latent_tab
    sketch = sample_drawing()
    choices = latent_tab.sample_choices()
    latent_tab.switch_model("conv", sketch)  # first render of the conv map, outside the timing
    for name in MODELS:
        latent_tab.map_picture(name)
    return {
        "draw_update": time_calls(lambda i=0: draw_tab.draw_update(sketch, "gaussian", 0.3, i), repeats),
        "noise_change": time_calls(lambda i=0: draw_tab.draw_update(sketch, "salt_pepper", (i % 20) / 20, 0), repeats),
        "click_to_decode": time_calls(lambda i=0: latent_tab.decode_at("conv", (i % 9) - 4.0, 2.0), repeats),
        "slider_move": time_calls(lambda i=0: latent_tab.decode_sliders("conv", sketch, i % 7, 0, 0, 0, 0, 0), repeats),
        "interpolate": time_calls(lambda i=0: latent_tab.interpolate(latent_tab.MY_DRAWING, choices[i % 10], sketch),
                                  repeats // 4),
        "switch_model": time_calls(lambda i=0: latent_tab.switch_model(list(MODELS)[i % len(MODELS)], sketch), repeats),
    }


TRAIN_GOALS = {"linear": (30, 0.015), "conv": (60, 0.020)}  # our recipe: seconds, then test MSE on the slice


def training_goals() -> dict:
    """The Train tab's goals, run here as the tab runs them (one thread, our recipe): the test MSE each model
    reaches on the 1,000-digit slice in its time."""
    from ..web.train_runs import train_steps
    results = {}
    for name, (seconds, goal) in TRAIN_GOALS.items():
        last = list(train_steps(name, "ours", seconds))[-1]
        results[name] = {"seconds": seconds, "steps": last.step, "test_mse": round(last.test_mse, 5), "goal": goal}
    return results
