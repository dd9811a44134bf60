"""``modeldesk runs list|show|compare|reproduce|export-code|rm|restore|estimators``."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar
from app.core.errors import InvalidInput

DEFAULT_METRICS = ("accuracy", "roc_auc", "r2", "rmse")


def register(commands: Any) -> None:
    runs = commands.add_parser("runs", help="list, inspect, compare and reproduce runs")
    sub = runs.add_subparsers(dest="action", required=True, parser_class=type(runs))

    p = sub.add_parser("list", help="list runs (filtered and sorted in the database)")
    p.add_argument(
        "--sort",
        default="id",
        metavar="KEY",
        help="metrics.NAME, params.NAME, a bare metric name or a run attribute",
    )
    p.add_argument("--asc", action="store_true", help="ascending (default descending)")
    p.add_argument(
        "--filter",
        metavar="EXPR",
        help="e.g. \"metrics.accuracy > 0.9 and estimator = 'random_forest'\"",
    )
    p.add_argument("--limit", type=int, default=20, metavar="N", help="0 = all (default 20)")
    p.add_argument(
        "--columns", metavar="KEYS", help="comma-separated metrics.X / params.Y columns to show"
    )
    p.add_argument("--deleted", action="store_true", help="include deleted runs")
    p.add_argument(
        "--include-partial",
        action="store_true",
        help="let the partial metrics of failed, cancelled and pruned runs count in --sort "
        "and --filter (by default they sort last and match no metric clause)",
    )
    add_common(p)
    p.set_defaults(handler=list_, reads_only=lambda a: not a.filter)

    p = sub.add_parser("show", help="everything about one run")
    p.add_argument("run_id", type=int, metavar="ID")
    add_common(p)
    p.set_defaults(handler=show)

    p = sub.add_parser("compare", help="parameters and metrics of runs side by side")
    p.add_argument("run_ids", type=int, nargs="+", metavar="ID")
    add_common(p)
    p.set_defaults(handler=compare)

    p = sub.add_parser("reproduce", help="train a run's recipe again (same data and seed)")
    p.add_argument("run_id", type=int, metavar="ID")
    add_common(p)
    p.set_defaults(handler=reproduce)

    p = sub.add_parser("export-code", help="write a standalone pandas + scikit-learn script")
    p.add_argument("run_id", type=int, metavar="ID")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--data", metavar="PATH", help="data file the script reads by default")
    add_common(p)
    p.set_defaults(handler=export_code)

    for action, handler, text in (
        ("rm", rm, "delete runs (restorable)"),
        ("restore", restore, "restore deleted runs"),
    ):
        p = sub.add_parser(action, help=text)
        p.add_argument("run_ids", type=int, nargs="+", metavar="ID")
        add_common(p)
        p.set_defaults(handler=handler)

    p = sub.add_parser("estimators", help="the estimator catalog and its parameters")
    p.add_argument("--task", choices=("binary", "multiclass", "regression"))
    add_common(p)
    p.set_defaults(handler=estimators)


# -- helpers ----------------------------------------------------------------------------------


def _sort_key(sort: str) -> str:
    from app.core.store.listing import RUN_ATTRIBUTES

    if sort.startswith(("metrics.", "params.")) or sort in RUN_ATTRIBUTES:
        return sort
    return f"metrics.{sort}"  # a bare metric name, "cv.accuracy" included


def _some(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" … ({len(names)} in all)" if len(names) > limit else "")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def _partial(text: str, partial: bool) -> str:
    return f"{text}*" if partial and text != "-" else text


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


# -- handlers ---------------------------------------------------------------------------------


def _check_keys(keys: list[str], params: list[str], metrics: list[str], what: str) -> None:
    """Refuse a metric or parameter no run has (a typo would sort by nothing, silently)."""
    from app.core.store.listing import RUN_ATTRIBUTES

    for key in keys:
        kind, _, name = key.partition(".")
        if key in RUN_ATTRIBUTES or name in {"metrics": metrics, "params": params}.get(kind, ()):
            continue
        main = [m for m in metrics if not m.startswith("cv.") and not m.endswith("_std")]
        raise InvalidInput(
            f"No run has a {'parameter' if kind == 'params' else 'metric'} '{name}' to {what}.",
            hint=f"Use a metric ({_some(main)}), params.NAME ({_some(params)}) or a run "
            f"attribute ({', '.join(RUN_ATTRIBUTES)}).",
        )


def list_(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    """Without ``--filter`` the SQL of ``app.core.store.listing`` (no SQLAlchemy on a ready
    SQLite store); a filter is compiled by ``tracking.query`` and searched by the service."""
    from app.core.store import listing

    if args.limit < 0:
        raise InvalidInput(f"--limit must be 0 (all runs) or more; got {args.limit}.")
    sort = _sort_key(args.sort)
    param_keys, metric_keys = listing.run_keys(services.reader)
    if args.columns:
        columns = [_sort_key(c.strip()) for c in args.columns.split(",") if c.strip()]
    else:
        columns = [f"metrics.{m}" for m in DEFAULT_METRICS if m in metric_keys]
    if metric_keys or param_keys:  # an empty store sorts by anything: there is nothing
        _check_keys([sort], param_keys, metric_keys, "sort by")
        _check_keys(columns, param_keys, metric_keys, "show")
    if sort.startswith(("metrics.", "params.")) and sort not in columns:
        columns.insert(0, sort)
    query = {
        "sort": sort,
        "descending": not args.asc,
        "limit": args.limit or None,
        "columns": columns,
        "include_deleted": args.deleted,
        "include_partial": args.include_partial,
    }
    if args.filter:
        page = services.tracking.search(filter=args.filter, **query)
        total, runs = page.total, [r.to_dict() for r in page.runs]
        states = services.tracking.partial_states(r["id"] for r in runs)
    else:
        total, runs = listing.runs_page(services.reader, **query)
        states = listing.partial_states(services.reader, [r["id"] for r in runs])
    runs = [
        {**r, "partial": r["id"] in states, "state": states.get(r["id"], r["status"])} for r in runs
    ]
    payload = {"total": total, "runs": runs}
    if not runs:
        return payload, "No runs match." if total == 0 and args.filter else "No runs yet."
    header = ["ID", "STATUS", "ESTIMATOR", "TARGET", "STARTED"] + [
        c.partition(".")[2] for c in columns
    ]
    rows = [
        [
            str(r["id"]) + (" (deleted)" if r["deleted"] else ""),
            r["state"],
            r["estimator"] or "-",
            r["target"] or "-",
            r["started_at"][:16].replace("T", " "),
            *(_partial(_fmt(r.get(c)), r["partial"]) for c in columns),
        ]
        for r in runs
    ]
    text = _table(header, rows)
    if any(r["partial"] and any(r.get(c) is not None for c in columns) for r in runs):
        note = "ranked, as asked" if args.include_partial else "left out of --sort and --filter"
        text += f"\n(* partial: the run stopped before every fold was scored; {note})"
    if total > len(runs):
        text += f"\n({len(runs)} of {total} runs; --limit 0 shows all)"
    return payload, text


def _folds(services: Any, run: Any) -> dict[str, list[float]]:
    return {
        key[3:]: [value for _, value, _ in services.tracking.metric_history(run.id, key)]
        for key in sorted(run.metrics)
        if key.startswith("cv.")
    }


def show(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    run = services.tracking.get(args.run_id)
    payload = run.to_dict()
    payload["folds"] = _folds(services, run)
    lines = [
        f"Run {run.id}  {run.name}",
        f"  status     {run.status}" + (f" — {run.error}" if run.error else ""),
        f"  estimator  {run.estimator or '-'}   task {run.task or '-'}   target "
        f"{run.target or '-'}",
        f"  dataset    {run.tags.get('dataset', run.dataset_version_id or '-')}   seed "
        f"{_fmt(run.seed)}",
        f"  started    {run.started_at:%Y-%m-%d %H:%M:%S}   duration "
        f"{_fmt(run.duration) + ' s' if run.duration is not None else '-'}",
        f"  python     {run.env.get('python', '-')}   modeldesk {run.env.get('modeldesk', '-')}"
        f"   scikit-learn {run.env.get('packages', {}).get('scikit-learn', '-')}",
    ]
    git = run.env.get("git")
    if git:
        commit = (git.get("commit") or "no commit yet")[:12]
        branch = f" on {git['branch']}" if git.get("branch") else " (detached HEAD)"
        dirty = ", with uncommitted changes" if git.get("dirty") else ""
        lines.append(f"  git        {commit}{branch}{dirty}   in {git.get('root', '-')}")
    if run.note:
        lines.append(f"  note       {run.note}")
    if run.params:
        lines.append("Parameters")
        lines += [f"  {k:<24} {v}" for k, v in sorted(run.params.items())]
    metrics = {k: v for k, v in run.metrics.items() if not k.startswith("cv.")}
    if metrics:
        lines.append("Metrics")
        folds = payload["folds"]
        for k, v in sorted(metrics.items()):
            per_fold = folds.get(k)
            extra = f"   folds {', '.join(f'{x:.4f}' for x in per_fold)}" if per_fold else ""
            lines.append(f"  {k:<24} {_fmt(v)}{extra}")
    if run.tags:
        lines.append("Tags")
        lines += [f"  {k:<24} {v}" for k, v in sorted(run.tags.items())]
    if run.artifacts:
        lines.append("Artifacts")
        lines += [
            f"  {a.name:<28} {a.kind:<10} {a.size:>10,}  {a.sha256[:16]}…" for a in run.artifacts
        ]
    return payload, "\n".join(lines)


def compare(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.training.metrics import LOWER_IS_BETTER

    if len(args.run_ids) < 2:
        raise InvalidInput("Compare needs two or more run ids.")
    runs = [services.tracking.get(i) for i in args.run_ids]
    ids = [r.id for r in runs]
    param_keys = sorted({k for r in runs for k in r.params})
    metric_keys = sorted({k for r in runs for k in r.metrics if not k.startswith("cv.")})
    params = {k: {r.id: r.params.get(k) for r in runs} for k in param_keys}
    differ = [k for k, vals in params.items() if len(set(vals.values())) > 1]
    metrics = {k: {r.id: r.metrics.get(k) for r in runs} for k in metric_keys}
    best: dict[str, int] = {}
    for key, vals in metrics.items():
        present = {i: v for i, v in vals.items() if v is not None}
        if len(present) > 1 and not key.endswith("_std"):
            base = key.rpartition(".")[2]
            pick = min if base in LOWER_IS_BETTER else max
            best[key] = pick(present, key=present.__getitem__)
    attrs = {
        r.id: {
            "name": r.name,
            "estimator": r.estimator,
            "status": r.status,
            "task": r.task,
            "dataset": r.tags.get("dataset"),
            "seed": r.seed,
        }
        for r in runs
    }
    payload = {
        "runs": ids,
        "attributes": attrs,
        "params": params,
        "params_differ": differ,
        "metrics": metrics,
        "best": best,
        "folds": {r.id: _folds(services, r) for r in runs},
    }
    header = ["", *(f"#{i}" for i in ids)]
    rows = [
        ["estimator", *(_fmt(attrs[i]["estimator"]) for i in ids)],
        ["dataset", *(_fmt(attrs[i]["dataset"]) for i in ids)],
    ]
    rows += [
        [("* " if k in differ else "  ") + k, *(_fmt(params[k][i]) for i in ids)]
        for k in param_keys
    ]
    rows += [
        [f"  {k}", *(_fmt(metrics[k][i]) + (" ◀" if best.get(k) == i else "") for i in ids)]
        for k in metric_keys
    ]
    text = _table(header, rows) + "\n(* parameter differs; ◀ best value)"
    return payload, text


def reproduce(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.cli.train import run_summary

    with ProgressBar(f"reproduce #{args.run_id}") as bar:
        new_id, _ = services.training.reproduce(args.run_id, progress=bar)
    payload, text = run_summary(services.tracking.get(new_id))
    differences = services.training.compare_reproduction(args.run_id, new_id)
    payload.update(reproduces=args.run_id, same_metrics=not differences, differences=differences)
    verdict = (
        f"Same metrics as run {args.run_id}."
        if not differences
        else f"Metrics differ from run {args.run_id}: " + ", ".join(differences)
    )
    return payload, f"{text}\n{verdict}"


def export_code(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.cli.output import output_file, write_text

    out = output_file(args.output)
    write_text(out, services.training.export_code(args.run_id, data_path=args.data))
    return {"run_id": args.run_id, "path": str(out)}, f"Wrote {out}"


def rm(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    for run_id in args.run_ids:
        services.tracking.delete(run_id)
    ids = " ".join(map(str, args.run_ids))
    return {"deleted": args.run_ids}, (
        f"Deleted run(s) {ids}. Restore with: modeldesk runs restore {ids}"
    )


def restore(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    for run_id in args.run_ids:
        services.tracking.restore(run_id)
    return {"restored": args.run_ids}, f"Restored run(s) {' '.join(map(str, args.run_ids))}."


def estimators(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.training.catalog import ESTIMATORS, for_task

    specs = for_task(args.task) if args.task else list(ESTIMATORS.values())
    payload = [s.to_dict() for s in specs]
    lines = []
    for s in specs:
        lines.append(f"{s.name:<24} {s.title} ({', '.join(s.tasks)})")
        for p in s.params:
            extra = (
                f" {list(p.choices)}"
                if p.choices
                else (f" [{_fmt(p.low)}, {_fmt(p.high)}]" if p.low is not None else "")
            )
            lines.append(f"    {p.name:<20} {p.kind:<12} default {p.default!s:<10}{extra}")
    from app.core.training.catalog import missing

    for name, command in missing().items():  # optional libraries not installed here
        lines.append(f"{name:<24} not installed: {command}")
        payload.append({"name": name, "installed": False, "install": command})
    return payload, "\n".join(lines)
