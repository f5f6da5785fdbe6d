"""The seed study: does each training recipe work on every seed, and how far apart do the seeds land?

    python -m ae.seeds --epochs 1 --seeds 0-9           # epoch 1 of every recipe: dead units per seed (minutes)
    python -m ae.seeds --seeds 0-4 --jobs 5 --device cuda   # whole runs: final test MSE per seed and its spread

Each run is `ae.train`'s own (same seeding, batch order, noise and one-cycle schedule) with the restart guard off,
so what the guard would hide is counted instead: the code channels (units, for the linear model) that no test
image switches on after the first epoch, and collapse to a single output image. Whole runs add the final test
MSE (the denoiser's at Gaussian noise 0.5) and, per model, the spread across seeds (largest / smallest).
Nothing is written to checkpoints/ but the study's JSON, one per kind (whole runs or runs cut at N epochs; on the
CPU or another device) and rewritten as each run ends, so a study cut short keeps what it finished. A study of
some models adds to the file of the same kind, replacing the runs it repeats and the runs of a recipe or a start
(ae.models) that has since changed, so models can be studied one at a time. docs/seeds.md's tables are spliced
from the files.
`--max-lr` tries another peak learning rate on the same seeds: a trial, its file in out/ and named after it.
"""

import argparse
import json
import sys
import time
from concurrent.futures import as_completed
from dataclasses import asdict, replace
from pathlib import Path

import torch

from .checkpoints import CHECKPOINT_DIR
from .models import MODELS
from .readme import publish
from .train import RECIPES, Recipe, eval_noise, side_by_side, start_training_process, train_run

REPO = Path(__file__).resolve().parent.parent
TRIAL_STUDIES = REPO / "out"  # studies of a recipe changed by --max-lr: trials, kept out of checkpoints/


def recipe_record(recipe: Recipe) -> dict:
    """A recipe as a study's JSON holds it (tuples as lists), so a run read back compares equal to a new one."""
    return json.loads(json.dumps(asdict(recipe)))


def one_run(name: str, recipe: Recipe, seed: int, epochs: int | None, device: str) -> dict:
    """Train `name` from `seed` for `epochs` of `recipe` (None: all of them) and report what happened."""
    train_x, test_x = start_training_process(device)
    started = time.perf_counter()
    _, history = train_run(name, recipe, seed, train_x, test_x, device, judge=False, stop_after=epochs)
    first = history[0]
    return {"model": name, "seed": seed, "epochs": len(history), "recipe": recipe_record(recipe),
            "start": MODELS[name].start,
            "silent_code_channels_after_epoch_1": first["silent_code_channels"], "collapsed": first["collapsed"],
            "test_mse": history[-1]["test_mse"], "test_mse_noise": eval_noise(recipe),
            "seconds": round(time.perf_counter() - started, 1)}


def summary(runs: list[dict]) -> dict:
    """Per model: seeds whose code lost units (or collapsed) in epoch 1, and the spread of the last test MSE."""
    models = {}
    for name in dict.fromkeys(run["model"] for run in runs):
        mine = [run for run in runs if run["model"] == name]
        errors = [run["test_mse"] for run in mine]
        models[name] = {"seeds": [run["seed"] for run in mine],
                        "seeds_with_dead_units": [run["seed"] for run in mine
                                                  if run["silent_code_channels_after_epoch_1"] or run["collapsed"]],
                        "test_mse_min": min(errors), "test_mse_max": max(errors),
                        "spread": round(max(errors) / min(errors), 4)}
    return models


def readme_table(results: dict) -> str:
    whole = results["epochs"] is None
    lines = [f"| model | seeds | dead code units after epoch 1 (seed: units) | "
             f"{'final test MSE, min to max' if whole else 'test MSE after epoch 1, min to max'} | spread |",
             "|---|---|---|---|---:|"]
    for name, model in results["models"].items():
        dead_seeds = model["seeds_with_dead_units"]
        dead = ", ".join(f"{run['seed']}: {run['silent_code_channels_after_epoch_1']}"
                         + (" (collapsed)" if run["collapsed"] else "")
                         for run in results["runs"] if run["model"] == name and run["seed"] in dead_seeds)
        lines.append(f"| {name} | {model['seeds'][0]}–{model['seeds'][-1]} | "
                     f"{len(dead_seeds)} of {len(model['seeds'])}{' (' + dead + ')' if dead else ''} | "
                     f"{model['test_mse_min']:.5f} to {model['test_mse_max']:.5f} | {model['spread']:.3f} |")
    commands = ", then ".join(f"`python -m ae.seeds {command}`" for command in results["commands"])
    lines += ["", f"{'Whole runs' if whole else 'The first epoch of each recipe'}, restart guard off, on "
                  f"{results['device']}; {commands}, {results['measured_on']}."]
    return "\n".join(lines) + "\n"


def study_name(epochs: int | None, device: str = "cpu", max_lr: float | None = None) -> str:
    """Whole runs and first-epoch replays, on the CPU or another device, of the recipes or of another peak learning
    rate, are separate studies: each has its JSON file and marker in docs/seeds.md."""
    return ("seeds" + (f"-epoch{epochs}" if epochs else "") + (f"-{device}" if device != "cpu" else "")
            + (f"-lr{max_lr:g}" if max_lr else ""))


def experiment(run: dict) -> tuple[dict, dict | None]:
    """What a run is a run of: its recipe and how its model started (ae.models, `start`)."""
    return run["recipe"], run.get("start")


def merged(earlier: dict, runs: list[dict]) -> list[dict]:
    """The runs of an earlier study of the same kind that this one keeps (neither repeated now nor of a recipe or
    start that has since changed), followed by this one's."""
    redone = {(run["model"], run["seed"]) for run in runs}
    experiments = {run["model"]: experiment(run) for run in runs}
    kept = [run for run in earlier["runs"] if (run["model"], run["seed"]) not in redone
            and experiment(run) == experiments.get(run["model"], experiment(run))]
    return kept + runs


def seed_list(text: str) -> list[int]:
    """'0-4' or '0,2,7' as a list of seeds."""
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(seed) for seed in text.split(",")]


def write(runs: list[dict], earlier: dict | None, command: str, device: str, epochs: int | None, out: Path,
          readme: Path, study: str) -> None:
    """The study so far, merged with an earlier one of the same kind on the same device, to `out` and docs/seeds.md.
    Each run names the command that made it, so the file lists the commands behind the runs it still holds."""
    commands = [command]
    if earlier is not None and earlier["device"] == device:
        runs, commands = merged(earlier, runs), earlier["commands"] + commands
    order = list(MODELS)
    runs = sorted(runs, key=lambda run: (order.index(run["model"]), run["seed"]))
    behind = {run["command"] for run in runs}
    results = {"runs": runs, "models": summary(runs), "epochs": epochs, "device": device,
               "commands": [command for command in dict.fromkeys(commands) if command in behind],
               "measured_on": f"{time.strftime('%Y-%m-%d')}, torch {torch.__version__}"}
    publish(results, out, readme, study, readme_table(results))


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description="Train every model on several seeds and compare.")
    parser.add_argument("--models", default="all", help=f"comma-separated, from {', '.join(MODELS)} (default: all)")
    parser.add_argument("--seeds", default="0-4", help="'0-4' or '0,2,7' (default: 0-4)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="stop after this many epochs of each recipe (default: whole runs)")
    parser.add_argument("--jobs", type=int, default=2, help="runs side by side, one process each (default: 2)")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--max-lr", type=float, default=None,
                        help="another peak learning rate for every model studied (default: each recipe's own)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON to write (default: checkpoints/<study>.json, as study_name names it: seeds.json "
                             "for whole runs on the CPU, seeds-epochN.json for runs cut at N epochs, ...; "
                             "out/<study>.json with --max-lr)")
    parser.add_argument("--readme", type=Path, default=REPO / "docs" / "seeds.md",
                        help="page whose tables to update (default: docs/seeds.md)")
    args = parser.parse_args(argv)

    names = list(MODELS) if args.models == "all" else args.models.split(",")
    recipes = {name: replace(RECIPES[name], max_lr=args.max_lr or RECIPES[name].max_lr) for name in names}
    study = study_name(args.epochs, args.device, args.max_lr)
    out = args.out or (TRIAL_STUDIES if args.max_lr else CHECKPOINT_DIR) / f"{study}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    earlier = json.loads(out.read_text()) if out.exists() else None
    command = " ".join(argv if argv is not None else sys.argv[1:])
    runs = []
    with side_by_side(args.jobs) as pool:
        futures = [pool.submit(one_run, name, recipes[name], seed, args.epochs, args.device)
                   for name in names for seed in seed_list(args.seeds)]
        for future in as_completed(futures):  # written as each run ends: a study cut short keeps what it finished
            runs.append({**future.result(), "command": command})
            write(runs, earlier, command, args.device, args.epochs, out, args.readme, study)


if __name__ == "__main__":
    main()
