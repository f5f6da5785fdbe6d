import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from ae import load_pretrained, train
from ae.models import build
from ae.train import Recipe, collapsed, silent_code_channels, train_model

pytestmark = pytest.mark.slow  # training runs

TINY = Recipe(epochs=3, batch_size=32, max_lr=3e-3)


@pytest.fixture(scope="module")
def few_images(mnist_train, mnist_test):
    return mnist_train[0][:320], mnist_test[0][:500]


def test_short_run_on_real_mnist_lowers_the_loss(few_images):
    train_x, test_x = few_images
    torch.manual_seed(0)
    untrained = train.test_mse(build("conv"), test_x)
    model, card = train_model("conv", TINY, 0, train_x, test_x, checkpoint_dir=None)
    history = card["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["test_mse"] < untrained
    assert card["parameters"] == 1_077 and card["code_size"] == 196


def test_the_loop_trains_digits_as_stored_exactly_as_their_floats(few_images):
    """training_steps, the one loop of ae.train and the Train tab: the Train tab's digits come as stored (uint8, a
    DigitFile's), ae.train's as floats in [0, 1]; the same digits train the same weights either way."""
    stored = (few_images[0][:128] * 255).round().to(torch.uint8)
    runs = []
    for images in (stored, stored.float() / 255):
        torch.manual_seed(0)
        model = build("linear")
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        steps = train.training_steps(model, images, optimizer, torch.Generator().manual_seed(0), batch_size=32,
                                     loss="mse")
        runs.append([next(steps) for _ in range(12)])  # three epochs, each in a fresh order
    assert runs[0] == runs[1] and sum(runs[0][-4:]) < sum(runs[0][:4])


@pytest.mark.parametrize("name", ["linear", "denoise"])
def test_same_seed_gives_identical_weights(few_images, name):
    train_x, test_x = few_images
    recipe = Recipe(epochs=1, batch_size=32, max_lr=3e-3, train_noise=(0.3, 0.7) if name == "denoise" else None)
    first, _ = train_model(name, recipe, 5, train_x, test_x, checkpoint_dir=None)
    second, _ = train_model(name, recipe, 5, train_x, test_x, checkpoint_dir=None)
    third, _ = train_model(name, recipe, 6, train_x, test_x, checkpoint_dir=None)
    for key, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[key]), key
    assert any(not torch.equal(v, third.state_dict()[k]) for k, v in first.state_dict().items())


def test_collapse_is_detected(few_images, mnist_train):
    _, test_x = few_images
    mean_image_mse = ((test_x - mnist_train[0].mean(0)) ** 2).mean().item()
    model = build("conv")
    with torch.no_grad():
        model.decoder[-2].bias.fill_(-50)  # a saturated output sigmoid: every image drawn black
    assert collapsed(model, test_x, mean_image_mse)
    assert not collapsed(load_pretrained("linear"), test_x, mean_image_mse)


def test_a_collapsed_run_restarts_from_the_next_seed(few_images, monkeypatch):
    verdicts = iter([True, False])
    monkeypatch.setattr(train, "MIN_STEPS_TO_JUDGE", 0)
    monkeypatch.setattr(train, "collapsed", lambda *args: next(verdicts))
    monkeypatch.setattr(train, "silent_code_channels", lambda *args: 0)
    _, card = train_model("linear", Recipe(epochs=1, batch_size=32), 3, *few_images, checkpoint_dir=None)
    assert card["seed"] == 3 and card["run_seed"] == 4
    assert card["restart_guard"] == "FIRED: seed 3: collapsed to one output image after epoch 1"


def test_a_run_the_guard_let_through_says_so(few_images):
    _, card = train_model("linear", Recipe(epochs=1, batch_size=32), 0, *few_images, checkpoint_dir=None)
    assert card["restart_guard"] == "did not fire" and "loss" not in card


def test_training_writes_a_loadable_checkpoint_with_its_card(few_images, tmp_path):
    from ae.checkpoints import load_checkpoint, read_card
    model, _ = train_model("linear", Recipe(epochs=1, batch_size=64), 0, *few_images, checkpoint_dir=tmp_path)
    card = read_card("linear", tmp_path)
    assert {"architecture", "code_size", "parameters", "recipe", "seed", "train_seconds", "test_mse"} <= card.keys()
    assert torch.equal(load_checkpoint("linear", tmp_path).decoder[0].weight, model.decoder[0].weight)


def test_silent_code_channels_are_counted(few_images):
    _, test_x = few_images
    model = load_pretrained("upsample")
    assert silent_code_channels(model, test_x) == 0
    with torch.no_grad():
        model.encoder[3].bias[[0, 2]] = -1e3  # two of the four code channels never switch on
    assert silent_code_channels(model, test_x) == 2


@pytest.mark.parametrize("argv, folder", [
    (["--model", "linear", "--epochs", "1"], train.TRIAL_DIR),
    (["--model", "linear", "--limit", "500"], train.TRIAL_DIR),
    (["--model", "linear"], train.CHECKPOINT_DIR),
    (["--model", "linear", "--limit", "500", "--out", "elsewhere"], Path("elsewhere")),
])
def test_shortened_runs_never_write_the_committed_checkpoints(monkeypatch, argv, folder):
    written = []
    monkeypatch.setattr(train, "side_by_side", ThreadPoolExecutor)  # the call, without its process
    monkeypatch.setattr(train, "train_and_save", lambda name, recipe, seed, device, out, limit:
                        written.append(out) or {"test_mse": 0, "train_seconds": 0})
    train.main(argv)
    assert written == [folder]


def test_all_models_start_longest_first_by_their_cards(tmp_path):
    for name, seconds in {"linear": 77, "conv": 737, "denoise": 2336}.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({"train_seconds": seconds}))
    assert train.longest_first(["linear", "conv", "denoise", "vae"], tmp_path) == ["vae", "denoise", "conv", "linear"]


def test_a_training_process_trains_on_one_thread_and_writes_its_card(tmp_path):
    with train.side_by_side(1) as pool:
        card = pool.submit(train.train_and_save, "linear", Recipe(epochs=1, batch_size=64), 0, "cpu", tmp_path,
                           640).result()
        threads = pool.submit(torch.get_num_threads).result()
    assert threads == 1 and card["seed"] == 0 and (tmp_path / "linear.safetensors").exists()
    assert card["history"][0]["epoch"] == 1 and len(card["history"]) == 1


@pytest.mark.parametrize("name, kind", [("vae", "elbo"), ("ae2d", "bce")])
def test_the_2d_models_train_on_their_loss_in_nats(few_images, name, kind):
    train_x, test_x = few_images
    torch.manual_seed(0)
    untrained = train.test_loss(build(name), test_x, kind)
    _, card = train_model(name, Recipe(epochs=2, batch_size=32, max_lr=2e-3, loss=kind), 0, train_x, test_x,
                          checkpoint_dir=None)
    assert card["loss"] == kind and card["code_size"] == 2
    assert 100 < card["test_loss"] < untrained  # nats per image: 543 for a grey page, about 140 when trained
    assert card["history"][-1]["test_loss"] == card["test_loss"]


def test_the_elbo_is_reconstruction_plus_kl():
    from ae.metrics import bce_sum_per_image, kl_to_prior, negative_elbo_per_image
    torch.manual_seed(0)
    model = build("vae").eval()
    x = torch.rand(6, 1, 28, 28)
    mean, log_var = model.posterior(x)
    assert torch.allclose(kl_to_prior(torch.zeros(3, 2), torch.zeros(3, 2)), torch.zeros(3))  # the prior itself
    assert torch.allclose(kl_to_prior(torch.ones(1, 2), torch.zeros(1, 2)), torch.tensor([1.0]))  # 1/2 per unit mean
    with torch.no_grad():
        model.encoder[-1].bias[2:] = -60  # log-variance -60: the sample is the mean
        mean, log_var = model.posterior(x)
        expected = bce_sum_per_image(model(x), x) + kl_to_prior(mean, log_var)
        assert torch.allclose(negative_elbo_per_image(model, x, x), expected, rtol=1e-4)


def test_an_unused_latent_number_is_counted_as_silent(few_images):
    _, test_x = few_images
    model = build("vae")
    with torch.no_grad():
        model.encoder[-1].weight[1] = 0  # the mean's second number ignores the image: posterior collapse
        model.encoder[-1].weight[0] *= 100  # and the first one moves a lot
    assert silent_code_channels(model, test_x) == 1


def test_a_vae_is_saved_with_float16_weights_and_its_card_measures_them(few_images):
    """The VAE's weight matrices leave training as float16 values (ae.models.Autoencoder.float16_weights), so its
    page copy loses nothing; its card's figures are the rounded model's."""
    train_x, test_x = few_images
    model, card = train_model("vae", Recipe(epochs=1, batch_size=64, max_lr=2e-3, loss="elbo"), 0, train_x, test_x,
                              checkpoint_dir=None)
    matrices = [parameter for parameter in model.parameters() if parameter.dim() >= 2]
    assert matrices and all(torch.equal(p, p.half().float()) for p in matrices)
    assert not all(torch.equal(p, p.half().float()) for p in model.parameters())  # the biases stay float32
    assert card["test_mse"] == round(train.test_mse(model, test_x), 6)
    assert card["test_loss"] == round(train.test_loss(model, test_x, "elbo"), 3)
