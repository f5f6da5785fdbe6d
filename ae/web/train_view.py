"""The Train tab's page panels: a `gr.HTML` view whose markup and style are files in static/, and whose script,
static/train.js, trains the model in a Web Worker of the visitor's page (static/train_worker.js) and paints the
run: progress, the two curves, the film of digits, the result, and the buttons that keep what was trained.

Its "fallback" event asks the server to train instead (ae.web.train_tab.train, whose own panels then show the
run): the page does so where it cannot train. Everything the scripts need (the exported files of
ae/export_training.py and their manifest, the models' names, the tab's wording) is handed to them here as data.
"""

import functools
import gzip
import hashlib
import json

import gradio as gr

from ..export_training import RECIPE_NAMES, TRAIN_MANIFEST
from ..models import MODELS
from ..step import SEED
from . import train_pictures, train_runs, train_tab
from .common import STATIC_URL, page_panel, static_text
from .draw_view import FALLBACK_EVENT, HEAD, runtime_sha256
from .gradio_fixes import describe_api

SETTING_IDS = ["train-model", "train-recipe", "budget", "train"]  # locked while a run goes (app.py's elem_ids)
ENGINE_NOTES = {
    "page": "Trains in your browser, in a worker of its own: no request reaches the server while it trains, however "
            "many of your classmates train at once.",
    "server": "Trains on the server: this browser cannot train the model itself. One training runs at a time there, "
              "first come first served.",
}


@functools.cache
def train_config() -> dict:
    """static/train.js's `config`: the exported files' manifest, each model's names, and the tab's wording."""
    manifest = json.loads(TRAIN_MANIFEST.read_text())
    models = {name: {**entry, "title": MODELS[name].title, "short_title": MODELS[name].short_title,
                     "in_draw_tab": MODELS[name].in_draw_tab} for name, entry in manifest["models"].items()}
    return {"models": models, "digits": manifest["digits"], "test": manifest["test"], "recipes": list(RECIPE_NAMES),
            "seed": SEED, "film": film_digits(manifest["test"]), "film_digits": train_runs.FILM_DIGITS,
            "film_rows": train_pictures.FILM_ROWS,
            "report_every_ms": round(1000 * train_runs.REPORT_EVERY_S), "static_url": STATIC_URL,
            "runtime_sha256": runtime_sha256(), "worker_version": _version("train_worker.js"),
            "min_budget_s": train_runs.MIN_BUDGET_S, "max_budget_s": train_runs.MAX_BUDGET_S,
            "default_budget_s": train_runs.DEFAULT_BUDGET_S, "recipe_colours": train_pictures.RECIPE_COLOURS,
            "idle_prompt": train_tab.IDLE_PROMPT, "empty_charts": train_pictures.EMPTY_CHART_WORDS,
            "engine_notes": ENGINE_NOTES, "setting_ids": SETTING_IDS, "start_model": "linear"}


def film_digits(manifest: dict) -> dict[str, list[int]]:
    """The film's eight digits as the models are shown them, clean and noisy (uint8, 8 x 784), from test.gz
    (`manifest`: its entry in training.json)."""
    data = gzip.decompress((TRAIN_MANIFEST.parent / manifest["file"]).read_bytes())
    offsets, at = {}, 0
    for part, count in manifest["parts"].items():
        offsets[part] = (at * 784, (at + count) * 784)
        at += count
    return {"clean": list(data[slice(*offsets["film"])]), "noisy": list(data[slice(*offsets["noisy_film"])])}


def _version(name: str) -> str:  # a new URL whenever the file changes, so no stale copy runs
    return hashlib.sha256((STATIC_URL + static_text(name)).encode()).hexdigest()[:16]


def train_view() -> gr.HTML:
    """The page's panels for a run it trains; its "fallback" event asks the server to train instead."""
    view = page_panel("train.html", ("train.css",),
                      f'aeStudio.trainer.mount(element, props, () => trigger("{FALLBACK_EVENT}"));', head=HEAD,
                      elem_id="train-view", config=train_config())
    return describe_api(view, {"type": "null", "description": "the Train tab's page panels (no value)"})
