import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from ae.bench.browser import CHROMIUM, free_port  # noqa: E402
from ae.data import load_mnist  # noqa: E402

IN_CI = bool(os.environ.get("CI"))
BROWSER_TESTS = ("test_browser.py", "test_parity.py", "test_train_page.py")  # each launches Chromium


def pytest_collection_modifyitems(config, items):
    """Browser tests are slow, and need Debian's chromium: without it they skip with the reason, except in CI,
    where they must run (and fail if they cannot)."""
    missing = not os.path.exists(CHROMIUM) and not IN_CI
    for item in items:
        if item.path.name in BROWSER_TESTS:
            item.add_marker(pytest.mark.slow)
            if missing:
                reason = f"{CHROMIUM} is missing: `apt-get install chromium` (see README)"
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a part that did not run: the run fails, naming them."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if IN_CI and skipped and exitstatus == 0:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped, which CI does not allow: "
                            + ", ".join(report.nodeid for report in skipped[:5]), red=True)
        session.exitstatus = 1


@pytest.fixture(scope="session")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    """The real MNIST test split; `python -m ae.data` (part of the README's test command) provides it."""
    return load_mnist(train=False)


@pytest.fixture(scope="session")
def example_on_pad():
    """example_on_pad(i): the example strip's digit i as the pad sends it, on paper, each pixel 10x10 (as
    PAD_JS draws it)."""
    from ae.web import draw_tab
    from ae.web.pad import on_paper

    def drawn(index: int) -> np.ndarray:
        digit, _ = draw_tab.example_digits()[index]
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
