"""The app refuses to start on damaged weights, with one clear line, and never unpickles anything."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts the app four times

REPO = Path(__file__).resolve().parent.parent


def start_app(checkpoints: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AE_CHECKPOINTS": str(checkpoints), "GRADIO_SERVER_PORT": "1"}  # never reaches launch
    return subprocess.run([sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("damage, message", [
    (lambda path: path.unlink(), "is missing"),
    (lambda path: path.write_bytes(path.read_bytes()[:1000]), "does not match its card"),
    (lambda path: path.write_bytes(path.read_bytes().replace(b"\x00\x00", b"\x00\x01", 1)), "does not match its card"),
], ids=["missing", "truncated", "tampered"])
def test_damaged_weights_stop_the_app_with_one_clear_line(tmp_path, damage, message):
    copy = tmp_path / "checkpoints"
    shutil.copytree(REPO / "checkpoints", copy)
    damage(copy / "upsample.safetensors")
    result = start_app(copy)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ae-studio cannot start: weight file") and "upsample.safetensors" in last
    assert message in last and "python -m ae.train --model upsample" in last
    assert "Traceback" not in result.stderr
