"""The drawing pad and the example strip: each a `gr.HTML` with its markup, style and script in static/.

Why not Gradio's Sketchpad: it keeps the drawing in a WebGL (PixiJS) scene and, after every stroke, extracts
its background, layer and composite and uploads each before an event can leave: about half a second before the
server even starts. Here the canvas is an ordinary 2-D canvas that the page's Draw tab reads directly
(static/pad.js tells it of every change by a DOM event): no request, no upload. The component's value, the
drawing as a PNG data URL, is what the server sees when it needs the drawing (the Latent tab, Export, the Draw
tab's fallback).

The pad draws with pointer events, so a mouse, a pen and a finger all work (`touch-action: none` keeps a
finger stroke from scrolling the page). Brush, eraser, stroke size, undo and clear sit in its toolbar; the
brush is picked from the start. An example is loaded by the page itself: the example strip hands the digit to
the pad as a DOM event, and the pad draws it as if it were a stroke.
"""


import gradio as gr
import numpy as np

from . import gradio_fixes
from .common import as_pixels, page_panel, static_text
from .dataurl import png_data_url

CANVAS = 280  # pixels; 10 per MNIST pixel
DRAWING_EVENT = "ae-studio-drawing"  # the DOM event by which the pad tells the page's Draw tab of a change
EXAMPLE_EVENT = "ae-studio-example"  # the DOM event by which the example strip hands a digit to the pad
# The DOM event by which the Draw tab's script, which mounts only once its files have loaded, asks the pad to tell
# it again: a stroke drawn before then is not lost.
DRAWING_WANTED_EVENT = "ae-studio-drawing-wanted"


def drawing_pad(elem_id: str) -> gr.HTML:
    """The pad as a Gradio component: its value, the drawing as an image data URL, reaches the callbacks as sent,
    and each reads it with common.read_pad."""
    pad = page_panel("pad.html", ("pad.css",), static_text("pad.js"), elem_id=elem_id, canvas=CANVAS,
                     drawing_event=DRAWING_EVENT, drawing_wanted_event=DRAWING_WANTED_EVENT,
                     example_event=EXAMPLE_EVENT)
    return gradio_fixes.describe_api(pad, {"type": "string", "description": (
        "the drawing as an image data URL, data:image/png;base64,... (ae.web.dataurl.png_data_url makes one from "
        "a numpy array); dark ink on a light background, any size up to 4096x4096")})


def on_paper(digit: np.ndarray) -> np.ndarray:
    """A 28x28 MNIST digit (white on black, in [0, 1]) as dark ink on white paper, uint8: what the pad draws."""
    return as_pixels(1 - digit)


def example_strip(digits: list[tuple[np.ndarray, str]], elem_id: str) -> gr.HTML:
    """A row of buttons, one per example digit (28x28 in [0, 1], white on black as in MNIST, and its caption).

    A click (or Enter) hands the digit, as dark ink on white paper, to the pad, which draws it like a stroke.
    """
    examples = [{"caption": caption, "paper": png_data_url(on_paper(digit)), "image": png_data_url(as_pixels(digit))}
                for digit, caption in digits]
    return page_panel("examples.html", ("examples.css",), static_text("examples.js"), elem_id=elem_id,
                      examples=examples, example_event=EXAMPLE_EVENT)
