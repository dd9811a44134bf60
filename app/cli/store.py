"""``modeldesk store copy SOURCE DESTINATION``: move a personal store into a team store."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(commands: Any) -> None:
    store = commands.add_parser("store", help="the store itself: copy it into another database")
    sub = store.add_subparsers(dest="action", required=True, parser_class=type(store))

    p = sub.add_parser(
        "copy",
        help="copy every row, Optuna study and artifact into another store (resumable)",
        description="Copy a store (e.g. your SQLite file) into another, empty one (e.g. the "
        "team's PostgreSQL database): rows with their ids, Optuna studies, artifacts checked by "
        "SHA-256, and the audit chain, verified and anchored on the copy. Run it again after "
        "an interruption to resume.",
    )
    p.add_argument(
        "urls",
        nargs="+",
        metavar="URL",
        help="SOURCE_URL DESTINATION_URL (an SQLite file path is fine), or only the "
        "destination to copy the store given with --store / MODELDESK_STORE",
    )
    p.add_argument("--store", metavar="URL", help="the source when only one URL is given")
    p.add_argument(
        "--artifacts",
        metavar="DEST",
        help="the destination's artifact folder or location (s3://bucket/prefix; default: "
        "MODELDESK_ARTIFACTS, or beside an SQLite destination)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=copy, opens_stores=True)


class _Status:
    """Progress as lines on stderr, only when the status changes."""

    def __init__(self) -> None:
        self.last: str | None = None

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        if status and status != self.last and sys.stderr.isatty():
            print(status, file=sys.stderr)
        self.last = status or self.last

    def check_cancelled(self) -> None:
        return None


def copy(_services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.errors import InvalidInput
    from app.core.paths import resolve_store_url
    from app.core.store_copy import copy_store

    if len(args.urls) > 2:
        raise InvalidInput(
            f"store copy takes SOURCE_URL DESTINATION_URL; got {len(args.urls)} URLs.",
            hint="Quote a URL that contains spaces or shell characters.",
        )
    source = args.urls[0] if len(args.urls) == 2 else resolve_store_url(args.store)
    destination = args.urls[-1]
    report = copy_store(source, destination, artifacts_dir=args.artifacts, progress=_Status())
    if report.already_done:
        return report.to_dict(), (
            f"{report.source} was already copied into {report.destination}; nothing to do."
        )
    rows = sum(report.rows.values())
    verb = "Resumed and finished copying" if report.resumed else "Copied"
    return report.to_dict(), (
        f"{verb} {report.source} into {report.destination}: {rows} rows in "
        f"{len(report.rows)} tables, {report.studies} Optuna "
        f"stud{'y' if report.studies == 1 else 'ies'}, {report.artifacts} artifact(s) "
        f"({report.artifact_bytes:,} bytes); the audit log ({report.audit_entries} entries) "
        "verifies and is anchored."
    )
