"""The course notebooks' two lessons, measured: what a code's size buys, and where checkerboards come from.

What a code's size buys: the linear model trained at every size in ae.models.CODE_SIZES (linear_of_size, the
linear model's recipe), against PCA of the same size, the best code a linear map can make (ae.evaluate measures
both; the Draw tab shows them side by side on the visitor's digit).

Checkerboards: a stride-2 transposed convolution with a 2x2 kernel paints each code cell's own 2x2 tile of
output pixels with the same four weights, so whatever the code, its output can carry a pattern that repeats every
2 pixels (Odena et al., "Deconvolution and checkerboard artifacts", Distill 2016). Upsampling, then convolving,
shares each weight between neighbouring pixels and cannot. Two measurements make it visible:
- a decoder's answer to a single code cell and to a constant code (decoder_responses), where only the decoder's
  own pattern is left to see;
- how much of an image's detail repeats every STRIDE_PERIOD pixels, the last stride-2 layer's tiles: its energy
  at the frequencies of such a pattern, DC excluded. For a constant code that share is the decoder's own
  pattern; over the test set, the outputs' share against the real digits' own says whether a decoder adds
  pattern to what it draws (above 1) or smooths it away (below).
"""

import torch

from .preprocess import FIELD

CHECKERBOARD_MODELS = ("conv", "upsample", "denoise")  # the decoders with strides: transposed or upsampling
STRIDE_PERIOD = 2  # the last stride-2 layer: its tiles repeat every 2 output pixels


def stride_grid_share(images: torch.Tensor) -> float:
    """The share of the images' energy (DC excluded, summed over the batch) at the frequencies of a pattern that
    repeats every STRIDE_PERIOD pixels: both frequency indices multiples of FIELD / STRIDE_PERIOD."""
    power = torch.fft.fft2(images.reshape(-1, FIELD, FIELD).double()).abs() ** 2
    step = FIELD // STRIDE_PERIOD
    frequencies = torch.arange(FIELD) % step == 0
    grid = frequencies[:, None] & frequencies[None, :]
    grid[0, 0] = False
    total = power.sum() - power[:, 0, 0].sum()
    return (power[:, grid].sum() / total).item() if total > 0 else 0.0  # a flat picture has no pattern


@torch.no_grad()
def typical_cell_value(model, images: torch.Tensor) -> float:
    """The mean of a code cell's value where it is on (above zero), over `images`: what one cell says to the decoder."""
    codes = model.encode(images)
    return codes[codes > 0].mean().item()


def single_cell_code(code_shape: tuple[int, ...], channel: int, value: float) -> torch.Tensor:
    """A code (1, *code_shape) that is zero but for `value` at the centre cell of `channel`."""
    code = torch.zeros(1, *code_shape)
    code[0, channel, code_shape[1] // 2, code_shape[2] // 2] = value
    return code


@torch.no_grad()
def decoder_responses(model, value: float) -> dict[str, torch.Tensor]:
    """What the decoder draws, each (28, 28): for a constant code (every cell at `value`), for an all-zero code
    ("empty"), and for each channel's centre cell alone at `value` ("cells", (channels, 28, 28)). A cell's own
    mark is its picture less the empty code's."""
    constant = model.decode(torch.full((1, *model.code_shape), value))[0, 0]
    empty = model.decode(torch.zeros(1, *model.code_shape))[0, 0]
    cells = torch.cat([model.decode(single_cell_code(model.code_shape, channel, value))
                       for channel in range(model.code_shape[0])])[:, 0]
    return {"constant": constant, "empty": empty, "cells": cells}


@torch.no_grad()
def checkerboard_scores(model, test_x: torch.Tensor) -> dict[str, float]:
    """A decoder's stride pattern, measured: the share of its constant code's picture on the stride grid, and the
    test outputs' stride-grid share against the test digits' own (above 1: the decoder adds pattern)."""
    value = typical_cell_value(model, test_x)
    outputs = torch.cat([model(x) for x in test_x.split(2000)])
    return {"cell_value": value,
            "constant_code_grid_share": stride_grid_share(decoder_responses(model, value)["constant"]),
            "outputs_grid_share": stride_grid_share(outputs), "digits_grid_share": stride_grid_share(test_x)}
