"""Export the Draw tab's models to ONNX, so the visitor's page runs the very networks the server runs.

Each file is one model's `forward` (encode, then decode) as an ONNX graph with a dynamic batch: input `digits`
(N, 1, 28, 28) in [0, 1], output `reconstructions` (N, 1, 28, 28). The page runs them with ONNX Runtime Web
(ae/web/static/ort/). `models.json` beside them records each file's SHA-256 and the checkpoint it came from, so
a test can tell when a checkpoint was retrained and its export was not redone.

    python -m ae.export            # re-export every Draw tab model from checkpoints/
"""

import argparse
import io
import json
import warnings
from pathlib import Path

import torch

from .checkpoints import CHECKPOINT_DIR, file_sha256, load_pretrained, weights_path
from .models import DRAW_TAB_MODELS, Autoencoder
from .preprocess import FIELD

MODELS_DIR = Path(__file__).resolve().parent / "web" / "static" / "models"
MANIFEST = MODELS_DIR / "models.json"
OPSET = 20


def to_onnx(model: Autoencoder) -> bytes:
    """`model`'s forward pass as an ONNX model (bytes), batch size left open."""
    batch = torch.export.Dim("batch", min=1, max=4096)
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the exporter's progress notes are not the caller's business
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model.eval(), (torch.rand(2, 1, FIELD, FIELD),), dynamo=True, opset_version=OPSET,
                                    input_names=["digits"], output_names=["reconstructions"],
                                    dynamic_shapes=({0: batch},), verbose=False, optimize=True)
    program.save(buffer)  # weights stored inside the one file
    # The exporter notes each node's Python stack (with this checkout's paths) and module names: debugging aids
    # that would make the bytes depend on where the repository lies. The page needs none of them.
    import onnx  # a tool of the export (requirements-test.txt), not of the app
    model = onnx.load_from_string(buffer.getvalue())
    for node in model.graph.node:
        del node.metadata_props[:]
    return model.SerializeToString()


def export_all(directory: Path = MODELS_DIR) -> dict:
    """Write every Draw tab model's ONNX file and the manifest; returns the manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name in DRAW_TAB_MODELS:
        path = directory / f"{name}.onnx"
        path.write_bytes(to_onnx(load_pretrained(name)))
        manifest[name] = {"file": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size,
                          "checkpoint_sha256": file_sha256(weights_path(name, CHECKPOINT_DIR)),
                          "opset": OPSET, "torch": torch.__version__.split("+")[0]}
        print(f"{name}: {path.stat().st_size:,} bytes")
    (directory / MANIFEST.name).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    export_all()


if __name__ == "__main__":
    main()
