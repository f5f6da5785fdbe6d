import pytest
import torch

from ae.noise import NOISE_KINDS, add_noise


@pytest.fixture
def images():
    return torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_same_seed_same_noise_and_range(images, kind):
    a = add_noise(images, kind, 0.5, seed=7)
    assert torch.equal(a, add_noise(images, kind, 0.5, seed=7))
    assert not torch.equal(a, add_noise(images, kind, 0.5, seed=8))
    assert a.shape == images.shape and 0 <= a.min() and a.max() <= 1


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_amount_zero_changes_nothing(images, kind):
    assert torch.equal(add_noise(images, kind, 0.0, seed=3), images)


def test_gaussian_matches_the_course_formula(images):
    expected = (images + 0.5 * torch.randn(images.shape, generator=torch.Generator().manual_seed(5))).clamp(0, 1)
    assert torch.equal(add_noise(images, "gaussian", 0.5, seed=5), expected)


def test_salt_and_pepper_hits_the_requested_share():
    x = torch.full((8, 1, 28, 28), 0.5)
    noisy = add_noise(x, "salt_pepper", 0.3, seed=0)
    hit = noisy != 0.5
    assert abs(hit.float().mean().item() - 0.3) < 0.02
    assert abs((noisy[hit] == 1).float().mean().item() - 0.5) < 0.05


def test_mask_blacks_out_one_square_of_the_requested_area():
    x = torch.ones(3, 1, 28, 28)
    noisy = add_noise(x, "mask", 0.25, seed=0)
    for image in noisy[:, 0]:
        rows, cols = torch.nonzero(image == 0, as_tuple=True)
        assert (image == 0).sum() == 14 * 14
        assert rows.max() - rows.min() == 13 and cols.max() - cols.min() == 13


def test_per_image_amounts(images):
    noisy = add_noise(images, "gaussian", torch.tensor([0.0, 0.0, 1.0, 1.0]), seed=0)
    assert torch.equal(noisy[:2], images[:2]) and not torch.equal(noisy[2:], images[2:])


def test_unknown_kind_is_refused(images):
    with pytest.raises(ValueError, match="unknown noise kind"):
        add_noise(images, "speckle", 0.5)
