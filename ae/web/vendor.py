"""Refresh the page's copy of ONNX Runtime Web (static/ort/) from the npm registry, and record its SHA-256.

The Draw tab runs the models in the visitor's browser with ONNX Runtime Web's WebAssembly build. The page
needs three files of the npm package: the script (`ort.wasm.min.js`), its loader and its WebAssembly binary,
all for the CPU; the WebGPU/WebGL builds are not needed. They are committed, so the app serves them itself
(nothing is fetched from a CDN at run time), with `SHA256SUMS` beside them (the package's own bytes);
tests/test_page_files.py checks the files against it.

The binary (14.2 MB as published) is stored compressed twice, with brotli (2.3 MB) and with gzip (3.7 MB), and
the app sends whichever the browser takes, as it is, with its Content-Encoding (ae.web.serving): a phone's first
visit downloads a sixth of it, and no file of the repository is over the 10 MB above which the Hugging Face Hub
wants Git LFS.

    python -m ae.web.vendor                   # the pinned version, again
    python -m ae.web.vendor --version 1.31.0  # another version (then rerun the browser tests)
"""

import argparse
import gzip
import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .common import STATIC

PACKAGE, VERSION = "onnxruntime-web", "1.30.0"
FILES = ["ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]
BINARY = "ort-wasm-simd-threaded.wasm"  # committed compressed, as <name><suffix>
COMPRESSED = {"br": ".br", "gzip": ".gz"}  # Content-Encoding: suffix, brotli first: the smaller
ORT_DIR = STATIC / "ort"
SUMS = ORT_DIR / "SHA256SUMS"


def read_vendored(directory: Path, name: str) -> bytes:
    """A file of the package as published, unpacking the binary from its gzipped copy."""
    if name == BINARY:
        return gzip.decompress((directory / f"{name}.gz").read_bytes())
    return (directory / name).read_bytes()


def compress(data: bytes, encoding: str) -> bytes:
    """`data` as BINARY is stored with that Content-Encoding: as small as each goes, the same bytes every time."""
    if encoding == "br":
        import brotli  # a tool of vendoring and of the tests (requirements-test.txt), not of the app
        return brotli.compress(data, quality=11, lgwin=24)
    return gzip.compress(data, 9, mtime=0)


def sha256_lines(directory: Path, names: list[str]) -> str:
    """`sha256sum`'s format: one `<hex>  <name>` line per file of the package (as published)."""
    return "".join(f"{hashlib.sha256(read_vendored(directory, name)).hexdigest()}  {name}\n" for name in names)


def vendor(version: str = VERSION, target: Path = ORT_DIR) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["npm", "pack", f"{PACKAGE}@{version}", "--silent"], cwd=scratch, check=True,
                       stdout=subprocess.DEVNULL)
        with tarfile.open(Path(scratch) / f"{PACKAGE}-{version}.tgz") as archive:
            archive.extractall(scratch, filter="data")
        package = Path(scratch) / "package"
        target.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            if name == BINARY:
                for encoding, suffix in COMPRESSED.items():
                    (target / f"{name}{suffix}").write_bytes(compress((package / "dist" / name).read_bytes(), encoding))
            else:
                shutil.copyfile(package / "dist" / name, target / name)
        license_name = json.loads((package / "package.json").read_text())["license"]
    (target / "NOTICE").write_text(f"{PACKAGE} {version}, from the npm registry: {', '.join(FILES)}.\n"
                                   f"{license_name} License, Copyright (c) Microsoft Corporation "
                                   "(https://github.com/microsoft/onnxruntime/blob/main/LICENSE).\n")
    (target / SUMS.name).write_text(sha256_lines(target, FILES))
    sizes = ", ".join(f"{path.name} {path.stat().st_size:,} B" for path in sorted(target.iterdir()))
    print(f"{PACKAGE} {version}: {sizes}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default=VERSION, help=f"the npm package's version (default: {VERSION})")
    vendor(parser.parse_args().version)


if __name__ == "__main__":
    main()
