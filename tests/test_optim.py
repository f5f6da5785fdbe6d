"""The project's one optimizer and schedule (ae.optim) against PyTorch's own: the same numbers, to the bit, so that
`python -m ae.train` makes the same checkpoints with either; and the same function on tensors, as the page's
exported step computes it."""

import pytest
import torch

from ae.models import build
from ae.optim import Adam, adam, one_cycle

STEPS = 60


def test_adam_and_one_cycle_step_for_step_as_torch_does():
    torch.manual_seed(0)
    ours_model, torch_model = build("conv"), build("conv")
    torch_model.load_state_dict(ours_model.state_dict())
    ours = Adam(ours_model.parameters(), lr=1e-2)
    reference = torch.optim.Adam(torch_model.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=1e-2, total_steps=STEPS)
    inputs = torch.rand(16, 1, 28, 28)
    for step in range(STEPS):
        ours.lr, ours.beta1 = one_cycle(step, STEPS, 1e-2)
        assert (ours.lr, ours.beta1) == (reference.param_groups[0]["lr"], reference.param_groups[0]["betas"][0]), step
        for model, optimizer in ((ours_model, ours), (torch_model, reference)):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(inputs), inputs).backward()
            optimizer.step()
        if step < STEPS - 1:
            schedule.step()
    for mine, theirs in zip(ours_model.parameters(), torch_model.parameters()):
        assert torch.equal(mine, theirs)


def test_the_schedule_on_tensors_is_the_schedule_on_numbers():
    """The page's step computes the schedule from its clock as float32 tensors."""
    for step in [0, 1, 17, 299, 300, 301, 640, 999]:
        lr, beta1 = one_cycle(torch.tensor(float(step)), torch.tensor(1000.0), 3e-3)
        assert (lr.item(), beta1.item()) == pytest.approx(one_cycle(step, 1000, 3e-3), rel=1e-5)


def test_a_zero_gradient_leaves_a_weight_where_it_is():
    """Adam's update is mean / (sqrt(square) + eps): with no gradient yet, 0 / eps, never 0 / 0."""
    param = torch.randn(100)
    new, mean, square = adam(param, torch.zeros(100), torch.zeros(100), torch.zeros(100), torch.tensor(1.0),
                             torch.tensor(1e-3))
    assert torch.equal(new, param) and not mean.any() and not square.any()
