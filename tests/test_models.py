import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ae.models import DRAW_TAB_MODELS, MNIST_MEAN_PIXEL, MODELS, VAE, build

EXPECTED = {  # parameters and code shape of the course notebooks' architectures
    "linear": (50_992, (32,)),
    "conv": (1_077, (4, 7, 7)),
    "upsample": (1_477, (4, 7, 7)),
    "denoise": (9_585, (8, 3, 3)),
    "vae": (1_068_820, (2,)),
    "ae2d": (1_068_306, (2,)),
}


@pytest.mark.parametrize("name", MODELS)
def test_shapes_ranges_and_code_sizes(name):
    torch.manual_seed(0)
    model = build(name).eval()
    x = torch.rand(5, 1, 28, 28)
    code = model.encode(x)
    y = model(x)
    parameters, code_shape = EXPECTED[name]
    assert model.num_parameters() == parameters
    assert tuple(code.shape) == (5, *code_shape)
    assert model.code_size() == code[0].numel()
    assert y.shape == x.shape
    assert 0 <= y.min() and y.max() <= 1
    if model.relu_code:
        assert (code >= 0).all(), "the classic models' codes pass through a ReLU"


@pytest.mark.parametrize("name", MODELS)
def test_encode_then_decode_equals_forward(name):
    torch.manual_seed(1)
    model = build(name).eval()
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(model.decode(model.encode(x)), model(x))


def test_registry_rejects_unknown_names():
    with pytest.raises(ValueError, match="choose one of linear, conv, upsample, denoise, vae, ae2d"):
        build("gan")


def test_every_model_explains_itself_where_it_is_shown():
    from ae.web.draw_tab import page_config
    for names in ([model.title for model in MODELS.values()], [model.short_title for model in MODELS.values()]):
        assert len(set(names)) == len(names)  # no two panels, legends or radio buttons read alike
    for model in MODELS.values():
        assert model.blurb[0].isupper() and model.blurb.endswith(".") and model.title not in model.blurb
    shown = {entry["name"]: entry for entry in page_config()["models"]}  # what the Draw tab prints under each
    assert list(shown) == DRAW_TAB_MODELS
    for name in DRAW_TAB_MODELS:
        assert (shown[name]["title"], shown[name]["blurb"]) == (MODELS[name].title, MODELS[name].blurb)


def test_the_vae_posterior_its_mean_as_code_and_samples_from_the_prior():
    torch.manual_seed(2)
    model = build("vae").eval()
    x = torch.rand(4, 1, 28, 28)
    mean, log_var = model.posterior(x)
    assert mean.shape == log_var.shape == (4, 2)
    assert torch.equal(model.encode(x), mean) and torch.equal(model(x), model(x))  # forward decodes the mean
    first = model.sample(16, torch.Generator().manual_seed(5))
    assert first.shape == (16, 1, 28, 28) and 0 <= first.min() and first.max() <= 1
    assert torch.equal(first, model.sample(16, torch.Generator().manual_seed(5)))
    assert not torch.equal(first, model.sample(16, torch.Generator().manual_seed(6)))


def test_prior_quantiles_are_the_gaussian_inverse_cdf():
    axis = VAE.prior_quantiles(15)
    assert torch.allclose(axis, -axis.flip(0), atol=1e-6) and axis[7] == 0
    assert torch.all(axis.diff() > 0) and abs(axis[-1].item() - 1.8339) < 1e-3  # Phi^-1(14.5 / 15)
    assert torch.all(axis.diff()[:7].diff() < 0)  # the gaps shrink towards the middle, where the mass is


def test_the_denoiser_starts_with_he_weights():
    torch.manual_seed(3)
    first = next(m for m in build("denoise").modules() if isinstance(m, nn.Conv2d))
    # fan-in 9: He's std is sqrt(2 / 9) = 0.47, where PyTorch's default would be 0.19
    assert 0.35 < first.weight.std().item() < 0.6 and torch.count_nonzero(first.bias) == 0


def started(name: str, images: torch.Tensor, seed: int = 0) -> nn.Module:
    """A model as ae.train starts it."""
    torch.manual_seed(seed)
    return build(name, images)


def test_upsample_starts_from_principal_components_the_same_whatever_the_seed(mnist_train, mnist_test):
    one, other = started("upsample", mnist_train[0], seed=0), started("upsample", mnist_train[0], seed=1)
    assert all(torch.equal(a, b) for a, b in zip(one.state_dict().values(), other.state_dict().values()))
    first = one.encoder[0].weight.flatten(1)  # (16, 9): eight principal directions, each as a +/- pair
    assert torch.equal(first[0::2], -first[1::2])
    directions = first[0::2] / first[0::2].norm(dim=1, keepdim=True)
    assert torch.allclose(directions @ directions.T, torch.eye(8), atol=1e-5)  # orthonormal
    test_x = mnist_test[0][:2000]
    with torch.no_grad():
        start_mse = F.mse_loss(one.eval()(test_x), test_x).item()
    mean_image_mse = F.mse_loss(mnist_train[0].mean(0).expand_as(test_x), test_x).item()
    assert start_mse < 0.5 * mean_image_mse  # it starts as a (rough) autoencoder already


CLASSIC = ["linear", "conv", "upsample", "denoise"]


@pytest.mark.parametrize("name", CLASSIC)
def test_the_classic_models_start_with_code_units_on_and_most_at_the_mean_image(name, mnist_train):
    model = started(name, mnist_train[0])
    layers = lambda part: [m for m in part if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]  # noqa: E731
    assert torch.all(layers(model.encoder)[-1].bias == 0.5)
    at_the_mean = torch.allclose(torch.sigmoid(layers(model.decoder)[-1].bias), torch.tensor(MNIST_MEAN_PIXEL))
    # conv trains better from PyTorch's default output bias; upsample's is fitted with its last layer
    assert at_the_mean == (name in ("linear", "denoise"))
