"""Each workaround in ae/gradio_fixes.py, with the detail of Gradio (or glibc) it relies on checked by name:
a Gradio upgrade that changes one fails here, not somewhere in the page."""

import inspect
import platform
import subprocess
import sys
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from gradio.data_classes import ImageData

from ae.web import gradio_fixes
from ae.web.dataurl import read_png_data_url

REPO = Path(__file__).resolve().parent.parent


def test_inline_images_rely_on_image_data_taking_a_data_url():
    assert {"url", "orig_name", "mime_type", "path"} <= set(ImageData.model_fields)
    component = gradio_fixes.send_inline(gr.Image())
    for pixels in (np.arange(28 * 28, dtype=np.uint8).reshape(28, 28), np.zeros((5, 7, 3), np.uint8)):
        sent = component.postprocess(pixels).model_dump()
        assert sent["path"] is None and sent["url"].startswith("data:image/png;base64,")
        assert np.array_equal(read_png_data_url(sent), pixels)  # lossless
    assert component.postprocess(None) is None
    assert component.api_info_as_output()["properties"]["url"]["type"] == "string"
    with pytest.raises(ValueError, match="not a PNG data URL"):
        read_png_data_url({"url": "data:image/jpeg;base64,AAAA"})


def test_bad_payloads_reach_the_callback_instead_of_a_generic_error():
    slider, strict = gr.Slider(0, 1, elem_id="tolerant-test"), gr.Slider(0, 1, elem_id="strict-test")
    with pytest.raises(gr.Error):  # what Gradio itself does with a value outside the slider
        slider.preprocess(7)
    gradio_fixes.tolerate_bad_payloads(slider)
    assert slider.preprocess(7) == 7 and slider.preprocess(0.5) == 0.5
    with pytest.raises(gr.Error):  # other sliders keep Gradio's checks
        strict.preprocess(7)
    # A prop update (a new label) makes Gradio keep a session copy built from the class and the constructor's
    # arguments (gradio/blocks.py, postprocess_data): it must stay tolerant.
    copy = slider.__class__(**{**slider.constructor_args, "label": "z₁", "render": False})
    assert copy.preprocess("a") == "a" and copy.preprocess(0.5) == 0.5


MAPPED_BLOCK_SCRIPT = """
import ctypes, sys
from ae.web import gradio_fixes
if sys.argv[1] == "tuned":
    assert gradio_fixes.tune_malloc()
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                    "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.free.argtypes, libc.mallinfo2.restype = ctypes.c_void_p, [ctypes.c_void_p], MallInfo2
libc.free(libc.malloc(8 << 20))  # glibc's own rule: a freed mapped block raises the threshold to its size
mapped = libc.mallinfo2().hblkhd
block = libc.malloc(1 << 20)  # a sweep's activation through the denoiser
print(libc.mallinfo2().hblkhd - mapped >= 1 << 20)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the malloc settings are glibc's; elsewhere nothing")
@pytest.mark.slow  # allocates and frees for seconds
def test_tuned_malloc_maps_activations_so_that_freeing_gives_them_back():
    mapped = {how: subprocess.run([sys.executable, "-c", MAPPED_BLOCK_SCRIPT, how], cwd=REPO, check=True,
                                  capture_output=True, text=True).stdout.strip() for how in ("default", "tuned")}
    assert mapped == {"default": "False", "tuned": "True"}, mapped


def test_gradio_still_switches_matplotlibs_backend_around_each_event_through_the_class_we_replace():
    from gradio import route_utils
    assert "utils.MatplotlibBackendMananger()" in inspect.getsource(route_utils.call_process_api)
    gradio_fixes.leave_matplotlib_unimported()
    gradio_fixes.leave_matplotlib_unimported()  # twice: still one layer
    manager = gr.utils.MatplotlibBackendMananger
    assert manager.only_if_imported and manager.__mro__[1].__name__ == "MatplotlibBackendMananger"
