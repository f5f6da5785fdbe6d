"""The Draw tab's panels: two `gr.HTML` views whose markup, style and script are files in static/.

`draw_view` holds the status, the five outputs with their metrics, and the clean and noisy inputs; `draw_more`
the error maps and the noise sweep. static/draw.js paints both, from the page's own result or from the server's
(`draw_tab.draw_update`'s record, which arrives as draw_view's value). Everything the page's script needs to know
(the models, their ONNX files, the noise labels, the error maps' colours) is handed to it here as data.
"""

import gradio as gr

from .charts import TAB10
from .common import EMPTY_PROMPT, STATIC_URL, onnx_files, page_panel
from .draw_tab import MODEL_NAMES, page_config
from .gradio_fixes import control_inputs
from .pad import DRAWING_EVENT, DRAWING_WANTED_EVENT
from .vendor import BINARY, FILES, SUMS

FALLBACK_EVENT = "fallback"  # the view's own event: the page asks the server for an update (static/draw.js)
LIVE_INTERVAL_MS = 250  # while the server answers, a moving pen asks it at most this often
# Fetched once the runtime's binary has arrived, not beside it: the VAE's two networks weigh nearly as much as the
# runtime, and on a phone's network the other four models' outputs need not wait for them (static/draw.js).
FETCHED_LATER = ("vae",)
LOADING_NOTE = "Loading into your browser…"  # under a model's panel until it is (a first visit's VAE)
ENGINE_NOTES = {
    "loading": "Loading the models into your browser; the server answers meanwhile.",
    "partial": "Computed in your browser; the VAE is still loading into it, and its panel follows in a moment.",
    "page": "Computed in your browser: the same networks as the server, exported to ONNX, run by ONNX Runtime Web.",
    "server": "Computed on the server: this browser cannot run the models itself.",
    "yours": "Computed on the server, where the model you trained in the Train tab lives.",
    "yours_page": "Computed in your browser, with the model you trained in the Train tab in place of the committed "
                  "one.",
}
# The page's arithmetic, then the Draw tab, the Latent tab, the lessons panel and the Train tab (and names for
# Gradio's radio groups), loaded before the views' scripts run. draw.js loads ONNX Runtime Web itself, so that a
# runtime that cannot load leaves the page on the server's answers, not broken.
HEAD_SCRIPTS = ("digit.js", "charts.js", "draw.js", "latent.js", "lessons.js", "train.js", "gradio_fixes.js")
HEAD = "".join(f'<script src="{STATIC_URL}{name}"></script>' for name in HEAD_SCRIPTS)


def runtime_sha256() -> str:
    """The recorded SHA-256 of ONNX Runtime Web's binary: the page asks for it by this, so a new one is fetched anew."""
    return next(line.split()[0] for line in SUMS.read_text().splitlines() if line.endswith(BINARY))


def fetched_first() -> list[tuple[str, str, str, str]]:
    """What the Draw tab's script fetches first, as (URL, rel, `as`, `crossorigin`) at the URLs static/draw.js asks
    for: ONNX Runtime Web's script, its loader (a module: `modulepreload`) and binary, and the Draw tab's models but
    the ones FETCHED_LATER."""
    models = [onnx_files(name)[part] for name in MODEL_NAMES if name not in FETCHED_LATER
              for part in ("encoder", "decoder")]
    return [(f"{STATIC_URL}ort/{FILES[0]}", "preload", "script", ""),
            (f"{STATIC_URL}ort/{FILES[1]}", "modulepreload", "script", "anonymous"),
            (f"{STATIC_URL}ort/{BINARY}?v={runtime_sha256()[:16]}", "preload", "fetch", "anonymous"),
            *[(f"{STATIC_URL}models/{model['file']}?v={model['version']}", "preload", "fetch", "anonymous")
              for model in models]]


def preload_links() -> str:
    """`<link rel="preload">` tags, for the page's <head>, of `fetched_first()`: a phone's browser then fetches them
    while Gradio's own files still load, not once the Draw tab's script has mounted."""
    return "".join(f'<link rel="{rel}" as="{kind}"' + (f' crossorigin="{cors}"' if cors else "") + f' href="{url}">'
                   for url, rel, kind, cors in fetched_first())


def preload_header() -> str:
    """The page's own scripts (HEAD) and `fetched_first()` as an HTTP `Link` header, for the page itself
    (ae.web.serving.PreloadHeader)."""
    scripts = [(f"{STATIC_URL}{name}", "preload", "script", "") for name in HEAD_SCRIPTS]
    return ", ".join(f"<{url}>; rel={rel}; as={kind}" + (f"; crossorigin={cors}" if cors else "")
                     for url, rel, kind, cors in scripts + fetched_first())


def view_config(kind: str, amount: float, seed: int, control_ids: dict[str, str]) -> dict:
    """draw.js's `config`: draw_tab.page_config plus the ONNX files, the page's wording, the starting noise and the
    noise controls' inputs, found by `control_ids` (the elem_ids of the kind's radio, the amount's slider and the
    seed's box): the page reads them as they stand when it mounts, and follows the amount's steps as they happen."""
    config = page_config()
    for model, colour in zip(config["models"], TAB10):
        model.update(**onnx_files(model["name"]), colour=colour, later=model["name"] in FETCHED_LATER)
    return {**config, "static_url": STATIC_URL, "runtime_sha256": runtime_sha256(), "drawing_event": DRAWING_EVENT,
            "drawing_wanted_event": DRAWING_WANTED_EVENT, "empty_prompt": EMPTY_PROMPT,
            "live_interval_ms": LIVE_INTERVAL_MS, "engine_notes": ENGINE_NOTES, "loading_note": LOADING_NOTE,
            "noise": {"kind": kind, "amount": amount, "seed": seed},
            "noise_inputs": control_inputs(control_ids)}


def draw_view(config: dict) -> gr.HTML:
    """The status, outputs and inputs; its value is the server's latest record, its "fallback" event asks for one."""
    return page_panel("draw.html", ("draw.css",),
                      f'aeStudio.mount(element, props, watch, () => trigger("{FALLBACK_EVENT}"));', head=HEAD,
                      config=config)


def draw_more(config: dict) -> gr.HTML:
    """The error maps (folded away) and the noise sweep."""
    return page_panel("draw_more.html", ("draw.css",), config=config)
