import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import ImageColor

from ae.web import draw_tab, mapplot
from ae.web.charts import TAB10

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("low, high, expected, decimals", [
    (-4.3, 3.9, [-4, -3, -2, -1, 0, 1, 2, 3], 0),
    (-10.5, 21.0, [-10, -5, 0, 5, 10, 15, 20], 0),
    (0.013, 0.12, [0.02, 0.04, 0.06, 0.08, 0.10, 0.12], 2),
    (-0.6, 0.6, [-0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6], 1),
    (0.0, 2.2, [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2], 2),
])
def test_ticks_fall_on_round_values_inside_the_range(low, high, expected, decimals):
    values, places = mapplot.ticks(low, high)
    assert np.allclose(values, expected) and places == decimals


def test_tick_labels_use_a_true_minus_and_never_say_minus_zero():
    assert mapplot.tick_label(-2.0, 0) == "−2" and mapplot.tick_label(-0.0001, 2) == "0"
    assert mapplot.tick_label(0.25, 2) == "0.25"


def test_each_dot_lands_where_a_click_reads_it_back_in_its_digits_colour():
    coords = np.array([[-3.0, -1.0], [0.0, 0.0], [2.0, 5.0], [1.0, 2.0]], np.float32)
    labels = np.array([0, 3, 9, 9])
    picture = mapplot.scatter_map(coords, labels, "title", "x", "y")
    assert picture.image.shape == (*mapplot.SIZE[::-1], 3)
    for (x, y), digit in zip(coords, labels):
        column, row = picture.to_pixel(x, y)
        assert picture.inside(column, row) and np.allclose(picture.to_data(column, row), (x, y), atol=1e-6)
        colour = picture.image[round(row), round(column)].astype(int)
        blended = 255 + mapplot.DOT_OPACITY * (np.array(ImageColor.getrgb(TAB10[digit])) - 255)
        assert np.abs(colour - blended).max() <= 2, (digit, colour, blended)


def test_the_prior_circle_widens_the_axes_and_is_drawn():
    coords = np.array([[-0.5, -0.5], [0.5, 0.5]], np.float32)
    picture = mapplot.scatter_map(coords, np.array([1, 2]), "title", "x", "y", prior_radius=2.0)
    assert picture.x_limits[0] < -2 and picture.x_limits[1] > 2 and picture.y_limits[1] > 2
    on_circle = [picture.to_pixel(2 * np.cos(a), 2 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 60)]
    dark = [picture.image[round(r) - 1:round(r) + 2, round(c) - 1:round(c) + 2].max(axis=-1).min() < 200
            for c, r in on_circle]
    assert 0.3 < np.mean(dark) < 0.9, "a dashed circle: partly drawn, partly gaps"


def test_the_error_colours_follow_matplotlibs_magma():
    from matplotlib import colormaps
    table = colormaps["magma"](np.linspace(0, 1, 256))[:, :3] * 255
    assert np.abs(draw_tab.HEAT.astype(float) - table).max() <= 3


@pytest.mark.slow  # starts the app
def test_the_server_runs_without_importing_matplotlib():
    """matplotlib would add about 30 MB to the server for good (docs/speed.md: peak memory)."""
    script = ("import sys; sys.argv = ['app.py']; import app; from ae.web import latent_tab; latent_tab.warm_up(); "
              "from gradio import route_utils\n"
              "with route_utils.utils.MatplotlibBackendMananger(): pass  # as Gradio does around each event\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True,
                            env={"GRADIO_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin:/bin"})
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
