"""A SQL query on any SQLAlchemy URL, read into an Arrow table.

The query runs inside a transaction that is rolled back, so a statement that writes leaves
nothing behind. The URL is stored and shown only with its password masked
(``masked_url``); error messages from drivers are scrubbed of it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def masked_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (what the store and audit log keep)."""
    return _url(url).render_as_string(hide_password=True)


def _scrub(message: str, url: str) -> str:
    parsed = _url(url)
    if parsed.password:
        message = message.replace(str(parsed.password), "***")
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
    shown = parsed.render_as_string(hide_password=True)
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
