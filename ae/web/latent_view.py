"""The Latent tab's two panels the page paints itself: the lens (the decoder's digit at a point of the map) and
the sliders' digit, `gr.HTML` views whose markup is in static/ and whose script is static/latent.js.

Their values are the server's records (latent_tab.lens_record, latent_tab.slider_record); the sliders' view has
a "fallback" event for the page to ask the server when it cannot decode itself.
"""

import gradio as gr

from .common import page_panel
from .draw_view import FALLBACK_EVENT, HEAD
from .gradio_fixes import describe_api

LENS_PROMPTS = {  # the lens's note before any point, by where the decoding happens (draw.js's engine)
    "loading": "Click a point of the map to decode it (the decoders are still loading into your browser).",
    "page": "Move the pointer over the map, or drag a finger: the decoder, running in your browser, follows it.",
    "server": "Click a point of the map to decode it: this browser cannot run the decoders itself.",
}


def _view(template: str, js_on_load: str, config: dict | None = None) -> gr.HTML:
    """A view whose script runs once the page's scripts (draw_view.HEAD) have loaded: the Latent tab may be opened
    before they have."""
    return page_panel(template, ("draw.css",), js_on_load, head=HEAD, config=config or {})


def lens_view() -> gr.HTML:
    view = _view("lens.html", "aeStudio.latent.mountLens(element, props, watch);", {"prompts": LENS_PROMPTS})
    return describe_api(view, {"type": "object", "description": (
        "the lens (ae.web.latent_tab.lens_record): model, point [x, y] in map coordinates or null, image (28x28 PNG "
        "data URL) or null, and on a model switch the space the page decodes (page_space)")})


def slider_view() -> gr.HTML:
    view = _view("slider_view.html",
                 f'aeStudio.latent.mountSliders(element, props, watch, () => trigger("{FALLBACK_EVENT}"));')
    return describe_api(view, {"type": "object", "description": (
        "the sliders' digit (ae.web.latent_tab.slider_record): model, image (28x28 PNG data URL)")})
