"""Where the app bends Gradio 6.31 (or the C library under it) to its needs: one function per workaround.

Each relies on a detail of Gradio that a new version may change; `tests/test_gradio_fixes.py` checks each of
those details, so an upgrade that breaks one fails there by name rather than somewhere in the page. The page's
own reaches into Gradio's markup are static/gradio_fixes.js's and the "Gradio's own markup" section of
static/app.css, checked there too.
"""

import ctypes
import sys

import gradio as gr
import numpy as np
from gradio.data_classes import ImageData

from .dataurl import png_data_url

M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's mallopt parameter numbers (malloc.h)


def tune_malloc(arenas: int = 2, mmap_threshold: int = 512 << 10) -> bool:
    """Keep glibc's malloc from holding on to memory the server has freed, as MALLOC_ARENA_MAX and
    MALLOC_MMAP_THRESHOLD_ would.

    Gradio runs callbacks on a pool of threads and glibc gives each thread its own arena (up to eight per core):
    capped at two. And glibc raises its threshold for giving a block its own mapping (up to 32 MB) each time
    such a block is freed, so that the models' activations (about 1 MB for a sweep through the denoiser) soon
    come from the heap, where small objects that outlive them land in between and the freed space cannot be
    given back: under a burst of visitors the server grew by 200 MB. A fixed 512 KB threshold gives those
    blocks back as they are freed, at no cost measured in a draw's time (128 KB cost it 10 ms). Does nothing
    where the C library is not glibc; says whether both were set.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return libc.mallopt(M_ARENA_MAX, arenas) == 1 and libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1


def leave_matplotlib_unimported() -> None:
    """Gradio 6.31 imports matplotlib around every event (gradio.utils.MatplotlibBackendMananger, to draw
    gr.Plot figures with Agg), and the server would keep it: about 30 MB of a peak memory that has a goal. This
    app draws no matplotlib figure; the switch now happens only where matplotlib is imported already."""
    original = gr.utils.MatplotlibBackendMananger
    if getattr(original, "only_if_imported", False):
        return

    class OnlyIfImported(original):
        only_if_imported = True

        def __enter__(self):
            self.switching = "matplotlib" in sys.modules
            if self.switching:
                super().__enter__()

        def __exit__(self, *exc_info):
            if self.switching:
                super().__exit__(*exc_info)

    gr.utils.MatplotlibBackendMananger = OnlyIfImported


def send_inline(image: gr.Image) -> gr.Image:
    """Make `image` send its picture inside the event's answer, as a PNG data URL, and return it.

    A stroke redraws several small pictures. As plain gr.Image outputs each would be written to Gradio's cache
    and fetched by the browser (or an API client) in a request of its own; inline, a whole update is one
    message. The page shows them with Gradio's own image view, by the data URL route Gradio itself takes for
    SVG images. (Set on the instance: a subclass of a Gradio component makes Gradio write a type stub beside
    this module on every import.)
    """
    def postprocess(value) -> ImageData | None:
        if value is None:
            return None
        return ImageData(url=png_data_url(np.asarray(value)), orig_name="image.png", mime_type="image/png")

    image.postprocess = postprocess
    image.api_info_as_output = lambda: {
        "type": "object", "properties": {"url": {"type": "string", "description": "data:image/png;base64,..."}},
        "description": "the image inline as a PNG data URL (see ae.web.dataurl.read_png_data_url)"}
    return image


def describe_api(component: gr.components.Component, info: dict) -> gr.components.Component:
    """Give `component` (this instance) the API description `info` ("type", "description"), and return it.

    Gradio documents a gr.HTML as taking and giving any value; the pad takes a data URL and each view gives a
    record of its own, which the API page (and gradio_client) should say. Gradio asks a component for it through
    its `api_info` method."""
    component.api_info = lambda: info
    return component


# Event options that hand each input to the callback as the page (or an API caller) sent it. Gradio's own
# preprocessing of a slider, a number, a radio or a dropdown ends an event on an odd value (a string, a number
# out of range, an unknown choice) with a generic error; our callbacks correct odd values and say so
# (draw_tab.NoiseSettings.parse, latent_tab._slider_position, train_tab._budget), and read the pad's data URL
# themselves (common.read_pad). Per event, not per component class: nothing else in the process changes.
AS_SENT = {"preprocess": False}


def control_inputs(control_ids: dict[str, str]) -> dict[str, str]:
    """CSS selectors of the <input> a page script reads for each of the noise controls, by their elem_ids
    ({"kind": radio, "amount": slider, "seed": number}): Gradio renders a Radio's choices as radio inputs, a
    Slider's handle as a range input and a Number as an input, each inside the block that carries its elem_id."""
    return {"kind": f"#{control_ids['kind']} input:checked", "amount": f"#{control_ids['amount']} input[type=range]",
            "seed": f"#{control_ids['seed']} input"}
