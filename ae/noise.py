"""Seeded corruptions, each set by one amount in [0, 1], so the same noisy input can be fed to every model.

gaussian:    x + amount * N(0, 1), clipped to [0, 1] (the course notebooks' noise; amount 0.5 there)
salt_pepper: a share `amount` of the pixels set to 0 or 1, half each
mask:        one random square covering a share `amount` of the image, blacked out
"""

import math

import torch

NOISE_KINDS = ("gaussian", "salt_pepper", "mask")


def add_noise(x: torch.Tensor, kind: str = "gaussian", amount: float = 0.5,
              seed: int | None = 0, generator: torch.Generator | None = None) -> torch.Tensor:
    """A corrupted copy of images x (N, 1, 28, 28) in [0, 1]; the same seed gives the same corruption.

    `amount` may also be a tensor of shape (N,) giving each image its own amount (used in training).
    """
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
    amount = torch.as_tensor(amount, dtype=x.dtype).clamp(0, 1)
    per_image = amount.reshape(-1, *[1] * (x.dim() - 1)) if amount.dim() else amount
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        return (x + per_image * noise).clamp_(0, 1)
    if kind == "salt_pepper":
        hit = torch.rand(x.shape, generator=generator) < per_image
        salt = torch.rand(x.shape, generator=generator) < 0.5
        return torch.where(hit, salt.to(x.dtype), x)
    if kind == "mask":
        return _mask(x, amount, generator)
    raise ValueError(f"unknown noise kind {kind!r}; choose one of {', '.join(NOISE_KINDS)}")


def _mask(x: torch.Tensor, amount: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    height, width = x.shape[-2:]
    out = x.clone()
    amounts = amount.expand(x.shape[0]) if amount.dim() else [amount] * x.shape[0]
    for image, share in zip(out, amounts):
        side = round(math.sqrt(float(share)) * min(height, width))
        if side == 0:
            continue
        top = int(torch.randint(0, height - side + 1, (1,), generator=generator))
        left = int(torch.randint(0, width - side + 1, (1,), generator=generator))
        image[..., top:top + side, left:left + side] = 0
    return out
