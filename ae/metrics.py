"""Reconstruction quality, defined once for the evaluation, the app and the benchmarks.

MSE is per pixel; PSNR is per image (peak 1.0) and averaged over images, as in the seed recipe's table.
The 2-D models are scored as their literature scores them: in nats per image, binary cross-entropy summed over
the 784 pixels (grey levels read as Bernoulli probabilities), plus the KL term for the VAE (Kingma and Welling).
"""

import torch
import torch.nn.functional as F

PSNR_CAP_DB = 100.0  # a perfect reconstruction would be infinitely good; cap it so it averages


def mse_per_image(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((output - target) ** 2).flatten(1).mean(1)


def psnr_per_image(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    mse = mse_per_image(output, target)
    return (10 * torch.log10(1 / mse.clamp_min(10 ** (-PSNR_CAP_DB / 10))))


def bce_per_image(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy(output.clamp(1e-7, 1 - 1e-7), target, reduction="none").flatten(1).mean(1)


def bce_sum_per_image(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """-log p(x | output) in nats, pixels as Bernoulli probabilities (PyTorch caps each log at -100)."""
    return F.binary_cross_entropy(output, target, reduction="none").flatten(1).sum(1)


def kl_to_prior(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) per image, in closed form."""
    return -0.5 * (1 + log_var - mean ** 2 - log_var.exp()).sum(1)


def negative_elbo_per_image(model, inputs: torch.Tensor, targets: torch.Tensor,
                            generator: torch.Generator | None = None,
                            noise: torch.Tensor | None = None) -> torch.Tensor:
    """-ELBO in nats per image with one posterior sample (the reparameterisation trick): BCE + KL. The sample's
    standard normal `noise` (N, 2) is drawn from `generator` unless given (the page draws its own)."""
    mean, log_var = model.posterior(inputs)
    if noise is None:
        noise = torch.randn(mean.shape, generator=generator, device=mean.device)
    z = mean + (0.5 * log_var).exp() * noise
    return bce_sum_per_image(model.decode(z), targets) + kl_to_prior(mean, log_var)


def knn_accuracy(train_points: torch.Tensor, train_labels: torch.Tensor, test_points: torch.Tensor,
                 test_labels: torch.Tensor, k: int = 5, chunk: int = 250) -> float:
    """Share of test points whose k nearest training points (Euclidean) vote for their label; ties go to the
    smaller label. How well a map separates the digits, whatever its scale."""
    correct = 0
    for points, labels in zip(test_points.split(chunk), test_labels.split(chunk)):
        nearest = torch.cdist(points.double(), train_points.double()).topk(k, largest=False).indices
        votes = torch.nn.functional.one_hot(train_labels[nearest].long(), 10).sum(1)
        correct += (votes.argmax(1) == labels).sum().item()
    return correct / len(test_points)
