"""The CLI's last line of defence: an exception that is not a ``ModelDeskError`` is a bug.

A person sees one ``error:`` line that names the exception and the log file holding its
traceback (a rotating ``cli.log`` in the platform's user log folder); a script sees exit 1
and, with ``--json``, the usual JSON error object. A closed stdout (``--json | head``) is not
an error at all: we end quietly, the way ``cat`` and ``ls`` do when their reader goes away.

Imported only when something went wrong, so that start-up never pays for ``logging``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

PHRASE = "ModelDesk hit an unexpected problem"
#: 128 + SIGPIPE: what a shell reports for a command whose reader closed the pipe (``cat``,
#: ``ls``…), so ``set -o pipefail`` scripts can tell it from a real error (1).
EXIT_BROKEN_PIPE = 141
LOG_NAME = "cli.log"
_LOG_BYTES, _LOG_BACKUPS = 1_000_000, 3
_MESSAGE_CHARS = 300


def quiet_broken_pipe() -> int:
    """Point stdout at the null device so the interpreter's final flush cannot fail again.

    The recipe from the Python documentation ("Note on SIGPIPE", the ``signal`` module).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (an embedding caller's stream)
        pass
    return EXIT_BROKEN_PIPE


def log_traceback(exc: BaseException, argv: list[str]) -> Path:
    """Append the traceback to the rotating log; a temporary file if that folder fails."""
    import logging
    from logging.handlers import RotatingFileHandler

    from app import __version__

    text = "".join(traceback.format_exception(exc)).rstrip()
    record = f"modeldesk {__version__} (Python {sys.version.split()[0]}): {argv!r}\n{text}"
    try:
        from app.core.paths import user_log_dir

        folder = user_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOG_NAME
        handler = RotatingFileHandler(
            path, maxBytes=_LOG_BYTES, backupCount=_LOG_BACKUPS, encoding="utf-8"
        )
    except Exception:  # an unwritable log folder must not hide the original problem
        fd, name = tempfile.mkstemp(prefix="modeldesk-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(record + "\n")
        return Path(name)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("modeldesk.cli.unexpected")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.error(record)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return path


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, shortened; the log keeps the whole of it."""
    message = " ".join(str(exc).split()).rstrip(".")
    if len(message) > _MESSAGE_CHARS:
        message = message[: _MESSAGE_CHARS - 1] + "…"
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def report_unexpected(exc: BaseException, argv: list[str], as_json: bool) -> int:
    """Log the traceback, print the one line (and the JSON object), return exit code 1."""
    try:
        path = log_traceback(exc, argv)
        where = f"The details are in {path}; please include it when you report this."
    except Exception as log_exc:  # not even a temporary file: say so, still one line
        path = None
        where = f"No log could be written ({one_line(log_exc)}); please report this."
    summary = f"{PHRASE}: {one_line(exc)}."
    if as_json:
        payload = {"error": "UnexpectedError", "message": summary, "hint": where}
        payload["exception"] = type(exc).__name__
        payload["log_file"] = str(path) if path else None
        try:
            json.dump(payload, sys.stdout)
            sys.stdout.write("\n")
            sys.stdout.flush()
        except BrokenPipeError:
            quiet_broken_pipe()
    print(f"error: {summary} {where}", file=sys.stderr)
    return 1
