"""``modeldesk train DATASET[@V] --target COL [--estimator NAME] [--param k=v …] …``.

Trains in this process with a progress bar on stderr; the run lands in the store like one
started from the Runs panel. Bad input (unknown column or estimator, a parameter of the
wrong type, a target with one class, a regression target with text) is refused before any
run is created.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar
from app.core.errors import InvalidInput


def register(commands: Any) -> None:
    p = commands.add_parser(
        "train",
        help="train a model with cross-validation",
        description="Train a model on a dataset version with cross-validation; the run, its "
        "metrics, model and plots go into the store.",
    )
    p.add_argument("dataset", metavar="DATASET[@V]")
    p.add_argument("--target", "-t", metavar="COL", help="column to predict (default: stored)")
    p.add_argument(
        "--estimator",
        "-e",
        default=None,
        metavar="NAME",
        help="catalog name (default random_forest; `modeldesk runs estimators`)",
    )
    p.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="K=V",
        help="estimator parameter, repeatable",
    )
    p.add_argument(
        "--task",
        choices=("binary", "multiclass", "regression"),
        help="override the task inferred from the target",
    )
    p.add_argument("--cv", type=int, default=5, metavar="K", help="folds (default 5)")
    p.add_argument(
        "--validation",
        default="auto",
        choices=("auto", "kfold", "stratified", "repeated", "timeseries"),
    )
    p.add_argument("--repeats", type=int, default=2, help="repeats for --validation repeated")
    p.add_argument(
        "--test-size",
        type=float,
        default=0.2,
        metavar="SHARE",
        help="share of rows held out for testing (default 0.2; 0 = none)",
    )
    p.add_argument("--time-column", metavar="COL", help="order rows by it for time series")
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="COL",
        help="leave a column out, repeatable",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="", help="run name")
    p.add_argument("--experiment", default="Default")
    p.add_argument("--tag", action="append", default=[], metavar="K=V", help="run tag")
    p.add_argument("--no-plots", action="store_true", help="skip the diagnostic plots")
    p.add_argument(
        "--recipe",
        metavar="NAME[@V]",
        help="run this recipe first in the model's pipeline (raw rows in)",
    )
    p.add_argument(
        "--cluster",
        metavar="ADDR",
        help="fit the CV folds on a Dask cluster: tcp://HOST:8786 or local:N "
        "(default: MODELDESK_CLUSTER, else here)",
    )
    add_common(p)
    p.set_defaults(handler=train)


def parse_pairs(items: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"{item!r} is not a {what}.", hint=f"Write {what}s as KEY=VALUE.")
        out[key.strip()] = value.strip()
    return out


def request_from_args(args: argparse.Namespace) -> Any:
    from app.core.training.catalog import DEFAULT_ESTIMATOR
    from app.core.training.request import TrainRequest

    return TrainRequest(
        dataset=args.dataset,
        target=args.target,
        estimator=args.estimator or DEFAULT_ESTIMATOR,
        params=parse_pairs(args.param, "parameter"),
        task=args.task,
        validation=args.validation,
        folds=args.cv,
        repeats=args.repeats,
        test_size=args.test_size,
        seed=args.seed,
        time_column=args.time_column,
        exclude=tuple(args.exclude),
        plots=not args.no_plots,
        name=args.name,
        experiment=args.experiment,
        tags=parse_pairs(args.tag, "tag"),
        recipe=getattr(args, "recipe", None),
    )


def run_summary(run: Any) -> tuple[dict[str, Any], str]:
    """JSON payload and text for a trained run (shared with ``runs reproduce``)."""
    from app.core.training import metrics as M

    task = run.task or "regression"
    cv = {k: v for k, v in run.metrics.items() if k in M.names(task)}
    std = {k[:-4]: v for k, v in run.metrics.items() if k.endswith("_std")}
    test = {k[5:]: v for k, v in run.metrics.items() if k.startswith("test.")}
    payload = {
        "run_id": run.id,
        "name": run.name,
        "status": run.status,
        "error": run.error,
        "dataset": run.tags.get("dataset"),
        "dataset_version_id": run.dataset_version_id,
        "target": run.target,
        "task": run.task,
        "estimator": run.estimator,
        "seed": run.seed,
        "params": run.params,
        "validation": run.tags.get("validation"),
        "metrics": cv,
        "metrics_std": std,
        "test": test,
        "model_sha256": run.tags.get("model_sha256"),
        "notes": (run.recipe.get("plan") or {}).get("notes", []),
        "recipe": run.recipe.get("recipe"),
    }
    lines = [
        f"Run {run.id} {run.status}: {run.estimator} predicting '{run.target}' ({run.task}) "
        f"on {payload['dataset']}; {payload['validation']}, seed {run.seed}."
    ]
    lines += [f"  note: {n}" for n in payload["notes"]]
    if cv:
        lines.append(f"  {'METRIC':<20} {'CV MEAN':>10} {'± STD':>9} {'TEST':>10}")
        for key in M.names(task):
            if key in cv:
                test_text = f"{test[key]:>10.4f}" if key in test else f"{'-':>10}"
                lines.append(f"  {key:<20} {cv[key]:>10.4f} {std.get(key, 0.0):>9.4f} {test_text}")
    if run.error:
        lines.append(f"  error: {run.error}")
    return payload, "\n".join(lines)


def train(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    if args.cluster is not None:
        import os

        from app.core.cluster import CLUSTER_ENV, parse_cluster

        os.environ[CLUSTER_ENV] = parse_cluster(args.cluster) or ""  # the trainer reads it
    request = request_from_args(args)
    plan = services.training.validate(request)  # refuses bad input before any run exists
    with ProgressBar(f"train {plan.request.estimator}") as bar:
        run = services.training.train_inline(plan, progress=bar)
    return run_summary(run)
