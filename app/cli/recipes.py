"""``modeldesk recipes list|show|export|import``: the recipe catalog from the command line.

``export NAME[@V]`` writes the recipe as JSON (``-o FILE.json``, or stdout) or, with
``--python``, as a readable pandas + scikit-learn module; ``import FILE`` stores it as the
next version of its name (or ``--name``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from app.cli import add_common
from app.core.errors import InvalidInput


def register(commands: Any) -> None:
    recipes = commands.add_parser("recipes", help="list, show, export and import recipes")
    sub = recipes.add_subparsers(dest="action", required=True, parser_class=type(recipes))

    p = sub.add_parser("list", help="every recipe: steps, columns needed and made, users")
    add_common(p)
    p.set_defaults(handler=list_)

    p = sub.add_parser("show", help="a recipe version's steps and where it is used")
    p.add_argument("ref", metavar="NAME[@V]")
    add_common(p)
    p.set_defaults(handler=show)

    p = sub.add_parser("export", help="write a recipe as JSON (or --python)")
    p.add_argument("ref", metavar="NAME[@V]")
    p.add_argument("-o", "--output", metavar="FILE", help="file to write (default: stdout)")
    p.add_argument("--python", action="store_true", help="readable pandas + scikit-learn code")
    add_common(p)
    p.set_defaults(handler=export)

    p = sub.add_parser("import", help="store a recipe JSON file as the next version")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", help="store under this name instead of the file's")
    add_common(p)
    p.set_defaults(handler=import_)


def list_(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    catalog = services.recipes.catalog()
    if not catalog:
        return (
            catalog,
            "No recipes yet. Build one on the Prepare panel or `modeldesk recipes import`.",
        )
    lines = []
    for item in catalog:
        used = []
        if item["datasets"]:
            used.append(f"{len(item['datasets'])} dataset version(s)")
        if item["runs"]:
            used.append(f"{len(item['runs'])} run(s)")
        if item["model_versions"]:
            used.append(f"{len(item['model_versions'])} model version(s)")
        lines.append(
            f"{item['name']}@{item['latest']}  ({item['versions']} version(s), "
            f"{len(item['steps'])} steps; used by {', '.join(used) or 'nothing yet'})"
        )
        lines.append(f"    needs:    {', '.join(item['needs']) or '-'}")
        lines.append(f"    produces: {', '.join(item['produces']) or '-'}")
    return catalog, "\n".join(lines)


def show(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    rv = services.recipes.resolve(args.ref)
    usages = services.recipes.usages(rv.ref)
    payload = {**rv.to_dict(), "usages": [u.to_dict() for u in usages]}
    lines = [f"{rv.ref}  {rv.description}".rstrip(), f"created {rv.created_at:%Y-%m-%d %H:%M}"]
    lines += [f"  {i + 1:>2}. {d}" for i, d in enumerate(payload["descriptions"])]
    lines.append(f"needs:    {', '.join(rv.needs) or '-'}")
    lines.append(f"produces: {', '.join(rv.produces) or '-'}")
    for u in usages:
        if u.kind == "dataset":
            lines.append(f"made dataset {u.dataset} from {u.input}")
        else:
            lines.append(f"trained run {u.run_id} on {u.input}")
    return payload, "\n".join(lines)


def export(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.cli.output import output_file, write_text

    path = output_file(args.output) if args.output else None
    if args.python:
        text = services.recipes.export_python(args.ref)
    else:
        text = json.dumps(services.recipes.export_json(args.ref), indent=2) + "\n"
    if path is not None:
        write_text(path, text)
        return {"ref": args.ref, "path": str(path)}, f"Wrote {path}"
    if args.json and not args.python:
        return json.loads(text), ""
    return {"ref": args.ref, "code": text}, text.rstrip("\n")


def import_(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    """Read and check the whole file first: a bad file stores nothing and names itself."""
    path = Path(args.file)
    again = "Fix the file, or export the recipe again with `modeldesk recipes export NAME -o FILE`."
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist.", hint="Check the path.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder; name a recipe .json file in it.") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text, so not a recipe file.", hint=again) from None
    except OSError as exc:
        raise InvalidInput(f"{path} cannot be read: {exc.strerror}.") from None
    if not text.strip():
        raise InvalidInput(f"{path} is empty.", hint=again)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            hint=again,
        ) from None
    try:
        rv = services.recipes.import_json(data, name=args.name)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}", hint=exc.hint) from None
    return rv.to_dict(), f"Stored {rv.ref} ({len(rv.steps)} steps)."
