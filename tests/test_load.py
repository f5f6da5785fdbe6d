"""The app under load on loopback: a few concurrent clients for a few seconds, and a full queue."""

import os
import threading

import gradio as gr
import httpx
import numpy as np
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import QueueError

from ae.bench.browser import free_port
from ae.bench.common import sample_drawing
from ae.bench.load import run_clients
from ae.web.dataurl import png_data_url

pytestmark = pytest.mark.slow  # a server under load


def test_concurrent_clients_get_only_well_formed_answers(app_url):
    result = run_clients(app_url, png_data_url(sample_drawing()), clients=4, seconds=4, max_requests=15)
    assert result["errors"] == 0, result["first_errors"]
    assert result["requests"] >= 4
    assert np.isfinite(result["p50_ms"])


@pytest.fixture
def stuck_app():
    """A one-button app queued exactly as app.py queues its events, whose callback waits until released."""
    from app import QUEUE_OPTIONS  # importing app.py also sets the concurrency limit it runs with
    release = threading.Event()
    with gr.Blocks() as stuck:
        button, answer = gr.Button(), gr.Textbox()
        button.click(lambda: "done" if release.wait(60) else "timed out", None, answer, api_name="wait")
    stuck.queue(**QUEUE_OPTIONS)
    stuck.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield stuck, release, int(os.environ["GRADIO_DEFAULT_CONCURRENCY_LIMIT"]) + QUEUE_OPTIONS["max_size"]
    release.set()
    stuck.close()


def test_a_full_queue_is_told_so_at_once_and_the_app_recovers(stuck_app):
    stuck, release, capacity = stuck_app  # events running at once + events waiting
    join = f"{stuck.local_url}gradio_api/queue/join"
    fn_index = next(i for i, dep in enumerate(stuck.config["dependencies"]) if dep["api_name"] == "wait")
    with httpx.Client(timeout=10) as http:  # a hang would end in a timeout error, failing the test
        answers = [http.post(join, json={"data": [], "fn_index": fn_index, "session_hash": f"visitor{i}"})
                   for i in range(capacity + 1)]
    refused = [answer for answer in answers if answer.status_code == 503]
    assert answers[-1] in refused and all(answer.status_code == 200 for answer in answers if answer not in refused)
    assert len(answers) - len(refused) >= capacity - 2  # the first events may not have left the queue yet
    assert "Queue is full" in refused[0].json()["detail"]

    client = Client(stuck.local_url, verbose=False)
    with pytest.raises((QueueError, AppError), match="(?i)queue is full"):
        client.predict(api_name="/wait")  # what an API caller sees: Gradio's own "busy" answer
    release.set()
    assert client.predict(api_name="/wait") == "done"  # the queue drains and the app serves again
