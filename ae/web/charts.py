"""Small SVG line charts for the page: the Train tab's live curves (the Draw tab's noise sweep, which the page
computes, the page also draws: static/draw.js).

Plain SVG because the page repaints them on every update: a Vega plot (gr.LinePlot) took the browser 150-400 ms
per redraw, and held every other panel's repaint back with it. Every point carries its value as a tooltip.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# matplotlib's first ten colours ("tab10"), as in the README's figures: the sweep's models, the map's digits.
TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
SIZE = (560, 240)  # the chart's own units; the page scales it to the column's width
MARGIN = (56, 12, 16, 40)  # left, right, top, bottom
CSS = """
svg { width: 100%; max-width: 760px; height: auto; display: block; }
.chart-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.85em; }
.chart-legend i { display: inline-block; width: 14px; height: 3px; margin: 0 5px 3px 0; vertical-align: middle; }
.placeholder { border: 1px dashed var(--border-color-primary); border-radius: 4px; padding: 24px 12px; margin: 0;
               font-size: 0.85em; }
"""


def placeholder(text: str) -> str:
    """A chart's place before it has anything to show: what will appear there, and how to get it."""
    return f'<p class="placeholder">{text}</p>'


@dataclass
class Line:
    label: str  # the legend's name for it
    colour: str
    xs: Sequence[float]
    ys: Sequence[float]
    tips: Sequence[str]  # one tooltip per point
    dashed: bool = False


@dataclass
class Rule:
    """A grey dashed line across the chart, at a value of x (`vertical`) or of y, with its tooltip."""
    at: float
    tip: str
    vertical: bool = True


def line_chart(lines: list[Line], x_end: float, x_label: str, y_label: str, rules: Sequence[Rule] = (),
               x_ticks: int = 6, y_end: float | None = None, legend_rule: str | None = None) -> str:
    """Lines over x in [0, x_end] and y from 0 up to a tidy number above every value (or `y_end`), as HTML: a
    legend, then the SVG. `legend_rule` names the rules in the legend."""
    (width, height), (left, right, top, bottom) = SIZE, MARGIN
    values = [float(y) for line in lines for y in line.ys] + [rule.at for rule in rules if not rule.vertical]
    y_top = y_end or nice_ceiling(max(values, default=1.0))
    x_of = lambda x: left + x / x_end * (width - left - right)  # noqa: E731
    y_of = lambda y: height - bottom - min(y, y_top) / y_top * (height - top - bottom)  # noqa: E731
    parts = [f'<line x1="{left}" y1="{y_of(v):.1f}" x2="{width - right}" y2="{y_of(v):.1f}" stroke="#ddd"/>'
             f'<text x="{left - 6}" y="{y_of(v) + 4:.1f}" text-anchor="end">{v:g}</text>'
             for v in np.linspace(0, y_top, 6).round(6)]
    parts += [f'<text x="{x_of(x):.1f}" y="{height - bottom + 18}" text-anchor="middle">{x:g}</text>'
              for x in np.linspace(0, x_end, x_ticks).round(6)]
    for rule in rules:
        x1, y1, x2, y2 = ((x_of(rule.at), top, x_of(rule.at), height - bottom) if rule.vertical else
                          (left, y_of(rule.at), width - right, y_of(rule.at)))
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#999" '
                     f'stroke-dasharray="4 3"><title>{rule.tip}</title></line>')
    for line in lines:
        points = [(x_of(float(x)), y_of(float(y))) for x, y in zip(line.xs, line.ys)]
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        parts.append(f'<polyline fill="none" stroke="{line.colour}" stroke-width="2"{dash} points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{line.colour}"><title>{tip}</title></circle>'
                  for (x, y), tip in zip(points, line.tips)]
    legend = "".join(f'<span><i style="background:{line.colour}"></i>{line.label}</span>' for line in lines)
    if legend_rule:
        legend += f'<span><i style="background:#999"></i>{legend_rule}</span>'
    return (f'<div class="chart-legend">{legend}</div>'
            f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{y_label} against {x_label}">'
            f'<g font-size="14" fill="#666">{"".join(parts)}</g>'
            f'<text x="{(left + width - right) / 2}" y="{height - 4}" text-anchor="middle" font-size="14" fill="#666">'
            f'{x_label}</text>'
            f'<text transform="translate(14 {(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle" '
            f'font-size="14" fill="#666">{y_label}</text></svg>')


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `value` (a tidy axis end)."""
    power = 10 ** math.floor(math.log10(max(value, 1e-6)))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)
