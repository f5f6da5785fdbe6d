"""How the app's HTTP responses differ from Gradio's own: three ASGI middlewares for a first visit on a slow network.

- `PreloadHeader`: the page's own response carries a `Link` header naming the page's scripts, ONNX Runtime Web and
  the Draw tab's first models (draw_view.preload_header), so the browser starts them with the page's first bytes,
  a second before Gradio's script has put the <head>'s preload tags in place.
- `PrecompressedRuntime`: ONNX Runtime Web's binary (14.2 MB) is sent as stored, brotli-compressed (2.3 MB) to a
  browser that takes brotli, else gzipped (3.7 MB), with its Content-Encoding: the browser unpacks it natively.
- gzip for the rest of the text: Gradio sends its page (250 kB of JSON), scripts and styles uncompressed. Not for
  the models (float weights shrink by a few percent, for the server's CPU) nor anything compressed already.

All go to Gradio through launch(app_kwargs={"middleware": middleware()}) (app.py), FastAPI's own hook.
"""

from starlette.middleware import Middleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from .common import STATIC_URL
from .draw_view import preload_header
from .vendor import BINARY, COMPRESSED, ORT_DIR, read_vendored

RUNTIME_PATH = f"/{STATIC_URL}ort/{BINARY}"  # as the page asks for it (with ?v=, its version)
NOT_GZIPPED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/wasm", "application/octet-stream")


def middleware() -> list[Middleware]:
    return [Middleware(PreloadHeader, header=preload_header()), Middleware(PrecompressedRuntime),
            Middleware(GZipMiddleware, minimum_size=1000, exclude_content_types=NOT_GZIPPED)]


def _with_header(send, name: bytes, value: bytes):
    """`send`, adding a header to the response's start."""
    async def sending(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (name, value)]}
        await send(message)
    return sending


class PreloadHeader:
    """`header` as the `Link` header of the page itself (GET and HEAD /)."""

    def __init__(self, app, header: str):
        self.app, self.header = app, header.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/":
            send = _with_header(send, b"link", self.header)
        await self.app(scope, receive, send)


def accepted_encodings(headers: list[tuple[bytes, bytes]]) -> set[str]:
    """The content codings an Accept-Encoding header takes ("gzip, deflate, br;q=0.9" -> gzip, deflate, br); one
    given q=0 is refused."""
    accepted = set()
    for name, value in headers:
        if name.lower() == b"accept-encoding":
            for item in value.decode("latin-1").lower().split(","):
                coding, *parameters = [part.replace(" ", "") for part in item.split(";")]
                if not any(parameter.startswith("q=") and _number(parameter[2:]) == 0 for parameter in parameters):
                    accepted.add(coding)
    return accepted


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class PrecompressedRuntime:
    """GET and HEAD of the runtime's binary, answered from its stored copies (ae.web.vendor): the first coding of
    COMPRESSED the browser takes; unpacked for a client that takes none. Its URL carries its version, so a
    browser may keep it for good."""

    def __init__(self, app):
        self.app = app
        self.stored = {encoding: (ORT_DIR / f"{BINARY}{suffix}").read_bytes()
                       for encoding, suffix in COMPRESSED.items()}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != RUNTIME_PATH or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        accepted = accepted_encodings(scope["headers"])
        encoding = next((encoding for encoding in COMPRESSED if encoding in accepted), None)
        if encoding is None and None not in self.stored:  # a client that takes no coding: unpacked once, when asked
            self.stored[None] = read_vendored(ORT_DIR, BINARY)
        body = self.stored[encoding]
        headers = [(b"content-type", b"application/wasm"), (b"content-length", str(len(body)).encode()),
                   (b"vary", b"accept-encoding"), (b"cache-control", b"public, max-age=31536000, immutable")]
        if encoding:
            headers.append((b"content-encoding", encoding.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
