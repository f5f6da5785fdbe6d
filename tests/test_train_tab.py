"""The Train tab's callbacks as plain functions: a run streams, Stop keeps what it has, the visitor's model
reaches the Draw tab for them only. Runs here are a few steps long (max_steps); the time goals are the
benchmark's and the README's, never a test's."""

import asyncio
import inspect
import multiprocessing
import pickle
import subprocess
import sys
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch

from ae import train
from ae.checkpoints import file_sha256, read_card, weights_path
from ae.models import MODELS, build
from ae.web import common, draw_tab, train_pictures, train_runs, train_tab

pytestmark = pytest.mark.slow  # training runs
REPO = Path(__file__).resolve().parent.parent
OUT = {name: index for index, name in enumerate(train_tab.TRAIN_OUTPUTS)}


def stepped(updates):
    """The Train button's async generator, stepped from a test as Gradio's event loop steps it."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(updates))
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(updates.aclose())
        loop.close()


def run(name, recipe, session, max_steps=20, budget=60):
    return list(stepped(train_tab.train(name, recipe, budget, session, max_steps=max_steps)))


@pytest.fixture
def session():
    return train_tab.TrainSession()


def test_a_few_steps_stream_the_curves_the_digits_and_a_result(session):
    updates = run("linear", "ours", session, max_steps=20)
    first, last = updates[0], updates[-1]
    assert "Training <b>Linear" in first[OUT["progress"]] and "<progress" in first[OUT["progress"]]
    assert "Done" in last[OUT["progress"]] and "step 20 " in last[OUT["progress"]]
    assert last[OUT["mse_chart"]].count("<polyline") == 1 and "the committed model" in last[OUT["mse_chart"]]
    assert last[OUT["loss_chart"]].count("<polyline") == 1 and "MSE per pixel" in last[OUT["loss_chart"]]
    film = last[OUT["film"]]
    rows = len(session.latest["linear"].reports) + 1  # the digits, then one row per report (at most FILM_ROWS)
    assert film.dtype == np.uint8 and film.shape[0] == (rows * 29 - 1) * common.ROW_SCALE  # each row labelled
    assert film.shape[1] > (train_runs.FILM_DIGITS * 29 - 1) * common.ROW_SCALE
    assert "Test MSE on 1,000 test digits" in last[OUT["result"]]
    assert f"{train_runs.committed_test_mse('linear'):.4f}" in last[OUT["result"]]
    assert last[OUT["use_button"]].interactive is True and first[OUT["use_button"]].interactive is False
    reports = session.latest["linear"].reports
    assert reports[0].step == 0 and reports[0].train_loss is None and reports[-1].step == 20
    assert all(r.weights == {} for r in reports[:-1]) and reports[-1].weights  # one model per run is kept


def test_training_lowers_the_test_error(session):
    run("conv", "ours", session, max_steps=60)
    reports = session.latest["conv"].reports
    assert reports[-1].test_mse < reports[0].test_mse * 0.8


def test_both_recipes_share_the_axes(session):
    run("linear", "course", session, max_steps=10)
    last = run("linear", "ours", session, max_steps=10)[-1]
    for chart in (last[OUT["loss_chart"]], last[OUT["mse_chart"]]):
        assert chart.count("<polyline") == 2 and "Course's recipe" in chart and "Our recipe" in chart
    assert "The course's recipe reached" in last[OUT["result"]]
    switched = train_tab.show_model("conv", session)  # another model: its own (empty) curves
    assert switched[OUT["mse_chart"]].count("<polyline") == 0 and switched[OUT["use_button"]].interactive is False
    back = train_tab.show_model("linear", session)
    assert back[OUT["mse_chart"]].count("<polyline") == 2 and back[OUT["use_button"]].interactive is True


def test_the_train_tab_runs_ae_trains_loop(monkeypatch):
    """One training loop: the Train tab paces ae.train.training_steps by its clock, with the recipe's settings."""
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        yield from train.training_steps(*args, **kwargs)

    monkeypatch.setattr(train_runs, "training_steps", spy)
    reports = list(train_runs.train_steps("denoise", "course", 60, max_steps=3))
    assert reports[-1].step == 3
    assert calls == [{"batch_size": 20, "loss": "mse", "train_noise": (0.5, 0.5), "shuffle": False, "device": "cpu"}]


def test_training_leaves_torch_dynamo_unimported():
    """The server keeps whatever a training imports: torch.optim and torchvision.datasets would bring in
    torch._dynamo and sympy (about 150 MB)."""
    script = ("import sys; from ae.web import train_runs; "
              "[r for r in train_runs.train_steps('conv', 'ours', 60, max_steps=3)]; "
              "print(sorted(m for m in ('torch._dynamo', 'sympy', 'torchvision.datasets') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_stop_ends_the_run_and_keeps_what_it_has(session):
    updates = stepped(train_tab.train("linear", "ours", 60, session))
    next(updates)
    next(updates)  # a second report: some training done
    train_tab.stop(session)
    last = list(updates)[-1]
    kept = session.latest["linear"]
    assert kept.stopped and kept.finished and kept.last.seconds < 30 and kept.last.weights
    assert "Stopped" in last[OUT["progress"]] and last[OUT["use_button"]].interactive is True
    own, note = train_tab.use_in_draw_tab("linear", session, {})
    assert "linear" in own and "for you only" in note


def test_a_click_on_train_locks_the_runs_settings_until_it_ends(session):
    progress, *locked = train_tab.arm(session)
    assert "Waiting for the trainer" in progress
    assert len(locked) == 4 and all(update.interactive is False for update in locked)
    assert all(update.interactive is True for update in train_tab.unlock())


def test_stop_while_waiting_means_the_run_never_starts(session):
    train_tab.arm(session)
    train_tab.stop(session)
    updates = run("linear", "ours", session)
    assert len(updates) == 1 and "Stopped before it started" in updates[0][OUT["progress"]]
    assert session.runs == {}
    train_tab.arm(session)  # the next click trains again
    assert "Done" in run("linear", "ours", session, max_steps=2)[-1][OUT["progress"]]


@pytest.mark.parametrize("name, recipe, budget, says", [
    ("resnet", "ours", 30, "Unknown model"),
    ("linear", "adamw", 30, "Unknown recipe"),
    ("linear", "ours", "soon", "not a number"),
    ("linear", "ours", 600, "outside 5 to 60"),
    ("linear", "ours", float("nan"), "outside 5 to 60"),
])
def test_bad_settings_get_a_clear_message(session, name, recipe, budget, says):
    updates = run(name, recipe, session, max_steps=2, budget=budget)
    assert says in updates[0][OUT["progress"]] or says in updates[-1][OUT["progress"]]


def test_the_visitors_model_draws_for_them_only_and_the_committed_weights_stay(session, example_on_pad):
    sha_before = file_sha256(weights_path("conv"))
    committed = {key: value.clone() for key, value in common.pretrained()["conv"].state_dict().items()}
    run("conv", "ours", session, max_steps=30)
    own, note = train_tab.use_in_draw_tab("conv", session, {})
    assert "your own Convolutional (transposed-conv decoder)" in note
    pad = example_on_pad(3)
    theirs = draw_tab.draw_update(pad, "gaussian", 0.2, 0)
    mine = draw_tab.draw_update(pad, "gaussian", 0.2, 0, own)
    assert mine["outputs"]["conv"] != theirs["outputs"]["conv"]  # 30 steps: a worse model
    assert mine["outputs"]["linear"] == theirs["outputs"]["linear"]  # the others untouched
    assert mine["yours"] == ["conv"] and theirs["yours"] == []
    assert "Yours from the Train tab: Conv, transposed." in mine["status"]
    assert mine["sweep"]["mse"]["conv"] != theirs["sweep"]["mse"]["conv"]
    # the committed model and its file are as they were, and so is what another visitor sees
    after = common.pretrained()["conv"].state_dict()
    assert all(torch.equal(committed[key], after[key]) for key in committed)
    assert file_sha256(weights_path("conv")) == sha_before == read_card("conv")["weights_sha256"]
    assert draw_tab.draw_update(pad, "gaussian", 0.2, 0)["outputs"]["conv"] == theirs["outputs"]["conv"]
    forgotten, note = train_tab.forget_own_models(own)
    assert forgotten == {} and "committed weights" in note


def test_the_latent_tabs_models_train_but_stay_out_of_the_draw_tab(session):
    last = run("ae2d", "ours", session, max_steps=5)[-1]
    assert "nats per image" in last[OUT["loss_chart"]]
    own, note = train_tab.use_in_draw_tab("ae2d", session, {})
    assert own == {} and "not in the Draw tab" in note
    assert "Use in the Draw tab" not in last[OUT["result"]]


def test_a_model_not_yet_trained_shows_what_its_charts_will_hold(session):
    outputs = train_tab.show_model("conv", session)
    assert (outputs[OUT["loss_chart"]], outputs[OUT["mse_chart"]]) == train_pictures.EMPTY_CHARTS
    assert "No run of" in outputs[OUT["film_caption"]] and outputs[OUT["film"]] is None


def test_use_before_training_says_to_train_first(session):
    own, note = train_tab.use_in_draw_tab("linear", session, None)
    assert own == {} and "Train this model first" in note


@pytest.mark.parametrize("name", ["denoise", "vae"])
def test_every_kind_of_model_trains(session, name):
    last = run(name, "course", session, max_steps=3)[-1]
    assert "Done" in last[OUT["progress"]]
    if name == "denoise":
        assert "Gaussian noise 0.5 in" in last[OUT["mse_chart"]] and "with noise" in last[OUT["film_caption"]]
    assert set(MODELS) >= set(session.latest)


def test_without_mnist_and_no_way_to_fetch_it_the_tab_says_what_to_run(session, monkeypatch):
    def missing(train):
        raise train_runs.DataError("MNIST file data/MNIST/raw/train-images-idx3-ubyte is missing")

    def offline():
        raise OSError("no route to host")

    monkeypatch.setattr(train_runs, "DigitFile", missing)
    monkeypatch.setattr(train_runs, "fetch_with_torchvision", offline)
    train_runs.training_images.cache_clear()
    try:
        updates = run("linear", "ours", session, max_steps=2)
    finally:
        train_runs.training_images.cache_clear()
    assert len(updates) == 1 and "python -m ae.data" in updates[0][OUT["progress"]]
    assert "no route to host" in updates[0][OUT["progress"]] and session.runs == {}


def test_on_zerogpu_the_training_function_is_the_one_spaces_gpu_function():
    """With Hugging Face's `spaces` package active (a stand-in here), train_steps_on_gpu is handed to spaces.GPU,
    asking for its budget and a start-up, and still trains; elsewhere it is the plain generator it was written as."""
    script = """
import sys, types
lent = []
spaces = types.ModuleType("spaces")
def GPU(duration):
    def decorate(function):
        lent.append((function.__name__, duration("linear", "ours", 60)))
        return function
    return decorate
spaces.GPU = GPU
sys.modules["spaces"] = spaces
from ae.web import train_runs
assert lent == [("train_steps_on_gpu", 90)], lent  # a 60 s run asks for 90 s: within a visitor's 2 minutes
assert list(train_runs.train_steps_on_gpu("linear", "ours", 60, max_steps=2))[-1].step == 2
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert inspect.isgeneratorfunction(train_runs.train_steps_on_gpu)  # off ZeroGPU, spaces.GPU changes nothing


def test_a_visitor_whose_gpu_quota_is_spent_trains_on_the_cpu_and_is_told(session, monkeypatch):
    def refused(*args):
        raise gr.Error("You have exceeded your free ZeroGPU quota (90s requested vs. 12s left).",
                       title="ZeroGPU quota exceeded")
        yield

    monkeypatch.setattr(train_tab, "train_steps_on_gpu", refused)
    updates = run("linear", "ours", session, max_steps=2)
    assert "Done" in updates[-1][OUT["progress"]] and "No GPU for this run (You have exceeded" in \
        updates[-1][OUT["progress"]] and "CPU" in updates[-1][OUT["progress"]]


def test_a_run_behind_another_waits_saying_its_place_and_wait_then_trains(session):
    ahead = train_tab.TRAINER.join(30)
    try:
        updates = stepped(train_tab.train("linear", "ours", 30, session, max_steps=2))
        waiting = next(updates)[OUT["progress"]]
        assert "1 run is ahead of yours" in waiting and "Your run of 30 s starts in about 31 s" in waiting
        assert session.runs == {}
    finally:
        train_tab.TRAINER.leave(ahead)
    assert "Done" in list(updates)[-1][OUT["progress"]] and "linear" in session.latest


def _yield_across(queue, *args) -> None:
    """The GPU function in a process of its own, each Report pickled across as ZeroGPU sends what it yields."""
    for report in train_runs.train_steps_on_gpu(*args):
        queue.put(pickle.dumps(report))
    queue.put(None)


def test_the_gpu_function_runs_across_a_process_boundary():
    """On ZeroGPU the @spaces.GPU function (train_steps_on_gpu) runs in another process: its arguments and every
    Report it yields must cross by pickle. Run it that way here, in a fresh (spawned) process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=_yield_across, args=(queue, "conv", "ours", 60, 3))
    worker.start()
    reports = []
    while (item := queue.get(timeout=300)) is not None:
        reports.append(pickle.loads(item))
    worker.join(60)
    assert worker.exitcode == 0 and [report.step for report in reports][-1] == 3
    assert set(reports[-1].weights) == set(build("conv").state_dict()) and reports[-1].film.shape == (8, 28, 28)
