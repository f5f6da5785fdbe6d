"""The house rules a contributor relies on: the library knows nothing of the page, and the code passes its linter."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LIBRARY = sorted(path.stem for path in (REPO / "ae").glob("*.py") if path.stem != "__main__")


def test_the_library_never_imports_gradio():
    """Importing every library module (ae/*.py) must not import Gradio: the UI sits on top, in ae/web/."""
    script = (f"import sys, importlib\nfor name in {LIBRARY!r}: importlib.import_module('ae.' + name)\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gradio', 'gradio_client')))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert "export" in LIBRARY and "models" in LIBRARY
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_the_app_needs_only_what_a_space_installs():
    """requirements.txt is what a Space installs: the app must not import the tools of the tests or the export."""
    tools = ["onnx", "onnxscript", "onnxruntime", "playwright", "hypothesis", "pytest", "axe_playwright_python"]
    script = f"import sys; sys.argv = ['app.py']; import app; print([m for m in {tools!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed (requirements-test.txt has it)")
def test_the_code_passes_ruff():
    result = subprocess.run(["ruff", "check", "--output-format", "concise", "."], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 0, result.stdout


def test_no_emoji_anywhere_a_visitor_reads():
    """Every label, note and button is text a plain font has: without an emoji font (CI's Chromium, some visitors'
    machines) an emoji is an empty box."""
    emoji = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")
    static = [path for path in (REPO / "ae" / "web" / "static").glob("*.*") if path.suffix in (".html", ".js", ".css")]
    texts = [REPO / "app.py", *(REPO / "ae" / "web").glob("*.py"), *static]
    found = {path.name: emoji.findall(path.read_text()) for path in texts}
    assert {name: marks for name, marks in found.items() if marks} == {}
