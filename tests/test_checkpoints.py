import json
import struct

import pytest
import torch

from ae import load_pretrained
from ae.checkpoints import CHECKPOINT_DIR, CheckpointError, load_checkpoint, read_card, save_checkpoint, weights_path
from ae.evaluate import SEED_RECIPE
from ae.models import MODELS, build
from ae.train import test_loss as measured_test_loss
from ae.train import test_mse as measured_test_mse

pytestmark = pytest.mark.slow  # the full MNIST test set


def _saved(tmp_path, name="conv"):
    torch.manual_seed(0)
    model = build(name)
    save_checkpoint(model, {"model": name}, tmp_path)
    return model


@pytest.mark.parametrize("name", MODELS)
def test_save_load_round_trip_is_bit_for_bit(tmp_path, name):
    model = _saved(tmp_path, name)
    loaded = load_checkpoint(name, tmp_path)
    original, restored = model.state_dict(), loaded.state_dict()
    assert original.keys() == restored.keys()
    for key in original:
        assert torch.equal(original[key], restored[key]), key
    assert not loaded.training


def test_weights_are_safetensors_not_pickles(tmp_path):
    _saved(tmp_path)
    raw = weights_path("conv", tmp_path).read_bytes()
    (header_size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_size])
    assert "encoder.0.weight" in header
    assert b"\x80\x04" not in raw[:2], "no pickle protocol marker"


def test_weights_are_readable_as_any_file_written_beside_them(tmp_path):
    _saved(tmp_path)
    (tmp_path / "beside.txt").write_text("")
    assert weights_path("conv", tmp_path).stat().st_mode == (tmp_path / "beside.txt").stat().st_mode


def test_truncated_weights_are_refused_with_the_fix(tmp_path):
    _saved(tmp_path)
    path = weights_path("conv", tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"conv\.safetensors .*python -m ae\.train --model conv"):
        load_checkpoint("conv", tmp_path)


def test_tampered_weights_are_refused(tmp_path):
    _saved(tmp_path)
    path = weights_path("conv", tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="does not match its card"):
        load_checkpoint("conv", tmp_path)


def test_missing_weights_are_named(tmp_path):
    with pytest.raises(CheckpointError, match=r"conv\.safetensors is missing"):
        load_checkpoint("conv", tmp_path)


@pytest.mark.parametrize("name", MODELS)
def test_committed_checkpoints_meet_their_recorded_test_mse(name, mnist_test):
    images, _ = mnist_test
    model = load_pretrained(name)
    card = read_card(name, CHECKPOINT_DIR)
    assert not model.training and next(model.parameters()).device.type == "cpu"
    assert card["parameters"] == model.num_parameters()
    measured = measured_test_mse(model, images, card["test_mse_noise"])
    assert measured == pytest.approx(card["test_mse"], rel=1e-3)
    assert card["restart_guard"] == "did not fire", "the committed weights come from the seed asked for"
    if name in SEED_RECIPE:
        course = SEED_RECIPE[name]["mse"][[0.0, 0.25, 0.5, 0.75, 1.0].index(card["test_mse_noise"])]
        assert measured < course, "our training beats the course recipe"
    else:  # the 2-D models: their own loss, in nats per image
        assert measured_test_loss(model, images, card["loss"]) == pytest.approx(card["test_loss"], rel=1e-4)
