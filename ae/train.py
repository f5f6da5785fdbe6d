"""Train the demo's autoencoders on MNIST and write their checkpoints.

    python -m ae.train --model all --seed 0            # everything, about an hour on 2 CPU cores
    python -m ae.train --model conv --epochs 2         # one model, shorter
    python -m ae.train --model code-sizes              # the linear model at every code size (ae.lessons)

Every model trains in a process of its own on one thread, `--jobs` of them side by side (one per core). One
thread because the thread count changes the order in which PyTorch adds, and so the weights' last bits: with it
fixed, a run is a pure function of --seed on a given machine, whatever its core count, and the checkpoints of
`--model all` are the same as those of one model at a time.

What beats the course notebooks' recipe (batch 20, constant lr 1e-3, no shuffling) with the same
architectures: shuffled batches, a one-cycle learning-rate schedule (warm-up, then cosine annealing to
almost zero), and more epochs for the tiny convolutional models. The denoiser sees a different Gaussian
amount for every image, drawn from a range around the course's 0.5, so it holds up as the app's slider moves.

Dead ReLUs: with PyTorch's default initialisation, code units died in the first epoch on many seeds (the
denoiser on 9 of 10): a unit no image switches on gets no gradient and stays dead. The models now start so that
none do (ae.models: start_well, and for upsample a start from its images' principal components, start_from;
docs/seeds.md). What remains is a guard that should never fire: after the first epoch (if it was long enough to
judge, MIN_STEPS_TO_JUDGE) a model with a silent code channel, or one that draws the same image whatever it is
shown, restarts from the next seed, and its card says so in capitals ("restart_guard"), so a run is still a pure
function of --seed and a fragile recipe is not hidden.

The 2-D models (vae, ae2d) are trained as their literature does, on binary cross-entropy summed over the pixels
(plus the KL term for the VAE), reported in nats per image.
"""

import argparse
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .checkpoints import CHECKPOINT_DIR, CheckpointError, read_card, save_checkpoint
from .data import load_mnist
from .metrics import bce_sum_per_image, negative_elbo_per_image
from .models import CODE_SIZE_MODELS, MODELS, Autoencoder, build
from .noise import add_noise
from .optim import Adam, one_cycle

MAX_ATTEMPTS = 5
MIN_STEPS_TO_JUDGE = 200  # fewer steps than this leave even a live model's outputs nearly constant
OUTPUT_SPREAD_FLOOR = 1e-3  # per-pixel spread of outputs across images below which a model draws one image
BAR_LINE = 0  # the terminal line of this process's progress bar, one per process side by side (side_by_side)
TRIAL_DIR = Path(__file__).resolve().parent.parent / "out" / "trial-checkpoints"  # shortened runs land here
EVAL_NOISE_SEED = 1234  # fixed test-time noise, so per-epoch figures compare across runs
DENOISE_EVAL_AMOUNT = 0.5


@dataclass
class Recipe:
    epochs: int
    batch_size: int = 64
    max_lr: float = 5e-3  # peak of the one-cycle schedule
    train_noise: tuple[float, float] | None = None  # Gaussian amount per image, drawn uniformly from this range
    loss: str = "mse"  # "mse" per pixel (the course's); "bce" or "elbo" (BCE + KL) in nats per image (2-D models)


# The classic four's chosen by a sweep of batch size, peak rate, epochs and noise range (see docs/training.md),
# from PyTorch's default start. With the new starts (ae.models.start_well) the seed study (docs/seeds.md) moved
# two of them: the denoiser's peak rate from 2e-3 to 5e-3, and upsample from batch 128 at 1e-2 to the sweep's
# runner-up, batch 64 at 5e-3. The 2-D models' is the first one tried, run to 60 epochs.
RECIPES = {
    "linear": Recipe(epochs=30, batch_size=32, max_lr=3e-3),
    "conv": Recipe(epochs=40, batch_size=64, max_lr=1e-2),
    "upsample": Recipe(epochs=50, batch_size=64, max_lr=5e-3),
    "denoise": Recipe(epochs=28, batch_size=64, max_lr=5e-3, train_noise=(0.3, 0.7)),
    "vae": Recipe(epochs=60, batch_size=128, max_lr=2e-3, loss="elbo"),
    "ae2d": Recipe(epochs=60, batch_size=128, max_lr=2e-3, loss="bce"),
}


def recipe_of(name: str) -> Recipe:
    """A model's recipe: its own, or for the linear model at another code size, the linear model's."""
    return RECIPES[name] if name in RECIPES else RECIPES[MODELS["linear"].name]


def eval_noise(recipe: Recipe) -> float:
    """The Gaussian amount a model's test MSE is measured under: the denoiser's job is noisy input, the others'
    clean."""
    return DENOISE_EVAL_AMOUNT if recipe.train_noise else 0.0


def noisy_inputs(clean: torch.Tensor, train_noise: tuple[float, float] | None,
                 generator: torch.Generator) -> torch.Tensor:
    """A training batch as the model is shown it: with a Gaussian amount per image drawn uniformly from
    `train_noise`, or clean where there is none."""
    if not train_noise:
        return clean
    low, high = train_noise
    amounts = low + (high - low) * torch.rand(len(clean), generator=generator)
    return add_noise(clean, "gaussian", amounts, generator=generator)


def training_loss(model: Autoencoder, inputs: torch.Tensor, targets: torch.Tensor, kind: str,
                  generator: torch.Generator | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
    """The loss a recipe minimises, averaged over the batch (see Recipe.loss); `noise`, the ELBO's posterior
    sample's, as negative_elbo_per_image takes it."""
    if kind == "elbo":
        return negative_elbo_per_image(model, inputs, targets, generator, noise).mean()
    outputs = model(inputs)
    if kind == "bce":
        return bce_sum_per_image(outputs, targets).mean()
    return F.mse_loss(outputs, targets)


@torch.no_grad()
def test_loss(model: Autoencoder, images: torch.Tensor, kind: str, batch: int = 2000) -> float:
    """The recipe's own loss on the test images, in nats per image for "bce" and "elbo" (one posterior sample
    per image, from a fixed generator)."""
    model.eval()
    generator = torch.Generator(_device(model)).manual_seed(EVAL_NOISE_SEED)
    total = sum(training_loss(model, x, x, kind, generator).item() * len(x)
                for x in images.to(_device(model)).split(batch))
    return total / len(images)


@torch.no_grad()
def test_mse(model: Autoencoder, images: torch.Tensor, noise_amount: float = 0.0, batch: int = 2000) -> float:
    """Per-pixel MSE against the clean images, of reconstructions from (optionally noisy) inputs."""
    model.eval()
    generator = torch.Generator().manual_seed(EVAL_NOISE_SEED)
    total = 0.0
    for clean in images.split(batch):
        inputs = add_noise(clean, "gaussian", noise_amount, generator=generator) if noise_amount else clean
        total += F.mse_loss(model(inputs.to(_device(model))).cpu(), clean, reduction="sum").item()
    return total / images.numel()


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def train_model(name: str, recipe: Recipe, seed: int, train_x: torch.Tensor, test_x: torch.Tensor,
                device: str = "cpu", checkpoint_dir: Path | None = CHECKPOINT_DIR) -> tuple[Autoencoder, dict]:
    """Train one model; returns it and its card (also written to checkpoint_dir unless that is None)."""
    start = time.perf_counter()
    restarts = []
    for attempt in range(MAX_ATTEMPTS):
        run_seed = seed + attempt
        model, history = train_run(name, recipe, run_seed, train_x, test_x, device)
        if model is not None:
            break
        first = history[0]
        restarts.append(f"seed {run_seed}: " + ("collapsed to one output image" if first["collapsed"] else
                                                 f"{first['silent_code_channels']} silent code channels")
                        + " after epoch 1")
        tqdm.write(f"{name}: the restart guard fired, {restarts[-1]} (dead ReLUs: a bug in the recipe, which "
                   f"should never happen); restarting with seed {run_seed + 1}")
    else:
        raise RuntimeError(f"{name}: training died {MAX_ATTEMPTS} times; try another --seed")
    model = model.cpu().eval()
    final = history[-1]
    if model.float16_weights:  # the card's figures are the rounded weights' (ae.models.Autoencoder.float16_weights)
        model.round_weights_to_float16()
        final = {"test_mse": round(test_mse(model, test_x, eval_noise(recipe)), 6),
                 **({"test_loss": round(test_loss(model, test_x, recipe.loss), 3)} if recipe.loss != "mse" else {})}
    card = {
        "model": name,
        "architecture": str(model),
        "code_shape": list(model.code_shape),
        "code_size": model.code_size(),
        "parameters": model.num_parameters(),
        "recipe": asdict(recipe),
        "seed": seed,
        "run_seed": run_seed,
        "restart_guard": "did not fire" if not restarts else "FIRED: " + "; ".join(restarts),
        "train_seconds": round(time.perf_counter() - start, 1),
        "torch": torch.__version__,
        "test_mse": final["test_mse"],
        "test_mse_noise": eval_noise(recipe),
        **({"test_loss": final["test_loss"], "loss": recipe.loss} if recipe.loss != "mse" else {}),
        "history": history,
    }
    if checkpoint_dir is not None:
        save_checkpoint(model, card, checkpoint_dir)
    return model, card


ACTIVE_UNIT_VARIANCE = 0.01  # Burda et al. (2016): a latent unit whose mean varies less than this is unused


@torch.no_grad()
def silent_code_channels(model: Autoencoder, test_x: torch.Tensor) -> int:
    """How many channels (units, for the linear and 2-D models) of the code carry nothing.

    Where the code passes through a ReLU, that is a channel no test image switches on: it gets no gradient, so
    it stays dead (the denoiser's 8-channel code lost 3 this way in one full run). A 2-D model's code has no
    ReLU; one of its two numbers is unused when it barely moves across images (for the VAE: posterior collapse).
    """
    codes = model.eval().encode(test_x[:1000].to(_device(model)))  # (N, C, ...) or (N, units)
    if model.relu_code:
        return int((codes.transpose(0, 1).flatten(1).amax(1) <= 0).sum())
    return int((codes.var(0) < ACTIVE_UNIT_VARIANCE).sum())


@torch.no_grad()
def collapsed(model: Autoencoder, test_x: torch.Tensor, mean_image_mse: float) -> bool:
    """True when the model draws the same image whatever it is shown, and so does no better than the mean image.

    A slow start is different: its error may still be above the mean image's after one epoch at a low
    learning rate, but its outputs already follow the input (spread about 0.02 where a collapsed one has 0).
    """
    outputs = model.eval()(test_x[:1000].to(_device(model)))
    return outputs.std(0).mean().item() < OUTPUT_SPREAD_FLOOR and test_mse(model, test_x) >= mean_image_mse


def training_steps(model: Autoencoder, images, optimizer, generator: torch.Generator, *, batch_size: int, loss: str,
                   train_noise: tuple[float, float] | None = None, shuffle: bool = True,
                   device: str = "cpu") -> Iterator[float]:
    """The training loop: batch after batch, epoch after epoch, one optimizer step each; yields each step's loss.

    Everyone who trains on the server runs this loop: `python -m ae.train` and the seed study (train_run) for a
    recipe's epochs under ae.optim's Adam and one-cycle schedule, the Train tab's server runs (ae.web.train_runs) for
    a time budget, reporting as they go (the visitor's page runs ae.step's exported step instead). The caller sets
    the pace, the learning rate between steps and when to stop. `images` are digits in
    [0, 1], or as stored (uint8, a DigitFile's), made [0, 1] a batch at a time; each epoch takes them in a fresh
    order drawn from `generator` (or as stored, without `shuffle`), which also draws the training noise. The
    ragged last batch of an epoch is dropped.
    """
    steps_per_epoch = len(images) // batch_size
    while True:
        order = torch.randperm(len(images), generator=generator) if shuffle else torch.arange(len(images))
        for step in range(steps_per_epoch):
            clean = images[order[step * batch_size:(step + 1) * batch_size]]
            if clean.dtype == torch.uint8:
                clean = clean.float().div_(255)
            inputs = noisy_inputs(clean, train_noise, generator)
            model.train()
            batch_loss = training_loss(model, inputs.to(device), clean.to(device), loss)
            optimizer.zero_grad()
            batch_loss.backward()
            optimizer.step()
            yield batch_loss.item()


def train_run(name: str, recipe: Recipe, seed: int, train_x: torch.Tensor, test_x: torch.Tensor, device: str = "cpu",
              judge: bool = True, stop_after: int | None = None) -> tuple[Autoencoder | None, list[dict]]:
    """One training run of `recipe` from `seed`, evaluated after every epoch; (None, history) where the restart
    guard fires after epoch 1 (if `judge`).

    `stop_after` ends the run after that many epochs of the recipe's own schedule (ae.seeds replays epoch 1).
    The first epoch's history records its silent code channels and whether the model collapsed."""
    eval_amount = eval_noise(recipe)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)  # shuffling and training noise, on the CPU for determinism
    model = build(name, train_x).to(device)
    optimizer = Adam(model.parameters(), lr=recipe.max_lr)
    steps_per_epoch = len(train_x) // recipe.batch_size
    total_steps = recipe.epochs * steps_per_epoch
    steps = training_steps(model, train_x, optimizer, generator, batch_size=recipe.batch_size, loss=recipe.loss,
                           train_noise=recipe.train_noise, device=device)
    history = []
    for epoch in range(1, (stop_after or recipe.epochs) + 1):
        total = 0.0
        bar = tqdm(range(steps_per_epoch), desc=f"{name} {epoch}/{recipe.epochs}", leave=False, unit="batch",
                   position=BAR_LINE)
        for step in bar:
            optimizer.lr, optimizer.beta1 = one_cycle((epoch - 1) * steps_per_epoch + step, total_steps,
                                                      recipe.max_lr)
            loss = next(steps)
            total += loss
            if step % 50 == 0:
                bar.set_postfix(loss=f"{loss:.4f}")
        mse = test_mse(model, test_x, eval_amount)
        history.append({"epoch": epoch, "train_loss": round(total / steps_per_epoch, 6), "test_mse": round(mse, 6)})
        noisy = f" (Gaussian {eval_amount} in)" if eval_amount else ""
        in_nats = ""
        if recipe.loss != "mse":
            history[-1]["test_loss"] = round(test_loss(model, test_x, recipe.loss), 3)
            in_nats = f", test loss {history[-1]['test_loss']:.2f} nats"
        tqdm.write(f"{name} epoch {epoch:2d}: train loss {total / steps_per_epoch:.5f}, test MSE{noisy} {mse:.5f}"
                   + in_nats)
        if epoch == 1:
            mean_image_mse = ((test_x - train_x.mean(0)) ** 2).mean().item()
            history[0].update(silent_code_channels=silent_code_channels(model, test_x),
                              collapsed=collapsed(model, test_x, mean_image_mse))
            if judge and steps_per_epoch >= MIN_STEPS_TO_JUDGE and (
                    history[0]["collapsed"] or history[0]["silent_code_channels"]):
                return None, history
    return model, history


def side_by_side(jobs: int) -> ProcessPoolExecutor:
    """`jobs` fresh processes for training runs, each with a progress bar on its own line. Fresh (spawn): a forked
    copy of a process that already started PyTorch's threads or CUDA can hang."""
    context = multiprocessing.get_context("spawn")
    lines = context.Queue()
    for line in range(jobs):
        lines.put(line)
    return ProcessPoolExecutor(jobs, mp_context=context, initializer=_take_bar_line, initargs=(lines,))


def _take_bar_line(lines) -> None:
    global BAR_LINE
    BAR_LINE = lines.get()


def start_training_process(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """What a training process does first: one thread (module docstring), deterministic algorithms (on a GPU,
    warnings where PyTorch has none), and the training and test digits."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True, warn_only=device != "cpu")
    return load_mnist(train=True)[0], load_mnist(train=False)[0]


def train_and_save(name: str, recipe: Recipe, seed: int, device: str, out: Path, limit: int | None) -> dict:
    """One model's whole training, in its own process (side_by_side); returns its card."""
    train_x, test_x = start_training_process(device)
    _, card = train_model(name, recipe, seed, train_x[:limit], test_x, device, out)
    return card


def longest_first(names: list[str], directory: Path = CHECKPOINT_DIR) -> list[str]:
    """`names` ordered by their last training time (their cards'), longest first, models without a card ahead.

    Side by side, the long runs must start first: in registry order the longest (the denoiser) starts fourth and
    runs on alone at the end, an idle core beside it."""
    def last_seconds(name: str) -> float:
        try:
            return read_card(name, directory)["train_seconds"]
        except (CheckpointError, ValueError, KeyError):
            return float("inf")
    return sorted(names, key=last_seconds, reverse=True)


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description="Train the MNIST autoencoders and write checkpoints/.")
    parser.add_argument("--model", choices=[*MODELS, "all", *CODE_SIZE_MODELS, "code-sizes"], default="all",
                        help="which model: all is the app's six; code-sizes the linear model at every code size "
                             "(default: all)")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs (default: recipe)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N training images only, for a quick smoke run (default: all)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"checkpoint folder (default: {CHECKPOINT_DIR} for a full run; {TRIAL_DIR} when --epochs "
                             "or --limit shortens it, so that a trial never replaces the committed weights)")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="models trained side by side, one process and one thread each (default: 2)")
    args = parser.parse_args(argv)
    out = args.out or (TRIAL_DIR if args.epochs or args.limit else CHECKPOINT_DIR)
    if out == TRIAL_DIR:
        print(f"A shortened run (--epochs/--limit): checkpoints go to {out}, not {CHECKPOINT_DIR}; "
              "--out chooses the folder.")

    groups = {"all": longest_first(list(MODELS)),
              "code-sizes": [name for name in CODE_SIZE_MODELS if name not in MODELS]}
    names = groups.get(args.model, [args.model])
    with side_by_side(min(args.jobs, len(names))) as pool:
        runs = {}
        for name in names:
            recipe = recipe_of(name)
            if args.epochs:
                recipe = Recipe(**{**asdict(recipe), "epochs": args.epochs})
            runs[name] = pool.submit(train_and_save, name, recipe, args.seed, args.device, out, args.limit)
        for name, run in runs.items():
            card = run.result()
            tqdm.write(f"{name}: test MSE {card['test_mse']:.5f} after {card['train_seconds']:.0f} s "
                       f"-> {out}/{name}.safetensors")


if __name__ == "__main__":
    main()
