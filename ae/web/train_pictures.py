"""The Train tab's server-drawn pictures of a run: the progress line, the two live charts (both recipes of a model
on shared axes), the film of eight test digits as the model redraws them, and the result's sentence."""

import numpy as np

from ..checkpoints import read_card
from ..models import MODELS
from ..train import RECIPES
from . import charts
from .common import as_pixels, labelled_rows, tile
from .train_runs import DEFAULT_BUDGET_S, TEST_SLICE, Report, Run, committed_test_mse, eval_amount, film_inputs

FILM_ROWS = 5  # snapshots shown under the digits, spread over the run
RECIPE_COLOURS = {"course": "#ff7f0e", "ours": "#1f77b4"}
EMPTY_CHART_WORDS = ("The training loss appears here as the model trains, a line per recipe: press Train.",
                     "The test error appears here as the model trains, against the committed model's: press Train.")
EMPTY_CHARTS = tuple(charts.placeholder(words) for words in EMPTY_CHART_WORDS)  # before this model's first run


def progress_html(fraction: float | None, text: str) -> str:
    bar = f'<progress value="{fraction:.3f}" max="1" style="width:100%"></progress>' if fraction is not None else ""
    return f'{bar}<div class="train-status">{text}</div>'


def recipe_name(recipe: str) -> str:
    return "the course's recipe" if recipe == "course" else "our recipe"


def run_charts(name: str, runs: list[Run]) -> tuple[str, str]:
    """The training loss and the test MSE of this model's runs, one line per recipe, on shared axes."""
    runs = [run for run in runs if run.reports]
    if not runs:
        return EMPTY_CHARTS
    x_end = max([run.budget_s for run in runs], default=DEFAULT_BUDGET_S)
    unit = "MSE per pixel" if RECIPES[name].loss == "mse" else "nats per image"
    loss_lines, mse_lines = [], []
    for run in runs:
        label, colour = recipe_name(run.recipe).removeprefix("the ").capitalize(), RECIPE_COLOURS[run.recipe]
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


def film_rows(run: Run) -> list[Report]:
    picks = np.linspace(0, len(run.reports) - 1, min(len(run.reports), FILM_ROWS)).round().astype(int)
    return [run.reports[i] for i in sorted(set(picks))]


def film(run: Run) -> np.ndarray:
    rows = [as_pixels(film_inputs(run.name)[1][:, 0].numpy()), *[r.film for r in film_rows(run)]]
    labels = ["shown", *[f"after {r.seconds:.0f} s" for r in film_rows(run)]]
    return labelled_rows(tile(np.stack(rows), 255), labels)


def film_caption(run: Run) -> str:
    shown = "as the model is shown them (with noise)" if eval_amount(run.name) else "as given"
    times = ", ".join(f"{r.seconds:.0f} s" for r in film_rows(run))
    return f"Top row: eight test digits {shown}. Below: the model's drawing of them after {times} of training."


def result(run: Run, other: Run | None) -> str:
    card = read_card(run.name)
    mine = run.last.test_mse
    lines = [f"**Test MSE on {TEST_SLICE:,} test digits: {mine:.4f}** after {run.last.seconds:.0f} s with "
             f"{recipe_name(run.recipe)}; the committed model, trained for {card['recipe']['epochs']} epochs with "
             f"ours: {committed_test_mse(run.name):.4f}."]
    if other is not None and other.finished:
        lines.append(f"{recipe_name(other.recipe).capitalize()} reached {other.last.test_mse:.4f} in "
                     f"{other.last.seconds:.0f} s.")
    if MODELS[run.name].in_draw_tab:
        lines.append("**Use in the Draw tab** puts this model there in place of the committed one, for you only.")
    return " ".join(lines)
