"""The Train tab's server side: the fallback trainer, where a visitor's page cannot train the model itself.

A page trains in a Web Worker of its own (ae/web/train_view.py, static/train.js): this module is what trains
when it cannot (no WebAssembly or workers, a file that will not load), and what the public /train API runs.

Pick a model, a recipe and a time budget; Train streams a progress bar, the training loss and the test MSE as
live curves, and eight test digits as the model redraws them. Both recipes run against the same clock, so the
course's curves and ours share the axes. At the end, "Use in the Draw tab" swaps the model in for this visitor
only: it lives in their session (a gr.State that app.py passes to the Draw callbacks), and the committed weights
never change.

One training runs at a time per server (TRAINER's line: the others wait, told their place and wait), and on one
thread, so that other visitors' drawing stays quick. On Hugging Face ZeroGPU hardware, `train_steps_on_gpu` is
the one @spaces.GPU function: it yields plain records (numbers, pictures and weights on the CPU), which is all
that must cross from the GPU worker, and the session bookkeeping stays outside it.

What the two recipes are (ae.step.step_recipe, as the page's): the course notebooks' (batch 20, Adam at a
constant 1e-3, the training set in its stored order every epoch) and ours from ae.train (this model's batch size
and peak rate, a one-cycle schedule, shuffled batches, and a range of noise amounts for the denoiser). Ours
spreads its one cycle over the time budget, since a run here is measured in seconds rather than epochs. Both
start from the same weights as the page's (ae.step.starting_model), and both run ae.train's own loop
(training_steps) under ae.optim's Adam and schedule, the ones `python -m ae.train` runs, paced by the clock here.
"""

import asyncio
import functools
import math
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import gradio as gr
import numpy as np
import torch

from ..checkpoints import read_card
from ..data import DataError, DigitFile, fetch_with_torchvision
from ..models import MODELS, PRINCIPAL_START_IMAGES, build
from ..noise import add_noise
from ..optim import Adam, one_cycle
from ..step import SEED, starting_model, step_recipe
from ..train import EVAL_NOISE_SEED, RECIPES, eval_noise, test_mse, training_steps
from . import charts
from .common import as_pixels, labelled_rows, mnist_sample, pretrained, sample_picks, tile
from .train_queue import Ticket, TrainQueue

MIN_BUDGET_S, MAX_BUDGET_S, DEFAULT_BUDGET_S = 5, 60, 30
GPU_START_UP_S = 30  # what a GPU run asks of the visitor's ZeroGPU quota beyond its budget: CUDA's start, the data


def gpu_seconds(name: str, recipe: str, budget_s: float, max_steps: int | None = None) -> float:
    """The GPU time a run asks for: its budget and the start-up, so a 60 s run fits an unsigned visitor's daily
    2 minutes, once."""
    return budget_s + GPU_START_UP_S


try:  # Hugging Face's ZeroGPU lends a GPU to the decorated function while it runs; elsewhere it is not installed
    import spaces
    on_gpu = spaces.GPU(duration=gpu_seconds)
except ImportError:
    def on_gpu(function):
        return function

TEST_SLICE = 1000  # test digits behind the live test MSE: the first of the app's committed sample
FILM_DIGITS = 8
FILM_ROWS = 5  # snapshots shown under the digits, spread over the run
REPORT_EVERY_S = 1.0
RECIPE_CHOICES = {
    "course": "The course's: batch 20, constant learning rate 1e-3, no shuffling",
    "ours": "Ours (ae/train.py): shuffled, one-cycle schedule, this model's batch size and peak rate",
}
RECIPE_COLOURS = {"course": "#ff7f0e", "ours": "#1f77b4"}
TRAINER = TrainQueue(min_budget_s=MIN_BUDGET_S)  # the server's one trainer and its line of runs
LINE_LENGTH = 32  # runs in TRAINER's line at once (a class); the next waits in Gradio's queue for a place in it
IDLE_PROMPT = "Pick a model, a recipe and a time budget, then press <b>Train</b>."
EMPTY_CHART_WORDS = ("The training loss appears here as the model trains, a line per recipe: press Train.",
                     "The test error appears here as the model trains, against the committed model's: press Train.")
EMPTY_CHARTS = tuple(charts.placeholder(words) for words in EMPTY_CHART_WORDS)  # before this model's first run


@functools.cache
def training_images() -> DigitFile:
    """MNIST's 60,000 training digits, read from their file a batch at a time; fetched with torchvision the first
    time where missing."""
    try:
        return DigitFile(train=True)
    except DataError:
        try:
            fetch_with_torchvision()
        except Exception as err:  # noqa: BLE001 - no network, a mirror down: each gets the same answer
            raise DataError(f"MNIST could not be downloaded ({err}); on the server, run `python -m ae.data`.") from err
        return DigitFile(train=True)


def eval_amount(name: str) -> float:
    return eval_noise(RECIPES[name])


@functools.cache
def test_slice() -> torch.Tensor:
    images, _ = mnist_sample()
    return torch.from_numpy(images[:TEST_SLICE]).unsqueeze(1)


@functools.cache
def film_inputs(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The eight film digits (one each of 0 to 7), clean and as the model is shown them."""
    images, _ = mnist_sample()
    clean = torch.from_numpy(images[sample_picks(1)[:FILM_DIGITS]]).unsqueeze(1)
    amount = eval_amount(name)
    shown = add_noise(clean, "gaussian", amount, generator=torch.Generator().manual_seed(EVAL_NOISE_SEED)) \
        if amount else clean
    return clean, shown


@functools.cache
def committed_test_mse(name: str) -> float:
    return slice_mse(pretrained()[name], eval_amount(name))


def slice_mse(model, amount: float) -> float:
    """The test MSE on the slice, 100 digits at a time: the denoiser's 32 full-size channels for all 1,000 at once
    would take 100 MB an activation, and the server would keep the peak."""
    return test_mse(model, test_slice(), amount, batch=100)


@dataclass
class Report:
    """How a run stands: what train_steps yields about once a second, and once more at its end."""
    step: int
    seconds: float
    images_seen: int
    train_loss: float | None  # mean over the steps since the last report; None before the first step
    test_mse: float
    film: np.ndarray  # (FILM_DIGITS, 28, 28) uint8: the film digits as the model draws them now
    weights: dict[str, torch.Tensor]  # on the CPU


def train_steps(name: str, recipe: str, budget_s: float, max_steps: int | None = None,
                device: str = "cpu") -> Iterator[Report]:
    """Train a fresh `name` model with `recipe` for `budget_s` seconds (or `max_steps` steps, if fewer), yielding
    a Report before the first step, about every REPORT_EVERY_S and at the end."""
    torch.set_num_threads(1)  # the other core stays free for the server's other visitors
    plan = step_recipe(name, recipe)
    images = training_images()
    amount = eval_amount(name)
    model = starting_model(name, images[torch.arange(PRINCIPAL_START_IMAGES)]).to(device)
    generator = torch.Generator().manual_seed(SEED)
    optimizer = Adam(model.parameters(), lr=plan.lr)
    steps = training_steps(model, images, optimizer, generator, batch_size=plan.batch_size, loss=plan.loss,
                           train_noise=plan.train_noise, shuffle=plan.shuffle, device=device)
    film = film_inputs(name)[1].to(device)
    step, loss_sum, losses = 0, 0.0, 0
    start = time.perf_counter()
    next_report = 0.0

    def report() -> Report:
        with torch.no_grad():
            drawn = model.eval()(film)[:, 0].cpu().numpy()
        return Report(step, time.perf_counter() - start, step * plan.batch_size, loss_sum / losses if losses else None,
                      slice_mse(model, amount), as_pixels(drawn),
                      {key: value.detach().cpu().clone() for key, value in model.state_dict().items()})

    while True:
        elapsed = time.perf_counter() - start
        progress = max(elapsed / budget_s, step / max_steps if max_steps else 0.0)
        if progress >= 1 or elapsed >= next_report:
            yield report()
            loss_sum, losses = 0.0, 0
            next_report = time.perf_counter() - start + REPORT_EVERY_S
            if progress >= 1:
                return
        if plan.one_cycle:  # the schedule's clock: milliseconds of the budget, or steps for a run of max_steps
            clock = (step, max_steps) if max_steps else (1000 * elapsed, 1000 * budget_s)
            optimizer.lr, optimizer.beta1 = one_cycle(*clock, plan.lr)
        loss_sum, losses, step = loss_sum + next(steps), losses + 1, step + 1


@on_gpu
def train_steps_on_gpu(name: str, recipe: str, budget_s: float, max_steps: int | None = None) -> Iterator[Report]:
    """train_steps on the GPU where ZeroGPU gives one: the app's one @spaces.GPU function. On ZeroGPU it runs in a
    process of its own, so its arguments and every Report cross by pickle; where no GPU is, on the CPU."""
    yield from train_steps(name, recipe, budget_s, max_steps, "cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class Run:
    """One run's record in a visitor's session: its curves, its film and the weights it ended with."""
    name: str
    recipe: str
    budget_s: float
    reports: list[Report] = field(default_factory=list)
    finished: bool = False
    stopped: bool = False

    @property
    def last(self) -> Report:
        return self.reports[-1]

    def add(self, report: Report) -> None:
        if self.reports:
            self.reports[-1].weights = {}  # only the newest weights are kept: a session holds one model per run
        self.reports.append(report)


@dataclass
class TrainSession:
    """What the Train tab keeps for one visitor (a gr.State): runs by (model, recipe), and the Stop request."""
    stop_requested: bool = False
    runs: dict[tuple[str, str], Run] = field(default_factory=dict)
    latest: dict[str, Run] = field(default_factory=dict)  # the last run of each model, which Use takes


# The order of the values `train` and `show_model` return; app.py wires its components in this order.
TRAIN_OUTPUTS = ["progress", "loss_chart", "mse_chart", "film", "film_caption", "result", "use_button"]


def arm(session: TrainSession) -> tuple:
    """The click on Train, before the run's turn comes: a Stop from now on applies to this run, and the run's
    settings and the Train button lock until it ends (`unlock`): unlocked, a model picked while the run waited or
    went repainted the tab with that model's charts, over the run's own."""
    session.stop_requested = False
    return (progress_html(None, "Waiting for the trainer: one training runs at a time on this server."),
            *_run_settings(interactive=False))


def unlock() -> tuple:
    """After a run, however it ended: the settings and the Train button are the visitor's again."""
    return _run_settings(interactive=True)


def _run_settings(interactive: bool) -> tuple:
    # The model radio, the recipe radio, the budget slider and the Train button, the order of app.py's run_settings.
    return gr.Radio(interactive=interactive), gr.Radio(interactive=interactive), \
        gr.Slider(interactive=interactive), gr.Button(interactive=interactive)


def stop(session: TrainSession) -> None:
    session.stop_requested = True


async def train(name, recipe, budget, session: TrainSession, max_steps: int | None = None):
    """The Train button's generator: the tab's outputs (TRAIN_OUTPUTS order) each second while the run waits its
    turn in TRAINER's line, then after every report of the run."""
    problem = _check(name, recipe)
    if problem:
        yield _message(problem)
        return
    budget_s, note = _budget(budget)
    ticket, ran_its_budget = TRAINER.join(budget_s), False
    try:
        async for ahead, wait_s in TRAINER.wait_turn(ticket):
            if session.stop_requested:
                break
            yield _message(_waiting(ahead, wait_s, ticket))
        if session.stop_requested:
            yield _message("Stopped before it started.")
            return
        if ticket.budget_s < budget_s:
            note += f"{ticket.budget_s:.0f} s {_shared(ticket)}. "
        run, where = Run(name, recipe, ticket.budget_s), ""
        session.runs[name, recipe] = run
        async for report, where in _reports(name, recipe, ticket.budget_s, max_steps):
            run.add(report)
            if session.stop_requested:
                run.stopped = True
                break
            yield _run_outputs(session, run, note + where)
        ran_its_budget = not run.stopped and max_steps is None
    except DataError as err:
        session.runs.pop((name, recipe), None)
        yield _message(f"Training needs MNIST's training digits, which this server does not have: {err}")
        return
    finally:
        TRAINER.leave(ticket, ran_its_budget)  # the next in line starts while this run's last outputs go out
    run.finished = True
    session.latest[name] = run
    yield _run_outputs(session, run, note + where)


async def _reports(name, recipe, budget_s, max_steps) -> AsyncIterator[tuple[Report, str]]:
    """The run's reports, each with a note on where it trains: on ZeroGPU's GPU or the server's CPU. A ZeroGPU
    refusal (the visitor's daily quota spent, no GPU free) comes before the first report; the run then trains on
    the CPU and says why. Training runs off the event loop, a report's worth at a time on a worker thread."""
    steps, where = train_steps_on_gpu(name, recipe, budget_s, max_steps), ""
    try:
        report = await asyncio.to_thread(next, steps, None)
    except gr.Error as refusal:
        if not str(getattr(refusal, "title", "")).startswith("ZeroGPU"):
            raise
        steps, where = train_steps(name, recipe, budget_s, max_steps), f"No GPU for this run ({refusal.message}): " \
            "it trains on the server's CPU, which learns less in the same time. "
        report = await asyncio.to_thread(next, steps, None)
    while report is not None:
        yield report, where
        report = await asyncio.to_thread(next, steps, None)


def _shared(ticket: Ticket) -> str:
    return f"of the {ticket.chosen_s:g} s you chose: others were waiting"


def _waiting(ahead: int, wait_s: float, ticket: Ticket) -> str:
    runs = "1 run is" if ahead == 1 else f"{ahead} runs are"
    share = f" ({_shared(ticket)})" if ticket.budget_s < ticket.chosen_s else ""
    return (f"Waiting for the trainer: {runs} ahead of yours. Your run of {ticket.budget_s:.0f} s{share} starts in "
            f"about {math.ceil(wait_s)} s. One training runs at a time on this server, first come first served.")


def show_model(name, session: TrainSession) -> tuple:
    """The tab for a model picked while no run is going: its curves so far, its last run's film and result."""
    if _check(name, "ours"):
        return _message(_check(name, "ours"))
    run = session.latest.get(name)
    if run is None:
        return (progress_html(None, IDLE_PROMPT), *_charts(session, name), None,
                f"No run of {MODELS[name].title} yet in this session.", "", gr.Button(interactive=False))
    return _run_outputs(session, run, "")


def use_in_draw_tab(name, session: TrainSession, own_models: dict | None) -> tuple[dict, str]:
    """The visitor's model in place of the committed one, in their session only: (own_models, note)."""
    own_models = dict(own_models or {})
    run = session.latest.get(name) if name in MODELS else None
    if run is None:
        return own_models, "Train this model first: there is nothing of yours to use yet."
    if not MODELS[name].in_draw_tab:
        return own_models, (f"{MODELS[name].title} is not in the Draw tab: it is the Latent tab's "
                            "control, and that tab keeps the committed weights.")
    model = build(name)
    model.load_state_dict(run.last.weights)
    own_models[name] = model.eval().to(memory_format=torch.channels_last)
    return own_models, (f"The Draw tab now shows your own {MODELS[name].title} (test MSE "
                        f"{run.last.test_mse:.4f}), for you only. Other visitors, and the Latent tab, keep the "
                        "committed weights.")


def forget_button(own_models: dict | None) -> gr.Button:
    """"Back to the committed weights": usable while the visitor has a model of theirs in the Draw tab."""
    return gr.Button(interactive=bool(own_models))


def forget_own_models(own_models: dict | None) -> tuple[dict, str]:
    names = ", ".join(MODELS[name].short_title for name in (own_models or {}))
    return {}, (f"Back to the committed weights ({names})." if names else "The Draw tab already shows the "
                "committed weights.")


def _check(name, recipe) -> str | None:
    if name not in MODELS:
        return f"Unknown model {name!r}: choose one of {', '.join(MODELS)}."
    if recipe not in RECIPE_CHOICES:
        return f"Unknown recipe {recipe!r}: choose one of {', '.join(RECIPE_CHOICES)}."
    return None


def _budget(budget) -> tuple[float, str]:
    """The time budget in seconds, within MIN_BUDGET_S to MAX_BUDGET_S, and a note where it had to change."""
    try:
        seconds = float(budget)
    except (TypeError, ValueError):
        return DEFAULT_BUDGET_S, f"Time budget {budget!r} is not a number: {DEFAULT_BUDGET_S} s. "
    if not math.isfinite(seconds) or not MIN_BUDGET_S <= seconds <= MAX_BUDGET_S:
        clipped = DEFAULT_BUDGET_S if not math.isfinite(seconds) else min(max(seconds, MIN_BUDGET_S), MAX_BUDGET_S)
        return clipped, f"Time budget {budget!r} s is outside {MIN_BUDGET_S} to {MAX_BUDGET_S} s: {clipped:g} s. "
    return seconds, ""


def _message(text: str) -> tuple:
    """The progress panel says `text`; the charts, the film, the result and Use keep what they show."""
    return (progress_html(None, text), *[gr.skip()] * (len(TRAIN_OUTPUTS) - 1))


def progress_html(fraction: float | None, text: str) -> str:
    bar = f'<progress value="{fraction:.3f}" max="1" style="width:100%"></progress>' if fraction is not None else ""
    return f'{bar}<div class="train-status">{text}</div>'


def _run_outputs(session: TrainSession, run: Run, note: str) -> tuple:
    last = run.last
    epochs = last.images_seen / len(training_images())
    counts = (f"step {last.step:,} · {last.images_seen:,} digits seen ({epochs:.1f} epochs) · test MSE "
              f"{last.test_mse:.4f}")
    if not run.finished:
        status = f"Training <b>{MODELS[run.name].title}</b> with {_recipe_name(run.recipe)}: {last.seconds:.0f} of " \
                 f"{run.budget_s:g} s · {counts}"
        fraction = min(last.seconds / run.budget_s, 1.0)
    else:
        status = ("Stopped" if run.stopped else "Done") + f" after {last.seconds:.0f} s · {counts}"
        fraction = 1.0
    return (progress_html(fraction, note + status), *_charts(session, run.name), _film(run), _film_caption(run),
            _result(session, run) if run.finished else "", gr.Button(interactive=run.finished))


def _recipe_name(recipe: str) -> str:
    return "the course's recipe" if recipe == "course" else "our recipe"


def _charts(session: TrainSession, name: str) -> tuple[str, str]:
    """The training loss and the test MSE of this model's runs, one line per recipe, on shared axes."""
    runs = [run for (model, _), run in sorted(session.runs.items()) if model == name and len(run.reports) > 0]
    if not runs:
        return EMPTY_CHARTS
    x_end = max([run.budget_s for run in runs], default=DEFAULT_BUDGET_S)
    unit = "MSE per pixel" if RECIPES[name].loss == "mse" else "nats per image"
    loss_lines, mse_lines = [], []
    for run in runs:
        label, colour = _recipe_name(run.recipe).removeprefix("the ").capitalize(), RECIPE_COLOURS[run.recipe]
        trained = [r for r in run.reports if r.train_loss is not None]
        loss_lines.append(charts.Line(label, colour, [r.seconds for r in trained], [r.train_loss for r in trained],
                                      [f"{label}, {r.seconds:.1f} s, step {r.step:,}: {r.train_loss:.4g}"
                                       for r in trained]))
        mse_lines.append(charts.Line(label, colour, [r.seconds for r in run.reports], [r.test_mse for r in run.reports],
                                     [f"{label}, {r.seconds:.1f} s, step {r.step:,}: test MSE {r.test_mse:.4f}"
                                      for r in run.reports]))
    committed = committed_test_mse(name)
    noisy = f", Gaussian noise {eval_amount(name):g} in" if eval_amount(name) else ""
    loss_chart = charts.line_chart(loss_lines, x_end, "seconds of training", f"training loss ({unit})")
    mse_chart = charts.line_chart(mse_lines, x_end, "seconds of training", f"test MSE ({TEST_SLICE:,} digits{noisy})",
                                  [charts.Rule(committed, f"the committed model: {committed:.4f}", vertical=False)],
                                  legend_rule=f"the committed model ({committed:.4f})")
    return loss_chart, mse_chart


def _film_rows(run: Run) -> list[Report]:
    picks = np.linspace(0, len(run.reports) - 1, min(len(run.reports), FILM_ROWS)).round().astype(int)
    return [run.reports[i] for i in sorted(set(picks))]


def _film(run: Run) -> np.ndarray:
    rows = [as_pixels(film_inputs(run.name)[1][:, 0].numpy()), *[r.film for r in _film_rows(run)]]
    labels = ["shown", *[f"after {r.seconds:.0f} s" for r in _film_rows(run)]]
    return labelled_rows(tile(np.stack(rows), 255), labels)


def _film_caption(run: Run) -> str:
    shown = "as the model is shown them (with noise)" if eval_amount(run.name) else "as given"
    times = ", ".join(f"{r.seconds:.0f} s" for r in _film_rows(run))
    return f"Top row: eight test digits {shown}. Below: the model's drawing of them after {times} of training."


def _result(session: TrainSession, run: Run) -> str:
    card = read_card(run.name)
    mine = run.last.test_mse
    lines = [f"**Test MSE on {TEST_SLICE:,} test digits: {mine:.4f}** after {run.last.seconds:.0f} s with "
             f"{_recipe_name(run.recipe)}; the committed model, trained for {card['recipe']['epochs']} epochs with "
             f"ours: {committed_test_mse(run.name):.4f}."]
    other = session.runs.get((run.name, "course" if run.recipe == "ours" else "ours"))
    if other is not None and other.finished:
        lines.append(f"{_recipe_name(other.recipe).capitalize()} reached {other.last.test_mse:.4f} in "
                     f"{other.last.seconds:.0f} s.")
    if MODELS[run.name].in_draw_tab:
        lines.append("**Use in the Draw tab** puts this model there in place of the committed one, for you only.")
    return " ".join(lines)
