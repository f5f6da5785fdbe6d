"""ae-studio: draw a digit, add noise, and watch five MNIST autoencoders reconstruct it side by side.

The page's outline, at the foot of this file: a builder per tab, each laying out its tab and wiring its events.
Layout and wiring only; every callback is a plain function in `ae/web/` (one module per tab), over the library in
`ae/`. Every event hands its inputs to the callback as sent (gradio_fixes.AS_SENT): the callbacks read them.
Runs as it is on Hugging Face Spaces; locally, `python app.py` and open http://127.0.0.1:7860.
"""

import os
import sys
import threading
from dataclasses import dataclass

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves the machine at start
# Gradio summarises its queue statistics with pandas after every event by default (over up to 10,000
# past events): under load that costs more than drawing the digits. Every 1,000 events is plenty.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
# Two events of a kind at a time: `python -m ae.bench` compared 1, 2 and 4 on two cores (docs/speed.md).
# More do not run faster: Gradio's own work per event holds the interpreter lock.
os.environ.setdefault("GRADIO_DEFAULT_CONCURRENCY_LIMIT", "2")

import gradio as gr  # noqa: E402

from ae.checkpoints import CheckpointError  # noqa: E402
from ae.export_training import TRAINING_DIGITS  # noqa: E402
from ae.models import MODELS, PRINCIPAL_START_IMAGES, VAE  # noqa: E402
from ae.web import charts, draw_tab, gradio_fixes, latent_tab, serving, train_pictures, train_runs, train_tab  # noqa: E402
from ae.web.common import STATIC, pretrained, static_text  # noqa: E402
from ae.web.draw_view import draw_more, draw_view, preload_links, view_config  # noqa: E402
from ae.web.gradio_fixes import AS_SENT  # noqa: E402
from ae.web.latent_view import lens_view, slider_view  # noqa: E402
from ae.web.lessons_view import lessons_view  # noqa: E402
from ae.web.pad import drawing_pad, example_strip  # noqa: E402
from ae.web.train_view import train_view  # noqa: E402

gradio_fixes.tune_malloc()
gradio_fixes.leave_matplotlib_unimported()
gr.set_static_paths([STATIC])  # the page's scripts, styles, ONNX models and ONNX Runtime Web, served by Gradio
try:
    pretrained()
except CheckpointError as err:
    sys.exit(f"ae-studio cannot start: {err}")

NEW_SEED_JS = "() => Math.floor(Math.random() * 2147483648)"  # new noise is picked in the page: no round trip
# The page's Draw tab redraws itself, and the Latent tab's sliders' digit too. Until their scripts have loaded, a
# change is left to them: the Draw tab reads the noise controls when it mounts.
NOISE_JS = "(kind, amount, seed) => { window.aeStudio?.noise?.(kind, amount, seed); }"
SLIDERS_JS = "(model, ...values) => { window.aeStudio?.latent?.sliders(model, values); }"
# The Train tab's page trains and paints itself (static/train.js); it asks the server only where it cannot.
# A press before the tab's script has mounted waits for it (train.js takes aeStudio.pendingTrain when it mounts).
TRAIN_JS = ("(model, recipe, budget) => { const studio = (window.aeStudio ??= {}); if (studio.trainer?.config()) "
            "studio.trainer.press(model, recipe, budget); else studio.pendingTrain = [model, recipe, budget]; }")
STOP_JS = "() => { window.aeStudio?.trainer?.stop(); }"
SHOW_MODEL_JS = "(model) => { window.aeStudio?.trainer?.show(model); }"
START_NOISE = {"kind": "gaussian", "amount": 0.3, "seed": 0}
NOISE_IDS = {"kind": "noise-kind", "amount": "amount", "seed": "seed"}  # the noise controls' elem_ids
DRAW_BATCH = 8  # /draw requests answered together: Gradio's work per event is paid once per batch


def digit_image(elem_id: str, alt: str, height: int | None = None) -> gr.Image:
    """A picture shown large with each pixel a crisp square (see CSS), sent inline with the event's answer, with
    `alt` for screen readers. Its caption is a Markdown line above it (an image's own label would sit over the
    digit's corner). While it has no picture it is hidden (app.css)."""
    return gradio_fixes.send_inline(gr.Image(format="png", show_label=False, elem_id=elem_id, height=height,
                                             elem_classes=["pixel", "digit"] if height is None else ["pixel"],
                                             interactive=False, buttons=[], alt_text=alt))


def caption(text: str) -> gr.Markdown:
    return gr.Markdown(text, elem_classes="caption")


@dataclass
class DrawTab:
    """What the other tabs take from the Draw tab: the pad, the view the server's answers go to, and the inputs
    of a Draw-tab update (the drawing, the noise controls, the visitor's own models)."""
    sketch: gr.HTML
    view: gr.HTML
    inputs: list


def build_draw_tab(own_models: gr.State) -> DrawTab:
    """The pad and examples, the five outputs with the noise controls beside them, the error maps and sweep, the
    lessons panel and Export. The page computes every update itself (ae/web/static/draw.js): the pad and the noise
    controls tell it of each change, with no request. It asks the server (the view's "fallback" event) only until
    its models are ready, or where they cannot run; while one answer is on its way, the page holds the next and
    then sends it with the controls' values at that moment (always_last), so answers arrive in order. The public
    /draw is the same record for API clients, the noise sweep on request."""
    page_config = view_config(**START_NOISE, control_ids=NOISE_IDS)
    with gr.Row():
        with gr.Column(scale=2, min_width=300):
            sketch = drawing_pad("sketch")
            gr.Markdown("Draw one digit, large and centred, like on paper; the models see a 28×28 version. "
                        "Outputs follow your pen.", elem_classes=["blurb", "pad-tip"])
            caption("Examples, real MNIST test digits: pick one to load it on the pad")
            example_strip(draw_tab.example_digits(), "examples")
        with gr.Column(scale=5, min_width=300):
            view = draw_view(page_config)
            with gr.Row(equal_height=True, elem_id="noise-controls"):
                noise_kind = gr.Radio([(label, kind) for kind, label in draw_tab.NOISE_LABELS.items()],
                                      value=START_NOISE["kind"], label="Noise type", elem_id=NOISE_IDS["kind"])
                amount = gr.Slider(0, 1, value=START_NOISE["amount"], step=0.05, label="Noise amount",
                                   elem_id=NOISE_IDS["amount"])
                with gr.Column(min_width=140):
                    seed = gr.Number(value=START_NOISE["seed"], precision=0, label="Noise seed", minimum=0,
                                     elem_id=NOISE_IDS["seed"])
                    reseed = gr.Button("New noise", elem_id="new-noise", size="sm")
    draw_more(page_config)
    lessons_view()
    with gr.Accordion("Export", open=False):
        export_button = gr.Button("Export the current inputs, outputs and metrics", elem_id="export")
        export_files = gr.File(label="PNG sheet, 28×28 arrays (NPZ), metrics (JSON)", file_count="multiple",
                               elem_id="export-files")

    inputs = [sketch, noise_kind, amount, seed, own_models]
    view.fallback(draw_tab.draw_updates, inputs, view, show_progress="hidden", trigger_mode="always_last",
                  api_name=False, concurrency_id="draw", batch=True, max_batch_size=DRAW_BATCH, **AS_SENT)
    gr.api(draw_tab.draw_api, api_name="draw", concurrency_id="draw")
    gr.on([noise_kind.change, amount.change, seed.change], None, [noise_kind, amount, seed], None, js=NOISE_JS)
    reseed.click(None, None, seed, js=NEW_SEED_JS)
    export_button.click(draw_tab.export_to_temp, inputs, export_files, api_name="export", **AS_SENT)
    return DrawTab(sketch, view, inputs)


def build_latent_tab(tab: gr.Tab, sketch: gr.HTML) -> None:
    """The code map with its lens, the sliders along the map's axes, samples from the VAE's prior, interpolation
    and the manifold. A model switch and a visit to the tab redraw the whole tab; the page decodes the lens's and
    the sliders' digits itself (static/latent.js) and asks the server (the sliders' view's fallback event) only
    while it cannot."""
    gr.Markdown("Every model squeezes a digit into a code. Here are the codes of 2,000 MNIST test digits on a "
                "plane: for the two models whose code is two numbers, the code itself; for the others, the two "
                "directions in which their codes vary most (principal components). Point anywhere to see what "
                "the decoder draws there, even where no digit lives. Compare the VAE with its plain twin: the "
                "same network and code size, but only the VAE was trained to fill its plane.")
    latent_order = sorted(MODELS, key=lambda name: MODELS[name].code_size() != 2)  # the 2-D models first
    model_choice = gr.Radio([(MODELS[name].title, name) for name in latent_order], value=VAE.name,
                            label="Model", elem_id="latent-model")
    hint = gr.Markdown(elem_id="hint")
    with gr.Row():
        with gr.Column(scale=3):
            caption("Code map, coloured by digit (ringed cross: your drawing, and for the VAE an ellipse two "
                    "standard deviations of its posterior out; red diamond: the point you clicked)")
            latent_map = digit_image("latent-map", "The code map: 2,000 MNIST test digits, dots coloured by digit",
                                     height=500)
        with gr.Column(scale=2, elem_id="lens-column"):
            click_note = gr.Markdown(latent_tab.CLICK_PROMPT, elem_id="click-note")
            lens = lens_view()
            neighbours = digit_image("neighbours", "The test digits nearest to the clicked point", height=90)
    gr.Markdown("### Move along the map's axes\nSliders start at your drawing's code: the decoder redraws at "
                "once. For a large code, the first components change the most.")
    with gr.Row():
        with gr.Column(scale=3):
            sliders = [gr.Slider(-latent_tab.SLIDER_RANGE, latent_tab.SLIDER_RANGE, value=0, step=0.05,
                                 label=latent_tab.slider_label(model_choice.value, k) or "",
                                 visible=latent_tab.slider_label(model_choice.value, k) is not None,
                                 elem_id=f"pc-{k + 1}") for k in range(latent_tab.COMPONENTS)]
            reset = gr.Button("Reset to my drawing", elem_id="reset")
        with gr.Column(scale=2):
            sliders_digit = slider_view()
    gr.Markdown("### Sample: new digits from the VAE's prior")
    with gr.Row():
        with gr.Column(scale=1, min_width=160):
            sample_button = gr.Button("Sample 16 digits", elem_id="sample")
            sample_note = gr.Markdown(latent_tab.SAMPLE_PROMPT, elem_id="sample-note")
        with gr.Column(scale=2):
            samples = digit_image("samples", "16 digits decoded from points drawn from the prior", height=300)
    gr.Markdown("### Interpolation\nA straight line between two codes, decoded at 9 points by every model, "
                "From on the left, To on the right. The first row just fades the pixels; then, top to bottom: "
                + ", ".join(model.title for model in MODELS.values())
                + ". Compare how the models morph one digit into another.")
    with gr.Row():
        start = gr.Dropdown([latent_tab.MY_DRAWING, *latent_tab.sample_choices()], value=latent_tab.MY_DRAWING,
                            label="From", elem_id="from")
        end = gr.Dropdown(latent_tab.sample_choices(), value=latent_tab.sample_choices()[3], label="To",
                          elem_id="to")
        interpolate_button = gr.Button("Interpolate", elem_id="interpolate")
    interpolation_note = gr.Markdown(elem_id="interpolation-note")
    interpolation = digit_image("interpolation", "Each model's interpolation, a row each", height=480)
    gr.Markdown("### Manifold\nA 15×15 grid of codes spread over the map's plane, all decoded: how the decoder "
                "lays out digits along the map's two axes.")
    grid_note = gr.Markdown(elem_classes="caption", elem_id="grid-note")
    grid = digit_image("manifold", "The decoder's digits over a 15 by 15 grid of the map", height=560)

    panels = {"latent_map": latent_map, "grid": grid, "grid_note": grid_note, "hint": hint,
              **{f"slider_{k + 1}": slider for k, slider in enumerate(sliders)}, "slider_view": sliders_digit,
              "lens": lens, "neighbours": neighbours, "click_note": click_note, "samples": samples,
              "sample_note": sample_note}
    switch_outputs = [panels[name] for name in latent_tab.SWITCH_OUTPUTS]  # by name: a missing one fails here
    # Slider moves by a person (not by a switch, which sets them) decode the sliders.
    model_choice.change(latent_tab.switch_model, [model_choice, sketch], switch_outputs, trigger_mode="always_last",
                        api_name="latent_switch", **AS_SENT)
    tab.select(latent_tab.switch_model, [model_choice, sketch], switch_outputs, api_name=False, **AS_SENT).then(
        latent_tab.interpolate, [start, end, sketch], [interpolation, interpolation_note], api_name=False, **AS_SENT)
    latent_map.select(latent_tab.click_map, [model_choice, sketch], [latent_map, lens, neighbours, click_note],
                      api_name=False, **AS_SENT)  # needs a click: not an API
    gr.on([slider.input for slider in sliders], None, [model_choice, *sliders], None, js=SLIDERS_JS)
    sliders_digit.fallback(latent_tab.slider_record, [model_choice, sketch, *sliders], sliders_digit,
                           show_progress="hidden", trigger_mode="always_last", api_name="latent_sliders", **AS_SENT)
    reset.click(latent_tab.reset_sliders, [model_choice, sketch], [*sliders, sliders_digit], api_name=False,
                **AS_SENT)
    sample_button.click(latent_tab.sample_digits, model_choice, [samples, sample_note], api_name="latent_sample",
                        **AS_SENT)
    interpolate_button.click(latent_tab.interpolate, [start, end, sketch], [interpolation, interpolation_note],
                             api_name="latent_interpolate", **AS_SENT)


def build_train_tab(own_models: gr.State, draw: DrawTab) -> None:
    """The run's settings, the page's training panels and, where the page cannot train, the server's. The page
    trains the model itself (static/train.js), with no request per step. Where it cannot, it asks the server (the
    view's fallback event, the public /train): the event arms the visitor's Stop and locks the run's settings at
    once, then the run waits its turn in train_tab.TRAINER's line (not Gradio's: a class's runs enter at once and
    say their own place and wait, in the progress panel rather than under Gradio's overlay); the settings unlock
    when it ends. Use in the Draw tab, and Back, redraw the Draw tab with the visitor's models or without."""
    gr.Markdown("Watch an autoencoder learn. Training shows it thousands of digits, a batch at a time, and nudges "
                "its weights to make each reconstruction a little closer to its input. Pick a model, a recipe and "
                "how long to train; run both recipes to compare them on the same axes. Every run of a model "
                "starts from the same weights, random ones except for the upsample model's (fitted to the "
                f"principal components of {PRINCIPAL_START_IMAGES} digits, so it draws rough digits before its "
                f"first step). It trains in your browser, on the first {TRAINING_DIGITS:,} of MNIST's training "
                "digits.")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            model = gr.Radio([(m.title, name) for name, m in MODELS.items()], value="linear", label="Model",
                             elem_id="train-model")
            recipe = gr.Radio([(label, key) for key, label in train_tab.RECIPE_CHOICES.items()], value="ours",
                              label="Recipe", elem_id="train-recipe")
            budget = gr.Slider(train_runs.MIN_BUDGET_S, train_runs.MAX_BUDGET_S, value=train_runs.DEFAULT_BUDGET_S,
                               step=5, label="Time budget (seconds)", elem_id="budget")
            with gr.Row():
                train_button = gr.Button("Train", variant="primary", elem_id="train")
                stop_button = gr.Button("Stop", elem_id="stop")
            gr.Markdown("Your run trains in your browser, so a whole class can train at once. Where a browser "
                        "cannot, the server trains it instead, one run at a time, first come first served. Stop "
                        "ends a run early and keeps what it has.", elem_classes="blurb")
        with gr.Column(scale=2):
            page = train_view()
            with gr.Column(elem_id="server-train"):  # the server's run, where the page cannot train (app.css)
                progress = gr.HTML(train_pictures.progress_html(None, train_tab.IDLE_PROMPT), elem_id="train-progress")
                with gr.Row():
                    with gr.Column(min_width=260):
                        caption("Training loss: the error on the batches it learns from")
                        loss_chart = gr.HTML(train_pictures.EMPTY_CHARTS[0], elem_id="loss-chart",
                                             css_template=charts.CSS, padding=False)
                    with gr.Column(min_width=260):
                        caption("Test MSE: the error on 1,000 digits it never trains on")
                        mse_chart = gr.HTML(train_pictures.EMPTY_CHARTS[1], elem_id="mse-chart",
                                            css_template=charts.CSS, padding=False)
                film = digit_image("film", "Eight test digits as the model draws them during training", height=360)
                film_caption = gr.Markdown(elem_classes="blurb", elem_id="film-caption")
                result = gr.Markdown(elem_id="train-result")
                with gr.Row():
                    use_button = gr.Button("Use in the Draw tab", interactive=False, elem_id="use")
                    forget_button = gr.Button("Back to the committed weights", interactive=False, elem_id="forget")
                use_note = gr.Markdown(elem_id="use-note")
    session = gr.State(train_tab.TrainSession())  # this visitor's runs and Stop request

    panels = {"progress": progress, "loss_chart": loss_chart, "mse_chart": mse_chart, "film": film,
              "film_caption": film_caption, "result": result, "use_button": use_button}
    outputs = [panels[name] for name in train_tab.TRAIN_OUTPUTS]
    run_settings = [model, recipe, budget, train_button]
    train_button.click(None, [model, recipe, budget], None, js=TRAIN_JS)
    page.fallback(train_tab.arm, session, [progress, *run_settings], api_name=False, queue=False).then(
        train_tab.train, [model, recipe, budget, session], outputs, api_name="train",
        concurrency_limit=train_tab.LINE_LENGTH, show_progress="hidden", **AS_SENT).then(
        train_tab.unlock, None, run_settings, api_name=False, queue=False)
    stop_button.click(None, None, None, js=STOP_JS)
    stop_button.click(train_tab.stop, session, None, api_name=False, queue=False)
    model.change(train_tab.show_model, [model, session], outputs, api_name=False, **AS_SENT)
    model.change(None, model, None, js=SHOW_MODEL_JS)
    # Either swap redraws the Draw tab with the visitor's models, and leaves "Back" usable only with one to undo.
    use_button.click(train_tab.use_in_draw_tab, [model, session, own_models], [own_models, use_note],
                     api_name=False, **AS_SENT).then(
        draw_tab.draw_update, draw.inputs, draw.view, api_name=False, **AS_SENT).then(
        train_tab.forget_button, own_models, forget_button, api_name=False, queue=False)
    forget_button.click(train_tab.forget_own_models, own_models, [own_models, use_note], api_name=False).then(
        draw_tab.draw_update, draw.inputs, draw.view, api_name=False, **AS_SENT).then(
        train_tab.forget_button, own_models, forget_button, api_name=False, queue=False)


with gr.Blocks(title="ae-studio: MNIST autoencoders") as app:
    gr.Markdown("# ae-studio\nDraw a digit and see what five autoencoders trained on MNIST make of it. Each squeezes "
                "the 784 pixels through a small code and redraws the digit from that code alone.",
                elem_classes="intro")
    own_models = gr.State({})  # this visitor's models from the Train tab, which the Draw tab uses instead
    with gr.Tab("Draw"):
        draw = build_draw_tab(own_models)
    with gr.Tab("Latent space", elem_id="latent-tab") as latent_page:
        build_latent_tab(latent_page, draw.sketch)
    with gr.Tab("Train", elem_id="train-tab"):
        build_train_tab(own_models, draw)

# At most 64 events wait; the next visitor is told at once that the queue is full. Queue positions go out every
# 2 s, not after every event: with 32 clients waiting that was 32 messages per event, for bars no panel shows.
QUEUE_OPTIONS = {"max_size": 64, "status_update_rate": 2}
app.queue(**QUEUE_OPTIONS)
# Gradio's max_threads caps both the threads for callbacks and the events it runs at once. 8 for the page's
# events (with the lock held by one at a time, more threads add only switching and memory), and room for a class
# in the Train tab's line: a run waiting its turn is an event in progress, though it holds no thread.
# Gradio refuses uploads over 5 MB itself.
# No run history: Gradio 6 would save every event's inputs and outputs in the browser's storage, which cost the
# page 30-60 ms of cloning and JSON per event (a quarter of a stroke's time) and gives a visitor nothing here.
# The page asks at once for the runtime and the Draw tab's first models (draw_view.preload_links), its responses
# compressed for a phone's network (ae.web.serving).
LAUNCH_OPTIONS = {"css": static_text("app.css"), "head": preload_links(), "max_file_size": "5mb",
                  "max_threads": 8 + train_tab.LINE_LENGTH, "run_history": False,
                  "app_kwargs": {"middleware": serving.middleware()}}

if __name__ == "__main__":
    threading.Thread(target=latent_tab.warm_up, daemon=True).start()
    app.launch(**LAUNCH_OPTIONS)
