import pytest

from ae.web import charts


@pytest.mark.parametrize("value, ceiling", [(0.0123, 0.02), (0.2, 0.2), (0.21, 0.25), (0.3, 0.5), (0.07, 0.1)])
def test_the_chart_axis_ends_on_a_tidy_number(value, ceiling):
    assert charts.nice_ceiling(value) == pytest.approx(ceiling)
