"""Each workaround in ae/gradio_fixes.py, with the detail of Gradio (or glibc) it relies on checked by name:
a Gradio upgrade that changes one fails here, not somewhere in the page."""

import asyncio
import inspect
import platform
import re
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


def test_an_event_as_sent_hands_an_odd_value_to_the_callback():
    """AS_SENT (preprocess=False) leaves a value Gradio's own slider would refuse for the callback to read."""
    with gr.Blocks() as demo:
        slider, out = gr.Slider(0, 1), gr.Textbox()
        slider.change(str, slider, out, **gradio_fixes.AS_SENT)
        slider.input(str, slider, out)
    as_sent, checked = demo.fns.values()
    assert asyncio.run(demo.preprocess_data(as_sent, [7], None)) == [7]
    assert asyncio.run(demo.preprocess_data(as_sent, ["x"], None)) == ["x"]
    with pytest.raises(gr.Error):  # what Gradio itself does with a value outside the slider
        asyncio.run(demo.preprocess_data(checked, [7], None))


def test_every_event_of_the_app_hands_its_inputs_as_sent():
    """So that no Gradio check ends an event with a generic error: each callback reads what it is sent."""
    from app import app
    for block_fn in app.fns.values():
        if block_fn.fn is not None and any(not isinstance(block, gr.State) for block in block_fn.inputs):
            assert block_fn.preprocess is False, block_fn.name


def test_a_described_component_tells_the_api_page_what_it_takes():
    info = {"type": "string", "description": "a data URL"}
    component = gradio_fixes.describe_api(gr.HTML(), info)
    assert component.api_info() == info and gr.HTML().api_info() != info  # this instance only
    with gr.Blocks() as demo:
        gradio_fixes.describe_api(gr.HTML(elem_id="described"), info)
    assert [block["api_info"] for block in demo.get_config_file()["components"]
            if block["props"].get("elem_id") == "described"] == [info]  # where Gradio reads it


GRADIO_ASSETS = Path(gr.__file__).parent / "templates" / "frontend" / "assets"
OWN_CLASSES = {"bare", "pixel", "latent-panel", "caption", "blurb"}  # the app's own elem_classes and markup


def test_every_gradio_class_app_css_styles_is_still_gradios():
    """The canary of app.css's "Gradio's own markup" section: every class it names that is not the app's own
    is a class of Gradio's front end (in its stylesheets), so a Gradio that renames one fails here."""
    section = (REPO / "ae" / "web" / "static" / "app.css").read_text().split("---------- Gradio's own markup")[1]
    section = re.sub(r"/\*.*?\*/", "", "/*" + section, flags=re.S)  # the rules, not their comments
    named = set(re.findall(r"\.([a-zA-Z_][\w-]*)", section)) - OWN_CLASSES
    assert {"html-container", "form", "min_value", "show-api", "image-container", "empty"} <= named
    stylesheets = "".join(path.read_text(errors="ignore") for path in GRADIO_ASSETS.glob("*.css"))
    missing = [name for name in sorted(named) if f".{name}" not in stylesheets]
    assert missing == [], f"Gradio no longer has these classes app.css styles: {missing}"


def test_the_noise_controls_inputs_are_found_inside_their_blocks():
    """The selectors draw.js reads the noise controls by (the browser tests use the controls through them)."""
    assert gradio_fixes.control_inputs({"kind": "k", "amount": "a", "seed": "s"}) == {
        "kind": "#k input:checked", "amount": "#a input[type=range]", "seed": "#s input"}


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
