"""The evaluation's map score and its tables, on toy data (the committed figures are checked in test_readme)."""

import numpy as np
import torch

from ae import evaluate
from ae.metrics import knn_accuracy
from ae.plots import latent_planes


def test_knn_accuracy_reads_how_well_a_map_separates_labels():
    generator = torch.Generator().manual_seed(0)
    train, test = torch.randn(600, 2, generator=generator), torch.randn(300, 2, generator=generator)
    train_labels, test_labels = (train[:, 0] > 0).long(), (test[:, 0] > 0).long()
    assert knn_accuracy(train, train_labels, test, test_labels) > 0.95  # two halves of the plane
    assert knn_accuracy(train, train_labels, test, 1 - test_labels) < 0.05
    all_zeros = torch.zeros(600, dtype=torch.long)
    assert knn_accuracy(train, all_zeros, test, test_labels) == (test_labels == 0).float().mean()


def test_a_larger_code_is_mapped_on_its_two_principal_axes():
    class Flat(torch.nn.Module):  # a code of three numbers whose third barely varies
        def encode(self, x):
            return x.flatten(1)[:, :3] * torch.tensor([3.0, 2.0, 0.01])
    images = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    train_points, test_points = evaluate.map_points(Flat(), images[:150], images[150:])
    assert train_points.shape == (150, 2) and test_points.shape == (50, 2)
    assert train_points.var(0)[0] > train_points.var(0)[1] > 0.1  # the two that vary, largest first


def test_the_latent_table_states_the_goals_and_the_guard():
    row = {"code_size": 2, "noise": [{"mse": 0.036}], "map_knn5": 0.81, "bce_nats": 139.0,
           "restart_guard": "did not fire"}
    metrics = {"models": {"vae": {**row, "nelbo_nats": 137.2}, "ae2d": row}}
    lines = "\n".join(evaluate.latent_table(metrics))
    assert "| Variational (2-D latent) | the 2-D code itself | 0.810 | 0.03600 | 139.0 | 137.2 |" in lines
    assert "(137.2, **missed**)" in lines and "(0.810, met)" in lines and "did not fire for any" in lines
    metrics["models"]["ae2d"] = {**row, "restart_guard": "FIRED: seed 0: 1 silent code channels after epoch 1"}
    assert "**The restart guard of `ae.train` fired** (it should never): ae2d: FIRED: seed 0" in "\n".join(
        evaluate.latent_table(metrics))


def test_the_latent_planes_legend_has_every_digit_and_the_priors_circle():
    generator = np.random.default_rng(0)
    codes, labels = generator.normal(size=(100, 2)), np.arange(100) % 10
    figure = latent_planes([("VAE", codes, labels, True), ("plain", codes, labels, False)])  # the prior's panel first
    (legend,) = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == [*map(str, range(10)), "prior, 2σ"]
