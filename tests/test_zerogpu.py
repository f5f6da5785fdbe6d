"""What Hugging Face's ZeroGPU asks of an app: CUDA untouched outside the one @spaces.GPU function (train_steps_on_gpu).

Here, on the CPU, nothing should ask for CUDA at all: a fresh process serves the app, and an API client draws,
explores the Latent tab and trains; every call that would start CUDA (torch.cuda's lazy initialisation) is
counted. (That the GPU function's arguments and reports cross a process boundary: tests/test_train_tab.py.)
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a server and a training run
REPO = Path(__file__).resolve().parent.parent

VISIT = """
import sys, torch
asked = []
lazy_init = torch.cuda._lazy_init
torch.cuda._lazy_init = lambda: asked.append("cuda") or lazy_init()
sys.argv = ["app.py"]
from app import LAUNCH_OPTIONS, app
from gradio_client import Client
from ae.bench.common import sample_drawing
from ae.web.dataurl import png_data_url
app.launch(**LAUNCH_OPTIONS, prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
client, drawing = Client(app.local_url, verbose=False), png_data_url(sample_drawing())
client.predict(drawing, "gaussian", 0.3, 0, api_name="/draw")
client.predict(drawing, "mask", 0.5, 1, api_name="/export")
for name in ("vae", "conv"):
    client.predict(name, drawing, api_name="/latent_switch")
    client.predict(name, drawing, 1, -1, 0, 0, 0, 0, api_name="/latent_sliders")
client.predict("vae", api_name="/latent_sample")
client.predict("my drawing", "test digit 3 (#5)", drawing, api_name="/latent_interpolate")
client.predict("linear", "ours", 5, api_name="/train")
app.close()
print("CUDA asked for:", asked, torch.cuda.is_initialized())
"""


def test_serving_drawing_exploring_and_training_never_start_cuda():
    result = subprocess.run([sys.executable, "-c", VISIT], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "CUDA asked for: [] False", result.stdout[-2000:]
