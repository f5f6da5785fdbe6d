"""A bounded load on loopback: a few concurrent clients for a few seconds, every answer well-formed."""

import numpy as np
from PIL import Image

from ae.bench import run_clients, sample_drawing


def test_concurrent_clients_get_only_well_formed_answers(app_url, tmp_path):
    drawing = tmp_path / "seven.png"
    Image.fromarray(sample_drawing()).save(drawing)
    result = run_clients(app_url, drawing, clients=4, seconds=4, max_requests=15)
    assert result["errors"] == 0, result["first_errors"]
    assert result["requests"] >= 4
    assert np.isfinite(result["p50_ms"])
