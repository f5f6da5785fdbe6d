import pytest
import torch

from ae.models import MODELS, build

EXPECTED = {  # parameters and code shape of the course notebooks' architectures
    "linear": (50_992, (32,)),
    "conv": (1_077, (4, 7, 7)),
    "upsample": (1_477, (4, 7, 7)),
    "denoise": (9_585, (8, 3, 3)),
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
    assert (code >= 0).all(), "codes pass through a ReLU"


@pytest.mark.parametrize("name", MODELS)
def test_encode_then_decode_equals_forward(name):
    torch.manual_seed(1)
    model = build(name).eval()
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(model.decode(model.encode(x)), model(x))


def test_registry_rejects_unknown_names():
    with pytest.raises(ValueError, match="choose one of linear, conv, upsample, denoise"):
        build("vae")


def test_every_model_explains_itself():
    for model in MODELS.values():
        assert model.title and len(model.blurb) > 40
