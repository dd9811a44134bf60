"""A store on a database server (PostgreSQL): bounded pools, plain words when it is out of
reach, and which of its errors are worth one more try.

A team store is shared by the window, CLI runs and tuning workers on several machines, so
each process must take few connections: the engine's pool is small and bounded, and Optuna's
storage in the same process borrows that pool instead of opening its own (optuna#1347: a
study with 8 workers each opening a pool exhausted ``max_connections``). A connection the
server dropped (restart, failover, idle timeout) is replaced before use (``pool_pre_ping``),
and a write that met a dropped connection is run again (``Store.write``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL, make_url

from app.core.errors import StoreUnavailable

#: connections a process keeps open, and how many more it may open at a burst
POOL_SIZE = 3
MAX_OVERFLOW = 2
#: seconds a session waits for a free pooled connection before saying the store is busy
POOL_TIMEOUT = 30
#: seconds to wait for the server to answer at all
CONNECT_TIMEOUT = 10

_HINT = "Check the server and the URL given with --store or MODELDESK_STORE."


def engine_options(url: str) -> dict[str, Any]:
    """``create_engine`` keyword arguments for a server database at ``url``."""
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": POOL_SIZE,
        "max_overflow": MAX_OVERFLOW,
        "pool_timeout": POOL_TIMEOUT,
        "pool_recycle": 1800,
    }
    if make_url(url).get_backend_name() == "postgresql":
        options["connect_args"] = {
            "connect_timeout": CONNECT_TIMEOUT,
            "application_name": "modeldesk",
            # a silent network drop is noticed in ~1 min instead of the kernel's 2 hours
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
    return options


def where(url: URL) -> str:
    """``database 'md' on host:port`` — the place named in errors, without the password."""
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"database '{url.database}' on {host}{port}"


def unreachable(exc: BaseException, url: URL) -> StoreUnavailable:
    """The driver's failure to connect, said in words a person can act on."""
    text = str(getattr(exc, "orig", None) or exc)
    low = text.lower()
    place = where(url)
    if "password authentication failed" in low or "no password supplied" in low:
        return StoreUnavailable(
            f"The store's server refused user '{url.username}' for {place}: wrong password.",
            hint="Check the user and password in the store URL.",
        )
    if "does not exist" in low and "database" in low:
        return StoreUnavailable(
            f"The store's server has no {place}.",
            hint="Create it (createdb) or correct the database name in the store URL.",
        )
    if "timeout" in low or "timed out" in low:
        reason = f"no answer within {CONNECT_TIMEOUT} s"
    elif "refused" in low:
        reason = "connection refused: no server listens there"
    elif "could not translate host name" in low or "name or service not known" in low:
        reason = f"the host name '{url.host}' is unknown"
    else:
        reason = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return StoreUnavailable(f"Cannot reach the store's {place}: {reason}.", hint=_HINT)


#: SQLSTATEs of a transaction the server gave up on that succeeds when run again:
#: serialization failure, deadlock detected (PostgreSQL picks one victim)
_RETRYABLE_STATES = {"40001", "40P01"}


def is_transient(exc: BaseException) -> bool:
    """A dropped connection or a deadlock victim: worth one more try of the whole unit."""
    from sqlalchemy.exc import DBAPIError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DBAPIError):
            if seen.connection_invalidated:
                return True
            if getattr(seen.orig, "sqlstate", None) in _RETRYABLE_STATES:
                return True
        seen = seen.__cause__
    return False


def check_reachable(engine: Any) -> None:
    """Connect once, so that an unreachable server is one plain error at open."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise unreachable(exc, engine.url) from exc
