"""Read sessions that refuse to write, loudly, under tests (as MLflow's store does).

``store.session()`` without ``write=True`` rolls back on exit, so a change made in one is
silently lost in the product. Under tests (``MODELDESK_STRICT_SESSIONS=1``, set by the
suite's conftest and inherited by worker processes) such a change raises instead, at the
flush or ORM statement that would write, or at the end of the session, naming what it was.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

STRICT_ENV = "MODELDESK_STRICT_SESSIONS"


class WriteInReadSession(AssertionError):
    """A bug: the code wrote in a session opened for reading (use ``write=True``)."""


def enforced() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _pending(s: Session) -> list[str]:
    changed = [*s.new, *(o for o in s.dirty if s.is_modified(o)), *s.deleted]
    return sorted({type(o).__name__ for o in changed})


def _refuse(what: str) -> WriteInReadSession:
    return WriteInReadSession(
        f"A write inside a read session ({what}); it would be rolled back and lost. "
        "Open the session with store.session(write=True) or use store.write(fn)."
    )


def _before_flush(s: Session, _context: Any, _instances: Any) -> None:
    pending = _pending(s)
    if pending:
        raise _refuse("changed " + ", ".join(pending))


def _do_orm_execute(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise _refuse(f"statement {str(state.statement).split()[0]}")


def guard(session: Session) -> None:
    """Make ``session`` refuse writes as they happen."""
    event.listen(session, "before_flush", _before_flush)
    event.listen(session, "do_orm_execute", _do_orm_execute)


def check(session: Session) -> None:
    """At the end of a read session: changes never flushed are a write that was lost."""
    pending = _pending(session)
    if pending:
        raise _refuse("changed " + ", ".join(pending) + " without flushing")
