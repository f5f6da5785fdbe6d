"""The one optimizer and the one learning-rate schedule of the project: Adam and the one-cycle schedule.

Every training uses these: `python -m ae.train` and the seed study (epochs), the Train tab's server runs (a time
budget), and the training step the visitor's page runs (ae.step, exported to ONNX). They compute what
torch.optim.Adam (on the CPU, one tensor at a time) and torch.optim.lr_scheduler.OneCycleLR (its defaults)
compute, to the bit on the CPU (tests/test_optim.py): ae.train's checkpoints are the same as with torch's own.

Why not torch.optim itself: a process's first torch.optim optimizer imports torch._dynamo and sympy, about
150 MB that the app's server would keep for good after its first training; and the page's step needs Adam as
plain tensor arithmetic that traces into an ONNX graph, with the step count and the learning rate as tensors.
Both functions therefore take Python numbers or 0-d tensors alike.
"""

import math

import torch

BETAS = (0.9, 0.999)
EPS = 1e-8
WARM_UP = 0.3  # the share of a one-cycle run spent rising to the peak (OneCycleLR's pct_start)
START_DIVISOR, END_DIVISOR = 25.0, 1e4  # the rise starts at peak / 25 and the fall ends at that / 1e4
BETA1_RANGE = (0.85, 0.95)  # one-cycle moves Adam's beta1 against the rate (OneCycleLR's cycle_momentum)


def adam(param: torch.Tensor, grad: torch.Tensor, mean: torch.Tensor, square: torch.Tensor, step, lr,
         betas: tuple[float, float] = BETAS, eps: float = EPS) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One Adam update (Kingma and Ba, 2015) of one tensor: (param, mean, square) after `step` (counted from 1).

    `mean` and `square` are the running averages of the gradient and of its square. A zero gradient leaves a
    weight where it is: its update is 0 / (0 + eps)."""
    beta1, beta2 = betas
    mean = torch.lerp(mean, grad, 1 - beta1)
    square = torch.addcmul(square * beta2, grad, grad, value=1 - beta2)
    step_size = lr / (1 - beta1 ** step)  # early averages lean towards their zero start: undo it
    denominator = square.sqrt() / (1 - beta2 ** step) ** 0.5 + eps
    return param + -step_size * mean / denominator, mean, square  # torch's addcdiv: (value * mean) / denominator


class Adam:
    """`adam` over a model's parameters, in place, with torch.optim's zero_grad / step interface."""

    def __init__(self, params, lr: float, beta1: float = BETAS[0]):
        self.params = list(params)
        self.lr, self.beta1, self.steps = lr, beta1, 0
        self.means = [torch.zeros_like(p) for p in self.params]
        self.squares = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        for k, param in enumerate(self.params):
            new, self.means[k], self.squares[k] = adam(param, param.grad, self.means[k], self.squares[k], self.steps,
                                                       self.lr, (self.beta1, BETAS[1]))
            param.copy_(new)

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None


def one_cycle(step, total_steps, max_lr: float) -> tuple:
    """(learning rate, Adam's beta1) at `step` (from 0) of a one-cycle run of `total_steps` (Smith, 2018, as
    OneCycleLR's defaults): the rate rises by a cosine from max_lr / 25 to max_lr over the first 30% of the run,
    then falls by a cosine to max_lr / 250,000, while beta1 goes the other way, from 0.95 down to 0.85 and back.

    A run measured in seconds rather than steps counts its clock instead: step = milliseconds since it started,
    total_steps = its budget in milliseconds."""
    start = max_lr / START_DIVISOR
    end = start / END_DIVISOR
    peak_at, last = WARM_UP * total_steps - 1, total_steps - 1
    if isinstance(step, torch.Tensor):
        rise, fall = step / peak_at, (step - peak_at) / (last - peak_at)
        rising = step <= peak_at
        return (torch.where(rising, _cosine(start, max_lr, rise, torch.cos), _cosine(max_lr, end, fall, torch.cos)),
                torch.where(rising, _cosine(BETA1_RANGE[1], BETA1_RANGE[0], rise, torch.cos),
                            _cosine(BETA1_RANGE[0], BETA1_RANGE[1], fall, torch.cos)))
    if step <= peak_at:
        fraction = step / peak_at
        return (_cosine(start, max_lr, fraction, math.cos),
                _cosine(BETA1_RANGE[1], BETA1_RANGE[0], fraction, math.cos))
    fraction = (step - peak_at) / (last - peak_at)
    return _cosine(max_lr, end, fraction, math.cos), _cosine(BETA1_RANGE[0], BETA1_RANGE[1], fraction, math.cos)


def _cosine(start, end, fraction, cos):
    # OneCycleLR's _annealing_cos, in its order of operations
    return end + (start - end) / 2.0 * (cos(math.pi * fraction) + 1)
