"""The README keeps its promises: Spaces card, the two commands, CI running the same test command, and every
generated table (here and in docs/) the output of its command."""

import json
import re
import sys
from pathlib import Path

import gradio
import pytest
import torch
import torchvision

from ae.bench.report import readme_summary, readme_table
from ae.checkpoints import load_pretrained
from ae.evaluate import code_size_curve, headline, lessons_tables
from ae.lessons import CHECKERBOARD_MODELS, checkerboard_scores
from ae.models import CODE_SIZES, MODELS
from ae.pca import PCA
from ae.seeds import readme_table as seeds_table
from ae.seeds import recipe_record
from ae.train import RECIPES

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
DOCS = REPO / "docs"
MAX_README_LINES = 200
ZEROGPU_TORCH = {"2.8.0": "0.23.0", "2.9.1": "0.24.1", "2.10.0": "0.25.0", "2.11.0": "0.26.0"}  # with torchvision


def test_spaces_front_matter():
    front = README.split("---")[1]
    fields = dict(line.split(": ", 1) for line in front.strip().splitlines())
    assert fields["sdk"] == "gradio" and fields["app_file"] == "app.py"
    assert fields["sdk_version"] == gradio.__version__
    assert len(fields["short_description"]) <= 60  # Hugging Face refuses a longer one
    assert fields["license"]
    demo_requirements = (REPO / "requirements.txt").read_text()
    pinned = dict(re.findall(r"^([\w-]+)==(\S+)$", demo_requirements, re.M))
    assert pinned["gradio"] == gradio.__version__
    for test_only in ("pytest", "playwright", "hypothesis"):  # a Space installs requirements.txt whole
        assert not re.search(rf"^{test_only}\b", demo_requirements, re.M)
        assert re.search(rf"^{test_only}\b", (REPO / "requirements-test.txt").read_text(), re.M)


def test_the_space_is_one_zerogpu_accepts_and_the_tests_run_its_requirements():
    """What Hugging Face's ZeroGPU takes (hub-docs, 2026): Python 3.12.12 or 3.10.13, PyTorch 2.8.0, 2.9.1, 2.10.0
    or 2.11.0. The suite runs on exactly requirements.txt: the interpreter's minor version, torch and torchvision."""
    front = dict(line.split(": ", 1) for line in README.split("---")[1].strip().splitlines())
    assert front["python_version"].strip('"') == "3.12.12" and front["suggested_hardware"] == "zero-a10g"
    pinned = dict(re.findall(r"^([\w-]+)==(\S+)$", (REPO / "requirements.txt").read_text(), re.M))
    assert pinned["torch"] in ZEROGPU_TORCH and pinned["torchvision"] == ZEROGPU_TORCH[pinned["torch"]]
    assert "spaces" in pinned
    assert sys.version_info[:2] == (3, 12)
    assert torch.__version__.split("+")[0] == pinned["torch"]
    assert torchvision.__version__.split("+")[0] == pinned["torchvision"]


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second():
    commands = re.findall(r"```bash\n(.+?)\n```", README.split("---", 2)[2])[:2]
    assert commands[0].endswith("python app.py")
    assert commands[1].endswith("python -m pytest -q")
    assert commands[1] in (REPO / ".ci" / "run").read_text()


def test_the_readme_is_a_card_not_a_lab_record():
    assert len(README.splitlines()) <= MAX_README_LINES
    assert "shared/" not in README and "seed-recipe" not in README  # nothing outside the repository
    for page in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (REPO / page).exists(), page


HISTORY_WORDS = re.compile(r"\b(last|this|next) round\b|\bthis machine\b|/tmp/|\bissue\b|\blent\b"
                           r"|\bsession (was|that)\b", re.I)


def test_the_docs_and_the_code_speak_of_the_project_as_it_is():
    """How a figure or a choice came about is git's to tell: the docs, the README, CI's script and the code's
    comments say what is true now, how to reproduce it and on what hardware, with no rounds, issues, lent machines,
    temporary paths, or a machine a reader cannot tell from any other."""
    files = [REPO / "README.md", *DOCS.glob("*.md"), REPO / ".ci" / "run", REPO / "app.py",
             *[path for path in (REPO / "ae").rglob("*") if path.suffix in (".py", ".js", ".html", ".css")]]
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()}" for path in files
             for number, line in enumerate(path.read_text().splitlines(), 1) if HISTORY_WORDS.search(line)]
    assert found == []


def test_the_result_tables_are_the_evaluation_output():
    table = (REPO / "checkpoints" / "metrics.md").read_text()
    assert f"<!-- metrics:start -->\n{table}<!-- metrics:end -->" in (DOCS / "training.md").read_text()
    assert f"<!-- results:start -->\n{headline(table)}<!-- results:end -->" in README


def test_the_lessons_tables_are_what_the_committed_models_measure(mnist_train, mnist_test):
    """The code-size and checkerboard tables: measured afresh on the committed checkpoints, the figures
    `python -m ae.evaluate` recorded, and the README's table theirs."""
    metrics = json.loads((REPO / "checkpoints" / "metrics.json").read_text())
    fresh = code_size_curve(PCA(mnist_train[0], max(CODE_SIZES)), mnist_test[0])
    assert fresh["sizes"] == metrics["code_sizes"]["sizes"]
    for key in ("autoencoder", "pca"):
        assert fresh[key] == pytest.approx(metrics["code_sizes"][key], rel=1e-5), f"{key}: run `python -m ae.evaluate`"
    for name in CHECKERBOARD_MODELS:
        assert checkerboard_scores(load_pretrained(name), mnist_test[0]) == pytest.approx(
            metrics["checkerboard"][name], rel=1e-5), name
    assert f"<!-- lessons:start -->\n{lessons_tables(metrics)}<!-- lessons:end -->" in README


def test_the_speed_tables_are_the_benchmark_output():
    results = json.loads((REPO / "checkpoints" / "bench.json").read_text())
    assert f"<!-- bench:start -->\n{readme_table(results)}<!-- bench:end -->" in (DOCS / "speed.md").read_text()
    assert f"<!-- speed:start -->\n{readme_summary(results)}<!-- speed:end -->" in README


def test_the_train_page_tables_are_the_benchmark_output():
    from ae.bench.train_page import RESULTS, summary, table
    results = json.loads(RESULTS.read_text())
    assert f"<!-- train-page:start -->\n{table(results)}<!-- train-page:end -->" in (DOCS / "speed.md").read_text()
    assert f"<!-- train-page:start -->\n{summary(results)}<!-- train-page:end -->" in README


def test_the_phone_table_is_the_benchmark_output():
    from ae.bench.phone import RESULTS, table
    results = json.loads(RESULTS.read_text())
    assert f"<!-- phone:start -->\n{table(results)}<!-- phone:end -->" in (DOCS / "speed.md").read_text()


def test_the_seed_tables_are_the_studies_output():
    studies = sorted((REPO / "checkpoints").glob("seeds*.json"))
    assert studies, "no seed study committed"
    seeds_page = (DOCS / "seeds.md").read_text()
    for path in studies:  # seeds.json (whole runs), seeds-epoch1.json (first epochs): each has its own marker
        table = seeds_table(json.loads(path.read_text()))
        assert f"<!-- {path.stem}:start -->\n{table}<!-- {path.stem}:end -->" in seeds_page, path.name


def test_the_committed_seed_studies_are_of_the_recipes_and_starts_as_they_are():
    for path in sorted((REPO / "checkpoints").glob("seeds*.json")):
        stale = [(run["model"], run["seed"]) for run in json.loads(path.read_text())["runs"]
                 if (run["recipe"], run["start"]) != (recipe_record(RECIPES[run["model"]]), MODELS[run["model"]].start)]
        assert not stale, f"{path.name}: runs of a recipe or start since changed: {stale}"
