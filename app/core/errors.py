"""The errors ModelDesk shows to people.

Every error a user can cause or fix is a ``ModelDeskError`` whose message is a sentence they
can act on ("Column 'price' has text in row 812; expected numbers.") and whose ``hint`` says
what to do next. Anything that is not a ``ModelDeskError`` is a bug and is shown with its
traceback. The tree is kept shallow so that the CLI can map classes to exit codes and the GUI
can pick a presentation::

    ModelDeskError
    ├── InvalidInput        the user's file, value or request cannot be used
    ├── NotFound            a named thing (dataset, version, run) does not exist
    ├── Conflict            the request clashes with what is stored
    ├── StoreUnavailable    the store cannot be opened, written or migrated
    │   └── StoreBusy       another process held the database for too long
    ├── TamperedArtifact    a stored file no longer matches its recorded SHA-256
    ├── PolicyRefused       a promotion the model's policy refuses (exit code 3)
    ├── DockerUnavailable   the Docker daemon is not running or not reachable
    └── Cancelled           the user stopped the work; nothing was stored
"""

from __future__ import annotations


class ModelDeskError(Exception):
    """Base of all errors that carry a message meant for a person."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message

    def to_dict(self) -> dict[str, str | None]:
        """The JSON error object the CLI prints with ``--json``."""
        return {"error": type(self).__name__, "message": self.message, "hint": self.hint}


class InvalidInput(ModelDeskError):
    """The user's file, value or request cannot be used as it is."""


class NotFound(ModelDeskError):
    """A named dataset, version, run or model does not exist."""


class Conflict(ModelDeskError):
    """The request clashes with what is already stored."""


class StoreUnavailable(ModelDeskError):
    """The store cannot be opened, written or brought up to date."""


class StoreBusy(StoreUnavailable):
    """Another process kept the database locked for longer than we wait."""


class TamperedArtifact(ModelDeskError):
    """A stored file no longer matches the SHA-256 recorded when it was written."""


class PolicyRefused(ModelDeskError):
    """A promotion the model's policy refuses; scripts act on exit code 3."""

    exit_code = 3


class DockerUnavailable(ModelDeskError):
    """The Docker daemon is not running or cannot be reached."""


class Cancelled(ModelDeskError):
    """The user stopped the work; by contract nothing of it was stored."""

    def __init__(self, message: str = "Cancelled.", *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
