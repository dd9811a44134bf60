"""``modeldesk monitor NAME@ALIAS``: drift of a model's current data, for cron and CI.

    modeldesk monitor churn@champion --deployment 3 --window day --html drift.html
    modeldesk monitor churn@champion --log /var/log/churn --window hour
    modeldesk monitor churn@champion --batch new.csv --json
    modeldesk monitor churn@champion --dataset sales@7 --on-alert 'notify-send drift'

Each report is stored (the Monitor panel draws the trend from them). Exit code 3 when a
report reaches ``--fail-on`` (``alert`` by default, ``warning`` for the cautious), after
``--on-alert CMD`` has run on an alert (with MODELDESK_MODEL, MODELDESK_REPORT_ID,
MODELDESK_STATUS and MODELDESK_RULES in its environment); with ``--json`` the reports are
printed in both cases. Each report names the rule that set its status (verdict.py): a
drifted feature that matters to the model (``importance``), most features drifting
(``share``), the predictions (``prediction``) or the metric on labelled rows (``metrics``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar
from app.core.errors import InvalidInput, ModelDeskError


class DriftAlert(ModelDeskError):
    """A report reached ``--fail-on``: scripts act on exit code 3; ``--json`` still gets the
    reports."""

    exit_code = 3

    def __init__(self, message: str, payload: dict[str, Any]) -> None:
        super().__init__(message, hint="See the report for the drifted features.")
        self.payload = payload

    def to_dict(self) -> dict[str, Any]:
        return {**self.payload, **super().to_dict()}


def register(commands: Any) -> None:
    p = commands.add_parser(
        "monitor", help="data and prediction drift of a model version (exit 3 on alert)"
    )
    p.add_argument("ref", metavar="NAME@ALIAS", help="model version: name, name@3, name@alias")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--deployment", type=int, metavar="ID", help="its prediction log")
    source.add_argument("--batch", metavar="FILE", help="a data file (stored as a dataset)")
    source.add_argument("--dataset", metavar="NAME[@V]", help="a stored dataset version")
    source.add_argument(
        "--log", metavar="DIR", help="a prediction log folder (`modeldesk serve --log-dir DIR`)"
    )
    p.add_argument(
        "--window", choices=("hour", "day", "week"), help="one report per window of a log"
    )
    p.add_argument(
        "--fail-on",
        choices=("warning", "alert"),
        default="alert",
        help="exit 3 when a report is at least this bad (default: alert)",
    )
    p.add_argument("--html", metavar="FILE", help="write the (last) report as HTML")
    p.add_argument("--on-alert", metavar="CMD", help="shell command to run on an alert")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a drift threshold, e.g. --set psi_alert=0.3 (repeatable)",
    )
    p.add_argument("--no-store", action="store_true", help="do not keep the report(s)")
    add_common(p)
    p.set_defaults(handler=monitor)


def _settings(pairs: list[str]) -> Any:
    from app.core.monitoring import DriftSettings

    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput(f"--set expects KEY=VALUE, got '{pair}'.")
        values[key.strip()] = value.strip()
    try:
        return DriftSettings.from_dict(values)
    except ValueError as exc:
        raise InvalidInput(f"--set: {exc}") from exc


def render_text(report: Any) -> str:
    model = report.model or {}
    head = (
        f"{model.get('name')}@{model.get('version')}  {report.status.upper()}  "
        f"{report.n_drifted}/{len(report.features)} features drifted  "
        f"current: {report.current.get('label')} ({report.current.get('rows'):,} rows)  "
        f"reference: {report.reference.get('label')} ({report.reference.get('rows'):,} rows)"
    )
    if report.id is not None:
        head += f"  [report {report.id}]"
    head += "\n" + (report.verdict or report.status)
    for note in report.notes:
        head += f"\nnote: {note}"
    rows = [["FEATURE", "METHOD", "VALUE", "THRESHOLD", "PSI", "IMPORTANCE", "STATUS", "WHY"]]
    feats = list(report.features) + ([report.prediction] if report.prediction else [])
    for f in feats:
        psi = f.stats.get("psi")
        rows.append(
            [
                f.name,
                f.method,
                "-" if f.value is None else f"{f.value:.4g}",
                f"{f.threshold:g}",
                "-" if psi is None else f"{psi:.3g}",
                "-" if f.importance is None else f"{f.importance:.1%}",
                f.status,
                "; ".join(f.reasons),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = [head] + [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows
    ]
    if report.metrics:
        for r in report.metrics["rows"]:
            if r.get("primary"):
                lines.append(
                    f"{r['metric']}: {r['current']:.4f} now, "
                    f"{r['training'] if r['training'] is None else format(r['training'], '.4f')}"
                    f" in training ({r['status']})"
                )
    return "\n".join(line.rstrip() for line in lines)


def monitor(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.cli.output import output_file
    from app.core.monitoring.report import STATUSES

    html = output_file(args.html, option="--html") if args.html else None  # before the work
    settings = _settings(args.set)
    with ProgressBar(f"monitor {args.ref}") as bar:
        reports = services.monitoring.check(
            args.ref,
            deployment=args.deployment,
            batch=args.batch,
            dataset=args.dataset,
            log=args.log,
            window=args.window,
            settings=settings,
            store=not args.no_store,
            progress=bar,
        )
    if html is not None:
        services.monitoring.export(reports[-1], html)
    payload = {
        "status": _worst(r.status for r in reports),
        "rules": sorted({rule for r in reports for rule in r.rules}),
        "reports": [r.to_dict() for r in reports],
    }
    text = "\n\n".join(render_text(r) for r in reports)
    alerts = [r for r in reports if r.status == "alert"]
    if alerts and args.on_alert:
        _run_hook(args.on_alert, alerts[-1])
    level = STATUSES.index(args.fail_on)
    failing = [r for r in reports if STATUSES.index(r.status) >= level]
    if failing:
        if not args.json:
            print(text)
        raise DriftAlert(
            f"Drift {payload['status']} for {args.ref}: "
            + "; ".join(
                (f"{r.window['start'][:16]}: " if r.window else "") + (r.verdict or r.status)
                for r in failing
            ),
            payload,
        )
    return payload, text


def _worst(statuses: Any) -> str:
    from app.core.monitoring.report import worst

    return worst(statuses)


def _run_hook(command: str, report: Any) -> None:
    """The user's own command, run as cron would run it: through the shell."""
    env = {
        **os.environ,
        "MODELDESK_MODEL": f"{report.model['name']}@{report.model['version']}",
        "MODELDESK_REPORT_ID": "" if report.id is None else str(report.id),
        "MODELDESK_STATUS": report.status,
        "MODELDESK_DRIFT_SHARE": f"{report.drift_share:.4f}",
        "MODELDESK_RULES": ",".join(report.rules),
    }
    done = subprocess.run(command, shell=True, env=env, check=False)
    if done.returncode != 0:
        print(f"warning: --on-alert command exited with {done.returncode}", file=sys.stderr)
