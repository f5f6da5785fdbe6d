import pytest
import torch

from ae import data


def test_real_mnist_is_in_place(mnist_test):
    images, labels = mnist_test
    assert images.shape == (10_000, 1, 28, 28) and labels.shape == (10_000,)
    assert images.min() == 0 and images.max() == 1
    assert sorted(labels.unique().tolist()) == list(range(10))


def test_install_refuses_a_file_whose_checksum_is_wrong(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in data.RAW_SHA256:
        (source / name).write_bytes(b"not mnist")
    with pytest.raises(data.DataError, match="refusing .*SHA-256"):
        data.install_raw_files(source, tmp_path / "root")
    assert not data.raw_dir(tmp_path / "root").exists(), "nothing is installed from a bad download"


def test_missing_or_corrupt_data_names_the_command_that_fixes_it(tmp_path):
    with pytest.raises(data.DataError, match="missing: run `python -m ae.data`"):
        data.verify(tmp_path)
    data.raw_dir(tmp_path).mkdir(parents=True)
    for name in data.RAW_SHA256:
        (data.raw_dir(tmp_path) / name).write_bytes(b"truncated")
    with pytest.raises(data.DataError, match="corrupt .*python -m ae.data"):
        data.load_mnist(train=False, root=tmp_path)


def test_the_raw_files_read_as_torchvision_reads_them(mnist_test):
    from torchvision.datasets import MNIST
    reference = MNIST(data.DATA_ROOT, train=False, download=False)
    images, labels = data.load_mnist_bytes(train=False)
    assert torch.equal(images[:, 0], reference.data) and torch.equal(labels, reference.targets)


def test_a_file_that_is_not_idx_bytes_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "floats-idx3"
    path.write_bytes(bytes([0, 0, 0x0D, 3]) + bytes(12))  # 0x0D: IDX's code for float32
    with pytest.raises(data.DataError, match="not an IDX file of unsigned bytes: run `python -m ae.data`"):
        data.read_idx(path)


def test_a_digit_file_reads_the_digits_it_is_asked_for():
    digits = data.DigitFile(train=False)
    images, _ = data.load_mnist_bytes(train=False)
    picks = torch.tensor([9999, 0, 4242, 0])
    assert len(digits) == 10_000 and torch.equal(digits[picks], images[picks])
