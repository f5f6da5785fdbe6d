"""Export the models to ONNX, so the visitor's page runs the very networks the server runs.

Each model becomes two graphs, its encoder and its decoder, each with a dynamic batch:
`<name>.encoder.onnx` maps `digits` (N, 1, 28, 28) in [0, 1] to `codes` (N, *code_shape), and
`<name>.decoder.onnx` maps `codes` back to `reconstructions` (N, 1, 28, 28). The Draw tab chains the two; the
Latent tab runs a decoder alone on codes of its own choosing (a point under the pointer, the sliders' code).
Only the Draw tab's models need an encoder. Some weight matrices are stored in float16 and computed in float32 (half
the bytes, for a phone's first visit): every one of the VAE's, whose weights are float16 values already
(ae.models.Autoencoder.float16_weights), so nothing changes; and the plain 2-D model's largest (784 x 512, its
decoder's), rounded here, which a test bounds under one grey level over its map (its 512 x 256 matrix moved a
pixel 1.5 levels, so it stays float32).
The page runs the files with ONNX Runtime Web (ae/web/static/ort/).
`models.json` beside them records each file's SHA-256 and the checkpoint it came from, so a test can tell when
a checkpoint was retrained and its export was not redone.

The code-size lesson (ae.lessons) has a graph per code size, `code-size-<n>.onnx`: `digits` to the linear
autoencoder's reconstructions with an n-number code (`autoencoder`) and PCA's with n components fit on the training
digits (`pca`), listed in `code-sizes.json`; the page fetches a size's file when the visitor picks it.

    python -m ae.export            # re-export every model from checkpoints/, and the Train tab's files

The Train tab's files (each model's training step, its forward pass with weights as inputs, the starting weights
and the training digits) are ae/export_training.py's.
"""

import argparse
import io
import json
import math
import warnings
from pathlib import Path

import torch
from torch import nn

from .checkpoints import CHECKPOINT_DIR, file_sha256, load_checkpoint, load_pretrained, weights_path
from .data import load_mnist
from .models import CODE_SIZES, MODELS, Autoencoder, PlainAE2D, linear_of_size
from .pca import PCA
from .preprocess import FIELD

MODELS_DIR = Path(__file__).resolve().parent / "web" / "static" / "models"
MANIFEST = MODELS_DIR / "models.json"
CODE_SIZE_MANIFEST = MODELS_DIR / "code-sizes.json"
OPSET = 20
HALF_WEIGHTS = {PlainAE2D.name}  # decoders whose largest weights are rounded to float16 here
HALF_FROM = 200_000  # numbers in a weight matrix, from which it is rounded so
PARTS = {"encoder": ("digits", "codes"), "decoder": ("codes", "reconstructions")}  # part: (input, output)


class _Part(nn.Module):
    """One half of a model as a module of its own: its `encode` (the VAE's: the posterior mean) or `decode`."""

    def __init__(self, model: Autoencoder, part: str):
        super().__init__()
        self.model, self.part = model.eval(), part

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.encode(x) if self.part == "encoder" else self.model.decode(x)


class _CodeSizePair(nn.Module):
    """The code-size lesson at one size: a digit through the linear autoencoder and through PCA, side by side."""

    def __init__(self, autoencoder: Autoencoder, pca: PCA):
        super().__init__()
        self.autoencoder = autoencoder.eval()
        self.register_buffer("mean", pca.mean.float())
        self.register_buffer("basis", pca.basis.float())

    def forward(self, digits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        centred = digits.flatten(1) - self.mean
        pca = ((centred @ self.basis) @ self.basis.T + self.mean).clamp(0, 1).reshape(digits.shape)
        return self.autoencoder(digits), pca


def parts(name: str) -> list[str]:
    """The parts of a model the page needs: both for the Draw tab's, the decoder alone for the others."""
    return list(PARTS) if MODELS[name].in_draw_tab else ["decoder"]


def half_precision_from(name: str, part: str) -> int | None:
    """From how many numbers a weight matrix of the model's part is stored in float16 (None: none is)."""
    if MODELS[name].float16_weights:
        return 1
    return HALF_FROM if part == "decoder" and name in HALF_WEIGHTS else None


def to_onnx(model: Autoencoder, part: str, half_from: int | None = None) -> bytes:
    """One part of `model` as an ONNX model (bytes), batch size left open; weight matrices of `half_from` numbers
    or more in float16."""
    example = torch.rand(2, 1, FIELD, FIELD) if part == "encoder" else torch.randn(2, *model.code_shape)
    return strip_debug_info(exported(_Part(model, part), example, [PARTS[part][0]], [PARTS[part][1]]), half_from)


def exported(module: nn.Module, example: torch.Tensor, inputs: list[str], outputs: list[str]) -> bytes:
    """`module` as ONNX bytes, its one input's batch size left open, weights stored inside the one file."""
    batch = torch.export.Dim("batch", min=1, max=4096)
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the exporter's progress notes are not the caller's business
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, (example,), dynamo=True, opset_version=OPSET, input_names=inputs,
                                    output_names=outputs, dynamic_shapes=({0: batch},), verbose=False, optimize=True)
    program.save(buffer)
    return buffer.getvalue()


def code_size_pair(size: int, pca: PCA, directory: Path = CHECKPOINT_DIR) -> nn.Module:
    """The code-size lesson's module at `size`: the committed linear autoencoder of that size and `pca` kept to it."""
    return _CodeSizePair(load_checkpoint(linear_of_size(size).name, directory), pca.leading(size))


def export_code_sizes(directory: Path = MODELS_DIR) -> dict:
    """Write the code-size lesson's graphs, one per size, and their manifest; returns the manifest."""
    pca = PCA(load_mnist(train=True)[0], max(CODE_SIZES))
    manifest = {}
    for size in CODE_SIZES:
        path = directory / f"code-size-{size}.onnx"
        path.write_bytes(strip_debug_info(exported(code_size_pair(size, pca), torch.rand(2, 1, FIELD, FIELD),
                                                   ["digits"], ["autoencoder", "pca"])))
        manifest[str(size)] = {"file": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size,
                               "checkpoint_sha256": file_sha256(weights_path(linear_of_size(size).name))}
        print(f"{path.name}: {path.stat().st_size:,} bytes")
    (directory / CODE_SIZE_MANIFEST.name).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def strip_debug_info(onnx_bytes: bytes, half_from: int | None = None) -> bytes:
    """The exporter notes each node's Python stack (with this checkout's paths) and module names: debugging aids
    that would make the bytes depend on where the repository lies. The page needs none of them."""
    import onnx  # a tool of the export (requirements-test.txt), not of the app
    graph = onnx.load_from_string(onnx_bytes)
    for node in graph.graph.node:
        del node.metadata_props[:]
    if half_from is not None:
        _store_in_half(graph, half_from)
    return graph.SerializeToString()


def _store_in_half(graph, smallest: int) -> None:
    """Every float32 weight matrix of `smallest` numbers or more stored as float16 and cast back to float32 as the
    graph starts: half its bytes, the same arithmetic on weights rounded to 11 significant bits."""
    import onnx
    from onnx import numpy_helper

    casts = []
    for tensor in graph.graph.initializer:
        if tensor.data_type != onnx.TensorProto.FLOAT or len(tensor.dims) < 2 or math.prod(tensor.dims) < smallest:
            continue
        name = tensor.name
        weights = numpy_helper.to_array(tensor).astype("float16")
        tensor.CopyFrom(numpy_helper.from_array(weights, name + ".float16"))
        casts.append(onnx.helper.make_node("Cast", [name + ".float16"], [name], to=onnx.TensorProto.FLOAT))
    nodes = [*casts, *graph.graph.node]
    del graph.graph.node[:]
    graph.graph.node.extend(nodes)


def export_all(directory: Path = MODELS_DIR) -> dict:
    """Write every model's ONNX files and the manifest; returns the manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name in MODELS:
        model = load_pretrained(name)
        entry = {}
        for part in parts(name):
            path = directory / f"{name}.{part}.onnx"
            path.write_bytes(to_onnx(model, part, half_precision_from(name, part)))
            entry[part] = {"file": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size}
            print(f"{path.name}: {path.stat().st_size:,} bytes")
        manifest[name] = {**entry, "checkpoint_sha256": file_sha256(weights_path(name, CHECKPOINT_DIR)),
                          "opset": OPSET, "torch": torch.__version__.split("+")[0]}
    (directory / MANIFEST.name).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def files(manifest: dict) -> list[dict]:
    """Every file entry of the manifest ({file, sha256, bytes}), model by model."""
    return [entry[part] for entry in manifest.values() for part in PARTS if part in entry]


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    export_all()
    export_code_sizes()
    from .export_training import export_training  # the Train tab's files: static/train/
    export_training()


if __name__ == "__main__":
    main()
