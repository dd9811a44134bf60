"""``modeldesk retrain NAME@ALIAS --data DATASET[@V]``: champion/challenger on new data.

    modeldesk retrain churn@champion --data churn-2026-11 --promote-if-better --deploy

The champion's recipe is trained on the new data into a new version with alias
``challenger``; both are scored on those rows and shown side by side. With
``--promote-if-better`` a better challenger becomes ``champion`` through the registry's
policy (exit 3 if the policy refuses); with ``--deploy`` the new champion is built and run.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar


def register(commands: Any) -> None:
    p = commands.add_parser("retrain", help="train a challenger with the champion's recipe")
    p.add_argument("ref", metavar="NAME@ALIAS", help="the model version whose recipe to reuse")
    p.add_argument("--data", required=True, metavar="DATASET[@V]", help="the new labelled data")
    p.add_argument(
        "--promote-if-better",
        action="store_true",
        help="make the challenger champion when it scores better on the new data",
    )
    p.add_argument("--deploy", action="store_true", help="deploy the new champion if promoted")
    add_common(p)
    p.set_defaults(handler=retrain)


def retrain(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.monitoring.retrain import Retrainer

    retrainer = Retrainer(
        services.registry, services.training, services.datasets, services.monitoring
    )
    with ProgressBar(f"retrain {args.ref}") as bar:
        result = retrainer.retrain(
            args.ref, args.data, promote_if_better=args.promote_if_better, progress=bar
        )
    payload = result.to_dict()
    if args.deploy and result.promoted:
        with ProgressBar(f"deploy {result.challenger}") as bar:
            dep = services.deployments.deploy(result.challenger, progress=bar)
        payload["deployment"] = dep.to_dict()
    return payload, render(result, payload.get("deployment"))


def render(result: Any, deployment: dict[str, Any] | None = None) -> str:
    cmp = result.comparison

    def f(v: Any) -> str:
        return "-" if v is None else f"{v:.4f}"

    lines = [
        f"challenger {result.challenger} (run {result.run_id}) trained on {result.data} "
        f"with the recipe of {result.champion}",
        f"{'METRIC':<20} {'CHAMPION':>10} {'CHALLENGER':>12} {'± FOLDS':>9}",
    ]
    for r in cmp.rows:
        mark = " *" if r["metric"] == cmp.metric else ""
        lines.append(
            f"{r['metric'] + mark:<20} {f(r['champion']):>10} {f(r['challenger']):>12} "
            f"{f(r['challenger_std']):>9}"
        )
    lines.append(
        f"* decides ({'lower' if cmp.lower_is_better else 'higher'} is better): "
        f"the challenger is {'better' if cmp.better else 'not better'}; {result.decision}."
    )
    if result.champion_drift:
        from app.core.monitoring.retrain import drift_sentence

        lines.append(
            "drift of the new data from the champion's training data: "
            + drift_sentence(result.champion_drift)
        )
    if deployment:
        lines.append(f"deployed as {deployment.get('url')} (deployment {deployment.get('id')})")
    return "\n".join(lines)
