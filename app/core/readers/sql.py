"""A SQL query on any SQLAlchemy URL, read into an Arrow table.

The query runs inside a transaction that is rolled back, so a statement that writes leaves
nothing behind. The URL is stored and shown only with every credential masked
(``masked_url``: the password and secret query keys such as ``?password=``); error messages
from drivers are scrubbed of them too. The store never holds the credential, so querying
again means giving the URL again (or a URL without a password, with the credential in the
driver's own place: ``~/.pgpass``, ``PGPASSWORD``, a DSN).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

from app.core.errors import InvalidInput
from app.core.progress import NullProgress, Progress

if TYPE_CHECKING:
    import pyarrow as pa

#: rows fetched per round trip
CHUNK_ROWS = 50_000


def _url(url: str):
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(
            "The database address is not a SQLAlchemy URL.",
            hint="Write e.g. sqlite:///path/to/file.db or "
            "postgresql://user:password@host:5432/dbname.",
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        try:
            import psycopg2  # noqa: F401
        except ImportError:  # the psycopg 3 driver is what ModelDesk ships
            parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


#: query-string keys whose values are credentials (password=, pwd=, token=, api_key=, sig=…)
_SECRET_KEY = re.compile(r"pass|pwd|token|secret|key|auth|credential|sig", re.IGNORECASE)
#: ``KEY=value`` pairs inside a value (an ODBC connection string in ``odbc_connect=``)
_NESTED = re.compile(
    r"((?:[A-Za-z_]*(?:pass|pwd|token|secret|key|auth|credential|sig)[A-Za-z_]*)\s*=\s*)"
    r"(\{[^}]*\}|[^;&]*)",
    re.IGNORECASE,
)
MASK = "***"


def _mask_value(key: str, value: str) -> str:
    if _SECRET_KEY.search(key):
        return MASK
    return _NESTED.sub(lambda m: m.group(1) + MASK, value)


def masked_url(url: str) -> str:
    """The URL with every credential replaced by ``***``: the password of ``user:pass@``
    and the values of secret query keys (``?password=``, ``pwd``, ``token``, ``secret``,
    ``key``…, also inside an ODBC string). This is all the store, the audit log, ``--json``
    and error messages ever hold; the real URL is used only to connect."""
    parsed = _url(url)
    query = {
        k: tuple(_mask_value(k, x) for x in v) if isinstance(v, tuple) else _mask_value(k, v)
        for k, v in parsed.query.items()
    }
    shown = parsed.set(query=query).render_as_string(hide_password=True)
    return shown.replace(quote_plus(MASK), MASK).replace(quote(MASK, safe=""), MASK)


def _secrets(url: str) -> list[str]:
    """Every credential in ``url``, as given and as URL-encoded (how a driver may echo it)."""
    parsed = _url(url)
    found = [str(parsed.password)] if parsed.password else []
    for key, value in parsed.query.items():
        for item in value if isinstance(value, tuple) else (value,):
            if _SECRET_KEY.search(key):
                found.append(item)
            found += [m.group(2) for m in _NESTED.finditer(item)]
    forms = {f for s in found if s for f in (s, quote_plus(s), quote(s, safe=""))}
    return sorted(forms, key=len, reverse=True)  # the longest first: no partial leftovers


def _scrub(message: str, url: str) -> str:
    for secret in _secrets(url):
        message = message.replace(secret, MASK)
    return message


def read_query(url: str, query: str, *, progress: Progress | None = None) -> pa.Table:
    """The query's result as a table; ``InvalidInput`` (password-free) when it fails."""
    import pyarrow as pa
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    progress = progress or NullProgress()
    if not query or not query.strip():
        raise InvalidInput("The SQL query is empty.", hint="Give one with --query.")
    parsed = _url(url)
    shown = masked_url(url)
    try:
        engine = create_engine(parsed)
    except (SQLAlchemyError, ImportError) as exc:
        raise InvalidInput(
            f"Cannot use the database {shown}: {_scrub(str(exc), url)}",
            hint="Check the URL's driver name (e.g. postgresql+psycopg://…).",
        ) from None
    progress.update(0.0, f"Querying {shown}")
    batches: list[pa.RecordBatch] = []
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                result = conn.execution_options(stream_results=True).execute(text(query))
                if not result.returns_rows:
                    raise InvalidInput(
                        "The SQL statement returns no rows.", hint="Use a SELECT query."
                    )
                columns = list(result.keys())
                while chunk := result.fetchmany(CHUNK_ROWS):
                    progress.check_cancelled()
                    data = list(zip(*chunk, strict=True))
                    batches.append(
                        pa.RecordBatch.from_pydict(
                            {c: list(v) for c, v in zip(columns, data, strict=True)}
                        )
                    )
                    progress.update(None, f"{sum(b.num_rows for b in batches):,} rows read")
            finally:
                transaction.rollback()  # a query that wrote leaves nothing behind
    except SQLAlchemyError as exc:
        reason = _scrub(str(getattr(exc, "orig", None) or exc), url).strip().splitlines()
        raise InvalidInput(
            f"The query on {shown} failed: {reason[0] if reason else type(exc).__name__}",
            hint="Check the query, the server and the credentials.",
        ) from None
    finally:
        engine.dispose()
    if not batches:
        raise InvalidInput(f"The query on {shown} returned no rows.")
    return pa.Table.from_batches(_unify(batches))


def _unify(batches: list) -> list:
    """Batches with one schema (a column all-NULL in one chunk is typed by the others)."""
    import pyarrow as pa

    schema = pa.unify_schemas([b.schema for b in batches], promote_options="permissive")
    return [b.cast(schema) if b.schema != schema else b for b in batches]
