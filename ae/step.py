"""One training step as a pure function of tensors: what the visitor's page runs to train a model (the Train tab).

`train_step` takes a batch, the weights and Adam's running averages, and the run's clock, and returns the loss
and the next weights and averages: the forward pass, the recipe's loss (ae.train.training_loss), the gradients
(torch.autograd) and the optimizer step with its schedule (ae.optim), the same code every training of the project
runs. The page cannot draw from torch's generators, so whatever a step draws at random comes in as an input:
the denoiser's Gaussian noise (standard normal draws and an amount per image), the VAE's posterior sample.

`trace` turns it into one graph of forward ATen operations that ONNX can express (ae.export writes it as ONNX):
make_fx records the autograd backward as ATen operations, and three of those have no ONNX form. They are
written here as forward operations (BACKWARD_AS_FORWARD), each proven against autograd in tests/test_step.py:
- a convolution's backward: the input's gradient is a transposed convolution of the output's gradient, the
  weight's a convolution of the input with the output's gradient (dilated by the stride), the bias's a sum;
  a transposed convolution's the same with the roles swapped;
- max pooling's backward: the output's gradient added back at the positions that won (the saved indices);
- nearest ×2 upsampling's backward: each 2×2 block of the gradient summed.
Groups 1 and dilation 1, as every model here has.
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .models import PRINCIPAL_START_IMAGES, Autoencoder, build
from .noise import AMOUNTS, NORMAL_U1, ORDER, normals, shuffled, training_stream, uniforms, with_gaussian
from .optim import BETAS, adam, one_cycle
from .train import DENOISE_EVAL_AMOUNT, RECIPES, training_loss

COURSE_LR = 1e-3  # the course notebooks' constant rate (Adam's defaults otherwise), batch 20, no shuffling
COURSE_BATCH = 20
SEED = 0  # every run of a model starts from the same weights, and the page's draws start from the same seed


@dataclass(frozen=True)
class StepRecipe:
    """How a recipe trains a model, step by step: what the Train tab offers (the course's or ours)."""
    name: str
    recipe: str  # "course" or "ours"
    batch_size: int
    lr: float  # constant (the course's), or the one-cycle peak (ours)
    one_cycle: bool
    shuffle: bool
    train_noise: tuple[float, float] | None  # the denoiser's Gaussian amounts per image
    loss: str  # as ae.train.Recipe.loss


def step_recipe(name: str, recipe: str) -> StepRecipe:
    """The course's recipe (batch 20, Adam at a constant 1e-3, digits in their stored order, the denoiser's fixed
    noise 0.5) or ours (ae.train.RECIPES: this model's batch size and peak rate, one cycle, shuffled)."""
    ours = RECIPES[name]
    if recipe == "course":
        noise = (DENOISE_EVAL_AMOUNT, DENOISE_EVAL_AMOUNT) if ours.train_noise else None
        return StepRecipe(name, recipe, COURSE_BATCH, COURSE_LR, one_cycle=False, shuffle=False, train_noise=noise,
                          loss=ours.loss)
    return StepRecipe(name, recipe, ours.batch_size, ours.max_lr, one_cycle=True, shuffle=True,
                      train_noise=ours.train_noise, loss=ours.loss)


def random_inputs(plan: StepRecipe) -> dict[str, tuple[int, ...]]:
    """The step's inputs that the page draws at random, by name and shape (besides the digits)."""
    if plan.train_noise:
        return {"noise": (plan.batch_size, 1, 28, 28), "amounts": (plan.batch_size,)}  # standard normal; amounts
    if plan.loss == "elbo":
        return {"sample": (plan.batch_size, 2)}  # standard normal draws of the posterior sample
    return {}


def starting_model(name: str, training_images: torch.Tensor) -> Autoencoder:
    """The model every run of the Train tab starts from, in the page or on the server: built from seed 0 and, for
    the upsample model, fitted to the first PRINCIPAL_START_IMAGES training digits ((N, 1, 28, 28) in [0, 1]
    or as stored, uint8)."""
    images = training_images[:PRINCIPAL_START_IMAGES]
    torch.manual_seed(SEED)
    return build(name, images.float().div(255) if images.dtype == torch.uint8 else images)


def page_batches(plan: StepRecipe, digits: np.ndarray, seed: int = SEED) -> Iterator[tuple[torch.Tensor, dict]]:
    """The batches a run in the page trains on, and what each step draws at random, as the page draws them
    (static/train_worker.js): `digits` (N, 784) uint8, epoch after epoch in a fresh order (or as stored, without
    `shuffle`), the ragged last batch dropped; the draws from ae.noise's counter-based hash, so that PyTorch can
    replay a run of the page exactly (tests/test_train_page.py)."""
    size, per_epoch = plan.batch_size, len(digits) // plan.batch_size
    steps = itertools.count()
    for epoch in itertools.count():
        order = shuffled(seed, training_stream(ORDER, epoch), len(digits)) if plan.shuffle else np.arange(len(digits))
        for k in range(per_epoch):
            step = next(steps)
            batch = (digits[order[k * size:(k + 1) * size]] / 255).astype(np.float32)  # as the page divides
            random = {}
            if plan.train_noise:
                low, high = plan.train_noise
                random["noise"] = torch.from_numpy(normals(seed, training_stream(NORMAL_U1, step), size * 784)
                                                   .reshape(size, 1, 28, 28))
                random["amounts"] = torch.from_numpy(
                    (low + (high - low) * uniforms(seed, training_stream(AMOUNTS, step), size)).astype(np.float32))
            if plan.loss == "elbo":
                random["sample"] = torch.from_numpy(normals(seed, training_stream(NORMAL_U1, step), size * 2)
                                                    .reshape(size, 2))
            yield torch.from_numpy(batch).view(size, 1, 28, 28), random


def replay(plan: StepRecipe, start: dict[str, torch.Tensor], digits: np.ndarray, steps: int, seed: int = SEED,
           dtype: torch.dtype = torch.float32, clocks: list[float] | None = None,
           clock_end: float | None = None) -> tuple[list[float], dict[str, torch.Tensor], list[torch.Tensor]]:
    """A run of `steps` steps as the page makes it (page_batches), in PyTorch: (each step's loss, the weights after,
    each parameter's gradient at the first step). The schedule counts steps, or the page's clock at each step
    (`clocks`, milliseconds, with the run's `clock_end`) for a run it timed. In float64 (`dtype`), it is the
    reference that two float32 runs are each measured against (tests/test_train_page.py)."""
    model, names = build(plan.name).train().to(dtype), parameter_names(plan.name)
    params = [start[key].detach().clone().to(dtype) for key in names]
    means, squares = [torch.zeros_like(p) for p in params], [torch.zeros_like(p) for p in params]
    losses, first_grads = [], []
    for k, (batch, random) in zip(range(steps), page_batches(plan, digits, seed)):
        batch, random = batch.to(dtype), {key: value.to(dtype) for key, value in random.items()}
        if k == 0:
            first_grads = list(loss_and_gradients(model, plan, batch, random, params)[1])
        clock, end = (clocks[k], clock_end) if clocks else (k, steps)
        out = train_step(model, plan, batch, random, params, means, squares, torch.tensor(k + 1.0, dtype=dtype),
                         torch.tensor(float(clock), dtype=dtype), torch.tensor(float(end), dtype=dtype))
        count = len(params)
        params, means, squares = list(out[1:1 + count]), list(out[1 + count:1 + 2 * count]), list(out[1 + 2 * count:])
        losses.append(float(out[0]))
    return losses, dict(zip(names, params)), first_grads


def parameter_names(name: str) -> list[str]:
    return [key for key, _ in build(name).named_parameters()]


def loss_and_gradients(model: Autoencoder, plan: StepRecipe, digits: torch.Tensor, random: dict[str, torch.Tensor],
                       params: list[torch.Tensor]) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """The recipe's loss on `digits` (batch, 1, 28, 28) in [0, 1] with the weights `params` (in
    model.named_parameters() order; the model's own weights are not used), and its gradient for each."""
    names = [key for key, _ in model.named_parameters()]
    params = [p.detach().requires_grad_() for p in params]
    inputs = digits
    if plan.train_noise:
        inputs = with_gaussian(digits, random["amounts"].reshape(-1, 1, 1, 1), random["noise"])
    loss = torch.func.functional_call(_LossOf(model, plan.loss), {f"model.{n}": p for n, p in zip(names, params)},
                                      (inputs, digits, random.get("sample")))
    return loss.detach(), torch.autograd.grad(loss, params)


def train_step(model: Autoencoder, plan: StepRecipe, digits: torch.Tensor, random: dict[str, torch.Tensor],
               params: list[torch.Tensor], means: list[torch.Tensor], squares: list[torch.Tensor],
               step: torch.Tensor, clock: torch.Tensor, clock_end: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(loss, *params, *means, *squares) after one step on `digits`: loss_and_gradients, then Adam.

    `step` counts Adam's steps from 1; `clock` and `clock_end` place the step in a one-cycle run (ae.optim.
    one_cycle: milliseconds since the start and the budget's, or steps)."""
    loss, grads = loss_and_gradients(model, plan, digits, random, params)
    lr, beta1 = one_cycle(clock, clock_end, plan.lr) if plan.one_cycle else (plan.lr, BETAS[0])
    updated = [adam(p.detach(), g, m, v, step, lr, (beta1, BETAS[1]))
               for p, g, m, v in zip(params, grads, means, squares)]
    return (loss, *[u[0] for u in updated], *[u[1] for u in updated], *[u[2] for u in updated])


class _LossOf(torch.nn.Module):
    """The recipe's loss as a module around the model, so functional_call can swap in the weights being trained."""

    def __init__(self, model: Autoencoder, kind: str):
        super().__init__()
        self.model, self.kind = model, kind

    def forward(self, inputs, targets, sample):
        return training_loss(self.model, inputs, targets, self.kind, noise=sample)


# ---------- the step as one graph of forward operations ----------
aten = torch.ops.aten


def _convolution_backward(grad_out, inputs, weight, bias_sizes, stride, padding, dilation, transposed,
                          output_padding, groups, output_mask):
    kernel = weight.shape[2:]
    grad_inputs = None
    if not transposed:
        if output_mask[0]:
            restore = [inputs.shape[2 + i] - ((grad_out.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + kernel[i])
                       for i in range(2)]  # the output padding that gives back the input's size
            grad_inputs = F.conv_transpose2d(grad_out, weight, stride=stride, padding=padding, output_padding=restore)
        grad_weight = F.conv2d(inputs.transpose(0, 1), grad_out.transpose(0, 1), padding=padding, dilation=stride)
    else:
        if output_mask[0]:
            grad_inputs = F.conv2d(grad_out, weight, stride=stride, padding=padding)
        grad_weight = F.conv2d(grad_out.transpose(0, 1), inputs.transpose(0, 1), padding=padding, dilation=stride)
    # laid out as autograd lays it out: plain strides, even along a dimension of one channel (the exporter has no
    # form for a copy with odd strides)
    grad_weight = grad_weight.transpose(0, 1)[:, :, :kernel[0], :kernel[1]].contiguous().flatten().view(weight.shape)
    grad_bias = grad_out.sum((0, 2, 3)) if output_mask[2] else None
    return grad_inputs, grad_weight, grad_bias


def _max_pool2d_backward(grad_out, inputs, kernel_size, stride, padding, dilation, ceil_mode, indices):
    batch, channels, height, width = inputs.shape
    flat = grad_out.new_zeros((batch, channels, height * width))
    return flat.scatter_add(2, indices.flatten(2), grad_out.flatten(2)).reshape(inputs.shape)


def _upsample_nearest2d_backward(grad_out, output_size, input_size, scales_h=None, scales_w=None):
    batch, channels, height, width = input_size
    return grad_out.reshape(batch, channels, height, 2, width, 2).sum((3, 5))  # ×2, as every model here upsamples


BACKWARD_AS_FORWARD = {
    aten.convolution_backward.default: _convolution_backward,
    aten.max_pool2d_with_indices_backward.default: _max_pool2d_backward,
    aten.upsample_nearest2d_backward.default: _upsample_nearest2d_backward,
}


@dataclass
class TracedStep:
    """A step as a graph (torch.fx), with its inputs and outputs named in the order the graph takes them."""
    graph: torch.nn.Module
    examples: tuple[torch.Tensor, ...]
    input_names: list[str]
    output_names: list[str]


def state_names(name: str) -> list[str]:
    """The names of the weights and Adam's averages as the step takes and returns them: p.*, m.*, v.*."""
    params = parameter_names(name)
    return [f"{kind}.{key}" for kind in "pmv" for key in params]


def trace(plan: StepRecipe) -> TracedStep:
    """`train_step` for `plan` traced into forward ATen operations with a fixed batch size (plan.batch_size)."""
    from torch._decomp import core_aten_decompositions  # tools of the export, not of the server
    from torch.fx.experimental.proxy_tensor import make_fx

    model = build(plan.name).train()
    params = [p.detach().clone() for p in model.parameters()]
    random = {key: torch.rand(shape) for key, shape in random_inputs(plan).items()}
    scalars = {"step": torch.tensor(1.0), "clock": torch.tensor(0.0), "clock_end": torch.tensor(1000.0)}
    digits = torch.rand(plan.batch_size, 1, 28, 28)
    state = [*params, *[torch.zeros_like(p) for p in params], *[torch.zeros_like(p) for p in params]]
    count, random_names = len(params), list(random)

    def step(digits, *rest):
        drawn = dict(zip(random_names, rest[:len(random_names)]))
        step_count, clock, clock_end = rest[len(random_names):len(random_names) + 3]
        tensors = rest[len(random_names) + 3:]
        return train_step(model, plan, digits, drawn, list(tensors[:count]), list(tensors[count:2 * count]),
                          list(tensors[2 * count:]), step_count, clock, clock_end)

    examples = (digits, *random.values(), *scalars.values(), *state)
    table = {**core_aten_decompositions(), **BACKWARD_AS_FORWARD}
    graph = make_fx(step, decomposition_table=table)(*examples)
    names = state_names(plan.name)
    return TracedStep(graph, examples, ["digits", *random_names, *scalars, *names],
                      ["loss", *[f"next.{key}" for key in names]])
