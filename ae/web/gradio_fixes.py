"""Where the app bends Gradio 6.31 (or the C library under it) to its needs: one function per workaround.

Each relies on a detail of Gradio that a new version may change; `tests/test_gradio_fixes.py` checks each of
those details, so an upgrade that breaks one fails there by name rather than somewhere in the page.
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


TOLERANT_ELEM_IDS: set[str] = set()


def tolerate_bad_payloads(component: gr.components.Component) -> None:
    """Let `component` hand what it cannot parse to the callback, which answers with a clear message.

    Gradio's own checks would end the event with a generic error; our callbacks correct odd numbers and
    choices and say so. The tolerance goes with the component's elem_id, on its class's preprocess: when a
    callback updates a component's props (a slider's label, say), Gradio keeps a fresh instance for that
    session, `block.__class__(**constructor_args)`, and preprocesses with it from then on; a patch of the first
    instance would be lost, the elem_id is not. Components of the class without a listed elem_id keep Gradio's
    checks.
    """
    if not component.elem_id:
        raise ValueError("tolerate_bad_payloads needs a component with an elem_id")
    TOLERANT_ELEM_IDS.add(component.elem_id)
    component_class = type(component)
    if getattr(component_class.preprocess, "tolerant", False):
        return
    strict = component_class.preprocess

    def preprocess(self, payload):
        try:
            return strict(self, payload)
        except Exception:  # noqa: BLE001 - whatever the component chokes on, the callback explains
            if self.elem_id in TOLERANT_ELEM_IDS:
                return payload
            raise

    preprocess.tolerant = True
    component_class.preprocess = preprocess
