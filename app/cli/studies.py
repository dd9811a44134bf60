"""``modeldesk studies list|show NAME|best NAME [--register MODEL]|stop NAME|export NAME -o
trials.csv|plot|delete``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli import add_common


def register(commands: Any) -> None:
    studies = commands.add_parser("studies", help="list, inspect, stop and export Optuna studies")
    sub = studies.add_subparsers(dest="action", required=True, parser_class=type(studies))

    p = sub.add_parser("list", help="every study in the store")
    add_common(p)
    p.set_defaults(handler=list_)

    p = sub.add_parser("show", help="a study: settings, counts, best trial and its trials")
    p.add_argument("name", metavar="NAME")
    add_common(p)
    p.set_defaults(handler=show)

    p = sub.add_parser(
        "best",
        help="the best trial (or Pareto front), its run and model; --register makes it a version",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--register", metavar="MODEL",
        help="register the best trial's model (each Pareto-optimal one's) as versions of MODEL",
    )  # fmt: skip
    p.add_argument("--description", default="", help="description of the registered version(s)")
    add_common(p)
    p.set_defaults(handler=best)

    p = sub.add_parser("stop", help="stop a running study after its running trials")
    p.add_argument("name", metavar="NAME")
    add_common(p)
    p.set_defaults(handler=stop)

    p = sub.add_parser("export", help="write the trials as CSV")
    p.add_argument("name", metavar="NAME")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    add_common(p)
    p.set_defaults(handler=export)

    p = sub.add_parser("plot", help="save one of Optuna's plots as PNG or SVG")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--kind", default="history",
                   help="history, importances, slice, contour, parallel, intermediate, pareto, "
                   "timeline, edf")  # fmt: skip
    p.add_argument("-o", "--output", required=True, metavar="FILE.png|FILE.svg")
    add_common(p)
    p.set_defaults(handler=plot)

    p = sub.add_parser("delete", help="remove a study (its runs stay)")
    p.add_argument("name", metavar="NAME")
    add_common(p)
    p.set_defaults(handler=delete)


def list_(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    studies = services.tuning.list()
    payload = [s.to_dict() for s in studies]
    if not studies:
        return payload, "No studies yet; start one with `modeldesk tune DATASET --target COL`."
    lines = [f"{'NAME':<36} {'STATUS':<10} {'TRIALS':>9} {'BEST':>10}  DATASET / TARGET"]
    for s in studies:
        best = f"{s.best_value:.4f}" if s.best_value is not None else "-"
        budget = f"{s.done}/{s.budget}" if s.budget else str(s.done)
        lines.append(
            f"{s.name[:36]:<36} {s.status:<10} {budget:>9} {best:>10}  "
            f"{s.dataset or '-'} / {s.target or '-'}"
        )
    return payload, "\n".join(lines)


def show(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.cli.tune import summary_text

    summary = services.tuning.summary(args.name)
    trials = services.tuning.trials(args.name)
    payload, text = summary_text(summary)
    payload["trials"] = [t.to_dict() for t in trials]
    lines = [text, "", f"  {'#':>4} {'STATE':<9} {'VALUE':>12} {'RUN':>6}  PARAMS"]
    for t in trials:
        value = ", ".join(f"{v:.4f}" for v in t.values) if t.values else "-"
        params = ", ".join(f"{k}={_short(v)}" for k, v in t.params.items())
        lines.append(f"  {t.number:>4} {t.state:<9} {value:>12} {t.run_id or '-':>6}  {params}")
        if t.error:
            lines.append(f"  {'':>4} {'':<9} {'':>12} {'':>6}  error: {t.error}")
    return payload, "\n".join(lines)


def best(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.errors import NotFound

    tuning = services.tuning
    summary = tuning.summary(args.name)
    if not summary.best_run_ids:
        raise NotFound(
            f"Study '{args.name}' has no completed trial yet, so there is no best model.",
            hint=f"Run it: `modeldesk tune --study {args.name}`.",
        )
    trials = {t.run_id: t for t in tuning.trials(args.name)}
    if args.register:
        versions = tuning.register_best(args.name, args.register, description=args.description)
        payload = {
            "study": args.name,
            "versions": [
                {"ref": f"{v.model_name}@{v.version}", "version": v.version, "run_id": v.run_id}
                for v in versions
            ],
        }
        lines = [
            f"Registered {v.model_name}@{v.version} from run {v.run_id} "
            f"(trial {trials[v.run_id].number if v.run_id in trials else '?'} of '{args.name}')."
            for v in versions
        ]
        return payload, "\n".join(lines)
    rows = []
    lines = [f"  {'#':>4} {'RUN':>6} {'MODEL':<6} VALUES / PARAMS"]
    for run_id in summary.best_run_ids:
        trial = trials.get(run_id)
        run = services.tracking.get(run_id)
        saved = run.artifact("model.skops") is not None
        values = dict(zip(summary.objectives, trial.values or (), strict=False)) if trial else {}
        rows.append(
            {
                "trial": trial.number if trial else None,
                "run_id": run_id,
                "values": values,
                "params": trial.params if trial else {},
                "model_saved": saved,
                "test_metrics": {k: v for k, v in run.metrics.items() if k.startswith("test.")},
            }
        )
        shown = ", ".join(f"{k} {v:.4f}" for k, v in values.items())
        params = ", ".join(f"{k}={_short(v)}" for k, v in (trial.params if trial else {}).items())
        number = trial.number if trial else "-"
        lines.append(f"  {number:>4} {run_id:>6} {'saved' if saved else '-':<6} {shown}; {params}")
    lines.append(f"Register: `modeldesk studies best {args.name} --register NAME`.")
    return {"study": args.name, "best": rows}, "\n".join(lines)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def stop(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    services.tuning.stop(args.name)
    return (
        {"name": args.name, "stop_requested": True},
        f"Study '{args.name}' will stop once its running trials end.",
    )


def export(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    rows = services.tuning.export_csv(args.name, args.output)
    return {"name": args.name, "path": args.output, "rows": rows}, (
        f"Wrote {rows} trial(s) of '{args.name}' to {args.output}."
    )


def plot(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.errors import InvalidInput

    path = Path(args.output)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise InvalidInput(f"Save plots as .png or .svg, not '{path.suffix or path.name}'.")
    data = services.tuning.plot(args.name, args.kind, fmt)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    return {"name": args.name, "kind": args.kind, "path": str(path), "bytes": len(data)}, (
        f"Wrote the {args.kind} plot of '{args.name}' to {path}."
    )


def delete(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    services.tuning.delete(args.name)
    return {"name": args.name, "deleted": True}, f"Deleted study '{args.name}'; its runs stay."
