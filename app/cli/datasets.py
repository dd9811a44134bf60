"""``modeldesk datasets add|list|show|roles|export|rm|restore|rename``."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common
from app.cli.progress_bar import ProgressBar
from app.core.errors import InvalidInput


def register(commands: Any) -> None:
    datasets = commands.add_parser("datasets", help="ingest and manage datasets")
    sub = datasets.add_subparsers(dest="action", required=True, parser_class=type(datasets))

    p = sub.add_parser("add", help="ingest files")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--name", help="dataset name (default: the file name)")
    p.add_argument("--sheet", help="Excel sheet to read (default: the first)")
    add_common(p)
    p.set_defaults(handler=add)

    p = sub.add_parser("list", help="list datasets")
    p.add_argument("--deleted", action="store_true", help="include deleted datasets")
    add_common(p)
    p.set_defaults(handler=list_, reads_only=lambda _: True)

    p = sub.add_parser("show", help="show a dataset version's schema")
    p.add_argument("ref", metavar="NAME[@VERSION]")
    add_common(p)
    p.set_defaults(handler=show)

    p = sub.add_parser(
        "roles",
        help="show or set a version's column roles (target, identifiers, ignored, features)",
        description="With no option, show each column's role. The options change only the "
        "columns they name; the other roles stay as stored. Profile, train and tune use the "
        "stored target when --target is not given to them.",
    )
    p.add_argument("ref", metavar="NAME[@VERSION]")
    p.add_argument("--target", metavar="COL", help="the column to predict (replaces the old)")
    p.add_argument("--no-target", action="store_true", help="store no target")
    for flag, dest, text in (
        ("--id", "ids", "identifier columns (never used as features)"),
        ("--ignore", "ignored", "columns left out of training"),
        ("--feature", "features", "columns used as features again"),
    ):
        p.add_argument(flag, dest=dest, nargs="+", action="extend", default=[], metavar="COL",
                       help=text)  # fmt: skip
    add_common(p)
    p.set_defaults(handler=roles)

    p = sub.add_parser("export", help="write a version to a file (format from its extension)")
    p.add_argument("ref", metavar="NAME[@VERSION]")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    add_common(p)
    p.set_defaults(handler=export)

    for action, handler, text in (
        ("rm", rm, "delete a dataset (restorable)"),
        ("restore", restore, "restore a deleted dataset"),
    ):
        p = sub.add_parser(action, help=text)
        p.add_argument("name")
        add_common(p)
        p.set_defaults(handler=handler)

    p = sub.add_parser("add-sql", help="store a SQL query's result as a dataset version")
    p.add_argument("url", metavar="URL", help="SQLAlchemy URL (the password is never stored)")
    p.add_argument("--query", "-q", required=True, metavar="SQL")
    p.add_argument("--name", required=True, metavar="N")
    add_common(p)
    p.set_defaults(handler=add_sql)

    p = sub.add_parser("watch", help="turn each new file in a folder into a new version")
    p.add_argument("folder", metavar="FOLDER")
    p.add_argument("--name", required=True, metavar="N")
    p.add_argument("--debounce", type=float, default=2.0, metavar="S", help="quiet seconds")
    p.add_argument("--existing", action="store_true", help="also take files already there")
    p.add_argument("--max-files", type=int, metavar="K", help="stop after K new versions")
    p.add_argument("--timeout", type=float, metavar="S", help="stop after S seconds")
    add_common(p)
    p.set_defaults(handler=watch)

    p = sub.add_parser("rename", help="rename a dataset")
    p.add_argument("name")
    p.add_argument("new_name")
    add_common(p)
    p.set_defaults(handler=rename)


def add(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    if args.name and len(args.paths) > 1:
        raise InvalidInput(
            "--name can only be used with a single file.",
            hint="Add the files one by one to name each, or drop --name.",
        )
    results, lines = [], []
    for path in args.paths:
        with ProgressBar(str(path)) as bar:
            result = services.datasets.add_file(
                path, name=args.name, sheet=args.sheet, progress=bar
            )
        v = result.version
        results.append({**v.to_dict(), "created": result.created})
        verb = "added" if result.created else "already stored as"
        lines.append(f"{path}: {verb} {v.ref} ({v.rows:,} rows × {v.cols} columns)")
    return (results[0] if len(results) == 1 else results), "\n".join(lines)


def list_(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.store import listing

    payload = listing.datasets(services.reader, include_deleted=args.deleted)
    if not payload:
        return payload, "No datasets yet. Add one with: modeldesk datasets add FILE"
    width = max(len(d["name"]) for d in payload)
    lines = [f"{'NAME':<{width}}  VERSIONS  ROWS        COLS"]
    for item in payload:
        mark = "  (deleted)" if item["deleted"] else ""
        lines.append(
            f"{item['name']:<{width}}  {item['versions']:>8}  {item['rows']:>10,}  "
            f"{item['cols']:>4}{mark}"
        )
    return payload, "\n".join(lines)


def show(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    v = services.datasets.resolve(args.ref)
    lines = [
        f"{v.ref}  {v.rows:,} rows × {v.cols} columns  ({v.format}, from {v.source_path})",
        f"source sha256 {v.source_sha256}",
        "",
        f"{'COLUMN':<30} {'TYPE':<22} {'ROLE':<12} MISSING",
    ]
    lines += [f"{c.name:<30} {c.physical_type:<22} {c.role:<12} {c.missing:,}" for c in v.schema]
    return v.to_dict(), "\n".join(lines)


def _asked_roles(args: argparse.Namespace) -> dict[str, str]:
    """{column: role} the options name; a column named for two roles is refused."""
    asked: dict[str, str] = {}
    pairs = [(args.target, "target")] if args.target else []
    pairs += [(c, "identifier") for c in args.ids] + [(c, "ignored") for c in args.ignored]
    pairs += [(c, "feature") for c in args.features]
    for column, role in pairs:
        if asked.get(column, role) != role:
            raise InvalidInput(
                f"Column '{column}' was given two roles: {asked[column]} and {role}.",
                hint="Name each column once: --target, --id, --ignore or --feature.",
            )
        asked[column] = role
    return asked


def roles(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    """Show a version's column roles, or set the ones named (the Data panel's schema call)."""
    version = services.datasets.resolve(args.ref)
    asked = _asked_roles(args)
    if args.target and args.no_target:
        raise InvalidInput("--target and --no-target contradict each other; give one.")
    changed = bool(asked) or args.no_target
    if changed:
        usages = dict(version.usages)
        if args.target or args.no_target:  # one target: the old one becomes a feature
            usages = {c: u for c, u in usages.items() if u != "target"}
        usages.update(asked)
        version = services.datasets.set_usages(version, usages)
    table = {c.name: version.usages.get(c.name, "feature") for c in version.schema}
    payload = {"ref": version.ref, "target": version.target, "roles": table, "changed": changed}
    width = max([len("COLUMN"), *(len(name) for name in table)]) + 2
    lines = [f"{version.ref}: " + (f"target '{version.target}'" if version.target else "no target")]
    lines += ["", f"{'COLUMN':<{width}}ROLE"]
    lines += [f"{name:<{width}}{role}" for name, role in table.items()]
    if not version.target:
        lines += ["", f"Set one with: modeldesk datasets roles {version.ref} --target COLUMN"]
    return payload, "\n".join(lines)


def export(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.cli.output import output_file

    out = output_file(args.output)
    with ProgressBar(args.output) as bar:
        path = services.datasets.export(args.ref, out, progress=bar)
    return {"ref": args.ref, "path": str(path)}, f"Wrote {path}"


def rm(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    services.datasets.delete(args.name)
    text = f"Deleted '{args.name}'. Restore it with: modeldesk datasets restore {args.name}"
    return {"deleted": args.name}, text


def restore(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    ds = services.datasets.restore(args.name)
    return ds.to_dict(), f"Restored '{ds.name}'."


def rename(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    ds = services.datasets.rename(args.name, args.new_name)
    return ds.to_dict(), f"Renamed '{args.name}' to '{ds.name}'."


def add_sql(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    with ProgressBar(args.name) as bar:
        result = services.datasets.add_sql(args.url, args.query, name=args.name, progress=bar)
    v = result.version
    verb = "added" if result.created else "already stored as"
    text = f"{v.source_path}: {verb} {v.ref} ({v.rows:,} rows × {v.cols} columns)"
    return {**v.to_dict(), "created": result.created}, text


def watch(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    import sys
    import time

    for option, value, low, inclusive in (
        ("--debounce", args.debounce, 0, True),
        ("--timeout", args.timeout, 0, False),
        ("--max-files", args.max_files, 1, True),
    ):
        if value is not None and (value < low if inclusive else value <= low):
            bound = f"at least {low}" if inclusive else f"more than {low}"
            raise InvalidInput(f"{option} must be {bound}; got {value}.")

    def added(result: Any) -> None:
        v = result.version
        if not args.json:
            print(f"{v.source_path}: added {v.ref} ({v.rows:,} rows)", flush=True)

    def failed(path: Any, error: Any) -> None:
        print(f"error: {path}: {error}", file=sys.stderr, flush=True)

    watcher = services.datasets.watch_folder(
        args.folder,
        name=args.name,
        debounce=args.debounce,
        existing=args.existing,
        on_added=added,
        on_error=failed,
    )
    if not args.json:
        print(f"Watching {args.folder} for new files of '{args.name}' (Ctrl-C stops).", flush=True)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    with watcher:
        try:
            while deadline is None or time.monotonic() < deadline:
                if args.max_files is not None and len(watcher.added) >= args.max_files:
                    break
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass
    versions = [r.version.to_dict() for r in watcher.added]
    return versions, f"{len(versions)} new version(s) of '{args.name}'."
