"""The ``modeldesk`` command: no arguments opens the window; subcommands run headless.

Contract for scripts: ``--json`` prints exactly one JSON document on stdout and nothing else
there; errors print one line starting with ``error:`` on stderr (or a JSON error object with
``--json``). Exit codes: 0 success, 1 error, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from app import __version__
from app.core.errors import ModelDeskError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors exit 2
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="URL", help="SQLAlchemy URL or SQLite file path")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="modeldesk", description="ModelDesk: from dataset to deployed model.")
    parser.add_argument("--version", action="version", version=f"modeldesk {__version__}")
    parser.add_argument("--store", metavar="URL", help="SQLAlchemy URL or SQLite file path")
    parser.add_argument("files", nargs="*", help="files to open in the window")
    return parser


def build_command_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="modeldesk")
    parser.add_argument("--version", action="version", version=f"modeldesk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    datasets = commands.add_parser("datasets", help="ingest and manage datasets")
    sub = datasets.add_subparsers(dest="action", required=True, parser_class=_Parser)
    add = sub.add_parser("add", help="ingest files")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.add_argument("--name", help="dataset name (default: the file name)")
    add.add_argument("--sheet", help="Excel sheet to read (default: the first)")
    _common(add)
    lst = sub.add_parser("list", help="list datasets")
    lst.add_argument("--deleted", action="store_true", help="include deleted datasets")
    _common(lst)
    show = sub.add_parser("show", help="show a dataset version")
    show.add_argument("ref", metavar="NAME[@VERSION]")
    _common(show)
    export = sub.add_parser("export", help="write a version to a file")
    export.add_argument("ref", metavar="NAME[@VERSION]")
    export.add_argument("-o", "--output", required=True, metavar="FILE")
    _common(export)
    rm = sub.add_parser("rm", help="delete a dataset (restorable)")
    rm.add_argument("name")
    _common(rm)
    restore = sub.add_parser("restore", help="restore a deleted dataset")
    restore.add_argument("name")
    _common(restore)
    rename = sub.add_parser("rename", help="rename a dataset")
    rename.add_argument("name")
    rename.add_argument("new_name")
    _common(rename)
    return parser


COMMANDS = {"datasets"}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS | {"-h", "--help"}:
        args = build_parser().parse_args(argv)
        from app.ui.app import run_gui

        return run_gui(store_url=args.store, files=args.files)
    if argv[0] in ("-h", "--help"):
        build_command_parser().print_help()
        return EXIT_OK
    args = build_command_parser().parse_args(argv)
    handler = HANDLERS[(args.command, args.action)]
    try:
        from app.bootstrap import build_services

        services = build_services(args.store)
        try:
            payload, text = handler(services, args)
        finally:
            services.close()
    except ModelDeskError as exc:
        return _fail(exc, args.json)
    except KeyboardInterrupt:
        return _fail(ModelDeskError("Interrupted."), args.json)
    if args.json:
        json.dump(payload, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif text:
        print(text)
    return EXIT_OK


def _fail(exc: ModelDeskError, as_json: bool) -> int:
    if as_json:
        json.dump(exc.to_dict(), sys.stdout)
        sys.stdout.write("\n")
    print(f"error: {exc}", file=sys.stderr)
    return exc.exit_code


# -- handlers: (services, args) -> (json payload, human text) ---------------------------------


class _Bar:
    """A progress bar on stderr, only when stderr is a terminal (tqdm does the drawing)."""

    def __init__(self, label: str) -> None:
        self._bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=100, desc=label, unit="%", file=sys.stderr, leave=False)

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        if self._bar is None:
            return
        if fraction is not None:
            self._bar.n = round(fraction * 100)
        if status:
            self._bar.set_postfix_str(status, refresh=False)
        self._bar.refresh()

    def check_cancelled(self) -> None:
        pass

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _datasets_add(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    if args.name and len(args.paths) > 1:
        raise ModelDeskError(
            "--name can only be used with a single file.",
            hint="Add the files one by one to name each, or drop --name.",
        )
    results, lines = [], []
    for path in args.paths:
        bar = _Bar(str(path))
        try:
            result = services.datasets.add_file(
                path, name=args.name, sheet=args.sheet, progress=bar
            )
        finally:
            bar.close()
        v = result.version
        results.append({**v.to_dict(), "created": result.created})
        verb = "added" if result.created else "already stored as"
        lines.append(f"{path}: {verb} {v.ref} ({v.rows:,} rows × {v.cols} columns)")
    return (results[0] if len(results) == 1 else results), "\n".join(lines)


def _datasets_list(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    datasets = services.datasets.list(include_deleted=args.deleted)
    payload = [
        {
            "name": d.name,
            "versions": len(d.versions),
            "latest": d.latest.version if d.versions else None,
            "rows": d.latest.rows if d.versions else 0,
            "cols": d.latest.cols if d.versions else 0,
            "deleted": d.deleted,
            "created_at": d.created_at.isoformat(),
        }
        for d in datasets
    ]
    if not datasets:
        return payload, "No datasets yet. Add one with: modeldesk datasets add FILE"
    width = max(len(d.name) for d in datasets)
    lines = [f"{'NAME':<{width}}  VERSIONS  ROWS        COLS"]
    for item in payload:
        mark = "  (deleted)" if item["deleted"] else ""
        lines.append(
            f"{item['name']:<{width}}  {item['versions']:>8}  {item['rows']:>10,}  "
            f"{item['cols']:>4}{mark}"
        )
    return payload, "\n".join(lines)


def _datasets_show(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    v = services.datasets.resolve(args.ref)
    lines = [
        f"{v.ref}  {v.rows:,} rows × {v.cols} columns  ({v.format}, from {v.source_path})",
        f"source sha256 {v.source_sha256}",
        "",
        f"{'COLUMN':<30} {'TYPE':<22} {'ROLE':<12} MISSING",
    ]
    lines += [f"{c.name:<30} {c.physical_type:<22} {c.role:<12} {c.missing:,}" for c in v.schema]
    return v.to_dict(), "\n".join(lines)


def _datasets_export(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    bar = _Bar(args.output)
    try:
        path = services.datasets.export(args.ref, args.output, progress=bar)
    finally:
        bar.close()
    return {"ref": args.ref, "path": str(path)}, f"Wrote {path}"


def _datasets_rm(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    services.datasets.delete(args.name)
    hint = f"Deleted '{args.name}'. Restore it with: modeldesk datasets restore {args.name}"
    return {"deleted": args.name}, hint


def _datasets_restore(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    ds = services.datasets.restore(args.name)
    return ds.to_dict(), f"Restored '{ds.name}'."


def _datasets_rename(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    ds = services.datasets.rename(args.name, args.new_name)
    return ds.to_dict(), f"Renamed '{args.name}' to '{ds.name}'."


Handler = Callable[[Any, argparse.Namespace], tuple[Any, str]]
HANDLERS: dict[tuple[str, str], Handler] = {
    ("datasets", "add"): _datasets_add,
    ("datasets", "list"): _datasets_list,
    ("datasets", "show"): _datasets_show,
    ("datasets", "export"): _datasets_export,
    ("datasets", "rm"): _datasets_rm,
    ("datasets", "restore"): _datasets_restore,
    ("datasets", "rename"): _datasets_rename,
}
