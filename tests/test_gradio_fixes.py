"""Each workaround in ae/gradio_fixes.py, with the detail of Gradio (or glibc) it relies on checked by name:
a Gradio upgrade that changes one fails here, not somewhere in the page."""

import inspect
import platform
import threading
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from gradio import processing_utils
from gradio.data_classes import ImageData
from PIL import Image

from ae import gradio_fixes
from ae.dataurl import read_png_data_url


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


def test_the_cache_patch_replaces_the_function_gradio_calls_with_the_same_signature(tmp_path):
    original = processing_utils.save_pil_to_cache
    assert list(inspect.signature(original).parameters) == ["img", "cache_dir", "name", "format"]
    assert callable(processing_utils.encode_pil_to_bytes) and callable(processing_utils.hash_bytes)
    image = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8))
    expected = original(image, str(tmp_path / "gradio"), format="png")
    try:
        gradio_fixes.write_gradio_cache_atomically()
        patched = processing_utils.save_pil_to_cache(image, str(tmp_path / "ours"), format="png")
    finally:
        processing_utils.save_pil_to_cache = original
    assert Path(patched).relative_to(tmp_path / "ours") == Path(expected).relative_to(tmp_path / "gradio")
    assert Path(patched).read_bytes() == Path(expected).read_bytes()


def test_the_cache_patch_never_shows_a_reader_a_partial_file(tmp_path):
    original = processing_utils.save_pil_to_cache
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8))
    try:
        gradio_fixes.write_gradio_cache_atomically()
        path = Path(processing_utils.save_pil_to_cache(image, str(tmp_path), format="png"))
        whole = path.read_bytes()
        stop, sizes = threading.Event(), set()

        def rewrite():
            while not stop.is_set():
                processing_utils.save_pil_to_cache(image, str(tmp_path), format="png")
        writer = threading.Thread(target=rewrite)
        writer.start()
        for _ in range(300):
            sizes.add(len(path.read_bytes()))
        stop.set()
        writer.join()
    finally:
        processing_utils.save_pil_to_cache = original
    assert sizes == {len(whole)}


def test_bad_payloads_reach_the_callback_instead_of_a_generic_error():
    slider, strict = gr.Slider(0, 1, elem_id="tolerant-test"), gr.Slider(0, 1, elem_id="strict-test")
    with pytest.raises(Exception):  # what Gradio itself does with a value outside the slider
        slider.preprocess(7)
    gradio_fixes.tolerate_bad_payloads(slider)
    assert slider.preprocess(7) == 7 and slider.preprocess(0.5) == 0.5
    with pytest.raises(Exception):  # other sliders keep Gradio's checks
        strict.preprocess(7)
    # A prop update (a new label) makes Gradio keep a session copy built from the class and the constructor's
    # arguments (gradio/blocks.py, postprocess_data): it must stay tolerant.
    copy = slider.__class__(**{**slider.constructor_args, "label": "z₁", "render": False})
    assert copy.preprocess("a") == "a" and copy.preprocess(0.5) == 0.5


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the arena cap is glibc's; elsewhere it does nothing")
def test_the_malloc_arena_cap_is_accepted_by_glibc():
    assert gradio_fixes.limit_malloc_arenas(2) is True
