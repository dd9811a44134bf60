"""The ``modeldesk`` command: no arguments opens the window; subcommands run headless.

Contract for scripts: ``--json`` prints exactly one JSON document on stdout and nothing else
there; errors print one line starting with ``error:`` on stderr (or a JSON error object with
``--json``). Exit codes: 0 success, 1 error, 2 usage, 3 a refusal a script should act on
(a promotion refused by policy, a drift alert), 141 when stdout's reader went away
(``--json | head``: nothing more is printed, as with ``cat``). Any other exception is a bug:
one ``error:`` line naming it and the log file that holds its traceback (``last_resort``).

Each command group is a module in this package exposing ``register(subparsers)``, which adds
its parsers and sets ``handler=`` on each; a handler takes ``(services, args)`` and returns
``(json_payload, human_text)``. Adding a group is one line in ``GROUPS``. A command that only
reads the store also sets ``reads_only=`` (a test of its arguments): when it says yes, the
handler gets ``ReadServices`` (a stdlib ``sqlite3`` reader, no SQLAlchemy) whenever the store
needs nothing done at open, and must use only ``services.reader``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

from app.core.errors import ModelDeskError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

#: command name → module under app.cli that registers it
GROUPS = {
    "datasets": "app.cli.datasets",
    "profile": "app.cli.profile",
    "train": "app.cli.train",
    "runs": "app.cli.runs",
    "recipes": "app.cli.recipes",
    "prepare": "app.cli.prepare",
    "tune": "app.cli.tune",
    "studies": "app.cli.studies",
    "models": "app.cli.models",
    "audit": "app.cli.audit",
    "package": "app.cli.package",
    "deploy": "app.cli.deploy",
    "deployments": "app.cli.deployments",
    "serve": "app.cli.serve",
    "monitor": "app.cli.monitor",
    "retrain": "app.cli.retrain",
    "predict": "app.cli.predict",
    "replay": "app.cli.replay",
    "store": "app.cli.store",
    "explain": "app.cli.explain",
}


class AlreadyReported(ModelDeskError):
    """An error whose ``error:`` line the part that met it has printed already (the model
    server refusing a bundle): exit 1, the message only in ``--json``'s error object, so the
    person reads one line, not two."""


class VersionAction(argparse.Action):
    """``--version``, reading the installed version only when it is asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from app import __version__

        print(f"modeldesk {__version__}")
        parser.exit()


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors exit 2
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def add_common(parser: argparse.ArgumentParser) -> None:
    """The options every subcommand takes."""
    parser.add_argument("--store", metavar="URL", help="SQLAlchemy URL or SQLite file path")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def build_gui_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="modeldesk", description="ModelDesk: from dataset to deployed model.")
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--store", metavar="URL", help="SQLAlchemy URL or SQLite file path")
    parser.add_argument("files", nargs="*", help="files to open in the window")
    return parser


def build_command_parser(groups: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = Parser(prog="modeldesk", description="ModelDesk: from dataset to deployed model.")
    parser.add_argument("--version", action=VersionAction)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in groups or GROUPS:
        importlib.import_module(GROUPS[name]).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; no exception leaves here as a traceback (see ``last_resort``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    try:
        return _run(argv)
    except BrokenPipeError:  # the reader went away (``--json | head``): end quietly
        from app.cli.last_resort import quiet_broken_pipe

        return quiet_broken_pipe()
    except KeyboardInterrupt:
        return fail(ModelDeskError("Interrupted."), as_json)
    except Exception as exc:  # a bug: one line for the person, the traceback in a log file
        from app.cli.last_resort import report_unexpected

        return report_unexpected(exc, argv, as_json)


def _run(argv: list[str]) -> int:
    if not argv or argv[0] not in {*GROUPS, "-h", "--help"}:
        args = build_gui_parser().parse_args(argv)
        from app.ui.app import run_gui

        return run_gui(store_url=args.store, files=args.files)
    if argv[0] in ("-h", "--help"):
        build_command_parser().print_help()
        return EXIT_OK
    args = build_command_parser([argv[0]]).parse_args(argv)
    try:
        if getattr(args, "opens_stores", False):  # e.g. `store copy`: it names its own stores
            payload, text = args.handler(None, args)
        else:
            from app.bootstrap import build_services, open_read_services

            services: Any = None
            if getattr(args, "reads_only", None) and args.reads_only(args):
                services = open_read_services(args.store)
            if services is None:
                services = build_services(args.store)
            try:
                payload, text = args.handler(services, args)
            finally:
                services.close()
    except ModelDeskError as exc:
        return fail(exc, args.json)
    if args.json:
        json.dump(payload, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif text:
        print(text)
    sys.stdout.flush()  # a closed pipe shows here, inside main, not at interpreter exit
    return EXIT_OK


def fail(exc: ModelDeskError, as_json: bool) -> int:
    if as_json:
        try:
            json.dump(exc.to_dict(), sys.stdout)
            sys.stdout.write("\n")
            sys.stdout.flush()
        except BrokenPipeError:
            from app.cli.last_resort import quiet_broken_pipe

            quiet_broken_pipe()
    if not isinstance(exc, AlreadyReported):
        print(f"error: {exc}", file=sys.stderr)
    return exc.exit_code
