"""The MNIST autoencoders of the demo, and the registry that names them.

They follow the classic course notebooks (README, "Models"): a fully connected autoencoder, a
convolutional one with a transposed-convolution decoder, its twin that upsamples then convolves (which
cannot make checkerboard artifacts, Odena et al., Distill 2016), a deeper convolutional denoiser, and two
with a code of only two numbers: a variational autoencoder and its plain twin, for the Latent tab.
Every model takes and returns images shaped (N, 1, 28, 28) in [0, 1] and splits into `encode` and
`decode`, so the app can show codes, walk between them and decode points of its own choosing.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .pca import principal_axes
from .preprocess import FIELD


class Autoencoder(nn.Module):
    """An encoder and a decoder; subclasses build both and say what they are."""

    name: str
    title: str  # how the UI names it
    short_title: str  # where room is short: a phone's column, a plot's legend
    blurb: str  # one line the UI shows under the model's output
    code_shape: tuple[int, ...]
    relu_code = True  # the code passes through a ReLU, so a unit can die (ae.train's guard looks for that)
    start: dict = {}  # how it starts (a seed study records it): start_well's options, or what start_from does
    in_draw_tab = True
    # Its weight matrices rounded to float16's values once trained (ae.train): the page's copy then stores them in
    # float16, half the bytes, and still computes what the server computes (ae.export).
    float16_weights = False

    encoder: nn.Module
    decoder: nn.Module

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (N, *code_shape)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (N, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def start_from(self, images: torch.Tensor) -> None:
        """Set the starting weights from training images (N, 1, 28, 28); `build` calls it for a model about to
        train. Most models start in their constructor (start_well) and need no images."""

    @classmethod
    def code_size(cls) -> int:
        return int(torch.tensor(cls.code_shape).prod())

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @torch.no_grad()
    def round_weights_to_float16(self) -> None:
        """Every weight matrix (not the biases) rounded to the nearest float16 value, kept as float32."""
        for parameter in self.parameters():
            if parameter.dim() >= 2:
                parameter.copy_(parameter.half().float())


# How the classic models start, so that every code unit lives through the first epoch (docs/seeds.md). With
# PyTorch's default start a ReLU code unit that no image switches on gets no gradient and stays dead for good.

def he_init(model: nn.Module) -> None:
    """He-normal weights and zero biases, for a stack of ReLU layers.

    PyTorch's default (kaiming_uniform with a=sqrt(5)) shrinks the signal at every layer, so behind three
    conv+pool layers the denoiser's code starts as mostly its biases and a channel with a negative bias is
    dead before the first step. He's scale keeps the signal's size from layer to layer."""
    for layer in model.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)


MNIST_MEAN_PIXEL = 0.1307  # the training images' mean intensity


def start_at_the_mean_image(decoder: nn.Sequential) -> None:
    """Start the output layer's biases at logit(MNIST's mean pixel), so that an untrained model draws a dim grey
    page instead of a mid-grey one.

    The first thing training learns is to darken the page (87% of MNIST's pixels are black). From a sigmoid at
    0.5, the quickest way there is to switch hidden ReLUs off, and a decoder whose ReLUs are all off draws one
    image whatever it is shown: the upsample model collapsed so on seeds 5 and 8 of 10 even with He's start.
    Starting at the mean leaves nothing to darken (Karpathy's "init well": set the last bias to the data's mean).
    """
    output_layer = [layer for layer in decoder if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))][-1]
    nn.init.constant_(output_layer.bias, float(torch.logit(torch.tensor(MNIST_MEAN_PIXEL))))


def start_code_units_on(encoder: nn.Sequential, bias: float = 0.5) -> None:
    """Start the code layer's biases at +bias: a margin that keeps its ReLUs on while the learning rate warms up.

    A one- or two-layer encoder has its input's scale, so its code is not born dead; its units die later in
    the first epoch, when large early steps push a unit below zero for every image (linear: 3 seeds of 10)."""
    code_layer = [layer for layer in encoder if isinstance(layer, (nn.Linear, nn.Conv2d))][-1]
    nn.init.constant_(code_layer.bias, bias)


def start_well(model: Autoencoder, he: bool, mean_image: bool = True) -> None:
    """The start every classic model gets, as its class's `start` says: He's scale for the deep ones (`he`), code
    units switched on, the output at the mean image. Each fixes one way a first epoch lost code units here
    (docs/seeds.md)."""
    if he:
        he_init(model)
    start_code_units_on(model.encoder)
    if mean_image:
        start_at_the_mean_image(model.decoder)


PRINCIPAL_START_IMAGES = 200  # the training images a start from principal components is fitted on (0.4 s)


@torch.no_grad()
def start_at_principal_components(model: "UpsampleAE", images: torch.Tensor) -> None:
    """Start the upsample model from its training images' principal components, with nothing drawn at random.

    Why: from a random start (He's) this model ended 10% apart across seeds 0-4, and the draw of the starting
    weights set where a run ended, not its batch order (docs/seeds.md). From this start the seed draws only
    the batch order. Layer by layer, on the first PRINCIPAL_START_IMAGES training images:
    - encoder conv 1: the top 8 principal components of 3x3 image patches, each as a +/- pair of filters (a ReLU
      pair keeps the whole projection), centred on the mean patch;
    - encoder conv 2 (the code): the top 4 principal components of 3x3 windows of conv 1's pooled features, code
      units switched on (start_code_units_on);
    - decoder conv 1: tied to encoder conv 2 (its transpose), as in a tied-weights autoencoder;
    - decoder conv 2: least squares (slightly ridged) from its 3x3 windows onto the images' clamped logits.
    The principal filters have He's norm, sqrt(2) whatever the fan-in, and their signs are fixed (largest entry
    positive), so the start is the same on every machine. On the test digits it starts at MSE 0.027, where the
    mean image has 0.067."""
    x = images[:PRINCIPAL_START_IMAGES]
    enc1, enc2 = [layer for layer in model.encoder if isinstance(layer, nn.Conv2d)]
    dec1, dec2 = [layer for layer in model.decoder if isinstance(layer, nn.Conv2d)]

    def windows(inputs: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N*H*W, C*9)
        return F.unfold(inputs, 3, padding=1).transpose(1, 2).flatten(0, 1)

    def principal_filters(inputs: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        mean, axes, _ = principal_axes(windows(inputs), count)
        axes = axes * axes.gather(0, axes.abs().argmax(0, keepdim=True)).sign()  # largest entry positive
        filters = math.sqrt(2) * axes.T.float()  # (count, C*9)
        return filters, -(filters @ mean.float())

    filters, centring = principal_filters(x, 8)
    enc1.weight.copy_(torch.stack([filters, -filters], 1).reshape(enc1.weight.shape))
    enc1.bias.copy_(torch.stack([centring, -centring], 1).flatten())
    filters, _ = principal_filters(F.max_pool2d(F.relu(enc1(x)), 2), enc2.out_channels)
    enc2.weight.copy_(filters.reshape(enc2.weight.shape))
    start_code_units_on(model.encoder)
    dec1.weight.copy_(enc2.weight.transpose(0, 1).flip(2, 3))
    dec1.bias.zero_()

    hidden = windows(model.decoder[:-2](model.encode(x))).double()  # what decoder conv 2 sees
    hidden = torch.cat([hidden, torch.ones(len(hidden), 1, dtype=hidden.dtype)], 1)  # and its bias
    gram = hidden.T @ hidden
    ridge = 1e-3 * gram.diagonal().mean() * torch.eye(len(gram), dtype=gram.dtype)
    logits = torch.logit(x.clamp(0.02, 0.98)).flatten().double()
    solution = torch.linalg.solve(gram + ridge, hidden.T @ logits).float()
    dec2.weight.copy_(solution[:-1].reshape(dec2.weight.shape))
    dec2.bias.fill_(solution[-1].item())


class LinearAE(Autoencoder):
    name = "linear"
    title = "Linear (784 → 32 → 784)"
    short_title = "Linear"
    blurb = ("One dense layer each way: a 32-number code. It learns blurry 'average strokes' and "
             "copies noise it has never been taught to remove.")
    code_shape = (32,)
    start = {"he": False}

    def __init__(self):
        super().__init__()
        size = self.code_size()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(FIELD * FIELD, size), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(size, FIELD * FIELD), nn.Sigmoid(), nn.Unflatten(1, (1, FIELD, FIELD)))
        start_well(self, **self.start)


# The code-size lesson: the linear model with codes of these sizes (32 is the Draw tab's own), each trained by
# the linear model's recipe, beside PCA of the same size (ae.lessons).
CODE_SIZES = (2, 4, 8, 16, 32, 64, 128)


def linear_of_size(size: int) -> type[LinearAE]:
    """The linear model with a `size`-number code: LinearAE itself for 32, a twin named "linear-<size>" else."""
    if size == LinearAE.code_size():
        return LinearAE
    return type(f"LinearAE{size}", (LinearAE,), {
        "name": f"linear-{size}", "title": f"Linear (784 → {size} → 784)", "short_title": f"Linear, {size}",
        "blurb": f"The linear model with a {size}-number code.", "code_shape": (size,), "in_draw_tab": False})


CODE_SIZE_MODELS: dict[str, type[Autoencoder]] = {cls.name: cls for cls in map(linear_of_size, CODE_SIZES)}


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
    # Not at the mean image: from that start this model ended at test MSE 0.00957 (seed 0), without it at
    # 0.00751, and its code units live without it on every seed tried.
    start = {"he": False, "mean_image": False}

    def __init__(self):
        super().__init__()
        self.encoder = _conv_encoder()
        self.decoder = nn.Sequential(  # (N, 4, 7, 7) -> (N, 16, 14, 14) -> (N, 1, 28, 28)
            nn.ConvTranspose2d(4, 16, 2, stride=2), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 2, stride=2), nn.Sigmoid(),
        )
        start_well(self, **self.start)


class UpsampleAE(Autoencoder):
    name = "upsample"
    title = "Convolutional (upsample + conv decoder)"
    short_title = "Conv, upsample"
    blurb = ("Same encoder; the decoder enlarges the code by nearest-neighbour upsampling, then "
             "convolves, so neighbouring pixels share weights and no checkerboard appears.")
    code_shape = (4, 7, 7)
    start = {"principal_components": True}  # from its training images (start_from), not in the constructor

    def __init__(self):
        super().__init__()
        self.encoder = _conv_encoder()
        self.decoder = nn.Sequential(  # (N, 4, 7, 7) -> (N, 16, 14, 14) -> (N, 1, 28, 28)
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(4, 16, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid(),
        )

    def start_from(self, images: torch.Tensor) -> None:
        start_at_principal_components(self, images)


class DenoiseAE(Autoencoder):
    name = "denoise"
    title = "Denoising (conv 32-16-8)"
    short_title = "Denoising"
    blurb = ("Trained on noisy digits against clean targets: its tight 3×3×8 code has no room for "
             "noise, so it redraws a plausible clean digit.")
    code_shape = (8, 3, 3)
    start = {"he": True}

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
        start_well(self, **self.start)


TWO_D_HIDDEN = (512, 256)  # the 2-D models' hidden widths, encoder side; the decoder mirrors them


class _TwoNumberCode(Autoencoder):
    """The network of the 2-D models: fully connected, 784 -> 512 -> 256 -> code, and 2 -> 256 -> 512 -> 784.

    Two numbers per digit, so the code space is a plane the Latent tab can show as it is, with no projection.
    Fully connected, as in Kingma and Welling's MNIST experiments, rather than convolutional: a convolutional
    VAE of about the same size (conv 32-32 encoder, transposed-conv decoder) reached only 142.1 nats and a map
    5-NN accuracy of 0.761 in 30 epochs (1,450 s here, sharing the machine), where this one reaches 135.8 and
    0.857 in 60 epochs and 725 s (docs/training.md). Our guess at why: with two numbers to carry a digit, a
    convolution's eye for strokes buys little.
    PyTorch's default start: no code unit to die here (no ReLU on the code), and none of seeds 0-4 collapsed.
    """

    code_shape = (2,)
    relu_code = False
    code_outputs: int

    def __init__(self):
        super().__init__()
        wide, narrow = TWO_D_HIDDEN
        self.encoder = nn.Sequential(
            nn.Flatten(), nn.Linear(FIELD * FIELD, wide), nn.ReLU(), nn.Linear(wide, narrow), nn.ReLU(),
            nn.Linear(narrow, self.code_outputs),
        )
        self.decoder = nn.Sequential(
            nn.Linear(2, narrow), nn.ReLU(), nn.Linear(narrow, wide), nn.ReLU(), nn.Linear(wide, FIELD * FIELD),
            nn.Sigmoid(), nn.Unflatten(1, (1, FIELD, FIELD)),
        )


class VAE(_TwoNumberCode):
    """A variational autoencoder (Kingma and Welling, 2014) with a 2-D latent.

    The encoder gives a Gaussian posterior q(z | x) = N(mean, exp(log_var)) per digit, and training pulls
    every posterior towards the prior N(0, I) (the KL term, ae.train). So the digits fill the plane around the
    origin with no holes, and a point drawn from the prior decodes to a digit: the model can `sample`.
    The demo's reconstructions decode the posterior mean, so the same drawing always gives the same output.
    """

    name = "vae"
    title = "Variational (2-D latent)"
    short_title = "VAE, 2-D"
    blurb = ("Two numbers per digit, and trained so that every point near the origin decodes to a digit: "
             "two numbers say which digit and roughly its slant, not the strokes.")
    code_outputs = 4  # the posterior's mean and log-variance, two each
    # The Draw tab's largest download: in float32 its encoder alone is 2.1 MB, and stored in float16 without the
    # rounding it moved a pixel 2.6 grey levels off the server's (docs/training.md).
    float16_weights = True

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log_var) of q(z | x), each (N, 2)."""
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        return mean, log_var

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n digits decoded from points drawn from the prior N(0, I)."""
        return self.decode(torch.randn(n, 2, generator=generator))

    @staticmethod
    def prior_quantiles(size: int) -> torch.Tensor:
        """`size` points along one latent axis at evenly spaced quantiles of the prior, (i + 1/2) / size: the
        Gaussian inverse CDF spaces them where the prior puts its mass, as in the VAE paper's manifold figures."""
        probabilities = (torch.arange(size, dtype=torch.float64) + 0.5) / size
        return torch.distributions.Normal(0.0, 1.0).icdf(probabilities).float()


class PlainAE2D(_TwoNumberCode):
    """The VAE's network as a plain autoencoder: the same 2-D code, no KL term.

    Its codes separate the digits as well, but sit wherever training put them, at whatever scale: the plane
    has gaps that decode to nothing in particular, and there is no distribution to sample from."""

    name = "ae2d"
    title = "Plain autoencoder (2-D code)"
    short_title = "Plain, 2-D"
    blurb = "The VAE's network without its KL term: the control for the Latent tab."
    code_outputs = 2
    in_draw_tab = False


MODELS: dict[str, type[Autoencoder]] = {cls.name: cls for cls in (LinearAE, ConvAE, UpsampleAE, DenoiseAE, VAE,
                                                                  PlainAE2D)}
DRAW_TAB_MODELS = [name for name, model in MODELS.items() if model.in_draw_tab]  # the Draw tab's, in its order


def build(name: str, training_images: torch.Tensor | None = None) -> Autoencoder:
    """A fresh model by registry name: as constructed, for weights to be loaded into, or, given training images
    (N, 1, 28, 28) in [0, 1], started as training starts it (`start_from`)."""
    known = MODELS | CODE_SIZE_MODELS
    if name not in known:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(known)}")
    model = known[name]()
    if training_images is not None:
        model.start_from(training_images)
    return model
