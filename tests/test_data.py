import pytest

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
