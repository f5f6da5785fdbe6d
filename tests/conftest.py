import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from ae.browser import free_port  # noqa: E402
from ae.data import load_mnist  # noqa: E402


@pytest.fixture(scope="session")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    """The real MNIST test split; `python -m ae.data` (part of the README's test command) provides it."""
    return load_mnist(train=False)


@pytest.fixture(scope="session")
def example_on_pad():
    """example_on_pad(i): the example strip's digit i as the pad sends it, on paper, each pixel 10x10 (as
    PAD_JS draws it)."""
    from ae import demo
    from ae.pad import on_paper

    def drawn(index: int) -> np.ndarray:
        digit, _ = demo.example_digits()[index]
        return np.repeat(np.repeat(on_paper(digit), 10, 0), 10, 1)
    return drawn


@pytest.fixture(scope="session")
def mnist_train() -> tuple[torch.Tensor, torch.Tensor]:
    return load_mnist(train=True)


@pytest.fixture(scope="session")
def app_url():
    """The real app, launched once in this process on a free loopback port, with its launch options."""
    from app import LAUNCH_OPTIONS, app
    app.launch(**LAUNCH_OPTIONS, prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
               quiet=True)
    yield app.local_url
    app.close()
