"""``modeldesk tune DATASET[@V] --target COL [--estimators rf,hgb,…|all] …``.

Creates an Optuna study on the ModelDesk store (or resumes the one named by ``--study``) and
runs it with a progress bar showing the best value so far; ``--workers N`` runs N child
processes. The search space is the catalog's, edited with ``--space EST.PARAM=LOW:HIGH[:log]``
/ ``EST.PARAM=a,b`` / ``EST.PARAM=default`` and ``--fix EST.PARAM=VALUE``; a bad entry is
refused, by name, before any trial runs. Ctrl+C stops after the running trials; running the
same command again resumes the study.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar


def register(commands: Any) -> None:
    p = commands.add_parser(
        "tune",
        help="search hyperparameters (and estimators) with Optuna",
        description="Tune hyperparameters with Optuna; every trial is also a run. The study "
        "is stored in Optuna's own storage on the ModelDesk store, so optuna-dashboard opens it.",
    )
    p.add_argument("dataset", metavar="DATASET[@V]", nargs="?", help="omit to resume --study")
    p.add_argument("--target", "-t", metavar="COL", help="column to predict")
    p.add_argument(
        "--estimators", "-e", default="all", metavar="LIST",
        help="comma-separated catalog names or aliases (rf, hgb, knn, …), or 'all' (default)",
    )  # fmt: skip
    p.add_argument("--metric", "-m", metavar="M", help="metric to optimise (default: the task's)")
    p.add_argument("--direction", choices=("maximize", "minimize"), help="default: the metric's")
    p.add_argument(
        "--second-objective", choices=("latency", "model_size"),
        help="a second objective to minimise (multi-objective study, Pareto front)",
    )  # fmt: skip
    p.add_argument("--trials", "-n", type=int, metavar="N", help="trial budget (default 20)")
    p.add_argument("--timeout", type=float, metavar="S", help="time budget in seconds")
    p.add_argument("--workers", "-w", type=int, metavar="N", help="worker processes (default 1)")
    p.add_argument("--sampler", help="tpe, random, cmaes, gp, qmc, nsga2")
    p.add_argument("--pruner", help="median, halving, hyperband, none")
    p.add_argument("--study", metavar="NAME", help="study name; an existing study is resumed")
    p.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="EST.PARAM=RANGE",
        help="edit the space: 2:16, 0.01:1:log, a,b,c or default (repeatable)",
    )
    p.add_argument("--fix", action="append", default=[], metavar="EST.PARAM=VALUE",
                   help="hold a parameter fixed (repeatable)")  # fmt: skip
    p.add_argument("--cv", type=int, default=5, metavar="K", help="folds (default 5)")
    p.add_argument("--test-size", type=float, default=0.2, metavar="SHARE")
    p.add_argument("--task", choices=("binary", "multiclass", "regression"))
    p.add_argument("--exclude", action="append", default=[], metavar="COL")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--experiment", default="Default")
    p.add_argument("--recipe", metavar="NAME[@V]", help="prepare recipe run first in every trial")
    p.add_argument(
        "--verbose", "-v", action="store_true",
        help="show Optuna's log (each trial, and a failed trial's traceback) on stderr",
    )  # fmt: skip
    add_common(p)
    p.set_defaults(handler=tune)


def tune(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    import optuna

    from app.core.errors import InvalidInput
    from app.core.tuning import StudyRequest, parse_edit

    # Optuna logs every trial at INFO and a failed one with its traceback; the progress bar
    # and the summary say what matters, and a study whose every trial failed is an error.
    optuna.logging.set_verbosity(optuna.logging.INFO if args.verbose else optuna.logging.ERROR)
    if args.workers is not None and not 1 <= args.workers <= 64:
        raise InvalidInput(f"--workers must be 1 to 64; got {args.workers}.")
    tuning = services.tuning
    name = args.study
    existing = name is not None and name in {s.study_name for s in tuning.storage.get_all_studies()}
    if not existing:
        if not args.dataset:  # no --target: the dataset's stored target (checked in core)
            raise InvalidInput(
                "Name the dataset to start a study.",
                hint="Or give --study NAME of an existing study to resume it.",
            )
        request = StudyRequest(
            dataset=args.dataset,
            target=args.target,
            estimators=args.estimators,
            metric=args.metric,
            direction=args.direction,
            second_objective=args.second_objective,
            space=tuple(
                [parse_edit(e) for e in args.space] + [parse_edit(e, fixed=True) for e in args.fix]
            ),
            sampler=args.sampler,
            pruner=args.pruner,
            n_trials=args.trials if args.trials is not None or args.timeout else 20,
            timeout=args.timeout,
            workers=1 if args.workers is None else args.workers,
            seed=args.seed,
            folds=args.cv,
            test_size=args.test_size,
            task=args.task,
            exclude=tuple(args.exclude),
            name=name or "",
            experiment=args.experiment,
            recipe=args.recipe,
        )
        name = tuning.create(request).name  # refuses a bad space before any trial
    with ProgressBar(f"tune {name}") as bar:
        summary = tuning.optimize(
            name, n_trials=args.trials, timeout=args.timeout, workers=args.workers, progress=bar
        )
    return summary_text(summary, resumed=existing)


def summary_text(summary: Any, *, resumed: bool = False) -> tuple[dict[str, Any], str]:
    payload = summary.to_dict()
    counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(summary.counts.items())) or "none"
    lines = [
        f"Study '{summary.name}' {'resumed, ' if resumed else ''}{summary.status}: "
        f"{summary.done} trial(s) of {summary.budget or 'a time budget'} ({counts}).",
        f"  dataset {summary.dataset}, target '{summary.target}', estimators "
        f"{', '.join(summary.estimators)}; sampler {summary.sampler}, pruner {summary.pruner}.",
    ]
    if summary.best_values is not None:
        values = ", ".join(
            f"{k} {v:.4f}" for k, v in zip(summary.objectives, summary.best_values, strict=False)
        )
        lines.append(f"  best: trial {summary.best_trial} (run {summary.best_run_id}): {values}")
        if summary.pareto_size:
            runs = ", ".join(str(r) for r in summary.best_run_ids)
            lines.append(f"  Pareto front: {summary.pareto_size} trial(s) (runs {runs})")
        params = ", ".join(f"{k}={v}" for k, v in (summary.best_params or {}).items())
        lines.append(f"  params: {params}")
    lines.append(f"  parent run {summary.parent_run_id}; `modeldesk studies show {summary.name}`")
    if summary.best_run_ids:
        lines.append(f"  register it: `modeldesk studies best {summary.name} --register NAME`")
    return payload, "\n".join(lines)
