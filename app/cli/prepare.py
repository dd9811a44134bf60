"""``modeldesk prepare DATASET[@V] --recipe NAME[@V] [--name OUT]``.

Applies every step of the recipe (row steps included) to every row of the dataset version
and stores the result as a new dataset version (of OUT, by default the same dataset) whose
lineage names the recipe and its version. A dataset lacking a column the recipe needs is
refused before anything is read, naming the column.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar


def register(commands: Any) -> None:
    p = commands.add_parser(
        "prepare",
        help="apply a recipe to a dataset, making a new dataset version",
        description="Apply a recipe's steps to a dataset version; the result is stored as a "
        "new dataset version whose lineage names the recipe.",
    )
    p.add_argument("dataset", metavar="DATASET[@V]")
    p.add_argument("--recipe", "-r", required=True, metavar="NAME[@V]")
    p.add_argument("--name", metavar="OUT", help="dataset to store the result in (default: same)")
    add_common(p)
    p.set_defaults(handler=prepare)


def prepare(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    with ProgressBar(f"prepare {args.dataset}") as bar:
        version = services.recipes.apply(args.dataset, args.recipe, name=args.name, progress=bar)
    recipe = version.options.get("recipe", {})
    payload = {**version.to_dict(), "recipe": recipe, "input": version.options.get("input")}
    text = (
        f"Stored {version.ref} ({version.rows:,} rows × {version.cols} columns) from "
        f"{payload['input']} with recipe {recipe.get('name')}@{recipe.get('version')}."
    )
    return payload, text
