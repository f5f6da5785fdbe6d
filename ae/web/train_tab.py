"""The Train tab's server side: the callbacks of the tab's events, where a visitor's page cannot train the model itself.

A page trains in a Web Worker of its own (ae/web/train_view.py, static/train.js): these callbacks are what trains
when it cannot (no WebAssembly or workers, a file that will not load), and what the public /train API runs.

Pick a model, a recipe and a time budget; Train streams a progress bar, the training loss and the test MSE as
live curves, and eight test digits as the model redraws them (train_pictures). Both recipes run against the same
clock (train_runs), so the course's curves and ours share the axes. At the end, "Use in the Draw tab" swaps the
model in for this visitor only: it lives in their session (a gr.State that app.py passes to the Draw callbacks),
and the committed weights never change.

One training runs at a time per server (TRAINER's line, train_queue: the others wait, told their place and wait);
the session's bookkeeping (TrainSession) stays outside the GPU function.
"""

import asyncio
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import gradio as gr
import torch

from ..data import DataError
from ..models import MODELS, build
from .train_pictures import film, film_caption, progress_html, recipe_name, result, run_charts
from .train_queue import Ticket, TrainQueue
from .train_runs import (
    DEFAULT_BUDGET_S,
    MAX_BUDGET_S,
    MIN_BUDGET_S,
    Report,
    Run,
    train_steps,
    train_steps_on_gpu,
    training_images,
)

RECIPE_CHOICES = {
    "course": "The course's: batch 20, constant learning rate 1e-3, no shuffling",
    "ours": "Ours (ae/train.py): shuffled, one-cycle schedule, this model's batch size and peak rate",
}
TRAINER = TrainQueue(min_budget_s=MIN_BUDGET_S)  # the server's one trainer and its line of runs
LINE_LENGTH = 32  # runs in TRAINER's line at once (a class); the next waits in Gradio's queue for a place in it
IDLE_PROMPT = "Pick a model, a recipe and a time budget, then press <b>Train</b>."


@dataclass
class TrainSession:
    """What the Train tab keeps for one visitor (a gr.State): runs by (model, recipe), and the Stop request."""
    stop_requested: bool = False
    runs: dict[tuple[str, str], Run] = field(default_factory=dict)
    latest: dict[str, Run] = field(default_factory=dict)  # the last run of each model, which Use takes

    def charts(self, name: str) -> tuple[str, str]:
        """The live charts of this model's runs, both recipes on shared axes."""
        return run_charts(name, [run for (model, _), run in sorted(self.runs.items()) if model == name])

    def other(self, run: Run) -> Run | None:
        """The run of the same model with the other recipe, if there is one."""
        return self.runs.get((run.name, "course" if run.recipe == "ours" else "ours"))


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
        return (progress_html(None, IDLE_PROMPT), *session.charts(name), None,
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


def _run_outputs(session: TrainSession, run: Run, note: str) -> tuple:
    last = run.last
    epochs = last.images_seen / len(training_images())
    counts = (f"step {last.step:,} · {last.images_seen:,} digits seen ({epochs:.1f} epochs) · test MSE "
              f"{last.test_mse:.4f}")
    if not run.finished:
        status = f"Training <b>{MODELS[run.name].title}</b> with {recipe_name(run.recipe)}: {last.seconds:.0f} of " \
                 f"{run.budget_s:g} s · {counts}"
        fraction = min(last.seconds / run.budget_s, 1.0)
    else:
        status = ("Stopped" if run.stopped else "Done") + f" after {last.seconds:.0f} s · {counts}"
        fraction = 1.0
    return (progress_html(fraction, note + status), *session.charts(run.name), film(run), film_caption(run),
            result(run, session.other(run)) if run.finished else "", gr.Button(interactive=run.finished))
