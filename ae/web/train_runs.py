"""The Train tab's server side, its training runs: a fresh model trained against the clock, reporting as it goes.

This is what trains where a visitor's page cannot (ae/web/train_view.py, static/train.js train in the page), and
what the public /train runs (ae.web.train_tab). What the two recipes are (ae.step.step_recipe, as the page's): the
course notebooks' (batch 20, Adam at a constant 1e-3, the training set in its stored order every epoch) and ours
from ae.train (this model's batch size and peak rate, a one-cycle schedule, shuffled batches, and a range of noise
amounts for the denoiser). Ours spreads its one cycle over the time budget, since a run here is measured in seconds
rather than epochs. Both start from the same weights as the page's (ae.step.starting_model), and both run
ae.train's own loop (training_steps) under ae.optim's Adam and schedule, the ones `python -m ae.train` runs, paced
by the clock here, on one thread, so that other visitors' drawing stays quick.

On Hugging Face ZeroGPU hardware, `train_steps_on_gpu` is the one @spaces.GPU function: it yields plain records
(numbers, pictures and weights on the CPU), which is all that must cross from the GPU worker.
"""

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from ..data import DataError, DigitFile, fetch_with_torchvision
from ..models import PRINCIPAL_START_IMAGES
from ..noise import add_noise
from ..optim import Adam, one_cycle
from ..step import SEED, starting_model, step_recipe
from ..train import EVAL_NOISE_SEED, RECIPES, eval_noise, test_mse, training_steps
from .common import as_pixels, mnist_sample, pretrained, sample_picks

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
REPORT_EVERY_S = 1.0


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
