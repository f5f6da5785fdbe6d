"""The course's two lessons (ae.lessons, ae.evaluate's code-size curve, the code-size exports): the measures on
pictures whose answer is known, the committed models at every code size, and the page's graphs against PyTorch.
The README's table against a fresh measurement is test_readme's."""

import json
import math

import numpy as np
import onnxruntime
import pytest
import torch
from torch import nn

from ae.checkpoints import CHECKPOINT_DIR, file_sha256, load_checkpoint, load_pretrained, read_card, weights_path
from ae.export import CODE_SIZE_MANIFEST, MODELS_DIR, code_size_pair
from ae.lessons import (
    CHECKERBOARD_MODELS,
    decoder_responses,
    single_cell_code,
    stride_grid_share,
    typical_cell_value,
)
from ae.models import CODE_SIZE_MODELS, CODE_SIZES, LinearAE, build, linear_of_size
from ae.pca import PCA
from ae.train import RECIPES, recipe_of

PIXELS = 2 / 255  # the page's pictures against PyTorch's, as the Draw tab's parity


def test_a_two_pixel_checkerboard_is_all_on_the_stride_grid_and_a_smooth_blob_is_not():
    y, x = torch.meshgrid(torch.arange(28), torch.arange(28), indexing="ij")
    checkerboard = ((x + y) % 2).float()
    stripes = (x % 2).float()
    blob = torch.exp(-((x - 13.5) ** 2 + (y - 13.5) ** 2) / 30)
    assert stride_grid_share(checkerboard) == pytest.approx(1.0)
    assert stride_grid_share(stripes) == pytest.approx(1.0)
    assert stride_grid_share(blob) < 1e-6
    assert 0.01 < stride_grid_share(blob + 0.1 * checkerboard) < 0.99


def test_a_transposed_convolution_tiles_a_constant_code_and_upsampling_does_not():
    """Odena et al.'s point on two toy decoders with random weights: a stride-2 2x2 transposed convolution draws a
    constant code as its kernel repeated every 2 pixels; nearest upsampling then a 3x3 convolution, flat."""
    torch.manual_seed(0)
    transposed = nn.ConvTranspose2d(1, 1, 2, stride=2, bias=False)
    upsampling = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(1, 1, 3, padding=1, bias=False))
    code = torch.ones(1, 1, 14, 14)
    with torch.no_grad():
        assert stride_grid_share(transposed(code)) == pytest.approx(1.0)
        assert stride_grid_share(upsampling(code)) < 0.05  # flat but for its border
    assert stride_grid_share(torch.ones(28, 28)) == 0


def test_a_single_cell_code_turns_on_one_cell():
    code = single_cell_code((4, 7, 7), 2, 1.5)
    assert code.shape == (1, 4, 7, 7) and code.sum() == 1.5 and code[0, 2, 3, 3] == 1.5


def test_the_committed_decoders_show_the_lesson(mnist_test):
    """The transposed-conv decoder's constant code (at a code cell's typical value) is a pattern that repeats every
    2 pixels; the upsampling twin's is not (the README's table says by how much)."""
    digits = mnist_test[0][:1000]
    shares = {name: stride_grid_share(decoder_responses(model, typical_cell_value(model, digits))["constant"])
              for name, model in ((name, load_pretrained(name)) for name in CHECKERBOARD_MODELS)}
    assert shares["conv"] > 10 * shares["upsample"] and shares["conv"] > 10 * shares["denoise"]
    responses = decoder_responses(load_pretrained("conv"), 1.0)
    assert responses["cells"].shape == (4, 28, 28) and responses["empty"].shape == (28, 28)


def test_the_linear_model_comes_in_every_code_size():
    assert linear_of_size(32) is LinearAE and list(CODE_SIZES) == sorted(CODE_SIZES)
    for size in CODE_SIZES:
        model = build(linear_of_size(size).name)
        assert model.encode(torch.rand(3, 1, 28, 28)).shape == (3, size) and isinstance(model, LinearAE)
        assert recipe_of(model.name) == RECIPES["linear"]
    assert len(CODE_SIZE_MODELS) == len(CODE_SIZES)


@pytest.mark.parametrize("size", CODE_SIZES)
def test_every_code_size_is_committed_and_meets_its_card(size, mnist_test):
    name = linear_of_size(size).name
    model, card = load_checkpoint(name), read_card(name)
    assert card["code_size"] == size and card["recipe"] == read_card("linear")["recipe"]
    assert card["restart_guard"] == "did not fire"
    images = mnist_test[0]
    with torch.no_grad():
        measured = sum(((model(x) - x) ** 2).sum().item() for x in images.split(2000)) / images.numel()
    assert measured == pytest.approx(card["test_mse"], rel=1e-3)


def test_pca_kept_to_its_leading_components_is_pca_of_that_size():
    data = torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    full, small = PCA(data, 16), PCA(data, 4)
    assert torch.equal(full.leading(4)(data), small(data))


@pytest.fixture(scope="module")
def code_size_manifest():
    return json.loads(CODE_SIZE_MANIFEST.read_text())


def test_every_code_size_is_exported_from_its_committed_checkpoint(code_size_manifest):
    assert list(code_size_manifest) == [str(size) for size in CODE_SIZES]
    for size, entry in code_size_manifest.items():
        path = MODELS_DIR / entry["file"]
        assert entry["sha256"] == file_sha256(path) and entry["bytes"] == path.stat().st_size
        checkpoint = weights_path(linear_of_size(int(size)).name, CHECKPOINT_DIR)
        assert entry["checkpoint_sha256"] == file_sha256(checkpoint), (
            f"code size {size} was retrained since its export: run `python -m ae.export`")


def test_the_code_size_graphs_compute_what_pytorch_computes(code_size_manifest, mnist_test, mnist_train):
    """Each size's graph, as the page runs it: the autoencoder as PyTorch computes it, and PCA as ae.pca computes it
    in float64 (the graph in float32), within the Draw tab's 2/255."""
    digits = mnist_test[0][:64]
    pca = PCA(mnist_train[0], max(CODE_SIZES))
    for size in CODE_SIZES:
        session = onnxruntime.InferenceSession(str(MODELS_DIR / code_size_manifest[str(size)]["file"]),
                                               providers=["CPUExecutionProvider"])
        autoencoder, projected = session.run(None, {"digits": digits.numpy()})
        with torch.no_grad():
            expected = load_checkpoint(linear_of_size(size).name)(digits).numpy()
            assert np.abs(code_size_pair(size, pca)(digits)[1].numpy() - projected).max() < 1e-5
        assert np.abs(autoencoder - expected).max() < PIXELS
        assert np.abs(projected - pca.leading(size)(digits).numpy()).max() < PIXELS
        assert not math.isnan(autoencoder.sum())
