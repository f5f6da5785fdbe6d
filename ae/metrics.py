"""Reconstruction quality, defined once for the evaluation, the app and the benchmarks.

MSE is per pixel; PSNR is per image (peak 1.0) and averaged over images, as in the seed recipe's table.
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
