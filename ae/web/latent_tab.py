"""The Latent tab: walk each model's code space.

For a model with a large code, the codes of the committed MNIST sample are centred and their top principal
components found; the map shows every sample digit at its first two coordinates. Any point of the map (or any
setting of the component sliders) is lifted back to a full code, mean + coordinates · components, and decoded.
That point is what the decoder draws for a code it may never have seen, which is the lesson of the tab:
between the clusters, some codes decode to digits and some to blends.

The two models with a 2-D code (the VAE and its plain twin) need no projection: the map is their code plane,
and a click decodes exactly there. The VAE's plane is the one made to be explored: its prior N(0, I) says where
the codes live, so its manifold grid spans the prior's quantiles and it can draw new digits (Sample).

The page decodes too (static/latent.js, with the models' ONNX decoders): the digit under the pointer follows it
over the map, and the sliders' digit follows the sliders, with no request. On a model switch the server hands
it what that needs (`page_space`: the map's geometry, the mean code and components, the slider units); a click
still asks the server, for the marker and the nearest digits, and whatever the page cannot compute (its models
still loading, or unable to run) the server answers in the same records.
"""

import functools
import itertools
import secrets
from dataclasses import dataclass

import gradio as gr
import numpy as np
import torch
from PIL import Image, ImageDraw

from ..metrics import mse_per_image
from ..models import MODELS, VAE, PlainAE2D
from ..pca import principal_axes
from ..preprocess import FIELD
from .common import as_pixels, labelled_rows, mnist_sample, onnx_files, pretrained, read_drawing, sample_picks, tile
from .dataurl import png_data_url
from .mapplot import MapPicture, scatter_map

# Each record the server sends the page is numbered: a view repaints when its value changes, and the answer to
# Reset, say, carries the picture of an earlier answer while the page shows one it decoded itself since.
ANSWERS = itertools.count()
COMPONENTS = 6  # sliders
SLIDER_RANGE = 4.0  # standard deviations either side of the mean code
GRID_SIZE = 15
INTERPOLATION_STEPS = 9
NEIGHBOURS = 3
MY_DRAWING = "my drawing"
BATCH = 100  # sample digits encoded at a time
SAMPLES = 16  # digits drawn from the VAE's prior per click, shown 4 x 4
MARKER_RING = 9  # pixels: the radius of the ring around the drawing's cross on the map


@dataclass
class LatentSpace:
    """One model's codes of the MNIST sample and their principal axes."""

    name: str
    codes: np.ndarray  # (N, D) the sample's codes, flattened
    labels: np.ndarray  # (N,)
    mean: np.ndarray  # (D,)
    components: np.ndarray  # (D, COMPONENTS) orthonormal columns, most variance first
    variance_share: np.ndarray  # (COMPONENTS,) share of the codes' total variance along each
    coords: np.ndarray  # (N, COMPONENTS) the sample's coordinates
    errors: np.ndarray  # (N,) each sample digit's reconstruction MSE
    scale: np.ndarray  # (COMPONENTS,) one slider step of 1 is this far along each axis
    origin: np.ndarray  # (COMPONENTS,) the map coordinates where every slider is at 0

    @property
    def is_plane(self) -> bool:
        """True for a 2-D code: the map is the code plane itself, its axes the code's two numbers."""
        return self.codes.shape[1] == 2

    def axis_name(self, k: int) -> str:
        return f"z{'₁₂'[k]}" if self.is_plane else f"component {k + 1}"

    def project(self, code: np.ndarray) -> np.ndarray:
        return (code.reshape(-1) - self.mean) @ self.components

    def lift(self, coords) -> np.ndarray:
        """Codes (..., D) from coordinates (..., k) on the first k components."""
        coords = np.asarray(coords, np.float32)
        return self.mean + coords @ self.components[:, :coords.shape[-1]].T

    def nearest(self, code: np.ndarray, count: int = NEIGHBOURS) -> np.ndarray:
        """Indices of the sample digits whose codes are closest to `code`, closest first."""
        distances = np.linalg.norm(self.codes - code.reshape(1, -1), axis=1)
        return np.argsort(distances, kind="stable")[:count]


@functools.cache
def latent_space(name: str) -> LatentSpace:
    images, labels = mnist_sample()
    model = pretrained()[name]
    with torch.no_grad():
        x = torch.from_numpy(images).unsqueeze(1)
        # In batches: the denoiser's 32 full-size channels for all 2,000 digits at once would take 200 MB, and
        # the server's memory would keep the peak.
        codes = torch.cat([model.encode(batch) for batch in x.split(BATCH)])
        errors = torch.cat([mse_per_image(model.decode(code), batch)
                            for code, batch in zip(codes.split(BATCH), x.split(BATCH))]).numpy()
    codes = codes.flatten(1)
    if codes.shape[1] == 2:  # the plane itself: no centring, no rotation
        mean, components = torch.zeros(2), torch.eye(2)
        share = codes.var(0) / codes.var(0).sum()
    else:
        mean, components, share = principal_axes(codes, COMPONENTS)
    mean, components, share, codes = (t.float().numpy() for t in (mean, components, share, codes))
    coords = (codes - mean) @ components
    # Sliders move in standard deviations of the sample's coordinates, so every model's have the same range;
    # the VAE's in its own units around its prior's centre, which the prior already makes standard; the plain
    # 2-D code, which sits wherever training put it, around the sample's mean.
    scale = np.ones(2, np.float32) if name == VAE.name else coords.std(0)
    origin = coords.mean(0) if name == PlainAE2D.name else np.zeros_like(scale)
    return LatentSpace(name=name, codes=codes, labels=labels, mean=mean, components=components,
                       variance_share=share, coords=coords, errors=errors, scale=scale,
                       origin=origin)


@torch.no_grad()
def decode(name: str, codes: np.ndarray) -> np.ndarray:
    """Images (N, 28, 28) decoded from flat codes (N, D), BATCH at a time (the manifold grid's 225 digits at once
    would hold the denoiser's 32 full-size channels for each: 40 MB more at the server's peak)."""
    model = pretrained()[name]
    z = torch.from_numpy(np.ascontiguousarray(codes, np.float32)).reshape(-1, *model.code_shape)
    return torch.cat([model.decode(batch) for batch in z.split(BATCH)])[:, 0].numpy()


@torch.no_grad()
def encode(name: str, image: np.ndarray) -> np.ndarray:
    """The flat code (D,) of one 28x28 image."""
    return pretrained()[name].encode(torch.from_numpy(image).reshape(1, 1, FIELD, FIELD)).reshape(-1).numpy()


@torch.no_grad()
def posterior_spread(name: str, image: np.ndarray) -> np.ndarray | None:
    """The VAE's posterior standard deviations (2,) for one image; None for the other models, which have none."""
    model = pretrained()[name]
    if not isinstance(model, VAE):
        return None
    _, log_var = model.posterior(torch.from_numpy(image).reshape(1, 1, FIELD, FIELD))
    return (0.5 * log_var[0]).exp().numpy()


# --- The map: drawn once per model, then only the drawing's marker changes. -------------------------

@functools.cache
def map_picture(name: str) -> MapPicture:
    space = latent_space(name)
    if space.is_plane:
        x_label, y_label = "z₁, the code's first number", "z₂, its second"
    else:
        x_label = f"component 1 ({space.variance_share[0]:.0%} of the code variance)"
        y_label = f"component 2 ({space.variance_share[1]:.0%})"
    title = f"{MODELS[name].title}: {len(space.labels):,} MNIST test digits"
    return scatter_map(space.coords[:, :2], space.labels, title, x_label, y_label,
                       prior_radius=2.0 if name == VAE.name else None)


def map_with_markers(name: str, digit: np.ndarray | None, clicked: tuple[float, float] | None = None) -> np.ndarray:
    """The model's map with the drawing's code as a ringed cross (for the VAE, its posterior: the mean, and the
    ellipse two standard deviations out) and the clicked point (map coordinates) as a red diamond, each where
    there is one."""
    picture = map_picture(name)
    if digit is None and clicked is None:
        return picture.image
    image = Image.fromarray(picture.image)
    draw = ImageDraw.Draw(image)
    if digit is not None:
        mean = latent_space(name).project(encode(name, digit))[:2]
        x, y = picture.to_pixel(*mean)
        spread = posterior_spread(name, digit)
        if spread is not None:
            right, top = picture.to_pixel(*(mean + 2 * spread))
            draw.ellipse((2 * x - right, top, right, 2 * y - top), outline=(0, 0, 0), width=2)
        draw.ellipse((x - MARKER_RING, y - MARKER_RING, x + MARKER_RING, y + MARKER_RING), outline=(0, 0, 0), width=3)
        draw.line((x - 14, y, x + 14, y), fill=(0, 0, 0), width=2)
        draw.line((x, y - 14, x, y + 14), fill=(0, 0, 0), width=2)
    if clicked is not None:
        x, y = picture.to_pixel(*clicked)
        draw.polygon([(x, y - 9), (x + 9, y), (x, y + 9), (x - 9, y)], fill=(220, 30, 30), outline=(255, 255, 255))
    return np.asarray(image)


@functools.cache  # the same for every switch to this model: built once, as its map is
def page_space(name: str) -> dict:
    """What the page needs to decode this model's map and sliders itself, as JSON: a map pixel -> map
    coordinates (the picture's geometry) -> a code (mean + coordinates · components) -> the ONNX decoder; for the
    sliders, their units (scale, origin) and, for a large code, the encoder that gives the drawing's own code."""
    space, picture = latent_space(name), map_picture(name)
    return {"model": name, "plane": space.is_plane, "code_shape": list(MODELS[name].code_shape),
            "mean": space.mean.tolist(), "components": space.components.T.tolist(), "scale": space.scale.tolist(),
            "origin": space.origin.tolist(), "slider_range": SLIDER_RANGE,
            "axes": [space.axis_name(0), space.axis_name(1)], "files": onnx_files(name),
            "map": {"width": picture.image.shape[1], "height": picture.image.shape[0], "x_pixels": picture.x_pixels,
                    "y_pixels": picture.y_pixels, "x_limits": picture.x_limits, "y_limits": picture.y_limits}}


def lens_record(name: str, point: tuple[float, float] | None = None, decoded: np.ndarray | None = None,
                with_space: bool = False) -> dict:
    """The lens panel's value: the point decoded (map coordinates) and its digit as a PNG data URL, or neither;
    on a model switch also `page_space`, so that the page decodes the new model's map."""
    record = {"model": name, "point": None if point is None else [float(point[0]), float(point[1])],
              "image": None if decoded is None else png_data_url(decoded), "answer": next(ANSWERS)}
    return {**record, "space": page_space(name)} if with_space else record


def warm_up() -> None:
    """Draw every model's map and manifold grid once (about 2 s of CPU in all), so that the first visitor to
    switch models waits for none of it. app.py runs this beside the server, after it starts."""
    for name in MODELS:
        map_picture(name)
        manifold_grid(name)


# --- Callbacks ----------------------------------------------------------------------------------------

def _model_name(name) -> str:
    return name if name in MODELS else VAE.name


def _drawing(sketch) -> np.ndarray | None:
    return read_drawing(sketch)[0]


def hardness(name: str, digit: np.ndarray) -> str:
    """Out-of-distribution hint: the drawing's reconstruction error as a percentile of MNIST's."""
    space = latent_space(name)
    error = float(((decode(name, encode(name, digit)[None])[0] - digit) ** 2).mean())
    percent = (space.errors < error).mean() * 100
    verdict = "like a typical MNIST digit" if percent < 75 else "unusual for this model, unlike what it learned from"
    return (f"Your drawing is harder than **{percent:.0f}%** of MNIST test digits for this model "
            f"(reconstruction MSE {error:.4f}): {verdict}.")


def posterior_note(name: str, digit: np.ndarray) -> str:
    """For the VAE, where its posterior puts the drawing, in numbers: the 2-sigma ellipse is often smaller than
    the cross that marks its mean."""
    spread = posterior_spread(name, digit)
    if spread is None:
        return ""
    (x, y), (dx, dy) = encode(name, digit), 2 * spread
    picture = map_picture(name)
    centre, corner = picture.to_pixel(x, y), picture.to_pixel(x + dx, y + dy)
    hidden = max(abs(corner[0] - centre[0]), abs(corner[1] - centre[1])) < MARKER_RING
    where = ("on the map, an ellipse smaller than the ring that marks your drawing: the VAE is that sure of it"
             if hidden else "the ellipse on the map")
    return (f" The VAE's posterior puts it at z = ({x:.2f}, {y:.2f}), give or take ({dx:.2f}, {dy:.2f}) at two "
            f"standard deviations ({where}).")


def slider_values(name: str, digit: np.ndarray | None) -> list[float]:
    """The drawing's coordinates on the map's axes, in slider units (LatentSpace.scale; 0: the mean code), one
    per slider; a 2-D model's leaves the sliders it does not use at 0.

    In these units every slider has the same range whatever the model, so switching models only moves them.
    """
    values = np.zeros(COMPONENTS, np.float32)
    if digit is not None:
        space = latent_space(name)
        coords = (space.project(encode(name, digit)) - space.origin) / space.scale
        values[:len(coords)] = coords.clip(-SLIDER_RANGE, SLIDER_RANGE)
    return [round(float(v), 2) for v in values]


def slider_label(name: str, k: int) -> str | None:
    """Slider k's label for this model, or None where its code has no k-th axis (a 2-D code: sliders 3 on)."""
    space = latent_space(name)
    if k >= len(space.scale):
        return None
    if name == VAE.name:  # the prior's own units, which the map shows
        return space.axis_name(k)
    return (f"{space.axis_name(k)}, in standard deviations of the test digits' codes from their mean "
            f"(1 = {space.scale[k]:.2g} on the map's axis)")


def slider_updates(name: str, values: list[float]) -> list[gr.Slider]:
    """The sliders for this model: its values and its axes' names; the ones it has no use for hidden."""
    return [gr.Slider(value=value, label=slider_label(name, k), visible=slider_label(name, k) is not None)
            for k, value in enumerate(values)]


NO_DRAWING_HINT = "Draw a digit in the Draw tab to place it on the map."
CLICK_PROMPT = "Click a point of the map to keep its digit and find the test digits nearest to it."


# The order of the values switch_model returns; app.py wires its components by these names.
SWITCH_OUTPUTS = ["latent_map", "grid", "grid_note", "hint", *[f"slider_{k + 1}" for k in range(COMPONENTS)],
                  "slider_view", "lens", "neighbours", "click_note", "samples", "sample_note"]


def switch_model(name, sketch) -> tuple:
    """New model (or new drawing): map with marker, manifold grid and its caption, hint, sliders and their
    decoding, the lens with the new model's space and no point, and the nearest digits' and the samples' panels
    emptied (they showed the previous model's), in SWITCH_OUTPUTS order."""
    name = _model_name(name)
    digit = _drawing(sketch)
    hint = hardness(name, digit) + posterior_note(name, digit) if digit is not None else NO_DRAWING_HINT
    values = slider_values(name, digit)
    return (map_with_markers(name, digit), manifold_grid(name), grid_caption(name), hint,
            *slider_updates(name, values), slider_record(name, sketch, *values), lens_record(name, with_space=True),
            None, CLICK_PROMPT, None, SAMPLE_PROMPT)


def decode_at(name, x: float, y: float) -> tuple[np.ndarray, np.ndarray, str]:
    """The digit at map coordinates (x, y), the sample digits nearest to it in code space as one strip
    (closest first), and a line naming them."""
    name = _model_name(name)
    space = latent_space(name)
    code = space.lift([x, y])
    images, labels = mnist_sample()
    nearest = space.nearest(code)
    strip = as_pixels(tile(images[nearest][None], 1.0))
    caption = "Nearest test digits, closest first: " + ", ".join(
        f"**{labels[i]}** (distance {np.linalg.norm(space.codes[i] - code):.2f})" for i in nearest) + "."
    return as_pixels(decode(name, code[None])[0]), strip, caption


def click_map(name, sketch, evt: gr.SelectData) -> tuple:
    """Map click (pixel column, row) -> the map marked where it was clicked, the lens holding decode_at that
    point, the nearest digits and their caption.

    A click outside the axes (on the legend, the labels) decodes nothing and says so."""
    name = _model_name(name)
    picture = map_picture(name)
    digit = _drawing(sketch)
    if not picture.inside(*evt.index):
        return (map_with_markers(name, digit), lens_record(name), None,
                "That point is outside the plot: click inside the axes, where the dots are.")
    x, y = picture.to_data(*evt.index)
    decoded, strip, caption = decode_at(name, x, y)
    return map_with_markers(name, digit, (x, y)), lens_record(name, (x, y), decoded), strip, caption


def decode_sliders(name, sketch, *values) -> np.ndarray:
    """Decode the drawing's code moved along the first components to the sliders' coordinates.

    The code's other components stay the drawing's own, so the untouched sliders decode its reconstruction.
    """
    name = _model_name(name)
    space = latent_space(name)
    digit = _drawing(sketch)
    base = encode(name, digit) if digit is not None else space.mean
    positions = np.array([_slider_position(v) for v in values][:len(space.scale)], np.float32)
    coords = space.origin[:len(positions)] + positions * space.scale[:len(positions)]
    code = base + (coords - space.project(base)[:len(coords)]) @ space.components[:, :len(coords)].T
    return as_pixels(decode(name, code[None])[0])


def slider_record(name, sketch, *values) -> dict:
    """The sliders' panel's value (and the API's answer): decode_sliders as a PNG data URL, and the model."""
    return {"model": _model_name(name), "image": png_data_url(decode_sliders(name, sketch, *values)),
            "answer": next(ANSWERS)}


def _slider_position(value) -> float:
    """What an API caller sent for a slider, as a position on it: not a finite number counts as 0 (the mean),
    and anything beyond the slider's ends as that end (a far-off code would decode to NaN)."""
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return float(np.clip(value, -SLIDER_RANGE, SLIDER_RANGE)) if np.isfinite(value) else 0.0


def reset_sliders(name, sketch) -> tuple:
    """The sliders back at the drawing's coordinates, and their decoding."""
    values = slider_values(_model_name(name), _drawing(sketch))
    return (*values, slider_record(name, sketch, *values))


@functools.cache
def manifold_grid(name: str, size: int = GRID_SIZE) -> np.ndarray:
    """A size x size sheet of digits decoded (a batch of 100 at a time) over the map's plane: for the VAE at its prior's
    quantiles (VAE.prior_quantiles), for the others from the 1st to the 99th percentile of the sample's codes."""
    space = latent_space(name)
    if name == VAE.name:
        xs = VAE.prior_quantiles(size).numpy()
        ys = xs[::-1]
    else:
        low, high = np.percentile(space.coords[:, :2], [1, 99], axis=0)
        xs = np.linspace(low[0], high[0], size)
        ys = np.linspace(high[1], low[1], size)  # top row: largest component 2, as on the map
    coords = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    digits = decode(name, space.lift(coords)).reshape(size, size, FIELD, FIELD)
    sheet = digits.transpose(0, 2, 1, 3).reshape(size * FIELD, size * FIELD)
    return as_pixels(sheet)  # 28 px a digit: the page enlarges it, pixels kept square (app.py, CSS)


def grid_caption(name: str) -> str:
    space = latent_space(name)
    if name == VAE.name:
        where = ("at the prior's quantiles: each row and column holds as much of the prior's mass, so the grid "
                 "covers where the VAE puts its codes")
    else:
        where = "from the 1st to the 99th percentile of the sample's codes"
    return (f"**Decoded grid over {space.axis_name(0)} (left to right) and {space.axis_name(1)} (bottom to top)**, "
            f"{where}.")


SAMPLE_PROMPT = "**Sample** draws 16 points from the VAE's prior N(0, I) and decodes them: new digits, seen nowhere."
NO_PRIOR = ("Only the VAE can sample: training pulled its codes towards a known distribution, N(0, I), so a point "
            "drawn from it lands where digits are. A plain autoencoder's codes sit wherever training put them, "
            "with gaps between the clusters and no distribution to draw from. Switch to the VAE to sample.")


def sample_digits(name, seed=None) -> tuple[np.ndarray | None, str]:
    """16 digits decoded from points drawn from the VAE's prior, 4 x 4, and a note; for the other models, the
    note that says why they cannot."""
    model = pretrained()[_model_name(name)]
    if not isinstance(model, VAE):
        return None, NO_PRIOR
    generator = torch.Generator().manual_seed(int(seed) if seed is not None else secrets.randbits(63))
    digits = model.sample(SAMPLES, generator)[:, 0].numpy().reshape(4, 4, FIELD, FIELD)
    return as_pixels(tile(digits, 1.0)), ("16 points drawn from N(0, I) and decoded. Most are clear digits: the "
                                          "prior is where the VAE learned to put them. Click again for more.")


def sample_choices(count: int = 30) -> list[str]:
    """Dropdown labels for the first `count` sample digits, three of each class."""
    _, labels = mnist_sample()
    return [f"test digit {labels[i]} (#{i})" for i in sample_picks(count // 10)]


def _choice_image(choice: str, sketch) -> np.ndarray | None:
    if choice == MY_DRAWING:
        return _drawing(sketch)
    try:
        index = int(str(choice).rsplit("#", 1)[1].rstrip(")"))
        return mnist_sample()[0][index]
    except (IndexError, ValueError):
        return None


def interpolation_rows(start: np.ndarray, end: np.ndarray, steps: int = INTERPOLATION_STEPS) -> np.ndarray:
    """(1 + len(MODELS), steps, 28, 28): a pixel crossfade, then each model's straight line between codes,
    in MODELS order (the order app.py names the rows in)."""
    weights = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    rows = [(1 - weights[:, :, None]) * start + weights[:, :, None] * end]
    for name in MODELS:
        codes = (1 - weights) * encode(name, start) + weights * encode(name, end)
        rows.append(decode(name, codes))
    return np.stack(rows)


INTERPOLATION_LABELS = ["pixels, faded", *[model.short_title for model in MODELS.values()]]


def interpolate(start_choice, end_choice, sketch) -> tuple[np.ndarray | None, str]:
    """interpolation_rows as one picture, start on the left, one white pixel between digits, each row labelled
    (common.labelled_rows), and a note.

    Drawn with numpy, not matplotlib: as a figure of 45 labelled digits it took the server 0.75 s a click
    (0.4 s to draw, 0.35 s for Gradio to save it), all of it holding up every other visitor's events.
    """
    start, end = _choice_image(start_choice, sketch), _choice_image(end_choice, sketch)
    if start is None or end is None:
        missing = MY_DRAWING in (start_choice, end_choice) and _drawing(sketch) is None
        return None, ("There is no drawing yet: draw a digit in the Draw tab, or pick a test digit for From."
                      if missing else "Pick a test digit from the lists for From and To.")
    sheet = as_pixels(tile(interpolation_rows(start, end), 1.0))
    return labelled_rows(sheet, INTERPOLATION_LABELS), f"From {start_choice} to {end_choice}."
