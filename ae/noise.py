"""Seeded corruptions, each set by one amount in [0, 1], so the same noisy input can be fed to every model.

gaussian:    x + amount * N(0, 1), clipped to [0, 1] (the course notebooks' noise; amount 0.5 there)
salt_pepper: a share `amount` of the pixels set to 0 or 1, half each
mask:        one random square covering a share `amount` of the image, blacked out
"""

import math

import numpy as np
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
        return with_gaussian(x, per_image, torch.randn(x.shape, generator=generator, dtype=x.dtype))
    if kind == "salt_pepper":
        hit = torch.rand(x.shape, generator=generator) < per_image
        salt = torch.rand(x.shape, generator=generator) < 0.5
        return torch.where(hit, salt.to(x.dtype), x)
    if kind == "mask":
        return _mask(x, amount, generator)
    raise ValueError(f"unknown noise kind {kind!r}; choose one of {', '.join(NOISE_KINDS)}")


def with_gaussian(x: torch.Tensor, amount, noise: torch.Tensor) -> torch.Tensor:
    """x + amount * noise, clipped to [0, 1]: Gaussian noise given as its standard normal draws (`noise`, x's shape),
    `amount` a number or broadcast per image. The page's training step draws its own and passes them here."""
    return (x + amount * noise).clamp(0, 1)


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


# The Draw tab's noise: the page draws it in JavaScript and the server in numpy, and both must give the same
# pixels. torch's generator cannot be repeated in a page, so each pixel's random number comes from a
# counter-based hash of (seed, stream, pixel index) in 32-bit integer arithmetic, which numpy's uint32 and
# JavaScript's Math.imul compute alike (ae/web/static/digit.js is the twin of what follows). Training keeps
# torch's generator: only the page needs this.
GAUSS_U1, GAUSS_U2, SALT_HIT, SALT_WHITE, MASK_TOP, MASK_LEFT = range(1, 7)  # one stream per use
# The Train tab's page draws its batches' order and noise from the same hash, a stream per use and per epoch or
# step: stream = (index << 3) | use (ae.step.page_batches; digit.js trainingDraws).
ORDER, NORMAL_U1, NORMAL_U2, AMOUNTS = range(4)


def _mix32(x: np.ndarray) -> np.ndarray:
    """A 32-bit integer hash with full avalanche (the "lowbias32" finaliser, C. Wellons)."""
    x = x.astype(np.uint32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def uniforms(seed: int, stream: int, count: int) -> np.ndarray:
    """`count` numbers in (0, 1), float64, a fixed function of (seed, stream, index)."""
    key = _mix32(np.array([(int(seed) % 2**32) ^ _mix32(np.array([stream]))[0]], np.uint64))
    bits = _mix32(key ^ _mix32(np.arange(count, dtype=np.uint64)))
    return ((bits >> np.uint32(8)).astype(np.float64) + 0.5) / 2**24


def training_stream(use: int, index: int) -> int:
    return (index << 3) | use


def normals(seed: int, stream: int, count: int) -> np.ndarray:
    """`count` standard normal numbers (float32) by Box-Muller from two streams, stream and stream + 1 of its use
    (NORMAL_U1, NORMAL_U2), as page_noise draws its Gaussian noise."""
    radius = np.sqrt(-2 * np.log(uniforms(seed, stream, count)))
    return (radius * np.cos(2 * np.pi * uniforms(seed, stream + NORMAL_U2 - NORMAL_U1, count))).astype(np.float32)


def shuffled(seed: int, stream: int, count: int) -> np.ndarray:
    """A permutation of range(count): indices sorted by their uniforms, ties in index order (a stable sort)."""
    return np.argsort(uniforms(seed, stream, count), kind="stable")


def page_noise(clean: np.ndarray, kind: str, amount: float, seed: int) -> np.ndarray:
    """A corrupted copy of one 28x28 digit in [0, 1] (float32), as the Draw tab's page computes it.

    The same kinds and amounts as add_noise: Gaussian `amount` * N(0, 1) by Box-Muller, clipped; salt and
    pepper on a share `amount` of the pixels; one black square covering a share `amount` of the image.
    """
    clean = np.asarray(clean, np.float32)
    height, width = clean.shape
    n, amount = clean.size, min(max(float(amount), 0.0), 1.0)
    if kind == "gaussian":
        radius = np.sqrt(-2 * np.log(uniforms(seed, GAUSS_U1, n)))
        normal = radius * np.cos(2 * np.pi * uniforms(seed, GAUSS_U2, n))
        return (clean.ravel() + amount * normal).clip(0, 1).astype(np.float32).reshape(clean.shape)
    if kind == "salt_pepper":
        hit = uniforms(seed, SALT_HIT, n) < amount
        white = (uniforms(seed, SALT_WHITE, n) < 0.5).astype(np.float32)
        return np.where(hit, white, clean.ravel()).astype(np.float32).reshape(clean.shape)
    if kind == "mask":
        side = int(np.floor(np.sqrt(amount) * min(height, width) + 0.5))  # half up, as JavaScript rounds
        out = clean.copy()
        if side:
            top = int(uniforms(seed, MASK_TOP, 1)[0] * (height - side + 1))
            left = int(uniforms(seed, MASK_LEFT, 1)[0] * (width - side + 1))
            out[top:top + side, left:left + side] = 0
        return out
    raise ValueError(f"unknown noise kind {kind!r}; choose one of {', '.join(NOISE_KINDS)}")
