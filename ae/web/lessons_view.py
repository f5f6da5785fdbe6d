"""The Draw tab's lessons panel: what a code's size buys (the visitor's digit through the linear autoencoder and
PCA at a code size of their choosing, and test MSE against code size) and where checkerboards come from (each
strided decoder's answer to a single code cell and to a constant code).

A `gr.HTML` view whose markup, style and script are static/lessons.*; the page computes it with the ONNX files
`python -m ae.export` wrote (the code-size graphs, the conv decoders the Draw tab already runs). The figures it
quotes are `python -m ae.evaluate`'s (checkpoints/metrics.json), as the README's are.
"""

import functools
import json

import gradio as gr

from ..checkpoints import CHECKPOINT_DIR
from ..export import CODE_SIZE_MANIFEST
from ..lessons import CHECKERBOARD_MODELS, STRIDE_PERIOD
from ..models import CODE_SIZES, DRAW_TAB_MODELS, MODELS, linear_of_size
from .charts import TAB10
from .common import STATIC_URL, onnx_files, page_panel
from .draw_view import HEAD

START_SIZE = 8  # small enough that the autoencoder and PCA differ at a glance
CELL_CROP = 12  # a single code cell's mark is local: the page shows the centre 12x12 pixels, enlarged
COMPARED = ("conv", "upsample", "denoise")  # the models drawn as points at their own code sizes
PCA_COLOUR = TAB10[7]  # grey: the baseline; the models keep their Draw tab colours (draw_view)


@functools.cache
def lessons_config() -> dict:
    """lessons.js's `config`: the code sizes with their files and test MSEs, PCA's curve (the code-size sizes and
    the other models' own), the other models as points, and each strided decoder with its measured pattern."""
    metrics = json.loads((CHECKPOINT_DIR / "metrics.json").read_text())
    manifest = json.loads(CODE_SIZE_MANIFEST.read_text())
    curve = metrics["code_sizes"]
    pca = dict(zip(curve["sizes"], curve["pca"])) | {int(size): row["mse"] for size, row in metrics["pca"].items()}
    return {
        "static_url": STATIC_URL, "start_size": START_SIZE, "stride_period": STRIDE_PERIOD, "cell_crop": CELL_CROP,
        "sizes": [{"size": size, "file": manifest[str(size)]["file"], "version": manifest[str(size)]["sha256"][:16],
                   "title": linear_of_size(size).title, "autoencoder_mse": ae_mse}
                  for size, ae_mse in zip(CODE_SIZES, curve["autoencoder"])],
        "pca": {"sizes": sorted(pca), "mse": [pca[size] for size in sorted(pca)]},
        "points": [{"name": name, "short": MODELS[name].short_title, "size": metrics["models"][name]["code_size"],
                    "mse": metrics["models"][name]["noise"][0]["mse"], "colour": TAB10[DRAW_TAB_MODELS.index(name)]}
                   for name in COMPARED],
        "colours": {"autoencoder": TAB10[DRAW_TAB_MODELS.index("linear")], "pca": PCA_COLOUR},
        "checkerboard": [{"name": name, "title": MODELS[name].title, "short": MODELS[name].short_title,
                          "code_shape": list(MODELS[name].code_shape), "decoder": onnx_files(name)["decoder"],
                          **metrics["checkerboard"][name]} for name in CHECKERBOARD_MODELS],
    }


def lessons_view() -> gr.HTML:
    """The lessons panel; it has no value and asks the server nothing."""
    return page_panel("lessons.html", ("draw.css", "lessons.css"), "aeStudio.lessons.mount(element, props);",
                      head=HEAD, config=lessons_config())
