"""``modeldesk predict NAME@V|NAME@ALIAS FILE -o OUT``: batch scoring of a data file.

    modeldesk predict churn@champion customers.csv -o scores.parquet --proba --keep id
    modeldesk predict churn@3 march.xlsx -o march.csv --errors march-errors.csv

Any format ``datasets add`` reads goes in; the output is CSV or Parquet by OUT's extension,
one row per input row in the same order: the kept columns, ``prediction`` and, with
``--proba``, one ``proba_<class>`` column per class. The file is checked against the model's
signature as the server checks a request (a missing column is an error naming it; extra
columns are ignored, as ``mlflow models predict`` does). A row that cannot be scored stops
the command with the first such rows named and nothing written, unless ``--errors FILE``
asks to score the rest: those rows then get an empty prediction, FILE lists them, and the
output starts with a ``row`` column to join them on (row numbers count from 1, the first row
under the header).
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar
from app.core.errors import InvalidInput


def register(commands: Any) -> None:
    p = commands.add_parser("predict", help="score a data file with a registered model version")
    p.add_argument("ref", metavar="NAME@V|NAME@ALIAS", help="model version, e.g. churn@champion")
    p.add_argument("file", metavar="FILE", help="data to score (CSV, Parquet, Excel, JSON…)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="OUT.csv or OUT.parquet")
    p.add_argument("--proba", action="store_true", help="add one probability column per class")
    p.add_argument("--keep", metavar="COLS", help="comma-separated input columns to copy over")
    p.add_argument(
        "--errors",
        metavar="FILE",
        help="score the rows that can be, list the others in FILE (CSV) instead of stopping",
    )
    p.add_argument(
        "--max-errors",
        type=int,
        default=1000,
        metavar="N",
        help="with --errors: stop when more than N rows cannot be scored (default 1000)",
    )
    add_common(p)
    p.set_defaults(handler=predict)


def predict(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.scoring import score_file

    if args.max_errors < 1:
        raise InvalidInput(f"--max-errors must be at least 1, not {args.max_errors}.")
    keep = tuple(c.strip() for c in (args.keep or "").split(",") if c.strip())
    with ProgressBar(f"Scoring with {args.ref}") as bar:
        result = score_file(
            services.registry,
            args.ref,
            args.file,
            args.output,
            proba=args.proba,
            keep=keep,
            errors=args.errors,
            max_errors=args.max_errors,
            progress=bar,
        )
    text = (
        f"Scored {result.scored:,} of {result.rows:,} rows of {result.source.name} with "
        f"{result.model} in {result.seconds:.1f} s → {result.output}"
    )
    if result.errors:
        first = result.errors[0].sentence()
        text += (
            f"\n{len(result.errors):,} rows could not be scored and have no prediction; "
            f"they are listed in {result.errors_path} (first: {first})"
        )
    return result.to_dict(), text
