"""The drawing pad and the example strip: a 2-D canvas in `gr.HTML`, with its own few lines of JavaScript.

Why not Gradio's Sketchpad: it keeps the drawing in a WebGL (PixiJS) scene and, after every stroke, extracts
its background, layer and composite and uploads each before the event can leave: about half a second on the
machines we measured, before the server even starts (README, "Speed"). Here the canvas is an ordinary 2-D
canvas; its value is the drawing as a PNG data URL, set after each stroke (and, throttled, while the pen is
still moving), and setting it fires the component's change event: one request per update, no uploads.

The pad draws with pointer events, so a mouse, a pen and a finger all work (`touch-action: none` keeps a
finger stroke from scrolling the page). Brush, eraser, stroke size, undo and clear sit in its toolbar; the
brush is picked from the start. An example is loaded by the page itself: the example strip sends the digit to
the pad as a DOM event, and the pad draws it and sends it like a stroke, so an example costs one request too.
"""

import html

import gradio as gr
import numpy as np

from .dataurl import png_data_url, read_image_data_url
from .demo import as_pixels
from .preprocess import Unreadable

CANVAS = 280  # pixels; 10 per MNIST pixel
LIVE_INTERVAL_MS = 250  # while the pen moves, at most one update this often (and one in flight per visitor)
EXAMPLE_EVENT = "ae-studio-example"  # the DOM event by which the example strip hands a digit to the pad

PAD_HTML = f"""
<div class="pad">
  <div class="toolbar" role="toolbar" aria-label="Drawing tools">
    <button type="button" data-tool="brush" aria-pressed="true" title="Draw">✏️ Brush</button>
    <button type="button" data-tool="eraser" aria-pressed="false" title="Rub out">🧽 Eraser</button>
    <label title="Stroke width">size <input type="range" class="size" min="6" max="40" value="18"
           aria-label="Stroke width"></label>
    <button type="button" data-action="undo" aria-label="Undo" title="Undo the last stroke">↶ Undo</button>
    <button type="button" data-action="clear" aria-label="Clear canvas" title="Start again">🗑 Clear</button>
  </div>
  <canvas width="{CANVAS}" height="{CANVAS}" aria-label="Drawing canvas: draw one digit"></canvas>
</div>
"""

PAD_CSS = """
.pad { display: flex; flex-direction: column; align-items: center; gap: 6px; }
.toolbar { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; justify-content: center; }
.toolbar button { padding: 2px 8px; border: 1px solid var(--border-color-primary); border-radius: 6px;
                  background: var(--button-secondary-background-fill); cursor: pointer; font-size: 0.9em; }
.toolbar button[aria-pressed="true"] { background: var(--button-primary-background-fill);
                                       color: var(--button-primary-text-color); }
.toolbar label { font-size: 0.85em; display: flex; align-items: center; gap: 4px; }
.toolbar input[type=range] { width: 70px; }
canvas { width: min(100%, 320px); aspect-ratio: 1; touch-action: none; cursor: crosshair; background: white;
         border: 1px solid var(--border-color-primary); border-radius: 6px; }
@media (max-width: 640px) {  /* a phone: room left for the outputs below */
  canvas { width: min(100%, 250px); }
  .toolbar button { padding: 1px 5px; font-size: 0.8em; }
  .toolbar input[type=range] { width: 50px; }
}
"""

# `element`, `props` and `trigger` are Gradio's (gr.HTML's js_on_load). Setting props.value fires "change".
PAD_JS = """
const canvas = element.querySelector("canvas");
const context = canvas.getContext("2d");
const size = element.querySelector("input.size");
const strokes = [];  // what is on the canvas, in order: {tool, width, points} or {image}
let current = null, lastSent = 0, tool = "brush";

function paint(stroke) {
  if (stroke.image) { context.imageSmoothingEnabled = false;
                      context.drawImage(stroke.image, 0, 0, canvas.width, canvas.height); return; }
  context.strokeStyle = context.fillStyle = stroke.tool === "eraser" ? "white" : "black";
  context.lineWidth = stroke.width; context.lineCap = context.lineJoin = "round";
  const [x0, y0] = stroke.points[0];
  context.beginPath(); context.arc(x0, y0, stroke.width / 2, 0, 2 * Math.PI); context.fill();
  context.beginPath(); context.moveTo(x0, y0);
  for (const [x, y] of stroke.points.slice(1)) context.lineTo(x, y);
  context.stroke();
}
function repaint() {
  context.fillStyle = "white"; context.fillRect(0, 0, canvas.width, canvas.height);
  strokes.forEach(paint);
}
function send() {
  lastSent = performance.now();
  props.value = strokes.length ? canvas.toDataURL("image/png") : null;
}
function point(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
}
canvas.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);
  current = {tool, width: Number(size.value), points: [point(event)]};
  strokes.push(current);
  paint(current);
});
canvas.addEventListener("pointermove", (event) => {
  if (!current) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const each of (events.length ? events : [event])) current.points.push(point(each));
  const n = current.points.length;
  paint({...current, points: current.points.slice(Math.max(0, n - events.length - 1))});
  if (performance.now() - lastSent > LIVE_INTERVAL_MS) send();
});
// Drawn again whole at the end of a stroke: the canvas is then exactly what an undo replays.
const finish = () => { if (current) { current = null; repaint(); send(); } };
canvas.addEventListener("pointerup", finish);
canvas.addEventListener("pointercancel", finish);
element.querySelectorAll("[data-tool]").forEach((button) => button.addEventListener("click", () => {
  tool = button.dataset.tool;
  element.querySelectorAll("[data-tool]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
}));
element.querySelector("[data-action=undo]").addEventListener("click", () => {
  if (!strokes.length) return;
  strokes.pop(); repaint(); send();
});
element.querySelector("[data-action=clear]").addEventListener("click", () => {
  strokes.length = 0; repaint(); send();
});
document.addEventListener("EXAMPLE_EVENT", (event) => {
  const image = new Image();
  image.onload = () => { strokes.length = 0; strokes.push({image}); repaint(); send(); };
  image.src = event.detail;
});
repaint();
""".replace("LIVE_INTERVAL_MS", str(LIVE_INTERVAL_MS)).replace("EXAMPLE_EVENT", EXAMPLE_EVENT)


def read_pad(payload) -> np.ndarray | Unreadable | None:
    """What the pad (or an API caller) sent, as the image the callbacks take: None for an empty pad,
    the pixels of an image data URL, or Unreadable saying why it is not one. A string is never a path."""
    if payload is None or payload == "":
        return None
    try:
        return read_image_data_url(payload)
    except Exception as err:  # noqa: BLE001 - untrusted uploads fail in many ways; each gets the same answer
        return Unreadable(f"{type(err).__name__}: {err}")


def drawing_pad(elem_id: str) -> gr.HTML:
    """The pad as a Gradio component whose value, as a callback input, is what read_pad returns."""
    pad = gr.HTML(value=None, html_template=PAD_HTML, css_template=PAD_CSS, js_on_load=PAD_JS, elem_id=elem_id,
                  apply_default_css=False)
    pad.preprocess = read_pad
    pad.api_info = lambda: {"type": "string", "description": (
        "the drawing as an image data URL, data:image/png;base64,... (ae.dataurl.png_data_url makes one from "
        "a numpy array); dark ink on a light background, any size up to 4096x4096")}
    return pad


def on_paper(digit: np.ndarray) -> np.ndarray:
    """A 28x28 MNIST digit (white on black, in [0, 1]) as dark ink on white paper, uint8: what the pad draws."""
    return as_pixels(1 - digit)


def example_strip(digits: list[tuple[np.ndarray, str]], elem_id: str) -> gr.HTML:
    """A row of buttons, one per example digit (28x28 in [0, 1], white on black as in MNIST, and its caption).

    A click hands the digit, as dark ink on white paper, to the pad (see PAD_JS), which sends it like a stroke.
    """
    buttons = "".join(
        f'<button type="button" title="{html.escape(caption)}" aria-label="{html.escape(caption)}" '
        f'data-paper="{png_data_url(on_paper(digit))}">'
        f'<img alt="" src="{png_data_url(as_pixels(digit))}"></button>'
        for digit, caption in digits)
    return gr.HTML(
        value=None, html_template=f'<div class="examples">{buttons}</div>', elem_id=elem_id, apply_default_css=False,
        css_template=".examples { display: flex; flex-wrap: wrap; gap: 6px; }"
                     ".examples button { padding: 0; border: 2px solid transparent; border-radius: 4px; cursor: pointer;"
                     " line-height: 0; } .examples button:hover { border-color: var(--color-accent); }"
                     ".examples img { width: 56px; height: 56px; image-rendering: pixelated; }",
        js_on_load=f"""element.addEventListener("click", (event) => {{
            const button = event.target.closest("button[data-paper]");
            if (button) document.dispatchEvent(new CustomEvent("{EXAMPLE_EVENT}", {{detail: button.dataset.paper}}));
        }});""")
