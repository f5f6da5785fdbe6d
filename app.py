"""ae-studio: draw a digit, add noise, and watch five MNIST autoencoders reconstruct it side by side.

Layout and wiring only; every callback lives in `ae/` as a plain function (see ae/demo.py and ae/latent.py).
Runs as it is on Hugging Face Spaces; locally, `python app.py` and open http://127.0.0.1:7860.
"""

import os
import sys
import threading

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves the machine at start
# Gradio summarises its queue statistics with pandas after every event by default (over up to 10,000
# past events): under load that costs more than drawing the digits. Every 1,000 events is plenty.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
# Two events of a kind at a time: `python -m ae.bench` compares 1, 2 and 4 on two cores (README, "Speed").
# More do not run faster: Gradio's own work per event holds the interpreter lock.
os.environ.setdefault("GRADIO_DEFAULT_CONCURRENCY_LIMIT", "2")

import gradio as gr  # noqa: E402

from ae import charts, demo, gradio_fixes, latent, train_tab  # noqa: E402
from ae.checkpoints import CheckpointError  # noqa: E402
from ae.models import MODELS, PRINCIPAL_START_IMAGES, VAE  # noqa: E402
from ae.pad import drawing_pad, example_strip  # noqa: E402

gradio_fixes.tune_malloc()
gradio_fixes.leave_matplotlib_unimported()
gradio_fixes.write_gradio_cache_atomically()
try:
    demo.pretrained()
except CheckpointError as err:
    sys.exit(f"ae-studio cannot start: {err}")

CSS = """
.pixel img { image-rendering: pixelated; width: 100% !important; height: 100% !important; object-fit: contain !important; }
.blurb { font-size: 0.85em; opacity: 0.85; }
.caption p { font-size: 0.9em; font-weight: 600; margin: 0; }
.digit { aspect-ratio: 1; }
@media (max-width: 640px) {  /* a phone: the pad and the five outputs on one screen */
  .outputs { flex-wrap: nowrap !important; gap: 2px !important; }
  .outputs > div { min-width: 0 !important; gap: 2px !important; }
  .outputs .caption p, .outputs .prose { font-size: 0.7em !important; line-height: 1.2; }
  .outputs .blurb, .intro, .pad-tip { display: none; }
}
"""
NEW_SEED_JS = "() => Math.floor(Math.random() * 2147483648)"  # new noise is picked in the page: no round trip


def digit_image(elem_id: str, height: int | None = None) -> gr.Image:
    """A picture shown large with each pixel a crisp square (see CSS), sent inline with the event's answer.
    Its caption is a Markdown line above it (an image's own label would sit over the digit's corner)."""
    return gradio_fixes.send_inline(gr.Image(format="png", show_label=False, elem_id=elem_id, height=height,
                                             elem_classes=["pixel", "digit"] if height is None else ["pixel"],
                                             interactive=False, buttons=[]))


def caption(text: str) -> gr.Markdown:
    return gr.Markdown(text, elem_classes="caption")


with gr.Blocks(title="ae-studio: MNIST autoencoders") as app:
    gr.Markdown("# ae-studio\nDraw a digit and see what five autoencoders trained on MNIST make of it. Each squeezes "
                "the 784 pixels through a small code and redraws the digit from that code alone.",
                elem_classes="intro")
    with gr.Tab("Draw"):
        with gr.Row():
            with gr.Column(scale=2, min_width=300):
                sketch = drawing_pad("sketch")
                gr.Markdown("Draw one digit, large and centred, like on paper; the models see a 28×28 version. "
                            "Outputs follow your pen.", elem_classes=["blurb", "pad-tip"])
            with gr.Column(scale=5, min_width=300):
                status = gr.Markdown(demo.EMPTY_PROMPT, elem_id="status")
                outputs, metrics = {}, {}
                with gr.Row(elem_classes="outputs"):
                    for name in demo.MODEL_NAMES:
                        model = MODELS[name]
                        with gr.Column(min_width=70):
                            caption(model.short_title)
                            outputs[name] = digit_image(f"out-{name}")
                            metrics[name] = gr.Markdown(elem_id=f"metrics-{name}")
                            gr.Markdown(f"{model.title}. {model.blurb}", elem_classes="blurb")
                with gr.Row():
                    with gr.Column(min_width=100):
                        caption("What the models see (28×28)")
                        preview = digit_image("preview")
                        gr.Markdown("Your ink, cropped, scaled to fit 20×20 and centred by mass in 28×28, "
                                    "as MNIST's own digits were made.", elem_classes="blurb")
                    with gr.Column(min_width=100):
                        caption("Noisy input (fed to every model)")
                        noisy = digit_image("noisy")
                        gr.Markdown("The same corrupted copy goes to every model; the seed fixes it.",
                                    elem_classes="blurb")
                    with gr.Column(min_width=160):
                        noise_kind = gr.Radio([(label, kind) for kind, label in demo.NOISE_LABELS.items()],
                                              value="gaussian", label="Noise type", elem_id="noise-kind")
                        amount = gr.Slider(0, 1, value=0.3, step=0.05, label="Noise amount", elem_id="amount")
                        seed = gr.Number(value=0, precision=0, label="Noise seed", minimum=0, elem_id="seed")
                        reseed = gr.Button("🎲 New noise", elem_id="new-noise")
        with gr.Accordion("Error maps: where each output differs from your clean digit", open=False):
            caption("Left to right: " + " · ".join(MODELS[name].short_title for name in demo.MODEL_NAMES))
            error_maps = digit_image("error-maps", height=120)
            gr.Markdown("Black: the output matches your digit there; yellow: off by the whole range.",
                        elem_classes="blurb")
        caption("Noise sweep: each model's error on your digit as the noise of the chosen type grows")
        sweep = gr.HTML(elem_id="sweep", css_template=charts.CSS, padding=False)
        gr.Markdown("Hover a point for its value. Where a line stays low, the model sees through that much noise; "
                    "the dashed line is the slider.", elem_classes="blurb")
        gr.Markdown("### Examples: real MNIST test digits (click one to load it on the pad)")
        example_strip(demo.example_digits(), "examples")
        with gr.Accordion("Export", open=False):
            export_button = gr.Button("Export the current inputs, outputs and metrics", elem_id="export")
            export_files = gr.File(label="PNG sheet, 28×28 arrays (NPZ), metrics (JSON)", file_count="multiple",
                                   elem_id="export-files")

    with gr.Tab("Latent space", elem_id="latent-tab") as latent_tab:
        gr.Markdown("Every model squeezes a digit into a code. Here are the codes of 2,000 MNIST test digits on a "
                    "plane: for the two models whose code is two numbers, the code itself; for the others, the two "
                    "directions in which their codes vary most (principal components). Click anywhere to see what "
                    "the decoder draws there, even where no digit lives. Compare the VAE with its plain twin: the "
                    "same network and code size, but only the VAE was trained to fill its plane.")
        latent_order = sorted(MODELS, key=lambda name: MODELS[name].code_size() != 2)  # the 2-D models first
        model_choice = gr.Radio([(MODELS[name].title, name) for name in latent_order], value=VAE.name,
                                label="Model", elem_id="latent-model")
        hint = gr.Markdown(elem_id="hint")
        with gr.Row():
            with gr.Column(scale=3):
                caption("Code map, coloured by digit (ringed cross: your drawing, with the VAE's 2σ ellipse; "
                        "red diamond: your click)")
                latent_map = digit_image("latent-map", height=500)
            with gr.Column(scale=2):
                click_note = gr.Markdown(latent.CLICK_PROMPT, elem_id="click-note")
                caption("Decoded at the clicked point")
                clicked = digit_image("clicked")
                caption("Nearest test digits in code space")
                neighbours = digit_image("neighbours", height=90)
        gr.Markdown("### Move along the map's axes\nSliders start at your drawing's code: the decoder redraws at "
                    "once. For a large code, the first components change the most.")
        with gr.Row():
            with gr.Column(scale=3):
                sliders = [gr.Slider(-latent.SLIDER_RANGE, latent.SLIDER_RANGE, value=0, step=0.05,
                                     label=latent.slider_label(model_choice.value, k) or "",
                                     visible=latent.slider_label(model_choice.value, k) is not None,
                                     elem_id=f"pc-{k + 1}") for k in range(latent.COMPONENTS)]
                reset = gr.Button("Reset to my drawing", elem_id="reset")
            with gr.Column(scale=2):
                caption("Decoded from the sliders")
                slider_digit = digit_image("slider-digit")
        gr.Markdown("### Sample: new digits from the VAE's prior")
        with gr.Row():
            with gr.Column(scale=1, min_width=160):
                sample_button = gr.Button("🎲 Sample 16 digits", elem_id="sample")
                sample_note = gr.Markdown(latent.SAMPLE_PROMPT, elem_id="sample-note")
            with gr.Column(scale=2):
                samples = digit_image("samples", height=300)
        gr.Markdown("### Interpolation\nA straight line between two codes, decoded at 9 points by every model, "
                    "From on the left, To on the right. The first row just fades the pixels; then, top to bottom: "
                    + ", ".join(model.title for model in MODELS.values())
                    + ". Compare how the models morph one digit into another.")
        with gr.Row():
            start = gr.Dropdown([latent.MY_DRAWING, *latent.sample_choices()], value=latent.MY_DRAWING,
                                label="From", elem_id="from")
            end = gr.Dropdown(latent.sample_choices(), value=latent.sample_choices()[3], label="To", elem_id="to")
            interpolate_button = gr.Button("Interpolate", elem_id="interpolate")
        interpolation_note = gr.Markdown(elem_id="interpolation-note")
        interpolation = digit_image("interpolation", height=480)
        gr.Markdown("### Manifold\nA 15×15 grid of codes spread over the map's plane, all decoded: how the decoder "
                    "lays out digits along the map's two axes.")
        grid_note = gr.Markdown(elem_classes="caption", elem_id="grid-note")
        grid = digit_image("manifold", height=560)

    with gr.Tab("Train", elem_id="train-tab"):
        gr.Markdown("Watch an autoencoder learn. Training shows it thousands of digits, a batch at a time, and nudges "
                    "its weights to make each reconstruction a little closer to its input. Pick a model, a recipe and "
                    "how long to train; run both recipes to compare them on the same axes. Every run of a model "
                    "starts from the same weights, random ones except for the upsample model's (fitted to the "
                    f"principal components of {PRINCIPAL_START_IMAGES} digits, so it draws rough digits before its "
                    "first step), and trains on MNIST's 60,000 training digits.")
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                train_model = gr.Radio([(model.title, name) for name, model in MODELS.items()], value="linear",
                                       label="Model", elem_id="train-model")
                train_recipe = gr.Radio([(label, key) for key, label in train_tab.RECIPE_CHOICES.items()],
                                        value="ours", label="Recipe", elem_id="train-recipe")
                budget = gr.Slider(train_tab.MIN_BUDGET_S, train_tab.MAX_BUDGET_S, value=train_tab.DEFAULT_BUDGET_S,
                                   step=5, label="Time budget (seconds)", elem_id="budget")
                with gr.Row():
                    train_button = gr.Button("▶ Train", variant="primary", elem_id="train")
                    stop_button = gr.Button("⏹ Stop", elem_id="stop")
                gr.Markdown("One training runs at a time on this server: if someone else's is going, yours waits "
                            "its turn (the bar shows your place). Stop ends a run early and keeps what it has.",
                            elem_classes="blurb")
            with gr.Column(scale=2):
                train_progress = gr.HTML(train_tab.progress_html(None, train_tab.IDLE_PROMPT), elem_id="train-progress")
                with gr.Row():
                    with gr.Column(min_width=260):
                        caption("Training loss: the error on the batches it learns from")
                        loss_chart = gr.HTML(elem_id="loss-chart", css_template=charts.CSS, padding=False)
                    with gr.Column(min_width=260):
                        caption("Test MSE: the error on 1,000 digits it never trains on")
                        mse_chart = gr.HTML(elem_id="mse-chart", css_template=charts.CSS, padding=False)
                film = digit_image("film", height=220)
                film_caption = gr.Markdown(elem_classes="blurb", elem_id="film-caption")
        train_result = gr.Markdown(elem_id="train-result")
        with gr.Row():
            use_button = gr.Button("Use in the Draw tab", interactive=False, elem_id="use")
            forget_button = gr.Button("Back to the committed weights", elem_id="forget")
        use_note = gr.Markdown(elem_id="use-note")
    train_session = gr.State(train_tab.TrainSession())  # this visitor's runs and Stop request
    own_models = gr.State({})  # this visitor's models from the Train tab, which the Draw tab uses instead

    # Events. Every control of the Draw tab feeds one event, whose answer paints every panel: while one is on
    # its way, the page holds the next and then sends it with the controls' values at that moment
    # (always_last), so a visitor's answers arrive in order and a cleared pad stays clear.
    draw_inputs = [sketch, noise_kind, amount, seed, own_models]
    draw_outputs = [status, preview, noisy, *outputs.values(), *metrics.values(), error_maps, sweep]
    gr.on([sketch.change, noise_kind.change, amount.change, seed.change], demo.draw_update, draw_inputs,
          draw_outputs, show_progress="hidden", trigger_mode="always_last", api_name="draw", concurrency_id="draw")
    reseed.click(None, None, seed, js=NEW_SEED_JS)
    export_button.click(demo.export_to_temp, draw_inputs, export_files, api_name="export")

    # A model switch and a tab visit redraw the whole tab; slider moves by a person (not by the switch, which
    # sets them) decode the sliders.
    switch_outputs = [latent_map, grid, grid_note, hint, *sliders, slider_digit, clicked, neighbours, click_note,
                      samples, sample_note]
    model_choice.change(latent.switch_model, [model_choice, sketch], switch_outputs, trigger_mode="always_last",
                        api_name="latent_switch")
    latent_tab.select(latent.switch_model, [model_choice, sketch], switch_outputs, api_name=False).then(
        latent.interpolate, [start, end, sketch], [interpolation, interpolation_note], api_name=False)
    latent_map.select(latent.click_map, [model_choice, sketch], [latent_map, clicked, neighbours, click_note],
                      api_name=False)  # needs a click: not an API
    gr.on([slider.input for slider in sliders], latent.decode_sliders, [model_choice, sketch, *sliders], slider_digit,
          show_progress="hidden", trigger_mode="always_last", api_name="latent_sliders")
    reset.click(latent.reset_sliders, [model_choice, sketch], [*sliders, slider_digit], api_name=False)
    sample_button.click(latent.sample_digits, model_choice, [samples, sample_note], api_name="latent_sample")
    interpolate_button.click(latent.interpolate, [start, end, sketch], [interpolation, interpolation_note],
                             api_name="latent_interpolate")

    # Train: the click arms the visitor's Stop and locks the run's settings at once, then the run waits for the
    # server's one trainer; the settings unlock when it ends.
    train_outputs = [train_progress, loss_chart, mse_chart, film, film_caption, train_result, use_button]
    run_settings = [train_model, train_recipe, budget, train_button]
    train_button.click(train_tab.arm, train_session, [train_progress, *run_settings], api_name=False,
                       queue=False).then(
        train_tab.train, [train_model, train_recipe, budget, train_session], train_outputs, api_name="train",
        concurrency_limit=1, concurrency_id="train", show_progress="full", show_progress_on=train_progress).then(
        train_tab.unlock, None, run_settings, api_name=False, queue=False)
    stop_button.click(train_tab.stop, train_session, None, api_name=False, queue=False)
    train_model.change(train_tab.show_model, [train_model, train_session], train_outputs, api_name=False)
    use_button.click(train_tab.use_in_draw_tab, [train_model, train_session, own_models], [own_models, use_note],
                     api_name=False).then(demo.draw_update, draw_inputs, draw_outputs, api_name=False)
    forget_button.click(train_tab.forget_own_models, own_models, [own_models, use_note], api_name=False).then(
        demo.draw_update, draw_inputs, draw_outputs, api_name=False)

    for component in (noise_kind, amount, seed, model_choice, *sliders, start, end, train_model, train_recipe, budget):
        gradio_fixes.tolerate_bad_payloads(component)

# At most 64 events wait; the next visitor is told at once that the queue is full. Queue positions go out every
# 2 s, not after every event: with 32 clients waiting that was 32 messages per event, for bars no panel shows.
QUEUE_OPTIONS = {"max_size": 64, "status_update_rate": 2}
app.queue(**QUEUE_OPTIONS)
# 8 worker threads for callbacks and their pre- and postprocessing (Gradio's default is 40): with the lock
# held by one at a time, more threads add only switching and memory. Gradio refuses uploads over 5 MB itself.
# No run history: Gradio 6 would save every event's inputs and outputs in the browser's storage, which cost the
# page 30-60 ms of cloning and JSON per event (a quarter of a stroke's time) and gives a visitor nothing here.
LAUNCH_OPTIONS = {"css": CSS, "max_file_size": "5mb", "max_threads": 8, "run_history": False}

if __name__ == "__main__":
    threading.Thread(target=latent.warm_up, daemon=True).start()
    app.launch(**LAUNCH_OPTIONS)
