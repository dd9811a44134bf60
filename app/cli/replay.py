"""``modeldesk replay NAME@V --from-deployment ID [--window day] [--image [TAG]]``.

Sends a deployment's recorded requests to a candidate version and says where it answers
differently from production, with both latencies side by side. ``--min-agreement`` makes a
low agreement exit 3, as a drift alert does, so a script can hold a promotion back.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar
from app.core.errors import InvalidInput, ModelDeskError

SHOWN = 10  # differing requests listed in the text report


class LowAgreement(ModelDeskError):
    """The candidate agrees with production less than ``--min-agreement``."""

    exit_code = 3

    def __init__(self, message: str, payload: dict[str, Any]) -> None:
        super().__init__(message, hint="Look at the differing requests before promoting it.")
        self.payload = payload

    def to_dict(self) -> dict[str, Any]:
        return {**self.payload, **super().to_dict()}


def register(commands: Any) -> None:
    p = commands.add_parser(
        "replay",
        help="send a deployment's recorded requests to a candidate version and compare",
        description="Replay the requests in a deployment's prediction log against a "
        "candidate version (served locally, or as a container with --image) and report, per "
        "request and in total, where its answers differ from production's, with the "
        "latencies of both side by side.",
    )
    add_common(p)
    p.add_argument(
        "candidate", metavar="NAME@VERSION", help="the candidate (e.g. churn@challenger)"
    )
    p.add_argument("--from-deployment", dest="deployment", type=int, metavar="ID")
    p.add_argument("--log", metavar="DIR", help="a prediction log folder instead of a deployment")
    p.add_argument("--production", metavar="NAME@VERSION", help="who answered --log's requests")
    p.add_argument("--window", choices=("hour", "day", "week"), help="only the last hour/day/week")
    p.add_argument("--limit", type=int, metavar="N", help="only the last N requests")
    p.add_argument(
        "--image",
        nargs="?",
        const=True,
        metavar="TAG",
        help="run both sides as containers (the candidate from TAG if given)",
    )
    p.add_argument("--min-agreement", type=float, metavar="SHARE", help="exit 3 below (0–1)")
    p.add_argument("--per-request", action="store_true", help="list every request in --json")
    p.set_defaults(handler=replay)


def replay(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    if args.min_agreement is not None and not 0 <= args.min_agreement <= 1:
        raise InvalidInput(f"--min-agreement {args.min_agreement} must be between 0 and 1.")
    with ProgressBar(f"replay {args.candidate}") as bar:
        report = services.replays.replay(
            args.candidate,
            deployment=args.deployment,
            log=args.log,
            production=args.production,
            window=args.window,
            limit=args.limit,
            image=args.image,
            progress=bar,
        )
    payload = report.to_dict(per_request=args.per_request)
    if args.per_request is False:
        payload["differing"] = [
            {"request_id": r.request_id, "rows": r.differing} for r in report.results if r.differing
        ]
    text = "\n".join(_lines(report))
    if args.min_agreement is not None and report.agreement < args.min_agreement:
        if not args.json:
            print(text)
        raise LowAgreement(
            f"{report.candidate} agrees with {report.production} on {report.agreement:.2%} of "
            f"the replayed rows, below the {args.min_agreement:.2%} asked for.",
            payload,
        )
    return payload, text


def _lines(report: Any) -> list[str]:
    lat = report.latency_ms
    out = [
        f"Replayed {report.requests:,} requests ({report.rows:,} rows) of {report.source} "
        f"against {report.candidate} ({report.kind}).",
        f"  agreement   {report.agreement:.2%}  ({report.differing_rows:,} rows differ, in "
        f"{report.differing_requests:,} requests)",
    ]
    for side, label in (("production", report.production), ("candidate", report.candidate)):
        q = lat.get(side) or {}
        if q:
            out.append(
                f"  {side:<11} {label:<24} p50 {q['p50']:.2f} ms  p95 {q['p95']:.2f} ms  "
                f"p99 {q['p99']:.2f} ms"
            )
    if report.not_reproduced:
        out.append(
            f"  warning: production no longer answers {report.not_reproduced:,} of its own "
            "logged requests the same way; some differences may not be the candidate's."
        )
    shown = [r for r in report.results if r.differing][:SHOWN]
    for r in shown:
        first = r.differing[0]
        got = r.candidate[first] if r.candidate is not None else f"HTTP {r.candidate_status}"
        out.append(
            f"  {r.request_id}  {len(r.differing)}/{r.rows} rows differ (row {first}: "
            f"production {r.recorded[first]!r}, candidate {got!r})"
        )
    if report.differing_requests > len(shown):
        out.append(f"  … {report.differing_requests - len(shown):,} more (--json --per-request)")
    return out
