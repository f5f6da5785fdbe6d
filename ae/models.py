"""The four MNIST autoencoders of the demo, and the registry that names them.

They follow the classic course notebooks (see README, "Models"): a fully connected autoencoder, a
convolutional one with a transposed-convolution decoder, its twin that upsamples then convolves (which
cannot make checkerboard artifacts, Odena et al., Distill 2016), and a deeper convolutional denoiser.
Every model takes and returns images shaped (N, 1, 28, 28) in [0, 1] and splits into `encode` and
`decode`, so the app can show codes, walk between them and decode points of its own choosing.
"""

import torch
from torch import nn


class Autoencoder(nn.Module):
    """An encoder and a decoder; subclasses build both and say what they are."""

    name: str
    title: str  # how the UI names it
    short_title: str  # where room is short: a phone's column, a plot's legend
    blurb: str  # one line the UI shows under the model's output
    code_shape: tuple[int, ...]

    encoder: nn.Module
    decoder: nn.Module

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (N, *code_shape)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (N, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    @classmethod
    def code_size(cls) -> int:
        return int(torch.tensor(cls.code_shape).prod())

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class LinearAE(Autoencoder):
    name = "linear"
    title = "Linear (784 → 32 → 784)"
    short_title = "Linear"
    blurb = ("One dense layer each way: a 32-number code. It learns blurry 'average strokes' and "
             "copies noise it has never been taught to remove.")
    code_shape = (32,)

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 32), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(32, 28 * 28), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)))


def _conv_encoder() -> nn.Sequential:
    # (N, 1, 28, 28) -> (N, 16, 14, 14) -> (N, 4, 7, 7)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    )


class ConvAE(Autoencoder):
    name = "conv"
    title = "Convolutional (transposed-conv decoder)"
    short_title = "Conv, transposed"
    blurb = ("A 7×7×4 code decoded by stride-2 transposed convolutions: each code cell paints its own "
             "2×2 patch, so edges can look blocky, checkerboard-like.")
    code_shape = (4, 7, 7)

    def __init__(self):
        super().__init__()
        self.encoder = _conv_encoder()
        self.decoder = nn.Sequential(  # (N, 4, 7, 7) -> (N, 16, 14, 14) -> (N, 1, 28, 28)
            nn.ConvTranspose2d(4, 16, 2, stride=2), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 2, stride=2), nn.Sigmoid(),
        )


class UpsampleAE(Autoencoder):
    name = "upsample"
    title = "Convolutional (upsample + conv decoder)"
    short_title = "Conv, upsample"
    blurb = ("Same encoder; the decoder enlarges the code by nearest-neighbour upsampling, then "
             "convolves, so neighbouring pixels share weights and no checkerboard appears.")
    code_shape = (4, 7, 7)

    def __init__(self):
        super().__init__()
        self.encoder = _conv_encoder()
        self.decoder = nn.Sequential(  # (N, 4, 7, 7) -> (N, 16, 14, 14) -> (N, 1, 28, 28)
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(4, 16, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid(),
        )


class DenoiseAE(Autoencoder):
    name = "denoise"
    title = "Denoising (conv 32-16-8)"
    short_title = "Denoising"
    blurb = ("Trained on noisy digits against clean targets: its tight 3×3×8 code has no room for "
             "noise, so it redraws a plausible clean digit.")
    code_shape = (8, 3, 3)

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(  # (N, 1, 28, 28) -> (N, 32, 14, 14) -> (N, 16, 7, 7) -> (N, 8, 3, 3)
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.decoder = nn.Sequential(  # (N, 8, 3, 3) -> (N, 8, 7, 7) -> (N, 16, 14, 14) -> (N, 32, 28, 28)
            nn.ConvTranspose2d(8, 8, 3, stride=2), nn.ReLU(),
            nn.ConvTranspose2d(8, 16, 2, stride=2), nn.ReLU(),
            nn.ConvTranspose2d(16, 32, 2, stride=2), nn.ReLU(),
            nn.Conv2d(32, 1, 3, padding=1), nn.Sigmoid(),
        )


MODELS: dict[str, type[Autoencoder]] = {cls.name: cls for cls in (LinearAE, ConvAE, UpsampleAE, DenoiseAE)}


def build(name: str) -> Autoencoder:
    """A freshly initialised model by registry name."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name]()
