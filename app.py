"""ae-studio: draw a digit, add noise, and watch four MNIST autoencoders reconstruct it side by side.

Layout and wiring only; every callback lives in `ae/` as a plain function (see ae/demo.py).
Runs as it is on Hugging Face Spaces; locally, `python app.py` and open http://127.0.0.1:7860.
"""

import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves the machine at start
# Gradio summarises its queue statistics with pandas after every event by default (over up to 10,000
# past events): under load that costs more than drawing the digits. Every 1,000 events is plenty.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
# Two events of a kind at a time: `python -m ae.bench` compares 1, 2 and 4 on two cores (README, "Speed").
# More do not run faster: Gradio's own work per event holds the interpreter lock.
os.environ.setdefault("GRADIO_DEFAULT_CONCURRENCY_LIMIT", "2")

import gradio as gr  # noqa: E402

from ae import demo, latent  # noqa: E402
from ae.checkpoints import CheckpointError  # noqa: E402
from ae.models import MODELS  # noqa: E402

demo.limit_malloc_arenas()
demo.write_gradio_cache_atomically()
try:
    demo.pretrained()
except CheckpointError as err:
    sys.exit(f"ae-studio cannot start: {err}")

SELECT_BRUSH_JS = """
() => {
  // Gradio's Sketchpad opens with no tool selected, and drops the tool again when cleared, showing
  // "select the draw tool to start". Pick the brush whenever that happens, so a visitor can just draw.
  const ensureBrush = () => {
    const pad = document.getElementById("sketch");
    if (pad && pad.innerText.includes("select the draw tool")) {
      pad.querySelector('button[aria-label="Brush"]')?.click();
    }
  };
  new MutationObserver(ensureBrush).observe(document.body, {childList: true, subtree: true});
  ensureBrush();
}
"""
CSS = """
.pixel img { image-rendering: pixelated; width: 100%; height: 100%; object-fit: contain; }
.blurb { font-size: 0.85em; opacity: 0.85; }
"""
DIGIT_HEIGHT = 200  # pixels on the page for a 28x28 image


def digit_image(label: str, elem_id: str | None = None, height: int = DIGIT_HEIGHT) -> gr.Image:
    """28x28 digits shown large, each pixel a crisp square (see CSS), sent inline with the event's answer."""
    return demo.send_inline(gr.Image(format="png", label=label, elem_id=elem_id, elem_classes="pixel",
                                     height=height, interactive=False, buttons=[]))


with gr.Blocks(title="ae-studio: MNIST autoencoders") as app:
    gr.Markdown("# ae-studio\nDraw a digit and see what four autoencoders trained on MNIST make of it. "
                "Each squeezes the 784 pixels through a small code and redraws the digit from that code alone.")
    with gr.Tab("Draw"):
        with gr.Row():
            with gr.Column(scale=2):
                sketch = gr.Sketchpad(
                    elem_id="sketch", label="Sketch pad: draw one digit", canvas_size=(280, 280),
                    fixed_canvas=True, layers=False, transforms=None, image_mode="RGBA",
                    brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),
                    eraser=gr.Eraser(default_size=16), buttons=[])
                gr.Markdown("Draw large and centred, like on paper; the models see a 28×28 version.",
                            elem_classes="blurb")
            with gr.Column(scale=3):
                status = gr.Markdown(demo.EMPTY_PROMPT, elem_id="status")
                with gr.Row():
                    noise_kind = gr.Radio([(label, kind) for kind, label in demo.NOISE_LABELS.items()],
                                          value="gaussian", label="Noise type")
                    amount = gr.Slider(0, 1, value=0.3, step=0.05, label="Noise amount", elem_id="amount")
                with gr.Row():
                    seed = gr.Number(value=0, precision=0, label="Noise seed", minimum=0)
                    reseed = gr.Button("🎲 New noise")
                with gr.Row():
                    with gr.Column(min_width=120):
                        preview = digit_image("What the models see (28×28)", "preview")
                        gr.Markdown("Your ink, cropped, scaled to fit 20×20 and centred by mass in 28×28, "
                                    "as MNIST's own digits were made.", elem_classes="blurb")
                    with gr.Column(min_width=120):
                        noisy = digit_image("Noisy input (fed to every model)", "noisy")
                        gr.Markdown("The same corrupted copy goes to all four models; the seed fixes it.",
                                    elem_classes="blurb")
        gr.Markdown("### What each model redraws (scores compare its output with your clean digit)")
        outputs, metrics = {}, {}
        with gr.Row():
            for name, model in MODELS.items():
                with gr.Column(min_width=150):
                    outputs[name] = digit_image(model.title, f"out-{name}")
                    metrics[name] = gr.Markdown(elem_id=f"metrics-{name}")
                    gr.Markdown(model.blurb, elem_classes="blurb")
        with gr.Accordion("Error maps: where each output differs from your clean digit", open=False):
            error_maps = digit_image("Left to right: " + " · ".join(model.title for model in MODELS.values()),
                                     "error-maps")
            gr.Markdown("Black: the output matches your digit there; yellow: off by the whole range.",
                        elem_classes="blurb")
        sweep = gr.LinePlot(x=demo.SWEEP_COLUMNS[0], y=demo.SWEEP_COLUMNS[1], color=demo.SWEEP_COLUMNS[2],
                            color_map=demo.SWEEP_COLOURS, x_lim=[0, 1], elem_id="sweep",
                            label="Noise sweep: each model's error on your digit as the noise of the chosen "
                                  "type grows (grey line: the slider)")
        gr.Markdown("### Examples: real MNIST test digits (click one to load it)")
        examples = gr.Gallery(demo.example_gallery(), columns=10, height=110, allow_preview=False,
                              show_label=False, elem_id="examples", buttons=[])
        with gr.Accordion("Export", open=False):
            export_button = gr.Button("Export the current inputs, outputs and metrics")
            export_files = gr.File(label="PNG sheet, 28×28 arrays (NPZ), metrics (JSON)", file_count="multiple")

    with gr.Tab("Latent space") as latent_tab:
        gr.Markdown("Every model squeezes a digit into a code. Here are the codes of 2,000 MNIST test digits, "
                    "laid out along the two directions in which they vary most (principal components). "
                    "Click anywhere to see what the decoder draws there, even where no digit lives.")
        model_choice = gr.Radio([(model.title, name) for name, model in MODELS.items()], value="conv",
                                label="Model", elem_id="latent-model")
        hint = gr.Markdown(elem_id="hint")
        with gr.Row():
            with gr.Column(scale=3):
                latent_map = gr.Image(format="png", interactive=False, elem_id="latent-map", buttons=[],
                                      label="Code map, coloured by digit (ring: your drawing). Click to decode.")
            with gr.Column(scale=2):
                clicked = digit_image("Decoded at the clicked point", "clicked")
                neighbours = gr.Gallery(label="Nearest test digits in code space (closest first)", columns=3,
                                        height=160, allow_preview=False, elem_id="neighbours", buttons=[])
        gr.Markdown("### Move along the first six components\nSliders start at your drawing's code: the decoder "
                    "redraws at once. The first components change the most.")
        with gr.Row():
            with gr.Column(scale=3):
                sliders = [gr.Slider(-latent.SLIDER_RANGE, latent.SLIDER_RANGE, value=0, step=0.05,
                                     label=f"component {k + 1} (standard deviations from the mean code)",
                                     elem_id=f"pc-{k + 1}") for k in range(latent.COMPONENTS)]
                reset = gr.Button("Reset to my drawing")
            with gr.Column(scale=2):
                slider_digit = digit_image("Decoded from the sliders", "slider-digit")
        gr.Markdown("### Interpolation\nA straight line between two codes, decoded at 9 points by every model, "
                    "From on the left, To on the right. The first row just fades the pixels; then, top to bottom: "
                    + ", ".join(model.title for model in MODELS.values())
                    + ". Compare how the models morph one digit into another.")
        with gr.Row():
            start = gr.Dropdown([latent.MY_DRAWING, *latent.sample_choices()], value=latent.MY_DRAWING,
                                label="From")
            end = gr.Dropdown(latent.sample_choices(), value=latent.sample_choices()[3], label="To")
            interpolate_button = gr.Button("Interpolate")
        interpolation = digit_image("Interpolation strips", "interpolation", height=420)
        gr.Markdown("### Manifold\nA 15×15 grid of codes spread over the map's plane, all decoded: how the decoder "
                    "lays out digits along the two main directions.")
        grid = gr.Image(format="png", interactive=False, elem_id="manifold", buttons=[], height=560,
                        label="Decoded grid over components 1 (left to right) and 2 (bottom to top)")

    # Events: every change redraws the panels at once, then the sweep plot after them.
    # The sketch pad's events carry the public API names; the other triggers repeat them unnamed, and share
    # their concurrency limit (a stroke and a slider move are the same work).
    draw_inputs = [sketch, noise_kind, amount, seed]
    draw_outputs = [status, preview, noisy, *outputs.values(), *metrics.values(), error_maps]
    for index, trigger in enumerate((sketch.change, noise_kind.change, amount.change, seed.change)):
        public = index == 0
        trigger(demo.draw_update, draw_inputs, draw_outputs, show_progress="hidden", trigger_mode="always_last",
                api_name="draw" if public else False, concurrency_id="draw").then(
            demo.noise_sweep_table, draw_inputs, sweep, show_progress="hidden",
            api_name="noise_sweep" if public else False, concurrency_id="noise_sweep")
    reseed.click(demo.new_seed, None, seed, api_name="new_seed")
    examples.select(demo.on_example_select, None, sketch, api_name=False)  # needs a click: not an API
    export_button.click(demo.export_to_temp, draw_inputs, export_files, api_name="export")

    switch_outputs = [latent_map, grid, hint, *sliders, slider_digit]
    model_choice.change(latent.switch_model, [model_choice, sketch], switch_outputs, api_name="latent_switch")
    latent_tab.select(latent.switch_model, [model_choice, sketch], switch_outputs, api_name=False).then(
        latent.interpolate, [start, end, sketch], interpolation, api_name=False)
    latent_map.select(latent.click_map, model_choice, [clicked, neighbours], api_name=False)
    for index, slider in enumerate(sliders):
        slider.change(latent.decode_sliders, [model_choice, sketch, *sliders], slider_digit,
                      show_progress="hidden", trigger_mode="always_last",
                      api_name="latent_sliders" if index == 0 else False)
    reset.click(latent.reset_sliders, [model_choice, sketch], sliders, api_name=False)
    interpolate_button.click(latent.interpolate, [start, end, sketch], interpolation, api_name="latent_interpolate")

    for component in (sketch, noise_kind, amount, seed, model_choice, *sliders, start, end):
        demo.tolerate_bad_payloads(component)

# At most 64 events wait; the next visitor is told at once that the queue is full. Queue positions go out every
# 2 s, not after every event: with 32 clients waiting that was 32 messages per event, for bars no panel shows.
QUEUE_OPTIONS = {"max_size": 64, "status_update_rate": 2}
app.queue(**QUEUE_OPTIONS)
# 8 worker threads for callbacks and their pre- and postprocessing (Gradio's default is 40): with the lock
# held by one at a time, more threads add only switching and memory. Gradio refuses uploads over 5 MB itself.
LAUNCH_OPTIONS = {"js": SELECT_BRUSH_JS, "css": CSS, "max_file_size": "5mb", "max_threads": 8}

if __name__ == "__main__":
    app.launch(**LAUNCH_OPTIONS)
