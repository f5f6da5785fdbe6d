"""The files the page loads: ONNX Runtime Web as vendored, the models' ONNX exports as committed (current with
the checkpoints, the same networks as PyTorch), and every script at least valid JavaScript."""

import gzip
import hashlib
import json
import shutil
import subprocess

import brotli
import numpy as np
import onnxruntime
import pytest
import torch

from ae.checkpoints import CHECKPOINT_DIR, file_sha256, load_pretrained, weights_path
from ae.export import HALF_WEIGHTS, MANIFEST, MODELS_DIR, PARTS, files, half_precision_from, parts, to_onnx
from ae.models import DRAW_TAB_MODELS, MODELS
from ae.web.common import STATIC, STATIC_URL
from ae.web.draw_view import FETCHED_LATER, HEAD_SCRIPTS, preload_header, preload_links, runtime_sha256, view_config
from ae.web.latent_tab import map_picture, page_space
from ae.web.vendor import BINARY, COMPRESSED, FILES, ORT_DIR, SUMS, compress, read_vendored, sha256_lines

AE = STATIC.parents[1]  # the package: the page's scripts and the benchmark's
MAX_MODEL_BYTES = 6_000_000  # all the models' files together: what a first visit downloads besides the runtime


@pytest.fixture(scope="module")
def manifest():
    return json.loads(MANIFEST.read_text())


def test_the_runtime_files_are_the_ones_recorded():
    assert SUMS.read_text() == sha256_lines(ORT_DIR, FILES)  # the binary unpacked, as npm publishes it
    stored = {encoding: (ORT_DIR / f"{BINARY}{suffix}").read_bytes() for encoding, suffix in COMPRESSED.items()}
    assert brotli.decompress(stored["br"]) == gzip.decompress(stored["gzip"])  # both copies, the same binary
    assert compress(gzip.decompress(stored["gzip"]), "br") == stored["br"]  # as `python -m ae.web.vendor` writes it
    assert sorted(path.name for path in ORT_DIR.iterdir()) == sorted(
        ["NOTICE", SUMS.name, *[name for name in FILES if name != BINARY],
         *[BINARY + suffix for suffix in COMPRESSED.values()]])
    assert max(path.stat().st_size for path in STATIC.rglob("*")) < 10_000_000  # under the Hub's LFS threshold
    assert "onnxruntime-web 1.30.0" in (ORT_DIR / "NOTICE").read_text()
    assert f"ort/{FILES[0]}" in (STATIC / "draw.js").read_text()  # the script the page loads


def test_every_model_is_exported_from_the_committed_checkpoint(manifest):
    assert list(manifest) == list(MODELS)
    for name, entry in manifest.items():
        assert [part for part in PARTS if part in entry] == parts(name)  # encoders for the Draw tab's models only
        for part in parts(name):
            path = MODELS_DIR / entry[part]["file"]
            assert entry[part]["sha256"] == file_sha256(path) and entry[part]["bytes"] == path.stat().st_size, name
        assert entry["checkpoint_sha256"] == file_sha256(weights_path(name, CHECKPOINT_DIR)), (
            f"{name} was retrained since its export: run `python -m ae.export`")
    assert sum(entry["bytes"] for entry in files(manifest)) <= MAX_MODEL_BYTES


def _run(manifest, name: str, part: str, batch: torch.Tensor) -> np.ndarray:
    path = MODELS_DIR / manifest[name][part]["file"]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {PARTS[part][0]: batch.numpy()})[0]


def test_the_exports_compute_what_pytorch_computes(manifest, mnist_test):
    digits = mnist_test[0][:64]
    noisy = (digits + 0.4 * torch.randn(digits.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    for name in DRAW_TAB_MODELS:
        model = load_pretrained(name)
        for batch in (digits[:1], noisy):  # one digit, as a stroke asks; a batch, as the noise sweep asks
            codes = _run(manifest, name, "encoder", batch)
            reconstructions = _run(manifest, name, "decoder", torch.from_numpy(codes))
            with torch.no_grad():
                assert np.abs(codes - model.encode(batch).numpy()).max() < 1e-4, name
                expected = model(batch).numpy()
            # float32 rounding (a grey level is 4e-3); a decoder stored in float16, within a grey level
            assert np.abs(reconstructions - expected).max() < (1 / 255 if name in HALF_WEIGHTS else 1e-4), name


@pytest.mark.parametrize("name", sorted(HALF_WEIGHTS))
def test_a_decoder_in_half_precision_stays_within_a_grey_level_over_its_map(name):
    """The 2-D models' decoders store their large weights in float16 (ae.export.HALF_WEIGHTS): over the whole of
    the map the page decodes, their digits stay within one grey level of PyTorch's."""
    picture = map_picture(name)
    generator = torch.Generator().manual_seed(0)
    codes = torch.stack([low + (high - low) * torch.rand(5000, generator=generator)
                         for low, high in (picture.x_limits, picture.y_limits)], dim=1)
    decoded = _run(json.loads(MANIFEST.read_text()), name, "decoder", codes)
    with torch.no_grad():
        expected = load_pretrained(name).decode(codes).numpy()
    assert np.abs(decoded - expected).max() < 1 / 255


@pytest.mark.slow  # the ONNX exporter
def test_one_command_exports_the_same_bytes_again(manifest):
    """`python -m ae.export` is deterministic: the committed files are what it writes (the smallest model, for time;
    and those stored in half precision)."""
    model = load_pretrained("conv")
    for part in PARTS:
        assert hashlib.sha256(to_onnx(model, part)).hexdigest() == manifest["conv"][part]["sha256"]
    for name, part in [(name, "decoder") for name in HALF_WEIGHTS] + [("vae", "encoder")]:
        half = to_onnx(load_pretrained(name), part, half_precision_from(name, part))
        assert hashlib.sha256(half).hexdigest() == manifest[name][part]["sha256"], (name, part)


def test_weights_stored_in_half_precision_lose_nothing_where_the_model_says_so():
    """A model with float16_weights (the VAE) has float16 values for weight matrices, so its export stores every
    one in float16 and computes what the server computes (the exports' test above holds it to 1e-4)."""
    for name, model_class in MODELS.items():
        if model_class.float16_weights:
            for parameter in load_pretrained(name).parameters():
                if parameter.dim() >= 2:
                    assert torch.equal(parameter, parameter.half().float()), name


def test_the_page_is_told_each_models_files_and_versions(manifest):
    config = view_config("gaussian", 0.3, 0, {"kind": "noise-kind", "amount": "amount", "seed": "seed"})
    assert [(m["name"], m["encoder"]["file"], m["decoder"]["file"]) for m in config["models"]] == [
        (name, manifest[name]["encoder"]["file"], manifest[name]["decoder"]["file"]) for name in DRAW_TAB_MODELS]
    assert config["models"][0]["decoder"]["version"] == manifest[DRAW_TAB_MODELS[0]]["decoder"]["sha256"][:16]
    for name in MODELS:  # the Latent tab's decoders, handed over on a model switch
        assert page_space(name)["files"]["decoder"]["file"] == manifest[name]["decoder"]["file"]


def test_the_download_table_in_the_docs_is_the_files(manifest):
    """docs/speed.md says what a first visit downloads: each figure is the files' own size."""
    table = (AE.parent / "docs" / "speed.md").read_text()
    gzipped = lambda paths: sum(len(gzip.compress(path.read_bytes(), 9)) for path in paths)  # noqa: E731
    scripts = [ORT_DIR / name for name in FILES if name != BINARY]
    models = [MODELS_DIR / entry["file"] for entry in files(manifest)]
    sizes = {encoding: (ORT_DIR / f"{BINARY}{suffix}").stat().st_size for encoding, suffix in COMPRESSED.items()}
    assert f"| {sum(p.stat().st_size for p in scripts):,} | {gzipped(scripts):,} |" in table
    unpacked = len(read_vendored(ORT_DIR, BINARY))
    assert f"| {unpacked:,} | {sizes['gzip']:,} (brotli: {sizes['br']:,}) |" in table
    assert f"| {sum(p.stat().st_size for p in models):,} | {gzipped(models):,} |" in table


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.parametrize("script", sorted(str(path.relative_to(AE)) for path in AE.rglob("*.js")
                                           if "ort" not in path.parts))
def test_every_script_is_valid_javascript(script):
    result = subprocess.run(["node", "--check", str(AE / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_page_preloads_what_the_draw_tab_fetches_first(manifest):
    """The <head>'s preloads and the page's Link header are the URLs static/draw.js asks for (a different URL would
    be fetched twice): the runtime and every Draw-tab model but those fetched later, which would compete with it."""
    links, header = preload_links(), preload_header()
    for name in DRAW_TAB_MODELS:
        for part in PARTS:
            entry = manifest[name][part]
            url = f"{STATIC_URL}models/{entry['file']}?v={entry['sha256'][:16]}"
            assert (f'href="{url}"' in links) == (f"<{url}>" in header) == (name not in FETCHED_LATER), (name, part)
    for name in FILES[:2]:
        assert f'href="{STATIC_URL}ort/{name}"' in links and f"<{STATIC_URL}ort/{name}>" in header
    binary = f"{STATIC_URL}ort/{BINARY}?v={runtime_sha256()[:16]}"
    assert f'href="{binary}"' in links and f"<{binary}>" in header
    assert all(f"<{STATIC_URL}{script}>; rel=preload; as=script" in header for script in HEAD_SCRIPTS)
    draw_js = (STATIC / "draw.js").read_text()
    assert "ort/ort-wasm-simd-threaded.wasm?v=${config.runtime_sha256.slice(0, 16)}" in draw_js
    assert '`${onnx.folder || "models"}/${onnx.file}?v=${onnx.version}`' in draw_js
