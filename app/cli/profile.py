"""``modeldesk profile DATASET[@VERSION] [--target COL] [--html FILE] [--json]``.

Profiles a stored dataset version (or reads its cached profile), prints a summary with the
warnings, and optionally writes the self-contained HTML report. ``--json`` prints the profile
document itself.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar


def register(commands: Any) -> None:
    p = commands.add_parser(
        "profile",
        help="profile a dataset: statistics, associations, target, warnings",
        description="Profile a stored dataset version. The result is cached in the store per "
        "version and settings, so asking again is instant.",
    )
    p.add_argument("ref", metavar="DATASET[@VERSION]")
    p.add_argument("--target", metavar="COL", help="column to analyse as the target")
    p.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="how to treat the target (default: from its type)",
    )
    p.add_argument("--html", metavar="FILE", help="write the report as one HTML file")
    p.add_argument(
        "--sample",
        type=int,
        metavar="ROWS",
        help="rows sampled for associations and target analysis (default 100,000)",
    )
    p.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a warning threshold, e.g. high_missing=0.1 or skewness=2 (repeatable)",
    )
    p.add_argument("--refresh", action="store_true", help="recompute even when cached")
    add_common(p)
    p.set_defaults(handler=profile)


def profile(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from dataclasses import replace

    from app.cli.output import output_file
    from app.core.profiling import ProfileSettings

    html = output_file(args.html, option="--html") if args.html else None  # before the work
    target = args.target or services.datasets.resolve(args.ref).target  # else: the stored one
    settings = ProfileSettings(target=target, task=args.task)
    if args.sample is not None:  # 0 is a value to refuse, not "no sample"
        settings = replace(settings, sample_rows=args.sample)
    if args.threshold:
        settings = replace(settings, thresholds=thresholds(settings, args.threshold))
    with ProgressBar(args.ref) as bar:
        result = services.profiles.profile(args.ref, settings, progress=bar, refresh=args.refresh)
    payload = result.to_dict()
    lines = summary_lines(result.document, cached=result.cached, seconds=result.seconds)
    if html is not None:
        path = services.profiles.export_html(result, html)
        payload["html"] = str(path)
        lines.append(f"Wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return payload, "\n".join(lines)


def thresholds(settings: Any, pairs: list[str]) -> Any:
    """``--threshold NAME=VALUE`` options applied to the default thresholds."""
    from dataclasses import fields, replace

    from app.core.errors import InvalidInput

    known = {f.name: f.type for f in fields(settings.thresholds)}
    changes: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in known:
            raise InvalidInput(
                f"'{pair}' is not a threshold setting.",
                hint="Write NAME=VALUE with NAME one of " + ", ".join(sorted(known)) + ".",
            )
        try:
            changes[name] = int(value) if name == "high_cardinality" else float(value)
        except ValueError as exc:
            raise InvalidInput(f"The threshold {name} needs a number, not '{value}'.") from exc
    return replace(settings.thresholds, **changes)


def summary_lines(doc: dict[str, Any], *, cached: bool, seconds: float) -> list[str]:
    ov = doc["overview"]
    ref = doc.get("dataset", {}).get("ref", "dataset")
    how = "read from the store" if cached else f"computed in {seconds:.1f} s"
    dup = ov.get("duplicates") or {}
    lines = [
        f"{ref}  {ov['rows']:,} rows × {ov['columns']} columns  ({how})",
        f"missing cells {ov['missing_share'] * 100:.2f}% · duplicate rows "
        f"{dup.get('count', 0):,} · {len(doc.get('warnings', []))} warnings",
    ]
    lines += [
        f"{s['part'].capitalize()} on a sample of {s['rows']:,} of {s['of']:,} rows."
        for s in doc.get("samples", [])
        if s["rows"] < s["of"]
    ]
    lines += ["", f"{'COLUMN':<24} {'ROLE':<12} {'MISSING':>8} {'DISTINCT':>10}  SUMMARY"]
    for col in doc["columns"]:
        distinct = col.get("distinct")
        lines.append(
            f"{col['name'][:24]:<24} {col['role']:<12} "
            f"{col['missing_share'] * 100:>7.1f}% "
            f"{'' if distinct is None else f'{distinct:,}':>10}  {_gist(col)}"
        )
    tgt = doc.get("target")
    if tgt:
        lines += ["", f"TARGET {tgt['column']} ({tgt['task']}, {tgt['sample_rows']:,} rows)"]
        if tgt.get("classes"):
            lines.append(
                "  classes: "
                + ", ".join(f"{c['value']} {c['share'] * 100:.1f}%" for c in tgt["classes"][:8])
            )
        for feat in tgt["features"][:10]:
            lines.append(f"  {feat['name']:<24} MI {feat['mutual_information'] or 0:.4f}")
    warnings = doc.get("warnings", [])
    if warnings:
        lines += ["", "WARNINGS"]
        lines += [
            f"  {'!' if w['severity'] == 'warning' else '·'} [{w['kind']}] {w['message']}"
            for w in warnings
        ]
    return lines


def _gist(col: dict[str, Any]) -> str:
    if col.get("numeric"):
        n = col["numeric"]
        return f"mean {_num(n['mean'])}  min {_num(n['min'])}  max {_num(n['max'])}"
    if col.get("datetime"):
        from app.core.profiling.report_svg import when

        d = col["datetime"]
        return f"{when(d['min'])} → {when(d['max'])}"
    if col.get("boolean"):
        share = col["boolean"]["true_share"]
        return f"true {share * 100:.1f}%" if share is not None else ""
    top = col.get("top_values") or []
    return ", ".join(f"{v} ({c:,})" for v, c in top[:3])


def _num(v: Any) -> str:
    from app.core.profiling.report_svg import _fmt

    return _fmt(v)
