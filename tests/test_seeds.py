"""The seed study command, on the linear model's first epoch (seconds), and its summary arithmetic."""

import json

import pytest

from ae import seeds

pytestmark = pytest.mark.slow  # whole training runs


def test_the_first_epoch_of_two_seeds_is_replayed_and_tabled(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- seeds-epoch1:start -->\nold\n<!-- seeds-epoch1:end -->\nafter\n")
    out = tmp_path / "seeds.json"
    seeds.main(["--models", "linear", "--seeds", "0-1", "--epochs", "1", "--jobs", "1", "--out", str(out),
                "--readme", str(readme)])
    results = json.loads(out.read_text())
    runs = [(run["model"], run["seed"], run["epochs"]) for run in results["runs"]]
    assert runs == [("linear", 0, 1), ("linear", 1, 1)]
    for run in results["runs"]:
        assert 0 <= run["silent_code_channels_after_epoch_1"] <= 32 and run["collapsed"] is False
        assert 0 < run["test_mse"] < 0.07  # one epoch of 30, early in the warm-up: far from done, far from dead
    assert results["models"]["linear"]["seeds"] == [0, 1]
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "| linear | 0–1 |" in text
    assert "The first epoch of each recipe" in text and "old" not in text

    # A second study of the same kind adds to the file: seed 1 again replaces its run, seed 2 joins.
    seeds.main(["--models", "linear", "--seeds", "1-2", "--epochs", "1", "--jobs", "1", "--out", str(out),
                "--readme", str(readme)])
    merged = json.loads(out.read_text())
    assert [run["seed"] for run in merged["runs"]] == [0, 1, 2] and len(merged["commands"]) == 2
    assert merged["runs"][1]["test_mse"] == results["runs"][1]["test_mse"]  # same seed, same code: same numbers
    assert "`, then `python -m ae.seeds --models linear --seeds 1-2" in readme.read_text()
    assert {run["command"] for run in merged["runs"]} == set(merged["commands"])

    # Another peak learning rate is another study: its own file, the README's tables untouched.
    before = readme.read_text()
    seeds.main(["--models", "linear", "--seeds", "0", "--epochs", "1", "--jobs", "1", "--max-lr", "1e-3",
                "--out", str(tmp_path / "lr.json"), "--readme", str(readme)])
    (run,) = json.loads((tmp_path / "lr.json").read_text())["runs"]
    assert run["recipe"]["max_lr"] == 1e-3 and run["recipe"]["batch_size"] == 32 and readme.read_text() == before


def test_the_summary_counts_dead_seeds_and_the_spread():
    runs = [{"model": "conv", "seed": s, "silent_code_channels_after_epoch_1": silent, "collapsed": collapsed,
             "test_mse": mse} for s, silent, collapsed, mse in [(0, 0, False, 0.0100), (1, 2, False, 0.0104),
                                                                 (2, 0, True, 0.0110), (3, 0, False, 0.0102)]]
    model = seeds.summary(runs)["conv"]
    assert model["seeds_with_dead_units"] == [1, 2]
    assert model["spread"] == 1.1 and (model["test_mse_min"], model["test_mse_max"]) == (0.0100, 0.0110)
    table = seeds.readme_table({"runs": runs, "models": {"conv": model}, "epochs": None, "device": "cpu",
                                "commands": ["--seeds 0-3"], "measured_on": "today"})
    assert "| conv | 0–3 | 2 of 4 (1: 2, 2: 0 (collapsed)) | 0.01000 to 0.01100 | 1.100 |" in table


def test_seed_lists():
    assert seeds.seed_list("0-4") == [0, 1, 2, 3, 4] and seeds.seed_list("0,2,7") == [0, 2, 7]


def study_run(model, seed, max_lr, command, start=None):
    return {"model": model, "seed": seed, "recipe": {"max_lr": max_lr}, "start": start or {"he": True},
            "command": command, "silent_code_channels_after_epoch_1": 0, "collapsed": False, "test_mse": 0.01}


def test_a_changed_recipe_drops_the_runs_of_the_old_one():
    earlier = {"device": "cpu", "commands": ["--models linear", "--models denoise"],
               "runs": [study_run("linear", 0, 3e-3, "--models linear"),
                        study_run("denoise", 0, 2e-3, "--models denoise"),
                        study_run("denoise", 1, 2e-3, "--models denoise")]}
    now = [study_run("denoise", 1, 5e-3, "--models denoise --seeds 1")]
    assert seeds.merged(earlier, now) == [earlier["runs"][0], now[0]]


def test_a_changed_start_drops_the_runs_of_the_old_one():
    earlier = {"device": "cpu", "commands": ["--models upsample"],
               "runs": [study_run("upsample", 0, 5e-3, "--models upsample"),
                        study_run("upsample", 1, 5e-3, "--models upsample")]}
    now = [study_run("upsample", 1, 5e-3, "--models upsample --seeds 1", start={"he": False})]
    assert seeds.merged(earlier, now) == now
    assert seeds.merged(earlier, [{**now[0], "start": {"he": True}}])[0] == earlier["runs"][0]


def test_a_recipe_read_back_from_a_study_equals_the_same_recipe_now():
    recipe = seeds.RECIPES["denoise"]  # its noise range is a tuple, which JSON gives back as a list
    assert json.loads(json.dumps(seeds.recipe_record(recipe))) == seeds.recipe_record(recipe)


def test_each_kind_of_study_has_its_own_name():
    assert seeds.study_name(None) == "seeds" and seeds.study_name(1) == "seeds-epoch1"
    assert seeds.study_name(None, "cuda") == "seeds-cuda"
    assert seeds.study_name(None, "cuda", 3e-3) == "seeds-cuda-lr0.003"
