"""Weights as safetensors (nothing is unpickled on load) beside a JSON card that says how they were made.

The card records the weight file's SHA-256, so a truncated or tampered file is caught before it is used.
"""

import hashlib
import json
import os
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save

from .models import Autoencoder, build

# AE_CHECKPOINTS points the app and the CLIs at another folder (a retrained set, or a test's damaged copy).
CHECKPOINT_DIR = Path(os.environ.get("AE_CHECKPOINTS", Path(__file__).resolve().parent.parent / "checkpoints"))


class CheckpointError(RuntimeError):
    """A weight file is missing or damaged; the message names it and the command that restores it."""


def _restore_hint(name: str) -> str:
    return f"restore it with `git checkout -- checkpoints/` or retrain it with `python -m ae.train --model {name}`"


def weights_path(name: str, directory: Path = CHECKPOINT_DIR) -> Path:
    return Path(directory) / f"{name}.safetensors"


def card_path(name: str, directory: Path = CHECKPOINT_DIR) -> Path:
    return Path(directory) / f"{name}.json"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_checkpoint(model: Autoencoder, card: dict, directory: Path = CHECKPOINT_DIR) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    # Written as any file is, so the umask decides who may read it (save_file's temporary file leaves it 0600).
    weights_path(model.name, directory).write_bytes(save(state))
    card = {**card, "weights_sha256": file_sha256(weights_path(model.name, directory))}
    card_path(model.name, directory).write_text(json.dumps(card, indent=2) + "\n")


def read_card(name: str, directory: Path = CHECKPOINT_DIR) -> dict:
    path = card_path(name, directory)
    if not path.exists():
        raise CheckpointError(f"checkpoint card {path} is missing: {_restore_hint(name)}")
    return json.loads(path.read_text())


def load_checkpoint(name: str, directory: Path = CHECKPOINT_DIR) -> Autoencoder:
    """The model `name` with the weights in `directory`, in eval mode on the CPU."""
    model = build(name)
    path = weights_path(name, directory)
    if not path.exists():
        raise CheckpointError(f"weight file {path} is missing: {_restore_hint(name)}")
    expected = read_card(name, directory).get("weights_sha256")
    if expected is not None and file_sha256(path) != expected:
        raise CheckpointError(f"weight file {path} does not match its card (truncated or altered): "
                              f"{_restore_hint(name)}")
    try:
        model.load_state_dict(load_file(path, device="cpu"))
    except (SafetensorError, RuntimeError) as err:
        raise CheckpointError(f"weight file {path} cannot be read ({err}): {_restore_hint(name)}") from err
    return model.eval()


def load_pretrained(name: str) -> Autoencoder:
    """The committed pretrained model `name`, one of ae.models.MODELS ("linear", "conv", ..., "vae", "ae2d")."""
    return load_checkpoint(name, CHECKPOINT_DIR)
