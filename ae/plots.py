"""Figures for the README, drawn with matplotlib's object API (no pyplot state, safe in a server)."""

import numpy as np
from matplotlib.figure import Figure

from .models import MODELS


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
