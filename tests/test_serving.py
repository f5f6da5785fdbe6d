"""The app's own HTTP behaviour (ae.web.serving), over HTTP on the real app: the page's preload header, the runtime's
binary in the coding the browser takes, and gzip for text only."""

import gzip
import hashlib
import urllib.request

import brotli
import pytest

from ae.web.common import STATIC_URL
from ae.web.draw_view import preload_header, runtime_sha256
from ae.web.serving import accepted_encodings
from ae.web.vendor import BINARY

RUNTIME = f"{STATIC_URL}ort/{BINARY}?v={runtime_sha256()[:16]}"


def fetch(url: str, accept: str | None, method: str = "GET"):
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers, method=method), timeout=60) as answer:
        return answer.headers, answer.read()


def test_the_page_names_what_to_fetch_first_and_comes_gzipped(app_url):
    headers, body = fetch(app_url, "gzip, deflate, br")
    assert headers["Link"] == preload_header()
    assert headers["Content-Encoding"] == "gzip"
    assert b"gradio_config" in gzip.decompress(body)
    headers, body = fetch(app_url, None)  # a client that takes no coding gets the page as it is
    assert headers["Content-Encoding"] is None and b"gradio_config" in body


@pytest.mark.parametrize("accept, coding", [("gzip, deflate, br, zstd", "br"), ("gzip, deflate", "gzip"),
                                            ("br;q=0, gzip", "gzip"), ("identity", None), (None, None)])
def test_the_runtime_comes_in_the_coding_the_browser_takes(app_url, accept, coding):
    headers, body = fetch(app_url + RUNTIME, accept)
    assert headers["Content-Type"] == "application/wasm"
    assert headers["Content-Encoding"] == coding
    assert int(headers["Content-Length"]) == len(body)
    unpacked = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](body)
    assert hashlib.sha256(unpacked).hexdigest() == runtime_sha256()  # the binary npm publishes
    assert "immutable" in headers["Cache-Control"] and headers["Vary"] == "accept-encoding"


def test_a_head_request_for_the_runtime_gets_its_headers_alone(app_url):
    headers, body = fetch(app_url + RUNTIME, "br", method="HEAD")
    assert body == b"" and headers["Content-Encoding"] == "br" and int(headers["Content-Length"]) > 2_000_000


def test_scripts_are_gzipped_and_models_are_sent_as_they_are(app_url):
    headers, body = fetch(f"{app_url}{STATIC_URL}draw.js", "gzip, br")
    assert headers["Content-Encoding"] == "gzip" and b"aeStudio" in gzip.decompress(body)
    headers, body = fetch(f"{app_url}{STATIC_URL}models/conv.encoder.onnx", "gzip, br")
    assert headers["Content-Encoding"] is None and len(body) == int(headers["Content-Length"])


def test_accept_encoding_is_read_as_http_says():
    header = lambda value: [(b"host", b"x"), (b"Accept-Encoding", value.encode())]  # noqa: E731
    assert accepted_encodings(header("gzip, deflate, br;q=0.9")) == {"gzip", "deflate", "br"}
    assert accepted_encodings(header("br;q=0, gzip;q=0.5")) == {"gzip"}
    assert accepted_encodings(header("BR ; Q=0.000, GZIP")) == {"gzip"}
    assert accepted_encodings([(b"host", b"x")]) == set()
