"""Figures for the README, drawn with matplotlib's object API (no pyplot state, safe in a server)."""

import numpy as np
from matplotlib.figure import Figure

from .models import MODELS
from .preprocess import FIELD


def image_grid(rows: list[tuple[str, np.ndarray]], title: str) -> Figure:
    """One labelled row per (label, images (K, 28, 28)) pair."""
    columns = len(rows[0][1])
    figure = Figure(figsize=(columns * 0.8 + 1.6, len(rows) * 0.85 + 0.5), layout="constrained")
    axes = figure.subplots(len(rows), columns, squeeze=False)
    for (label, images), row in zip(rows, axes):
        for image, ax in zip(images, row):
            ax.imshow(image, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    figure.suptitle(title, fontsize=10)
    return figure


def noise_curves(amounts: list[float], ours: dict[str, list[float]], seed: dict[str, list[float]]) -> Figure:
    """Test MSE against Gaussian noise amount: ours solid, the course recipe dashed, one colour per model."""
    figure = Figure(figsize=(6.5, 4), layout="constrained")
    axes = figure.subplots()
    for index, name in enumerate(ours):
        colour = f"C{index}"
        axes.plot(amounts, ours[name], color=colour, marker="o", label=f"{MODELS[name].title}")
        axes.plot(amounts, seed[name], color=colour, linestyle="--", alpha=0.6)
    axes.plot([], [], color="grey", linestyle="--", label="dashed: course recipe")
    axes.set_xlabel("Gaussian noise amount a (input = clip(x + a·N(0,1)))")
    axes.set_ylabel("test MSE against the clean digit")
    axes.set_title("Reconstruction error as noise grows (MNIST test set, 10k digits)", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return figure


def latent_planes(panels: list[tuple[str, np.ndarray, np.ndarray, bool]]) -> Figure:
    """One scatter per (title, test codes (N, 2), labels (N,), has a prior), coloured by digit; each panel keeps
    its own scale, and where there is a prior N(0, I), its 2-sigma circle is drawn."""
    figure = Figure(figsize=(5 * len(panels) + 1, 4.6), layout="constrained")
    for axes, (title, codes, labels, prior) in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        for digit in range(10):
            here = labels == digit
            axes.scatter(codes[here, 0], codes[here, 1], s=2, alpha=0.5, color=f"C{digit}", label=str(digit),
                         linewidths=0)
        if prior:
            angle = np.linspace(0, 2 * np.pi, 200)
            axes.plot(2 * np.cos(angle), 2 * np.sin(angle), color="black", linewidth=1, linestyle="--",
                      label="prior, 2σ")
        axes.set_title(title, fontsize=9)
        axes.set_aspect("equal", adjustable="datalim")
    entries = {}  # one legend for all panels, so the prior's circle has its entry whichever panel draws it
    for axes in figure.axes:
        for handle, label in zip(*axes.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    figure.legend(entries.values(), entries.keys(), loc="outside right center", markerscale=4, fontsize=8)
    return figure


def digit_sheet(digits: np.ndarray, title: str, axis_values: np.ndarray | None = None) -> Figure:
    """A (rows, columns, 28, 28) grid of digits as one picture, with the latent values of the columns and rows
    (top row: largest) on the axes where given."""
    rows, columns = digits.shape[:2]
    sheet = digits.transpose(0, 2, 1, 3).reshape(rows * FIELD, columns * FIELD)
    figure = Figure(figsize=(7, 7.4), layout="constrained")
    axes = figure.subplots()
    axes.imshow(sheet, cmap="gray", vmin=0, vmax=1)
    if axis_values is None:
        axes.set_xticks([])
        axes.set_yticks([])
    else:
        ticks = np.arange(columns) * FIELD + (FIELD - 1) / 2
        axes.set_xticks(ticks[::3], [f"{v:.1f}" for v in axis_values[::3]], fontsize=7)
        axes.set_yticks(ticks[::3], [f"{v:.1f}" for v in axis_values[::-1][::3]], fontsize=7)
        axes.set_xlabel("z₁")
        axes.set_ylabel("z₂")
    axes.set_title(title, fontsize=9)
    return figure
